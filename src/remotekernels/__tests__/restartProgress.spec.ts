import { Notification } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

import {
  FakeJupyterServer,
  IFakeAnswer,
  ok,
  sleep
} from '../../shared/__tests__/fixtures';
import { IKernelProgressEvent, RemoteKernelModel } from '../model';
import { warnOfWalltime } from '../notices';
import { RestartProgress } from '../restartProgress';

const trans = nullTranslator.load('jupyterlab_hpc');
const KERNEL_ID = '6d7ae043-4856-42c8-bb8e-cf5f7ae2ea3b';

/**
 * What RestartProgress uses of a notebook panel: its path, its session and
 * whether it is closed.
 */
class FakeNotebook {
  readonly context = { path: 'work/analysis.ipynb', save: jest.fn() };
  readonly disposed = new Signal<this, void>(this);
  readonly kernelChanges: unknown[] = [];
  readonly sessionContext = {
    changeKernel: async (options: unknown) => {
      this.kernelChanges.push(options);
      return null;
    }
  };
  isDisposed = false;

  close(): void {
    this.isDisposed = true;
    this.disposed.emit();
  }

  get panel(): NotebookPanel {
    return this as unknown as NotebookPanel;
  }
}

function event(fields: Partial<IKernelProgressEvent>): IKernelProgressEvent {
  return {
    kernel_id: KERNEL_ID,
    event: 'queued',
    state: 'queued',
    job_id: '10196',
    reason: null,
    node: null,
    ...fields
  };
}

function remoteKernel(state: string, reason: string | null = null) {
  return {
    id: KERNEL_ID,
    kernel_name: 'python3',
    job_id: '10196',
    state,
    reason,
    node: null,
    started: null,
    time_left: null,
    resources: {}
  };
}

/**
 * The one notification on screen.
 */
function notice(): Notification.INotification {
  const shown = Notification.manager.notifications;
  expect(shown).toHaveLength(1);
  return shown[0];
}

describe('RestartProgress', () => {
  let server: FakeJupyterServer;
  let model: RemoteKernelModel;
  let notebook: FakeNotebook;

  function start(
    answers: IFakeAnswer[],
    clockInterval?: number
  ): RestartProgress {
    server = new FakeJupyterServer(answers);
    model = new RemoteKernelModel({
      client: server.client,
      id: KERNEL_ID,
      kernelName: 'python3',
      startingPollInterval: 60 * 1000
    });
    notebook = new FakeNotebook();
    return new RestartProgress({
      client: server.client,
      model,
      panel: notebook.panel,
      trans,
      clockInterval
    });
  }

  afterEach(() => {
    model.dispose();
    Notification.dismiss();
  });

  it('keeps the notebook on its kernel while queued, saying why, with Cancel', () => {
    start([ok(remoteKernel('queued'))]);

    model.applyEvent(event({ reason: 'Waiting for resources to become free' }));

    expect(notice().message).toBe(
      'analysis.ipynb: job 10196 queued. Waiting for resources to become free.'
    );
    expect(notice().type).toBe('in-progress');
    expect(notice().options.actions?.map(action => action.label)).toEqual([
      'Cancel'
    ]);
    expect(notebook.kernelChanges).toEqual([]);
  });

  it('rewords the estimated start as time goes by', async () => {
    const now = Date.now();
    const estimated = new Date(now + 10 * 60 * 1000).toISOString();
    start([ok({ ...remoteKernel('queued'), estimated_start: estimated })], 10);
    model.applyEvent(event({ estimated_start: estimated }));
    expect(notice().message).toBe(
      'analysis.ipynb: job 10196 queued. Starts in 10 min.'
    );

    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 5 * 60 * 1000);
    try {
      await sleep(50);
    } finally {
      clock.mockRestore();
    }
    expect(notice().message).toBe(
      'analysis.ipynb: job 10196 queued. Starts in 5 min.'
    );
  });

  it("switches the notebook's session to the remote kernel once it is ready", async () => {
    const progress = start([ok(remoteKernel('queued'))]);

    model.applyEvent(
      event({ event: 'starting', state: 'starting', node: 'n2' })
    );
    expect(notice().message).toBe(
      'analysis.ipynb: kernel starting on n2 (job 10196)…'
    );
    model.applyEvent(event({ event: 'ready', state: 'ready', node: 'n2' }));
    await sleep(0);

    expect(notebook.kernelChanges).toEqual([{ id: KERNEL_ID }]);
    expect(progress.isDone).toBe(true);
    expect(notice().type).toBe('success');
    expect(notice().message).toBe('analysis.ipynb now runs on n2 (job 10196).');
  });

  it('cancels: deletes the kernel job, and the notebook keeps its kernel', async () => {
    start([
      { status: 204, body: null },
      ok(remoteKernel('ended', 'Cancelled before the kernel was ready.'))
    ]);
    const cancel = notice().options.actions![0];
    const click = { preventDefault: jest.fn() } as unknown as MouseEvent;

    cancel.callback(click);
    await sleep(10);
    await model.refresh();

    expect(click.preventDefault).toHaveBeenCalled();
    const deletes = server.requests.filter(r => r.method === 'DELETE');
    expect(new URL(deletes[0].url).pathname).toBe(`/hpc/kernels/${KERNEL_ID}`);
    expect(notice().type).toBe('info');
    expect(notice().message).toBe(
      'analysis.ipynb: restart on the cluster cancelled; the kernel is unchanged.'
    );
    expect(notebook.kernelChanges).toEqual([]);
  });

  it('does not switch to a kernel that became ready while cancelling', async () => {
    start([{ status: 204, body: null }, ok(remoteKernel('ready'))]);
    const cancelling = notice().options.actions![0];
    cancelling.callback({ preventDefault: () => undefined } as MouseEvent);

    model.applyEvent(event({ event: 'ready', state: 'ready', node: 'n1' }));
    await sleep(0);

    expect(notebook.kernelChanges).toEqual([]);
  });

  it('gives the reason of a failed start, in full behind Details', () => {
    start([ok(remoteKernel('queued'))]);
    const reason =
      'sbatch: error: Batch job submission failed: Requested node configuration is not available';

    model.applyEvent(event({ event: 'failed', state: 'failed', reason }));

    expect(notice().type).toBe('error');
    expect(notice().message).toContain('could not start on the cluster');
    expect(notice().options.autoClose).toBe(false);
    expect(notice().options.actions?.map(action => action.label)).toEqual([
      'Details'
    ]);
  });

  it('cancels the job when the notebook is closed before the kernel is ready', async () => {
    start([
      { status: 204, body: null },
      ok(remoteKernel('ended', 'Cancelled before the kernel was ready.'))
    ]);

    notebook.close();
    await sleep(10);

    expect(server.requests.some(r => r.method === 'DELETE')).toBe(true);
  });
});

describe('warnOfWalltime', () => {
  afterEach(() => Notification.dismiss());

  it('says when the job stops and offers to save the notebook', () => {
    const server = new FakeJupyterServer([ok(remoteKernel('ready'))]);
    const model = new RemoteKernelModel({
      client: server.client,
      id: KERNEL_ID,
      kernelName: 'python3',
      readyPollInterval: 60 * 1000
    });
    model.applyEvent(event({ event: 'ready', state: 'ready', node: 'n1' }));
    model.applyEvent(
      event({ event: 'walltime_warning', state: 'ready', time_left: 290 })
    );
    const notebook = new FakeNotebook();

    warnOfWalltime(model, notebook.panel, async () => undefined, trans);

    expect(notice().type).toBe('warning');
    expect(notice().message).toBe(
      'analysis.ipynb: the cluster kernel (job 10196) stops in 5 minutes, at its time limit. Save your work.'
    );
    const save = notice().options.actions!.find(
      action => action.label === 'Save notebook'
    )!;
    save.callback(new MouseEvent('click'));
    expect(notebook.context.save).toHaveBeenCalled();
    model.dispose();
  });
});
