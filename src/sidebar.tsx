import { ReactWidget } from '@jupyterlab/apputils';
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';
import { CommandToolbarButton, SidePanel } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { CommandIDs } from './commands';
import { hpcIcon } from './icons';
import { JobsModel } from './model';

/**
 * The HPC sidebar: a toolbar over sections, each a React view of a model.
 *
 * The sections' code loads the first time the sidebar is shown, so it stays
 * out of JupyterLab's start.
 */
export class HpcSidebar extends SidePanel {
  constructor(options: HpcSidebar.IOptions) {
    super({ translator: options.translator });
    this._jobsModel = options.jobsModel;
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
        id: CommandIDs.refreshJobs,
        label: ''
      })
    );
  }

  protected override onBeforeShow(msg: Message): void {
    super.onBeforeShow(msg);
    // Jobs may have changed while the sidebar was closed.
    void this._jobsModel.refresh();
    if (!this._sectionsLoading) {
      this._sectionsLoading = this._addSections().catch(reason => {
        console.error('Failed to load the HPC sidebar sections.', reason);
      });
    }
  }

  private async _addSections(): Promise<void> {
    const { JobsPanel } = await import('./components/JobsPanel');
    if (this.isDisposed) {
      return;
    }
    this.addWidget(
      section(
        this.trans.__('Jobs'),
        <JobsPanel model={this._jobsModel} trans={this.trans} />
      )
    );
  }

  // Named `trans` for the translation string extractor; SidePanel's own
  // `_trans` holds JupyterLab's bundle.
  private readonly trans: TranslationBundle;
  private _jobsModel: JobsModel;
  private _sectionsLoading: Promise<void> | null = null;
}

export namespace HpcSidebar {
  /**
   * The DOM id of the sidebar, also its key in the layout restorer.
   */
  export const id = 'jp-hpc-sidebar';

  export interface IOptions {
    commands: CommandRegistry;
    jobsModel: JobsModel;
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

function section(title: string, body: React.ReactElement): ReactWidget {
  const widget = ReactWidget.create(body);
  widget.addClass('jp-hpc-Sidebar-section');
  widget.title.label = title;
  return widget;
}
