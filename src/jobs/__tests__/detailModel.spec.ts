import { signalToPromise } from '@jupyterlab/testing';

import {
  FakeJupyterServer,
  ok,
  setPageVisibility
} from '../../shared/__tests__/fixtures';
import { OutputTailModel } from '../detailModel';

function chunk(data: string, offset: number, size: number) {
  return ok({
    data,
    offset,
    next_offset: offset + data.length,
    size,
    path: '/home/alice/slurm-7.out'
  });
}

describe('OutputTailModel', () => {
  let model: OutputTailModel;

  beforeEach(() => setPageVisibility('visible'));
  afterEach(() => model.dispose());

  it('reads on from where it stopped and appends only the new text', async () => {
    const server = new FakeJupyterServer([
      chunk('line 1\n', 0, 7),
      chunk('line 2\n', 7, 14)
    ]);
    model = new OutputTailModel({
      client: server.client,
      id: '7',
      stream: 'stderr',
      refreshInterval: 20
    });

    await signalToPromise(model.changed);
    await signalToPromise(model.changed);

    const offsets = server.requests.map(request =>
      new URL(request.url).searchParams.get('offset')
    );
    expect(offsets.slice(0, 2)).toEqual(['0', '7']);
    expect(new URL(server.requests[0].url).pathname).toBe('/hpc/jobs/7/output');
    expect(new URL(server.requests[0].url).searchParams.get('stream')).toBe(
      'stderr'
    );
    expect(model.text).toBe('line 1\nline 2\n');
    expect(model.path).toBe('/home/alice/slurm-7.out');
  });

  it('enters a large file near its end instead of reading it all', async () => {
    const size = 10 * 1024 * 1024;
    const server = new FakeJupyterServer([
      chunk('x'.repeat(100), 0, size),
      chunk('the end\n', size - 256 * 1024, size)
    ]);
    model = new OutputTailModel({
      client: server.client,
      id: '7',
      stream: 'stdout',
      refreshInterval: 60 * 1000
    });

    await signalToPromise(model.changed);

    expect(new URL(server.requests[1].url).searchParams.get('offset')).toBe(
      String(size - 256 * 1024)
    );
    expect(model.text).toBe('the end\n');
    expect(model.truncated).toBe(true);
  });
});
