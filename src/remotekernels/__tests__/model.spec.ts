import type { Event } from '@jupyterlab/services';
import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import { RemoteKernel } from '../../api/types';
import {
  FakeJupyterServer,
  failure,
  ok,
  setPageVisibility
} from '../../shared/__tests__/fixtures';
import {
  IKernelProgressEvent,
  KERNEL_PROGRESS_SCHEMA,
  RemoteKernelModel,
  RemoteKernelTracker
} from '../model';
import { describeProgress } from '../progressNotice';

const trans = nullTranslator.load('jupyterlab_hpc');
const KERNEL_ID = '6d7ae043-4856-42c8-bb8e-cf5f7ae2ea3b';
const NO_AUTOMATIC_TICK = 60 * 1000;

function event(fields: Partial<IKernelProgressEvent>): IKernelProgressEvent {
  return {
    kernel_id: KERNEL_ID,
    event: 'queued',
    state: 'queued',
    kernel_name: 'python3',
    job_id: '10196',
    reason: null,
    estimated_start: null,
    node: null,
    time_left: null,
    ...fields
  };
}

function snapshot(fields: Partial<RemoteKernel> = {}): RemoteKernel {
  return {
    id: KERNEL_ID,
    kernel_name: 'python3',
    job_id: '10196',
    state: 'queued',
    reason: 'Waiting for resources',
    node: null,
    started: null,
    estimated_start: null,
    time_left: null,
    resources: { partition: 'debug', cpus: 1, time: 600 },
    ...fields
  };
}

describe('RemoteKernelModel', () => {
  let model: RemoteKernelModel;
  let server: FakeJupyterServer;

  beforeEach(() => {
    setPageVisibility('visible');
    server = new FakeJupyterServer([ok(snapshot())]);
  });

  afterEach(() => model.dispose());

  function makeModel(
    options: Partial<RemoteKernelModel.IOptions> = {}
  ): RemoteKernelModel {
    model = new RemoteKernelModel({
      client: server.client,
      id: KERNEL_ID,
      kernelName: 'python3',
      startingPollInterval: NO_AUTOMATIC_TICK,
      readyPollInterval: NO_AUTOMATIC_TICK,
      ...options
    });
    return model;
  }

  it('follows the events from queued (with the reason) to ready on a node', () => {
    makeModel();
    model.applyEvent(
      event({
        reason: 'Waiting for resources',
        estimated_start: '2026-01-01T10:05:00Z'
      })
    );
    expect(model.state).toBe('queued');
    expect(model.reason).toBe('Waiting for resources');
    expect(model.estimatedStart).toBe('2026-01-01T10:05:00Z');

    model.applyEvent(
      event({ event: 'starting', state: 'starting', node: 'n2' })
    );
    expect(model.state).toBe('starting');
    expect(model.node).toBe('n2');
    expect(model.estimatedStart).toBeNull();

    model.applyEvent(
      event({ event: 'ready', state: 'ready', node: 'n2', time_left: 599 })
    );
    expect(model.state).toBe('ready');
    expect(model.jobId).toBe('10196');
    expect(model.timeLeft()).toBe(599);
    expect(model.isFinal).toBe(false);
  });

  it('ignores events of other kernels', () => {
    makeModel();
    model.applyEvent(event({ kernel_id: 'other', state: 'failed' }));

    expect(model.state).toBe('queued');
  });

  it('ignores an answer older than the events it has seen', () => {
    makeModel();
    model.applyEvent(event({ event: 'ready', state: 'ready', node: 'n1' }));
    model.applySnapshot(snapshot({ state: 'starting', node: 'n1' }));

    expect(model.state).toBe('ready');
  });

  it('learns from the server that the kernel is ready when the events were missed', async () => {
    server = new FakeJupyterServer([
      ok(snapshot()),
      ok(snapshot({ state: 'starting', node: 'n3', reason: null })),
      ok(snapshot({ state: 'ready', node: 'n3', reason: null, time_left: 590 }))
    ]);
    makeModel({ startingPollInterval: 10 });

    while (model.state !== 'ready') {
      await signalToPromise(model.changed);
    }

    expect(model.node).toBe('n3');
    expect(model.timeLeft()).toBe(590);
    expect(new URL(server.requests[0].url).pathname).toBe(
      `/hpc/kernels/${KERNEL_ID}`
    );
  });

  it('stops asking once the kernel ended', async () => {
    server = new FakeJupyterServer([
      ok(snapshot({ state: 'failed', reason: 'sbatch: invalid account' }))
    ]);
    makeModel({ startingPollInterval: 10 });
    await model.refresh();
    const asked = server.requests.length;

    await new Promise(resolve => setTimeout(resolve, 100));

    expect(model.isFinal).toBe(true);
    expect(model.reason).toBe('sbatch: invalid account');
    expect(server.requests).toHaveLength(asked);
  });

  it('takes a 404 for a kernel the server no longer has: ended', async () => {
    server = new FakeJupyterServer([
      failure(404, `No remote kernel ${KERNEL_ID} started by this server`)
    ]);
    makeModel();
    await model.refresh();

    expect(model.state).toBe('ended');
    expect(model.reason).toMatch(/No remote kernel/);
  });

  it('counts the time left down between reports', () => {
    let now = 1_000_000;
    makeModel({ now: () => now });
    model.applyEvent(
      event({ event: 'ready', state: 'ready', node: 'n1', time_left: 600 })
    );

    now += 61_500;

    expect(model.timeLeft()).toBe(539);
    now += 3600_000;
    expect(model.timeLeft()).toBe(0);
  });

  it('announces the walltime warning once', () => {
    makeModel();
    let warnings = 0;
    model.walltimeWarning.connect(() => warnings++);
    model.applyEvent(event({ event: 'ready', state: 'ready', node: 'n1' }));

    model.applyEvent(
      event({ event: 'walltime_warning', state: 'ready', time_left: 290 })
    );
    model.applyEvent(
      event({ event: 'walltime_warning', state: 'ready', time_left: 280 })
    );

    expect(warnings).toBe(1);
    expect(model.timeLeft()).toBe(280);
  });
});

describe('RemoteKernelTracker', () => {
  let tracker: RemoteKernelTracker;

  beforeEach(() => setPageVisibility('visible'));
  afterEach(() => tracker.dispose());

  it("routes the server's kernel progress events to the kernel they are about", () => {
    const stream = new Signal<unknown, Event.Emission>({});
    const server = new FakeJupyterServer([ok(snapshot())]);
    tracker = new RemoteKernelTracker({
      client: server.client,
      events: { stream },
      modelOptions: { startingPollInterval: NO_AUTOMATIC_TICK }
    });
    const model = tracker.track(KERNEL_ID, 'python3');

    stream.emit({
      schema_id: 'https://events.jupyter.org/jupyter_server/kernel_actions/v1',
      kernel_id: KERNEL_ID,
      event: 'ready',
      state: 'ready'
    });
    expect(model.state).toBe('queued');

    stream.emit({
      schema_id: KERNEL_PROGRESS_SCHEMA,
      ...event({ event: 'starting', state: 'starting', node: 'n4' })
    } as unknown as Event.Emission);
    expect(model.state).toBe('starting');
    expect(tracker.find(KERNEL_ID)).toBe(model);
  });

  it('adopts the running kernels after a reload, not those that ended', async () => {
    const server = new FakeJupyterServer([
      ok({
        kernels: [
          snapshot({ state: 'ready', node: 'n1', time_left: 100 }),
          snapshot({ id: 'gone', state: 'ended', reason: 'Shut down.' })
        ]
      })
    ]);
    tracker = new RemoteKernelTracker({
      client: server.client,
      modelOptions: { readyPollInterval: NO_AUTOMATIC_TICK }
    });

    await tracker.restore();

    expect(tracker.find(KERNEL_ID)?.state).toBe('ready');
    expect(tracker.find(KERNEL_ID)?.node).toBe('n1');
    expect(tracker.find('gone')).toBeUndefined();
  });
});

describe('describeProgress', () => {
  let model: RemoteKernelModel;

  beforeEach(() => {
    model = new RemoteKernelModel({
      client: new FakeJupyterServer([ok(snapshot())]).client,
      id: KERNEL_ID,
      kernelName: 'python3',
      startingPollInterval: NO_AUTOMATIC_TICK
    });
  });
  afterEach(() => model.dispose());

  it("says why the job waits, in Slurm's words, and offers Cancel", () => {
    model.applyEvent(event({ reason: 'Waiting for resources to become free' }));

    expect(describeProgress(model, 'a.ipynb', trans)).toEqual({
      message:
        'a.ipynb: job 10196 queued. Waiting for resources to become free.',
      type: 'in-progress',
      done: false
    });
  });

  it('says when the queued job starts, in words', () => {
    const now = Date.parse('2026-01-01T10:00:00Z');
    model.applyEvent(
      event({ reason: 'Priority', estimated_start: '2026-01-01T10:10:00Z' })
    );

    expect(describeProgress(model, 'a.ipynb', trans, false, now).message).toBe(
      'a.ipynb: job 10196 queued. Priority. Starts in 10 min.'
    );
    // Slurm's estimate went by, the job still waits.
    expect(
      describeProgress(model, 'a.ipynb', trans, false, now + 15 * 60 * 1000)
        .message
    ).toBe(
      'a.ipynb: job 10196 queued. Priority. Was expected to start 5 min ago.'
    );
  });

  it('names the node the kernel starts on, then runs on', () => {
    model.applyEvent(
      event({ event: 'starting', state: 'starting', node: 'n2' })
    );
    expect(describeProgress(model, 'a.ipynb', trans).message).toBe(
      'a.ipynb: kernel starting on n2 (job 10196)…'
    );

    model.applyEvent(event({ event: 'ready', state: 'ready', node: 'n2' }));
    expect(describeProgress(model, 'a.ipynb', trans)).toEqual({
      message: 'a.ipynb now runs on n2 (job 10196).',
      type: 'success',
      done: true
    });
  });

  it('gives the reason of a failure as an error', () => {
    model.applyEvent(
      event({
        event: 'failed',
        state: 'failed',
        reason: 'sbatch: error: invalid partition specified: nope'
      })
    );

    const notice = describeProgress(model, 'a.ipynb', trans);
    expect(notice.type).toBe('error');
    expect(notice.message).toMatch(/invalid partition specified: nope$/);
  });

  it('reports a cancelled restart as no failure', () => {
    model.applyEvent(event({ event: 'ended', state: 'ended', reason: 'x' }));

    expect(describeProgress(model, 'a.ipynb', trans, true).type).toBe('info');
  });
});
