import { ReactWidget } from '@jupyterlab/apputils';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { CommandToolbarButton, SidePanel } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { JobsModel } from '../jobs/model';
import { PartitionsModel } from '../partitions/model';
import { QuotasModel } from '../quotas/model';
import { CommandIDs } from '../shared/commands';
import { hpcIcon } from '../shared/icons';
import type { StatusModel } from './statusModel';

/**
 * The HPC sidebar: a toolbar over sections (jobs, partitions, quotas), each
 * a React view of a model.
 *
 * The models poll only while the sidebar is shown. The sections' code loads
 * the first time it is shown, so it stays out of JupyterLab's start.
 */
export class HpcSidebar extends SidePanel {
  constructor(options: HpcSidebar.IOptions) {
    super({ translator: options.translator });
    this._models = options.models;
    this._commands = options.commands;
    this.trans = options.translator.load('jupyterlab_hpc');
    this.id = HpcSidebar.id;
    this.addClass('jp-hpc-Sidebar');
    this.title.icon = hpcIcon;
    this.title.caption = this.trans.__('Slurm jobs');

    this.header.addWidget(heading(this.trans.__('HPC')));
    this.toolbar.addItem(
      'refresh',
      // An empty label keeps the button an icon; the command's caption
      // becomes its tooltip and accessible name.
      new CommandToolbarButton({
        commands: options.commands,
        id: CommandIDs.refresh,
        label: ''
      })
    );
  }

  protected override onBeforeShow(msg: Message): void {
    super.onBeforeShow(msg);
    // Activating a model asks at once: data may have changed while hidden.
    this._setActive(true);
    if (!this._sectionsLoading) {
      this._sectionsLoading = this._addSections().catch(reason => {
        console.error('Failed to load the HPC sidebar sections.', reason);
      });
    }
  }

  protected override onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._setActive(false);
  }

  private _setActive(active: boolean): void {
    const { jobs, partitions, quotas, status } = this._models;
    jobs.active = active;
    partitions.active = active;
    quotas.active = active;
    status.active = active;
  }

  private async _addSections(): Promise<void> {
    const [
      { JobsPanel },
      { PartitionsPanel },
      { QuotasPanel },
      { DataSourcePanel }
    ] = await Promise.all([
      import('../jobs/panel'),
      import('../partitions/panel'),
      import('../quotas/panel'),
      import('./dataSource')
    ]);
    if (this.isDisposed) {
      return;
    }
    const { jobs, partitions, quotas, status } = this._models;
    const trans = this.trans;
    // Beside the heading, so it takes no room of its own: nothing at all
    // without a site service.
    const source = ReactWidget.create(
      <DataSourcePanel model={status} trans={trans} />
    );
    source.addClass('jp-hpc-Sidebar-source');
    this.header.addWidget(source);
    const openJob = (id: string) =>
      void this._commands.execute(CommandIDs.openJob, { id });
    this.addWidget(
      section(
        trans.__('Jobs'),
        'jp-hpc-Sidebar-jobs',
        <JobsPanel model={jobs} onOpenJob={openJob} trans={trans} />
      )
    );
    this.addWidget(
      section(
        trans.__('Partitions'),
        'jp-hpc-Sidebar-partitions',
        <PartitionsPanel model={partitions} trans={trans} />
      )
    );
    this.addWidget(
      section(
        trans.__('Quotas'),
        'jp-hpc-Sidebar-quotas',
        <QuotasPanel model={quotas} trans={trans} />
      )
    );
  }

  // Named `trans` for the translation string extractor; SidePanel's own
  // `_trans` holds JupyterLab's bundle.
  private readonly trans: TranslationBundle;
  private _commands: CommandRegistry;
  private _models: HpcSidebar.IModels;
  private _sectionsLoading: Promise<void> | null = null;
}

export namespace HpcSidebar {
  /**
   * The DOM id of the sidebar, also its key in the layout restorer.
   */
  export const id = 'jp-hpc-sidebar';

  export interface IModels {
    jobs: JobsModel;
    partitions: PartitionsModel;
    quotas: QuotasModel;
    /** The cluster status: where the Slurm data comes from. */
    status: StatusModel;
  }

  export interface IOptions {
    commands: CommandRegistry;
    models: IModels;
    translator: ITranslator;
  }
}

function heading(text: string): Widget {
  const node = document.createElement('h2');
  node.textContent = text;
  const widget = new Widget({ node });
  widget.addClass('jp-hpc-Sidebar-heading');
  return widget;
}

function section(
  title: string,
  className: string,
  body: React.ReactElement
): ReactWidget {
  const widget = ReactWidget.create(body);
  widget.addClass('jp-hpc-Sidebar-section');
  widget.addClass(className);
  widget.title.label = title;
  return widget;
}
