import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { fetchJobs } from './api';
import { HpcRequestError } from './request';
import { IJob, IJobsResponse, JobScope } from './types';

/**
 * The longest wait between two requests while the server keeps failing, so the
 * panel notices within a minute that Slurm is back.
 */
const MAX_BACKOFF_MS = 60 * 1000;

/**
 * The live list of Slurm jobs shown by the sidebar.
 *
 * The model owns the polling: views subscribe to `changed` and never fetch.
 * A failed request does not throw: it sets `error` (the last jobs stay
 * available) and the poll retries with backoff until the server answers again.
 */
export class JobsModel implements IDisposable {
  constructor(options: JobsModel.IOptions) {
    this._scope = options.scope;
    this._serverSettings = options.serverSettings;
    this._poll = new Poll<IJobsResponse, unknown>({
      name: 'jupyterlab-hpc:jobs',
      factory: () => fetchJobs(this._scope, this._serverSettings),
      frequency: pollFrequency(options.refreshInterval),
      // The server shares one Slurm query between all clients, yet a hidden
      // browser tab has no reason to keep asking.
      standby: 'when-hidden'
    });
    this._poll.ticked.connect(this._onTick, this);
  }

  /**
   * Emitted whenever jobs, error or scope change.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The jobs of the last successful request, in the server's order.
   */
  get jobs(): readonly IJob[] {
    return this._jobs;
  }

  /**
   * Whether a request for the current scope has succeeded yet.
   */
  get hasLoaded(): boolean {
    return this._hasLoaded;
  }

  /**
   * Why the last request failed; null once a request succeeds again.
   */
  get error(): HpcRequestError | null {
    return this._error;
  }

  /**
   * Whose jobs are listed. Changing it drops the jobs shown and asks at once.
   */
  get scope(): JobScope {
    return this._scope;
  }
  set scope(scope: JobScope) {
    if (scope === this._scope) {
      return;
    }
    this._scope = scope;
    this._jobs = [];
    this._hasLoaded = false;
    this._changed.emit();
    void this.refresh();
  }

  /**
   * Milliseconds between two requests while all goes well.
   */
  get refreshInterval(): number {
    return this._poll.frequency.interval;
  }
  set refreshInterval(interval: number) {
    this._poll.frequency = pollFrequency(interval);
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /**
   * Ask the server now; resolves once the answer (or failure) is applied, or
   * the model is disposed.
   */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    await this._poll.refresh();
    // The tick only rejects when the poll is disposed while it waits.
    await this._poll.tick.catch(() => undefined);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    Signal.clearData(this);
  }

  private _onTick(
    _poll: Poll<IJobsResponse, unknown>,
    state: IPoll.State<IJobsResponse, unknown, 'standby'>
  ): void {
    switch (state.phase) {
      case 'resolved':
      case 'reconnected': {
        this._jobs = (state.payload as IJobsResponse).jobs;
        this._hasLoaded = true;
        this._error = null;
        this._changed.emit();
        break;
      }
      case 'rejected':
        this._error = asRequestError(state.payload);
        this._changed.emit();
        break;
    }
  }

  private _changed = new Signal<this, void>(this);
  private _error: HpcRequestError | null = null;
  private _hasLoaded = false;
  private _jobs: readonly IJob[] = [];
  private _poll: Poll<IJobsResponse, unknown>;
  private _scope: JobScope;
  private _serverSettings: ServerConnection.ISettings | undefined;
}

export namespace JobsModel {
  export interface IOptions {
    /**
     * Milliseconds between two requests while all goes well.
     */
    refreshInterval: number;

    /**
     * Whose jobs to list at first.
     */
    scope: JobScope;

    /**
     * The connection to the Jupyter server; the page's own by default.
     */
    serverSettings?: ServerConnection.ISettings;
  }
}

/**
 * Poll every `interval` ms, backing off after failures.
 */
function pollFrequency(interval: number): IPoll.Frequency {
  return {
    interval,
    backoff: true,
    max: Math.max(interval, MAX_BACKOFF_MS)
  };
}

/**
 * The request layer only throws `HpcRequestError`; anything else is a bug
 * that should still reach the user as a message rather than a blank panel.
 */
function asRequestError(reason: unknown): HpcRequestError {
  return reason instanceof HpcRequestError
    ? reason
    : new HpcRequestError(0, String(reason));
}
