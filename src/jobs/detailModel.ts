import { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { HpcClient } from '../api/client';
import { Conditional, HpcRequestError } from '../api/request';
import { JobDetail, OutputStream } from '../api/types';
import { PolledModel } from '../shared/polledModel';

/**
 * Everything Slurm tells about one job, refreshed while its view is open.
 */
export class JobDetailModel extends PolledModel<JobDetail> {
  constructor(options: JobDetailModel.IOptions) {
    super({
      name: `jupyterlab-hpc:job-${options.id}`,
      refreshInterval: options.refreshInterval
    });
    this.id = options.id;
    this._client = options.client;
    this.changed.connect(this._onChanged, this);
  }

  /**
   * The Slurm job id, "1234" or "1234_7".
   */
  readonly id: string;

  /**
   * Whether Slurm answered that it does not know the job (404), e.g. a tab
   * restored after a reload for a job Slurm has forgotten since. The model
   * then stops asking: the answer would not change.
   */
  get gone(): boolean {
    return this.error?.status === 404;
  }

  private _onChanged(): void {
    if (this.gone) {
      this.active = false;
    }
  }

  protected async request(): Promise<Conditional<JobDetail>> {
    const body = await this._client.getJob(this.id);
    return { unchanged: false, body, etag: null };
  }

  private _client: HpcClient;
}

export namespace JobDetailModel {
  export interface IOptions {
    client: HpcClient;
    id: string;
    /** Milliseconds between two requests while all goes well. */
    refreshInterval: number;
  }
}

/**
 * At most this many characters of a stream are kept: a tail, not a copy of
 * a job's whole output.
 */
export const TAIL_CHARACTERS = 256 * 1024;

/**
 * The live end of a job's stdout or stderr.
 *
 * It reads the file by offset from where it stopped, so each poll fetches
 * only the new bytes; a long backlog is read in chunks without waiting, and
 * a file larger than the tail is entered near its end.
 */
export class OutputTailModel implements IDisposable {
  constructor(options: OutputTailModel.IOptions) {
    this._client = options.client;
    this._id = options.id;
    this.stream = options.stream;
    this._poll = new Poll<boolean, unknown>({
      name: `jupyterlab-hpc:output-${options.id}-${options.stream}`,
      factory: () => this._readNext(),
      frequency: {
        interval: options.refreshInterval,
        backoff: true,
        max: 60 * 1000
      },
      standby: 'when-hidden'
    });
    this._poll.ticked.connect(this._onTick, this);
  }

  readonly stream: OutputStream;

  /**
   * Emitted when text arrives or the error changes.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The last characters of the stream read so far.
   */
  get text(): string {
    return this._text;
  }

  /**
   * Whether the beginning of the file was skipped or dropped.
   */
  get truncated(): boolean {
    return this._truncated;
  }

  /**
   * The file's path on the cluster, once known.
   */
  get path(): string | null {
    return this._path;
  }

  /**
   * Why the last read failed (e.g. 404: no such file yet); null after a
   * successful one.
   */
  get error(): HpcRequestError | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    Signal.clearData(this);
  }

  /**
   * Read from the current offset; resolves to whether more is waiting.
   */
  private async _readNext(): Promise<boolean> {
    const chunk = await this._client.readOutput(
      this._id,
      this.stream,
      this._offset
    );
    this._path = chunk.path;
    if (
      this._offset === 0 &&
      chunk.size - chunk.next_offset > TAIL_CHARACTERS
    ) {
      // Start near the end rather than download the whole file.
      this._offset = chunk.size - TAIL_CHARACTERS;
      this._truncated = true;
      return true;
    }
    if (chunk.size < this._offset) {
      // The file was truncated or replaced (a requeued job starts afresh).
      this._offset = 0;
      this._text = '';
      return true;
    }
    this._offset = chunk.next_offset;
    this._append(chunk.data);
    return chunk.next_offset < chunk.size;
  }

  private _append(data: string): void {
    if (!data) {
      return;
    }
    const text = this._text + data;
    if (text.length > TAIL_CHARACTERS) {
      this._text = text.slice(text.length - TAIL_CHARACTERS);
      this._truncated = true;
    } else {
      this._text = text;
    }
    this._changed.emit();
  }

  private _onTick(
    _poll: Poll<boolean, unknown>,
    state: IPoll.State<boolean, unknown, 'standby'>
  ): void {
    if (state.phase === 'resolved' || state.phase === 'reconnected') {
      if (this._error) {
        this._error = null;
        this._changed.emit();
      }
      if (state.payload) {
        void this._poll.refresh();
      }
    } else if (state.phase === 'rejected') {
      this._error =
        state.payload instanceof HpcRequestError
          ? state.payload
          : new HpcRequestError(0, String(state.payload));
      this._changed.emit();
    }
  }

  private _changed = new Signal<this, void>(this);
  private _client: HpcClient;
  private _error: HpcRequestError | null = null;
  private _id: string;
  private _offset = 0;
  private _path: string | null = null;
  private _poll: Poll<boolean, unknown>;
  private _text = '';
  private _truncated = false;
}

export namespace OutputTailModel {
  export interface IOptions {
    client: HpcClient;
    id: string;
    stream: OutputStream;
    /** Milliseconds between two reads once the end is reached. */
    refreshInterval: number;
  }
}
