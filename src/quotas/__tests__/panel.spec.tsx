import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { act, render, screen } from '@testing-library/react';
import * as React from 'react';

import { QuotaLimit } from '../../api/types';
import {
  FakeJupyterServer,
  failure,
  makeAccount,
  ok,
  setPageVisibility
} from '../../shared/__tests__/fixtures';
import { QuotasModel } from '../model';
import { QuotasPanel } from '../panel';

const trans = nullTranslator.load('jupyterlab_hpc');
const NO_AUTOMATIC_TICK = 60 * 1000;

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
      name: 'CPU-minutes used in proj1'
    });
    expect(minutes.getAttribute('aria-valuetext')).toBe(
      '5,700 of 6,000 cpu-minutes (95 %)'
    );
    expect(minutes.classList.contains('jp-mod-warn')).toBe(true);
    const cpus = screen.getByRole('meter', {
      name: 'CPUs at once used in proj1'
    });
    expect(cpus.classList.contains('jp-mod-warn')).toBe(false);
    expect(screen.getAllByRole('img', { name: 'Nearly used up' })).toHaveLength(
      1
    );
    expect(screen.queryByRole('img', { name: 'Limit reached' })).toBeNull();
    // A per-job limit has no usage: it is a fact, not a bar.
    expect(screen.getByText('240 minutes')).toBeTruthy();
    expect(screen.getByText('0.200')).toBeTruthy();
  });

  it("names limits in words, Slurm's name in the tooltip", async () => {
    await renderQuotas(
      new FakeJupyterServer([
        ok({ accounts: [makeAccount()], updated: '2026-01-01T00:00:00Z' })
      ])
    );

    const caption = screen.getByText('CPU-minutes', {
      selector: '.jp-hpc-MeterRow-caption'
    });
    expect(caption.title).toBe('GrpTRESMins cpu');
    expect(
      screen.getByText('CPUs at once', { selector: '.jp-hpc-MeterRow-caption' })
        .title
    ).toBe('GrpTRES cpu');
    const wall = screen.getByText('Wall time per job', { selector: 'dt' });
    expect(wall.title).toBe('MaxWall');
    expect(wall.nextElementSibling?.textContent).toBe('240 minutes');
  });

  it('words the other limits, keeping the Slurm name of unknown ones', async () => {
    const limit = (name: string, tres: string | null): QuotaLimit => ({
      name,
      tres,
      limit: 10,
      used: null,
      unit: 'x',
      fraction: null,
      scope: 'user',
      account: 'proj1',
      partition: null
    });
    await renderQuotas(
      new FakeJupyterServer([
        ok({
          accounts: [
            makeAccount({
              limits: [
                limit('GrpTRESMins', 'gres/gpu'),
                limit('GrpTRES', 'gres/gpu'),
                limit('MaxJobs', null),
                limit('MaxSubmitJobs', null),
                limit('MaxTRES', 'mem'),
                limit('MaxTRESPerNode', 'cpu'),
                limit('GrpTRESRunMins', 'billing'),
                limit('MaxTRESMins', 'gres/gpu:a100'),
                limit('GrpTRES', 'license/matlab'),
                limit('MaxFancyLimit', null),
                { ...limit('GrpJobs', null), partition: 'gpu' }
              ]
            })
          ],
          updated: '2026-01-01T00:00:00Z'
        })
      ])
    );

    const terms = Array.from(document.querySelectorAll('dt')).map(dt => [
      dt.textContent,
      dt.title
    ]);
    expect(terms).toEqual([
      ['GPU-minutes', 'GrpTRESMins gres/gpu'],
      ['GPUs at once', 'GrpTRES gres/gpu'],
      ['Jobs at once', 'MaxJobs'],
      ['Jobs submitted', 'MaxSubmitJobs'],
      ['Memory per job', 'MaxTRES mem'],
      ['CPUs per node', 'MaxTRESPerNode cpu'],
      ['Billing-minutes of running jobs', 'GrpTRESRunMins billing'],
      ['a100 GPU-minutes per job', 'MaxTRESMins gres/gpu:a100'],
      ['license/matlab at once', 'GrpTRES license/matlab'],
      ['MaxFancyLimit', 'MaxFancyLimit'],
      ['Jobs at once (partition gpu)', 'GrpJobs @gpu'],
      ['Fairshare', '']
    ]);
  });

  it('calls a limit at or over 100 % reached, below it nearly used up', async () => {
    const [minutes, cpus] = makeAccount().limits;
    await renderQuotas(
      new FakeJupyterServer([
        ok({
          accounts: [
            makeAccount({
              limits: [
                { ...minutes, used: 6000, fraction: 1 },
                { ...cpus, used: 7, limit: 6, fraction: 7 / 6 },
                { ...minutes, tres: 'gres/gpu', used: 5500, fraction: 0.9167 }
              ]
            })
          ],
          updated: '2026-01-01T00:00:00Z'
        })
      ])
    );

    expect(screen.getAllByRole('img', { name: 'Limit reached' })).toHaveLength(
      2
    );
    expect(screen.getAllByRole('img', { name: 'Nearly used up' })).toHaveLength(
      1
    );
    const reached = screen
      .getByRole('meter', { name: 'CPU-minutes used in proj1' })
      .closest('.jp-hpc-MeterRow')!;
    expect(reached.classList.contains('jp-mod-reached')).toBe(true);
    expect(reached.textContent).toContain('Limit reached');
    const nearly = screen
      .getByRole('meter', { name: 'GPU-minutes used in proj1' })
      .closest('.jp-hpc-MeterRow')!;
    expect(nearly.classList.contains('jp-mod-reached')).toBe(false);
    expect(nearly.textContent).not.toContain('Limit reached');
    expect(
      screen
        .getByRole('meter', { name: 'GPU-minutes used in proj1' })
        .classList.contains('jp-mod-warn')
    ).toBe(true);
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
