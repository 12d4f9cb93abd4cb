import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { HpcClient } from '../api/client';
import { Job, JobAction } from '../api/types';
import { hpcIcon } from '../shared/icons';
import type { JobDetailWidget } from './detailWidget';

/**
 * The jobs' detail views in the main area, one per job: opens them (their
 * code loads on first use) and finds the one of a job.
 */
export class JobDetailTracker {
  constructor(options: JobDetailTracker.IOptions) {
    this._options = options;
    // Only the user's own jobs have a readable output; the server says who
    // that is. Until it has, every job's output is tried.
    options.client.getStatus().then(
      status => {
        this._slurmUser = status.user;
      },
      () => undefined
    );
  }

  /**
   * The detail views open in the main area, which the layout restorer
   * reopens after a reload.
   */
  get tracker(): WidgetTracker<MainAreaWidget<JobDetailWidget>> {
    return this._tracker;
  }

  /**
   * The open detail view of job `id`.
   */
  find(id: string): MainAreaWidget<JobDetailWidget> | undefined {
    return this._tracker.find(widget => widget.content.model.id === id);
  }

  /**
   * Job `id` as its open detail view last read it.
   */
  job(id: string): Job | undefined {
    return this.find(id)?.content.model.data ?? undefined;
  }

  /**
   * Read job `id` again, if its detail view is open.
   */
  async refresh(id: string): Promise<void> {
    await this.find(id)?.content.model.refresh();
  }

  /**
   * Show job `id`'s detail view, opening it if need be.
   */
  async open(id: string): Promise<void> {
    const { shell } = this._options;
    const open = this.find(id);
    if (open) {
      shell.activateById(open.id);
      return;
    }
    const { client, onAction, trans } = this._options;
    const { JobDetailWidget } = await import('./detailWidget');
    const content = new JobDetailWidget({
      client,
      id,
      user: this._slurmUser,
      refreshInterval: this._options.refreshInterval(),
      outputRefreshInterval: this._options.outputRefreshInterval(),
      onAction: action => onAction(action, id),
      trans
    });
    const widget = new MainAreaWidget({ content });
    widget.id = `jp-hpc-job-${id}`;
    widget.title.label = trans.__('Job %1', id);
    widget.title.icon = hpcIcon;
    widget.title.closable = true;
    await this._tracker.add(widget);
    shell.add(widget, 'main');
    shell.activateById(widget.id);
  }

  private _options: JobDetailTracker.IOptions;
  private _slurmUser: string | null = null;
  private _tracker = new WidgetTracker<MainAreaWidget<JobDetailWidget>>({
    namespace: 'jupyterlab-hpc-job'
  });
}

export namespace JobDetailTracker {
  export interface IOptions {
    client: HpcClient;
    shell: JupyterFrontEnd.IShell;
    /** Milliseconds between two reads of a job (read when a view opens). */
    refreshInterval: () => number;
    /** Milliseconds between two reads of a job's output. */
    outputRefreshInterval: () => number;
    /** Act on job `id`, as its view's buttons ask. */
    onAction: (action: JobAction, id: string) => void;
    trans: TranslationBundle;
  }
}
