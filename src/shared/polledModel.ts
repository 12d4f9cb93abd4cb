import { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import type { HpcClient } from '../api/client';
import { Conditional, HpcRequestError } from '../api/request';

/**
 * The longest wait between two requests while the server keeps failing, so a
 * view notices within a minute that Slurm is back.
 */
const MAX_BACKOFF_MS = 60 * 1000;

/**
 * Data the server extension serves, kept fresh by a named `Poll`.
 *
 * Views subscribe to `changed` and never fetch. The poll
 * - stands by while the browser tab is hidden or no view is `active`,
 * - sends the last ETag, so an unchanged answer costs a 304 and no re-render,
 * - never throws: a failure sets `error` (the last data stays available) and
 *   the poll retries with backoff until the server answers again, which
 *   clears the error by itself.
 */
export abstract class PolledModel<T> implements IDisposable {
  constructor(options: PolledModel.IOptions) {
    this._active = options.active ?? true;
    this._poll = new Poll<Conditional<T>, unknown>({
      name: options.name,
      factory: () => this.request(this._etag),
      frequency: pollFrequency(options.refreshInterval),
      standby: () => !this._active || 'when-hidden'
    });
    this._poll.ticked.connect(this._onTick, this);
  }

  /**
   * Emitted whenever the data or the error change.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The body of the last successful answer; null before the first one.
   */
  get data(): T | null {
    return this._data;
  }

  /**
   * Why the last request failed; null once a request succeeds again.
   */
  get error(): HpcRequestError | null {
    return this._error;
  }

  /**
   * Whether a view shows the data; an inactive model does not poll.
   */
  get active(): boolean {
    return this._active;
  }
  set active(active: boolean) {
    if (active === this._active) {
      return;
    }
    this._active = active;
    if (active) {
      // The data may be old: the poll slept while nobody looked.
      void this.refresh();
    }
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

  /**
   * Ask the server, sending `etag` (if any) as If-None-Match.
   */
  protected abstract request(etag: string | null): Promise<Conditional<T>>;

  /**
   * Forget the data, e.g. when what is asked for changes, and ask at once.
   */
  protected reset(): void {
    this._data = null;
    this._etag = null;
    this._error = null;
    this.emitChanged();
    void this.refresh();
  }

  protected emitChanged(): void {
    this._changed.emit();
  }

  private _onTick(
    _poll: Poll<Conditional<T>, unknown>,
    state: IPoll.State<Conditional<T>, unknown, 'standby'>
  ): void {
    switch (state.phase) {
      case 'resolved':
      case 'reconnected': {
        const answer = state.payload as Conditional<T>;
        if (answer.unchanged && this._error === null) {
          return;
        }
        if (!answer.unchanged) {
          this._data = answer.body;
          this._etag = answer.etag;
        }
        this._error = null;
        this.emitChanged();
        break;
      }
      case 'rejected':
        this._error = asRequestError(state.payload);
        this.emitChanged();
        break;
    }
  }

  private _active: boolean;
  private _changed = new Signal<this, void>(this);
  private _data: T | null = null;
  private _error: HpcRequestError | null = null;
  private _etag: string | null = null;
  private _poll: Poll<Conditional<T>, unknown>;
}

export namespace PolledModel {
  export interface IOptions {
    /**
     * The poll's name, e.g. `jupyterlab-hpc:jobs`.
     */
    name: string;

    /**
     * Milliseconds between two requests while all goes well.
     */
    refreshInterval: number;

    /**
     * Whether a view shows the data from the start; true by default.
     */
    active?: boolean;
  }
}

/**
 * Options shared by the models of cluster-wide data (partitions, quotas,
 * announcements).
 */
export interface IClusterModelOptions {
  client: HpcClient;
  /** Milliseconds between two requests while all goes well. */
  refreshInterval: number;
  /** Whether a view shows the data from the start; true by default. */
  active?: boolean;
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
 * that should still reach the user as a message rather than a blank view.
 */
function asRequestError(reason: unknown): HpcRequestError {
  return reason instanceof HpcRequestError
    ? reason
    : new HpcRequestError(0, String(reason));
}
