import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { act, render, screen } from '@testing-library/react';
import * as React from 'react';

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
