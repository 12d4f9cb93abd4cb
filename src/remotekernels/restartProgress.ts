import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';

import { HpcClient } from '../api/client';
import { RemoteKernelModel } from './model';
import { describeProgress } from './progressNotice';

/**
 * Milliseconds a notice of a finished restart stays up.
 */
const DONE_NOTICE_MS = 8000;

/**
 * Milliseconds between two rewordings of a queued job's estimated start
 * ("Starts in 10 min." does not stay true).
 */
const CLOCK_MS = 30 * 1000;

/**
 * One notebook's restart on the cluster, from the submission to the switch:
 * a progress notification (updated in place, with Cancel) while the job is
 * queued and starting, the notebook keeping its kernel meanwhile; once the
 * remote kernel is ready, the notebook's session switches to it.
 */
export class RestartProgress {
  constructor(options: RestartProgress.IOptions) {
    this._options = options;
    const { model, panel } = options;
    this._notebook = PathExt.basename(panel.context.path);
    const notice = describeProgress(model, this._notebook, options.trans);
    this._notificationId = Notification.emit(notice.message, notice.type, {
      autoClose: false,
      actions: [this._cancelAction()]
    });
    model.changed.connect(this._onChanged, this);
    panel.disposed.connect(this._onNotebookClosed, this);
    this._clock = setInterval(
      () => this._onClock(),
      options.clockInterval ?? CLOCK_MS
    );
    this._onChanged();
  }

  get model(): RemoteKernelModel {
    return this._options.model;
  }

  /**
   * Whether the restart is over: switched, failed or cancelled.
   */
  get isDone(): boolean {
    return this._done;
  }

  /**
   * Give the restart up: the queued job is cancelled (the kernel, once
   * ready, shut down), the notebook keeps its kernel.
   */
  async cancel(): Promise<void> {
    if (this._done || this._cancelled) {
      return;
    }
    const { client, model, trans } = this._options;
    this._cancelled = true;
    Notification.update({
      id: this._notificationId,
      message: trans.__('%1: cancelling the kernel job…', this._notebook),
      type: 'in-progress',
      autoClose: false,
      actions: []
    });
    try {
      await client.stopRemoteKernel(model.id);
    } catch (error) {
      this._finish(
        trans.__(
          '%1: could not cancel the kernel job: %2',
          this._notebook,
          (error as Error).message
        ),
        'error'
      );
      return;
    }
    await model.refresh();
  }

  private _onChanged(): void {
    if (this._done) {
      return;
    }
    const { model, trans } = this._options;
    if (this._cancelled && !model.isFinal) {
      return; // until the job is gone
    }
    if (model.state === 'ready') {
      void this._switch();
      return;
    }
    const notice = describeProgress(
      model,
      this._notebook,
      trans,
      this._cancelled
    );
    if (notice.done) {
      const reason = model.reason;
      this._finish(
        notice.message,
        notice.type,
        notice.type === 'error' && reason ? [this._reasonAction(reason)] : []
      );
    } else {
      Notification.update({
        id: this._notificationId,
        message: notice.message,
        type: notice.type,
        autoClose: false,
        actions: [this._cancelAction()]
      });
    }
  }

  /**
   * Move the notebook's session to the remote kernel (the server shuts the
   * local one down), or start its session with it.
   */
  private async _switch(): Promise<void> {
    const { client, model, panel, trans } = this._options;
    this._done = true;
    if (panel.isDisposed) {
      await client.stopRemoteKernel(model.id).catch(() => undefined);
      this._finish(
        trans.__(
          '%1 was closed: the cluster kernel was shut down.',
          this._notebook
        ),
        'info'
      );
      return;
    }
    try {
      await panel.sessionContext.changeKernel({ id: model.id });
    } catch (error) {
      await client.stopRemoteKernel(model.id).catch(() => undefined);
      this._finish(
        trans.__(
          '%1 could not switch to the cluster kernel: %2',
          this._notebook,
          (error as Error).message
        ),
        'error'
      );
      return;
    }
    const notice = describeProgress(model, this._notebook, trans);
    this._finish(notice.message, notice.type);
  }

  /**
   * Reword the estimated start of the queued job as time goes by.
   */
  private _onClock(): void {
    const { model } = this._options;
    if (model.isDisposed) {
      clearInterval(this._clock);
    } else if (model.state === 'queued' && model.estimatedStart) {
      this._onChanged();
    }
  }

  private _onNotebookClosed(): void {
    if (!this._done) {
      void this.cancel();
    }
  }

  private _finish(
    message: string,
    type: Notification.TypeOptions,
    actions: Notification.IAction[] = []
  ): void {
    this._done = true;
    clearInterval(this._clock);
    this._options.model.changed.disconnect(this._onChanged, this);
    this._options.panel.disposed.disconnect(this._onNotebookClosed, this);
    Notification.update({
      id: this._notificationId,
      message,
      type,
      autoClose: type === 'error' ? false : DONE_NOTICE_MS,
      actions
    });
  }

  private _cancelAction(): Notification.IAction {
    const { trans } = this._options;
    return {
      label: trans.__('Cancel'),
      caption: trans.__('Cancel the kernel job; the notebook keeps its kernel'),
      callback: event => {
        // Keep the notice: it says when the job is gone.
        event.preventDefault();
        void this.cancel();
      }
    };
  }

  private _reasonAction(reason: string): Notification.IAction {
    const { trans } = this._options;
    return {
      label: trans.__('Details'),
      caption: trans.__('Show the whole reason'),
      callback: () => {
        void showDialog({
          title: trans.__('The cluster kernel of %1', this._notebook),
          body: reason,
          buttons: [Dialog.okButton({ label: trans.__('Close') })]
        });
      }
    };
  }

  private _cancelled = false;
  private _clock: ReturnType<typeof setInterval>;
  private _done = false;
  private _notebook: string;
  private _notificationId: string;
  private _options: RestartProgress.IOptions;
}

export namespace RestartProgress {
  export interface IOptions {
    client: HpcClient;
    /** The remote kernel on its way. */
    model: RemoteKernelModel;
    /** The notebook that switches to it. */
    panel: NotebookPanel;
    trans: TranslationBundle;
    /** Milliseconds between rewordings of the estimated start (for tests). */
    clockInterval?: number;
  }
}
