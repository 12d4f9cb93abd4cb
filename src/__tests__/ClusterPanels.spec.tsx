import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { act, render, screen, within } from '@testing-library/react';
import * as React from 'react';

import { PartitionsModel } from '../partitions/model';
import { PartitionsPanel } from '../partitions/panel';
import { QuotasModel } from '../quotas/model';
import { QuotasPanel } from '../quotas/panel';
import {
  FakeJupyterServer,
  failure,
  makeAccount,
  makePartition,
  ok,
  setPageVisibility
} from './fixtures';

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

describe('QuotasPanel', () => {
  let model: QuotasModel;

  beforeEach(() => setPageVisibility('visible'));
  afterEach(() => model.dispose());

  async function renderQuotas(
    server: FakeJupyterServer,
    warningThreshold = 0.9
  ): Promise<void> {
    model = new QuotasModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK,
      warningThreshold
    });
    await act(async () => {
      const loaded = signalToPromise(model.changed);
      render(<QuotasPanel model={model} trans={trans} />);
      await loaded;
    });
  }

  it('shows a usage bar per enforced limit, warning from the threshold on', async () => {
    await renderQuotas(
      new FakeJupyterServer([
        ok({ accounts: [makeAccount()], updated: '2026-01-01T00:00:00Z' })
      ])
    );

    const minutes = screen.getByRole('meter', {
      name: 'GrpTRESMins cpu used in proj1'
    });
    expect(minutes.getAttribute('aria-valuetext')).toBe(
      '5,700 of 6,000 cpu-minutes (95 %)'
    );
    expect(minutes.classList.contains('jp-mod-warn')).toBe(true);
    const cpus = screen.getByRole('meter', {
      name: 'GrpTRES cpu used in proj1'
    });
    expect(cpus.classList.contains('jp-mod-warn')).toBe(false);
    expect(screen.getAllByRole('img', { name: 'Nearly used up' })).toHaveLength(
      1
    );
    // A per-job limit has no usage: it is a fact, not a bar.
    expect(screen.getByText('240 minutes')).toBeTruthy();
    expect(screen.getByText('0.200')).toBeTruthy();
  });

  it('moves the warning with the threshold setting', async () => {
    await renderQuotas(
      new FakeJupyterServer([
        ok({ accounts: [makeAccount()], updated: '2026-01-01T00:00:00Z' })
      ]),
      0.97
    );
    expect(
      screen.queryAllByRole('img', { name: 'Nearly used up' })
    ).toHaveLength(0);

    act(() => {
      model.warningThreshold = 0.5;
    });

    expect(screen.getAllByRole('img', { name: 'Nearly used up' })).toHaveLength(
      2
    );
  });

  it('says quotas are unavailable when slurmdbd is (503)', async () => {
    await renderQuotas(
      new FakeJupyterServer([
        failure(503, 'Slurm accounting (slurmdbd) is unreachable')
      ])
    );

    expect(screen.getByRole('alert').textContent).toBe(
      'Quotas are unavailable: Slurm accounting (slurmdbd) is unreachable'
    );
    expect(screen.queryByRole('meter')).toBeNull();
  });
});
