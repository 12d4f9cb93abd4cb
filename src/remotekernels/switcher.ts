import { Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IStateDB } from '@jupyterlab/statedb';
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { HpcClient } from '../api/client';
import { RemoteKernelModel, RemoteKernelTracker } from './model';
import { reportEnd, warnOfWalltime } from './notices';
import { RestartProgress } from './restartProgress';

/**
 * Moves notebooks' kernels into Slurm jobs and back: Restart Kernel on
 * Cluster (the resources dialog, then one restart in progress per
 * notebook) and Restart Kernel Locally; warns of a remote kernel's time
 * limit and reports one that ended by itself.
 */
export class RemoteKernelSwitcher {
  constructor(options: RemoteKernelSwitcher.IOptions) {
    this._options = options;
    const { kernels, notebooks } = options;
    notebooks.currentChanged.connect(this._emitActiveChanged, this);
    notebooks.widgetAdded.connect(this._onNotebookAdded, this);
    kernels.changed.connect(this._onKernelChanged, this);
  }

  /**
   * Emitted when the active notebook's remote kernel may have changed: the
   * active notebook, a notebook's kernel or a remote kernel's state did.
   */
  get activeChanged(): ISignal<this, void> {
    return this._activeChanged;
  }

  /**
   * The remote kernel of the active notebook, unless it ended.
   */
  get activeKernel(): RemoteKernelModel | null {
    return this.remoteKernelOf(this._options.notebooks.currentWidget);
  }

  /**
   * The remote kernel of `panel`, unless it ended.
   */
  remoteKernelOf(panel: NotebookPanel | null): RemoteKernelModel | null {
    const model = this._options.kernels.find(
      panel?.sessionContext.session?.kernel?.id
    );
    return model && !model.isFinal ? model : null;
  }

  /**
   * Ask for resources, start a kernel in a Slurm job with them and switch
   * `panel` to it once it is ready.
   */
  async restartOnCluster(panel: NotebookPanel): Promise<void> {
    const { client, kernels, state, trans } = this._options;
    const { sessionContext } = panel;
    await sessionContext.ready;
    const kernelName =
      this.remoteKernelOf(panel)?.kernelName ??
      sessionContext.session?.kernel?.name ??
      sessionContext.kernelPreference.name;
    if (!kernelName) {
      Notification.error(
        trans.__('%1 has no kernel to restart on the cluster.', nameOf(panel))
      );
      return;
    }
    const { askForResources } = await import('./restartDialog');
    const resources = await askForResources(client, state, trans);
    if (!resources || panel.isDisposed) {
      return;
    }
    let id: string;
    try {
      ({ id } = await client.startRemoteKernel({
        kernel_name: kernelName,
        resources,
        path: panel.context.path
      }));
    } catch (error) {
      Notification.error(
        trans.__(
          'Could not restart %1 on the cluster: %2',
          nameOf(panel),
          (error as Error).message
        ),
        { autoClose: false }
      );
      return;
    }
    // One restart per notebook: a new choice replaces one still queued.
    void this._restarts.get(panel)?.cancel();
    this._restarts.set(
      panel,
      new RestartProgress({
        client,
        model: kernels.track(id, kernelName),
        panel,
        trans
      })
    );
  }

  /**
   * Move `panel` back to a local kernel of its kernelspec; its remote
   * kernel's job ends.
   */
  async restartLocally(panel: NotebookPanel): Promise<void> {
    const { client, trans } = this._options;
    const model = this.remoteKernelOf(panel);
    if (!model) {
      return;
    }
    this._stoppedOnRequest.add(model.id);
    try {
      // The server shuts the remote kernel down once the session left it.
      await panel.sessionContext.changeKernel({ name: model.kernelName });
      await client.stopRemoteKernel(model.id).catch(() => undefined);
    } catch (error) {
      Notification.error(
        trans.__(
          'Could not restart %1 locally: %2',
          nameOf(panel),
          (error as Error).message
        ),
        { autoClose: false }
      );
      return;
    }
    await model.refresh();
    Notification.success(
      trans.__(
        '%1 runs on a local kernel again; Slurm job %2 ended.',
        nameOf(panel),
        model.jobId ?? ''
      ),
      { autoClose: 5000 }
    );
  }

  private _notebookOf(model: RemoteKernelModel): NotebookPanel | null {
    return (
      this._options.notebooks.find(
        panel => panel.sessionContext.session?.kernel?.id === model.id
      ) ?? null
    );
  }

  private _onNotebookAdded(_: INotebookTracker, panel: NotebookPanel): void {
    panel.sessionContext.kernelChanged.connect(this._emitActiveChanged, this);
    panel.disposed.connect(() => this._restarts.delete(panel));
  }

  private _onKernelChanged(
    _: RemoteKernelTracker,
    model: RemoteKernelModel
  ): void {
    const { trans } = this._options;
    if (!this._states.has(model.id)) {
      model.walltimeWarning.connect(() =>
        warnOfWalltime(
          model,
          this._notebookOf(model),
          panel => this.restartLocally(panel),
          trans
        )
      );
    }
    const before = this._states.get(model.id);
    this._states.set(model.id, model.state);
    if (
      before === 'ready' &&
      model.state === 'ended' &&
      !this._stoppedOnRequest.has(model.id)
    ) {
      reportEnd(model, this._notebookOf(model), trans);
    }
    this._emitActiveChanged();
  }

  private _emitActiveChanged(): void {
    this._activeChanged.emit();
  }

  private _activeChanged = new Signal<this, void>(this);
  private _options: RemoteKernelSwitcher.IOptions;
  /** The restart in progress of each notebook. */
  private _restarts = new Map<NotebookPanel, RestartProgress>();
  /** The last state seen of each remote kernel. */
  private _states = new Map<string, string>();
  /** The remote kernels ended by Restart Kernel Locally. */
  private _stoppedOnRequest = new Set<string>();
}

export namespace RemoteKernelSwitcher {
  export interface IOptions {
    client: HpcClient;
    /** The remote kernels the page knows. */
    kernels: RemoteKernelTracker;
    notebooks: INotebookTracker;
    /** Where the resources dialog keeps the last choice. */
    state: IStateDB | null;
    trans: TranslationBundle;
  }
}

function nameOf(panel: NotebookPanel): string {
  return PathExt.basename(panel.context.path);
}
