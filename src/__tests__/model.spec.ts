import { signalToPromise } from '@jupyterlab/testing';

import { JobsModel } from '../model';
import {
  FakeJupyterServer,
  failure,
  jobsResponse,
  makeJob,
  ok,
  setPageVisibility
} from './fixtures';

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
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine',
      serverSettings: server.settings
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
      refreshInterval: 20,
      scope: 'mine',
      serverSettings: server.settings
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
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine',
      serverSettings: server.settings
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
      refreshInterval: 20,
      scope: 'mine',
      serverSettings: server.settings
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
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine',
      serverSettings: settings
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
      refreshInterval: NO_AUTOMATIC_TICK,
      scope: 'mine',
      serverSettings: server.settings
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
      refreshInterval: 20,
      scope: 'mine',
      serverSettings: server.settings
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
      refreshInterval: 20,
      scope: 'mine',
      serverSettings: server.settings
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
});
