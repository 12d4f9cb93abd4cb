import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { act, render, screen, within } from '@testing-library/react';
import * as React from 'react';

import { JobsPanel } from '../components/JobsPanel';
import { JobsModel } from '../model';
import {
  FakeJupyterServer,
  IFakeAnswer,
  failure,
  jobsResponse,
  makeJob,
  ok,
  setPageVisibility
} from './fixtures';

const trans = nullTranslator.load('jupyterlab_hpc');

describe('JobsPanel', () => {
  let model: JobsModel;

  beforeEach(() => {
    setPageVisibility('visible');
  });

  afterEach(() => {
    model.dispose();
  });

  /**
   * Render the panel on a model whose first answer is `answer`.
   */
  async function renderWith(answer: IFakeAnswer): Promise<void> {
    const server = new FakeJupyterServer([answer]);
    model = new JobsModel({
      refreshInterval: 60 * 1000,
      scope: 'mine',
      serverSettings: server.settings
    });
    const loaded = signalToPromise(model.changed);
    // The model's answer re-renders the panel: let React apply it in act().
    await act(async () => {
      render(<JobsPanel model={model} trans={trans} />);
      await loaded;
    });
  }

  it('shows a row per job with id, name, partition, state, elapsed time and nodes', async () => {
    await renderWith(
      ok(jobsResponse([makeJob({ id: '1234', name: 'train-model' })]))
    );

    const table = await screen.findByRole('table', { name: 'Slurm jobs' });
    const row = within(table).getByRole('row', { name: /1234/ });
    const cells = within(row)
      .getAllByRole('cell')
      .map(cell => cell.textContent);
    expect(cells).toEqual([
      '1234',
      'train-model',
      'debug',
      'RUNNING',
      '1:02:05',
      'n[1-2]'
    ]);
  });

  it('shows why a pending job waits instead of its nodes', async () => {
    await renderWith(
      ok(
        jobsResponse([
          makeJob({
            state: 'PENDING',
            reason: 'Priority',
            reason_text: 'Waiting for higher-priority jobs',
            nodes: null,
            elapsed: 0
          })
        ])
      )
    );

    const row = await screen.findByRole('row', { name: /1234/ });
    expect(
      within(row).getByText('Waiting for higher-priority jobs')
    ).toBeTruthy();
    expect(within(row).getByText('PENDING').getAttribute('title')).toBe(
      'Waiting in the queue'
    );
  });

  it('renders a job name containing HTML as text', async () => {
    const name = '<img src=x onerror=alert(1)>';
    await renderWith(ok(jobsResponse([makeJob({ name })])));

    const row = await screen.findByRole('row', { name: /1234/ });
    expect(within(row).getByText(name).textContent).toBe(name);
    expect(row.querySelector('img')).toBeNull();
  });

  it('says Slurm is unreachable, with the server message, on 503', async () => {
    await renderWith(failure(503, 'slurmctld is not responding'));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(
      'Slurm is unreachable: slurmctld is not responding'
    );
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('says so when the user has no jobs', async () => {
    await renderWith(ok(jobsResponse([])));

    expect(
      await screen.findByText('You have no jobs in the Slurm queue.')
    ).toBeTruthy();
  });
});
