import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { act, render, screen, within } from '@testing-library/react';
import * as React from 'react';

import {
  FakeJupyterServer,
  makePartition,
  ok,
  setPageVisibility
} from '../../shared/__tests__/fixtures';
import { PartitionsModel } from '../model';
import { PartitionsPanel } from '../panel';

const trans = nullTranslator.load('jupyterlab_hpc');
const NO_AUTOMATIC_TICK = 60 * 1000;

describe('PartitionsPanel', () => {
  let model: PartitionsModel;

  beforeEach(() => setPageVisibility('visible'));
  afterEach(() => model.dispose());

  it('shows idle against total nodes, CPUs and GPUs, and the max walltime', async () => {
    const server = new FakeJupyterServer([
      ok({
        partitions: [
          makePartition({
            name: 'compute',
            gpus: { total: 4, idle: 2 },
            max_time: 86400
          })
        ],
        updated: '2026-01-01T00:00:00Z'
      })
    ]);
    model = new PartitionsModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK
    });
    await act(async () => {
      const loaded = signalToPromise(model.changed);
      render(<PartitionsPanel model={model} trans={trans} />);
      await loaded;
    });

    const cpus = screen.getByRole('meter', { name: 'Idle CPUs in compute' });
    expect(cpus.getAttribute('aria-valuenow')).toBe('3');
    expect(cpus.getAttribute('aria-valuemax')).toBe('4');
    expect(
      screen
        .getByRole('meter', { name: 'Idle GPUs in compute' })
        .getAttribute('aria-valuetext')
    ).toBe('2 of 4 idle');
    const card = screen.getByRole('listitem', { name: 'Partition compute' });
    expect(within(card).getByText('24:00:00')).toBeTruthy();
    expect(new URL(server.requests[0].url).pathname).toBe('/hpc/partitions');
  });

  it('says when the user may not submit to a partition', async () => {
    const server = new FakeJupyterServer([
      ok({
        partitions: [makePartition({ allowed: false })],
        updated: '2026-01-01T00:00:00Z'
      })
    ]);
    model = new PartitionsModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK
    });
    await act(async () => {
      const loaded = signalToPromise(model.changed);
      render(<PartitionsPanel model={model} trans={trans} />);
      await loaded;
    });

    expect(screen.getByText('You may not submit jobs here.')).toBeTruthy();
  });
});
