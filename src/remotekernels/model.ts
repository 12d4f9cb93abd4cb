import type { Event } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { HpcClient } from '../api/client';
import { HpcRequestError } from '../api/request';
import { RemoteKernel, RemoteKernelState } from '../api/types';

/**
 * The id of the server's kernel progress events
 * (jupyterlab_hpc/events/kernel_progress.yaml).
 */
export const KERNEL_PROGRESS_SCHEMA =
  'https://jupyterlab-hpc.readthedocs.io/events/kernel-progress';

/**
 * One kernel progress event, as the server's event schema defines it.
 */
export interface IKernelProgressEvent {
  kernel_id: string;
  event:
    'queued' | 'starting' | 'ready' | 'walltime_warning' | 'ended' | 'failed';
  state: RemoteKernelState;
  kernel_name?: string;
  job_id?: string | null;
  reason?: string | null;
  estimated_start?: string | null;
  node?: string | null;
  time_left?: number | null;
}

/**
 * The event an emission of the server's event bus carries, if it is a
 * kernel progress event.
 */
export function asProgressEvent(
  emission: Event.Emission
): IKernelProgressEvent | null {
  if (
    emission.schema_id !== KERNEL_PROGRESS_SCHEMA ||
    typeof emission.kernel_id !== 'string' ||
    typeof emission.event !== 'string' ||
    typeof emission.state !== 'string'
  ) {
    return null;
  }
  return emission as unknown as IKernelProgressEvent;
}

/**
 * How far along each state is: a report of an earlier state than the one
 * known is stale (an answer overtaken by an event), and is ignored.
 */
const PROGRESS: Record<RemoteKernelState, number> = {
  queued: 0,
  starting: 1,
  ready: 2,
  ended: 3,
  failed: 3
};

/**
 * One kernel started in a Slurm job: where it is on its way (queued,
 * starting, ready) or why it ended.
 *
 * Events drive it; a poll of `GET /hpc/kernels/{id}` catches what events
 * missed (the event socket reconnects, the tab slept): often while the
 * kernel is on its way, rarely once it runs, never after it ended.
 */
export class RemoteKernelModel implements IDisposable {
  constructor(options: RemoteKernelModel.IOptions) {
    this.id = options.id;
    this.kernelName = options.kernelName;
    this._client = options.client;
    this._now = options.now ?? Date.now;
    this._startingInterval = options.startingPollInterval ?? 3000;
    this._readyInterval = options.readyPollInterval ?? 30000;
    this._poll = new Poll<RemoteKernel, unknown>({
      name: `jupyterlab-hpc:remote-kernel-${this.id}`,
      factory: () => this._client.getRemoteKernel(this.id),
      frequency: this._frequency(),
      standby: 'when-hidden'
    });
    this._poll.ticked.connect(this._onTick, this);
    if (options.snapshot) {
      this.applySnapshot(options.snapshot);
    }
  }

  /**
   * The Jupyter kernel id, which a notebook's session switches to.
   */
  readonly id: string;

  /**
   * The kernelspec that runs in the job.
   */
  readonly kernelName: string;

  /**
   * Emitted whenever anything about the kernel changes.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * Emitted once, when the job nears its time limit.
   */
  get walltimeWarning(): ISignal<this, void> {
    return this._walltimeWarning;
  }

  get state(): RemoteKernelState {
    return this._state;
  }

  /**
   * Whether the kernel ended or failed: nothing changes any more.
   */
  get isFinal(): boolean {
    return PROGRESS[this._state] === PROGRESS.ended;
  }

  get jobId(): string | null {
    return this._jobId;
  }

  /**
   * Queued: why the job waits (Slurm's reason in words); ended or failed:
   * why.
   */
  get reason(): string | null {
    return this._reason;
  }

  /**
   * Slurm's estimate of the start (ISO 8601), while queued.
   */
  get estimatedStart(): string | null {
    return this._estimatedStart;
  }

  get node(): string | null {
    return this._node;
  }

  /**
   * Seconds to the job's time limit, counted down from the last report;
   * null when unknown.
   */
  timeLeft(): number | null {
    if (this._timeLeft === null) {
      return null;
    }
    const elapsed = Math.floor((this._now() - this._timeLeftAt) / 1000);
    return Math.max(0, this._timeLeft - elapsed);
  }

  /**
   * Take a progress event in, if it is about this kernel.
   */
  applyEvent(event: IKernelProgressEvent): void {
    if (event.kernel_id !== this.id || this.isDisposed) {
      return;
    }
    if (event.event === 'walltime_warning') {
      this._setTimeLeft(event.time_left);
      if (!this._warned) {
        this._warned = true;
        this._walltimeWarning.emit();
      }
      this._changed.emit();
      return;
    }
    this._update(event.state, {
      job_id: event.job_id,
      reason: event.reason,
      estimated_start: event.estimated_start,
      node: event.node,
      time_left: event.time_left
    });
  }

  /**
   * Take in what the server answered to `GET /hpc/kernels/{id}`.
   */
  applySnapshot(kernel: RemoteKernel): void {
    if (kernel.id === this.id && !this.isDisposed) {
      this._update(kernel.state, kernel);
    }
  }

  /**
   * Ask the server now; resolves once the answer is applied.
   */
  async refresh(): Promise<void> {
    if (this.isDisposed || this.isFinal) {
      return;
    }
    await this._poll.refresh();
    await this._poll.tick.catch(() => undefined);
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

  private _update(
    state: RemoteKernelState,
    fields: {
      job_id?: string | null;
      reason?: string | null;
      estimated_start?: string | null;
      node?: string | null;
      time_left?: number | null;
    }
  ): void {
    if (this.isFinal || PROGRESS[state] < PROGRESS[this._state]) {
      return;
    }
    const before = JSON.stringify(this._view());
    this._state = state;
    this._jobId = fields.job_id ?? this._jobId;
    this._reason = fields.reason ?? null;
    this._estimatedStart =
      state === 'queued' ? (fields.estimated_start ?? null) : null;
    this._node = fields.node ?? this._node;
    if (fields.time_left !== undefined && fields.time_left !== null) {
      this._setTimeLeft(fields.time_left);
    }
    if (this.isFinal) {
      this._timeLeft = null;
      this._poll.dispose();
    } else {
      this._poll.frequency = this._frequency();
    }
    if (JSON.stringify(this._view()) !== before) {
      this._changed.emit();
    }
  }

  private _setTimeLeft(seconds: number | null | undefined): void {
    if (seconds !== null && seconds !== undefined) {
      this._timeLeft = seconds;
      this._timeLeftAt = this._now();
    }
  }

  private _view(): unknown[] {
    return [
      this._state,
      this._jobId,
      this._reason,
      this._estimatedStart,
      this._node,
      this._timeLeft,
      this._timeLeftAt
    ];
  }

  private _frequency(): IPoll.Frequency {
    const interval =
      this._state === 'ready' ? this._readyInterval : this._startingInterval;
    return { interval, backoff: true, max: Math.max(interval, 60 * 1000) };
  }

  private _onTick(
    _poll: Poll<RemoteKernel, unknown>,
    state: IPoll.State<RemoteKernel, unknown, 'standby'>
  ): void {
    if (state.phase === 'resolved' || state.phase === 'reconnected') {
      this.applySnapshot(state.payload as RemoteKernel);
    } else if (
      state.phase === 'rejected' &&
      state.payload instanceof HpcRequestError &&
      state.payload.status === 404
    ) {
      // A restarted server cancelled its predecessor's kernels' jobs.
      this._update('ended', { reason: state.payload.message });
    }
  }

  private _changed = new Signal<this, void>(this);
  private _client: HpcClient;
  private _estimatedStart: string | null = null;
  private _jobId: string | null = null;
  private _node: string | null = null;
  private _now: () => number;
  private _poll: Poll<RemoteKernel, unknown>;
  private _readyInterval: number;
  private _reason: string | null = null;
  private _startingInterval: number;
  private _state: RemoteKernelState = 'queued';
  private _timeLeft: number | null = null;
  private _timeLeftAt = 0;
  private _walltimeWarning = new Signal<this, void>(this);
  private _warned = false;
}

export namespace RemoteKernelModel {
  export interface IOptions {
    client: HpcClient;
    /** The Jupyter kernel id `POST /hpc/kernels` answered with. */
    id: string;
    kernelName: string;
    /** What the server last said about it, if known. */
    snapshot?: RemoteKernel;
    /** Milliseconds between two checks while queued or starting. */
    startingPollInterval?: number;
    /** Milliseconds between two checks while it runs. */
    readyPollInterval?: number;
    /** The clock, in epoch milliseconds (tests set it). */
    now?: () => number;
  }
}

/**
 * Every remote kernel of this server that the page knows: those started from
 * it, and those found when it loads (a reload while a kernel runs). Routes
 * the server's progress events to them.
 */
export class RemoteKernelTracker implements IDisposable {
  constructor(options: RemoteKernelTracker.IOptions) {
    this._options = options;
    options.events?.stream.connect(this._onEvent, this);
  }

  /**
   * Emitted when a kernel is added or changes.
   */
  get changed(): ISignal<this, RemoteKernelModel> {
    return this._changed;
  }

  /**
   * Follow a kernel just started; checks on it at once, since its first
   * events may have come before its id was known.
   */
  track(id: string, kernelName: string): RemoteKernelModel {
    const model = this._add(id, kernelName);
    void model.refresh();
    return model;
  }

  find(id: string | null | undefined): RemoteKernelModel | undefined {
    return id ? this._models.get(id) : undefined;
  }

  /**
   * Follow the server's remote kernels that are still queued, starting or
   * running.
   */
  async restore(): Promise<void> {
    const { kernels } = await this._options.client.listRemoteKernels();
    for (const kernel of kernels) {
      if (!this._models.has(kernel.id) && PROGRESS[kernel.state] < 3) {
        this._add(kernel.id, kernel.kernel_name, kernel);
      }
    }
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._options.events?.stream.disconnect(this._onEvent, this);
    for (const model of this._models.values()) {
      model.dispose();
    }
    this._models.clear();
    Signal.clearData(this);
  }

  private _add(
    id: string,
    kernelName: string,
    snapshot?: RemoteKernel
  ): RemoteKernelModel {
    const model = new RemoteKernelModel({
      ...this._options.modelOptions,
      client: this._options.client,
      id,
      kernelName,
      snapshot
    });
    this._models.set(id, model);
    model.changed.connect(() => this._changed.emit(model));
    this._changed.emit(model);
    return model;
  }

  private _onEvent(_: unknown, emission: Event.Emission): void {
    const event = asProgressEvent(emission);
    if (event) {
      this._models.get(event.kernel_id)?.applyEvent(event);
    }
  }

  private _changed = new Signal<this, RemoteKernelModel>(this);
  private _isDisposed = false;
  private _models = new Map<string, RemoteKernelModel>();
  private _options: RemoteKernelTracker.IOptions;
}

export namespace RemoteKernelTracker {
  export interface IOptions {
    client: HpcClient;
    /** The server's event bus (the service manager's `events`). */
    events?: { stream: ISignal<unknown, Event.Emission> } | null;
    /** Poll intervals and clock of the kernels' models. */
    modelOptions?: Pick<
      RemoteKernelModel.IOptions,
      'startingPollInterval' | 'readyPollInterval' | 'now'
    >;
  }
}
