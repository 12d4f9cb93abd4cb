import { signalToPromise } from '@jupyterlab/testing';

import { HpcClient } from '../../api/client';
import {
  FakeJupyterServer,
  failure,
  jobsResponse,
  makeJob,
  notModified,
  ok,
  setPageVisibility,
  sleep
} from '../../shared/__tests__/fixtures';
import { JobsModel } from '../model';

/**
 * Long enough that no poll tick comes on its own during a test.
 */
const NO_AUTOMATIC_TICK = 60 * 1000;

describe('JobsModel', () => {
  let model: JobsModel;

  beforeEach(() => {
    setPageVisibility('visible');
  });

  afterEach(() => {
    model.dispose();
  });

  it('asks the server for the jobs of its scope and emits changed with them', async () => {
    const job = makeJob();
    const server = new FakeJupyterServer([ok(jobsResponse([job]))]);

    model = new JobsModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine'
    });
    await signalToPromise(model.changed);

    const url = new URL(server.requests[0].url);
    expect(server.requests[0].method).toBe('GET');
    expect(url.pathname).toBe('/hpc/jobs');
    expect(url.searchParams.get('scope')).toBe('mine');
    expect(model.hasLoaded).toBe(true);
    expect(model.jobs).toEqual([job]);
    expect(model.error).toBeNull();
  });

  it('polls again after the refresh interval', async () => {
    const server = new FakeJupyterServer([
      ok(jobsResponse([])),
      ok(jobsResponse([makeJob()]))
    ]);

    model = new JobsModel({
      client: server.client,
      refreshInterval: 20,
      scope: 'mine'
    });
    await signalToPromise(model.changed);
    expect(model.jobs).toHaveLength(0);
    await signalToPromise(model.changed);

    expect(server.requests).toHaveLength(2);
    expect(model.jobs).toHaveLength(1);
  });

  it('enters an error state with the server message on 503 and keeps the last jobs', async () => {
    const server = new FakeJupyterServer([
      ok(jobsResponse([makeJob()])),
      failure(503, 'slurmctld is not responding')
    ]);
    model = new JobsModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine'
    });
    await signalToPromise(model.changed);

    await model.refresh();

    expect(model.error?.status).toBe(503);
    expect(model.error?.message).toBe('slurmctld is not responding');
    expect(model.jobs).toHaveLength(1);
  });

  it('recovers by itself on the next successful answer', async () => {
    const server = new FakeJupyterServer([
      failure(503, 'slurmctld is not responding'),
      ok(jobsResponse([makeJob()]))
    ]);

    model = new JobsModel({
      client: server.client,
      refreshInterval: 20,
      scope: 'mine'
    });
    await signalToPromise(model.changed);
    expect(model.error?.status).toBe(503);
    expect(model.hasLoaded).toBe(false);
    await signalToPromise(model.changed);

    expect(server.requests).toHaveLength(2);
    expect(model.error).toBeNull();
    expect(model.hasLoaded).toBe(true);
    expect(model.jobs).toHaveLength(1);
  });

  it('reports an unreachable Jupyter server as an error with status 0 instead of throwing', async () => {
    const server = new FakeJupyterServer([ok(jobsResponse([]))]);
    const settings = {
      ...server.settings,
      fetch: () => Promise.reject(new TypeError('Failed to fetch'))
    };

    model = new JobsModel({
      client: new HpcClient(settings),
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine'
    });
    await signalToPromise(model.changed);

    expect(model.error?.status).toBe(0);
    expect(model.error?.message).toBe('Failed to fetch');
  });

  it('drops the jobs shown and asks at once when the scope changes', async () => {
    const server = new FakeJupyterServer([
      ok(jobsResponse([makeJob()])),
      ok(jobsResponse([makeJob(), makeJob({ id: '1235', user: 'bob' })]))
    ]);
    model = new JobsModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine'
    });
    await signalToPromise(model.changed);

    const cleared = signalToPromise(model.changed);
    model.scope = 'all';
    await cleared;
    expect(model.hasLoaded).toBe(false);
    expect(model.jobs).toHaveLength(0);
    await signalToPromise(model.changed);

    expect(new URL(server.requests[1].url).searchParams.get('scope')).toBe(
      'all'
    );
    expect(model.jobs).toHaveLength(2);
  });

  it('stops polling when disposed', async () => {
    const server = new FakeJupyterServer([ok(jobsResponse([]))]);
    model = new JobsModel({
      client: server.client,
      refreshInterval: 20,
      scope: 'mine'
    });
    await signalToPromise(model.changed);

    model.dispose();
    const requestsAtDispose = server.requests.length;
    await new Promise(resolve => setTimeout(resolve, 100));

    expect(model.isDisposed).toBe(true);
    expect(server.requests).toHaveLength(requestsAtDispose);
  });

  it('stops asking while the browser tab is hidden and resumes when it is shown', async () => {
    const server = new FakeJupyterServer([ok(jobsResponse([]))]);
    model = new JobsModel({
      client: server.client,
      refreshInterval: 20,
      scope: 'mine'
    });
    await signalToPromise(model.changed);

    setPageVisibility('hidden');
    await new Promise(resolve => setTimeout(resolve, 100));
    const requestsWhileHidden = server.requests.length;
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(requestsWhileHidden);

    setPageVisibility('visible');
    await signalToPromise(model.changed);
    expect(server.requests.length).toBeGreaterThan(requestsWhileHidden);
  });

  it('sends the last ETag and keeps its jobs without a change on 304', async () => {
    const server = new FakeJupyterServer([
      ok(jobsResponse([makeJob()]), '"v1"'),
      notModified()
    ]);
    model = new JobsModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine'
    });
    await signalToPromise(model.changed);
    let changes = 0;
    model.changed.connect(() => changes++);

    await model.refresh();

    expect(server.requests[0].headers.get('If-None-Match')).toBeNull();
    expect(server.requests[1].headers.get('If-None-Match')).toBe('"v1"');
    expect(model.jobs).toHaveLength(1);
    expect(changes).toBe(0);
  });

  it('does not poll while no view is active and asks at once when one becomes active', async () => {
    const server = new FakeJupyterServer([ok(jobsResponse([makeJob()]))]);
    model = new JobsModel({
      client: server.client,
      refreshInterval: 20,
      scope: 'mine',
      active: false
    });
    await sleep(150);
    expect(server.requests).toHaveLength(0);

    model.active = true;
    await signalToPromise(model.changed);

    expect(server.requests.length).toBeGreaterThan(0);
    expect(model.jobs).toHaveLength(1);
  });

  it('shows only the jobs matching its query, in its order, without asking the server', async () => {
    const server = new FakeJupyterServer([
      ok(
        jobsResponse([
          makeJob({ id: '7', name: 'prep', partition: 'debug' }),
          makeJob({ id: '12', name: 'train-a', partition: 'compute' }),
          makeJob({ id: '9', name: 'train-b', partition: 'compute' })
        ])
      )
    ]);
    model = new JobsModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine'
    });
    await signalToPromise(model.changed);

    model.query = {
      ...model.query,
      partition: 'compute',
      sort: 'id',
      descending: false
    };

    expect(model.visibleJobs.map(job => job.id)).toEqual(['9', '12']);
    expect(model.choices.partition).toEqual(['compute', 'debug']);
    expect(model.isFiltering).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('lifts the filters that hide a job it is asked to reveal', async () => {
    const server = new FakeJupyterServer([
      ok(jobsResponse([makeJob({ id: '5', state: 'PENDING' })]))
    ]);
    model = new JobsModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine'
    });
    await signalToPromise(model.changed);
    model.query = { ...model.query, state: 'RUNNING' };
    expect(model.visibleJobs).toHaveLength(0);

    model.reveal('5');

    expect(model.revealed).toBe('5');
    expect(model.visibleJobs.map(job => job.id)).toEqual(['5']);
  });

  it('posts an action to its route and lists the jobs again', async () => {
    const server = new FakeJupyterServer([
      ok(jobsResponse([makeJob({ id: '5', state: 'PENDING' })])),
      { status: 204, body: null },
      ok(jobsResponse([]))
    ]);
    model = new JobsModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine'
    });
    await signalToPromise(model.changed);

    await model.act('5', 'hold');

    expect(server.requests[1].method).toBe('POST');
    expect(new URL(server.requests[1].url).pathname).toBe('/hpc/jobs/5/hold');
    expect(model.jobs).toHaveLength(0);
  });

  it('throws Slurm refusal of an action with its message', async () => {
    const server = new FakeJupyterServer([
      ok(jobsResponse([makeJob()])),
      failure(409, 'Job 1234 has already finished (COMPLETED)')
    ]);
    model = new JobsModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine'
    });
    await signalToPromise(model.changed);

    await expect(model.act('1234', 'cancel')).rejects.toThrow(
      'Job 1234 has already finished (COMPLETED)'
    );
    expect(server.requests[1].method).toBe('DELETE');
  });
});
