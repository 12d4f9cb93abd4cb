import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import * as React from 'react';

import {
  FakeJupyterServer,
  IFakeAnswer,
  failure,
  jobsResponse,
  makeJob,
  ok,
  setPageVisibility
} from '../../shared/__tests__/fixtures';
import { JobsModel } from '../model';
import { JobsPanel } from '../panel';

const trans = nullTranslator.load('jupyterlab_hpc');

describe('JobsPanel', () => {
  let model: JobsModel;
  let opened: string[];

  beforeEach(() => {
    setPageVisibility('visible');
    opened = [];
  });

  afterEach(() => {
    model.dispose();
  });

  /**
   * Render the panel on a model whose answers are `answers`.
   */
  async function renderWith(...answers: IFakeAnswer[]): Promise<void> {
    const server = new FakeJupyterServer(answers);
    model = new JobsModel({
      client: server.client,
      refreshInterval: 60 * 1000,
      scope: 'mine'
    });
    const loaded = signalToPromise(model.changed);
    // The model's answer re-renders the panel: let React apply it in act().
    await act(async () => {
      render(
        <JobsPanel
          model={model}
          onOpenJob={id => opened.push(id)}
          trans={trans}
        />
      );
      await loaded;
    });
  }

  function cellsOf(row: HTMLElement): (string | null)[] {
    return within(row)
      .getAllByRole('cell')
      .map(cell => cell.textContent);
  }

  it('shows a row per job with id, name, state, partition, elapsed time and limit, and nodes', async () => {
    await renderWith(
      ok(jobsResponse([makeJob({ id: '1234', name: 'train-model' })]))
    );

    const table = await screen.findByRole('table', { name: 'Slurm jobs' });
    const row = within(table).getByRole('row', { name: /1234/ });
    expect(cellsOf(row)).toEqual([
      '1234',
      'train-model',
      'RUNNING',
      'debug',
      '1:02:05 / 1:00:00',
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

  it('lists the whole queue with a user column after "All jobs" is pressed', async () => {
    await renderWith(
      ok(jobsResponse([makeJob()])),
      ok(jobsResponse([makeJob(), makeJob({ id: '99', user: 'bob' })]))
    );

    await act(async () => {
      const changed = signalToPromise(model.changed);
      fireEvent.click(screen.getByRole('button', { name: 'All jobs' }));
      await changed;
      await signalToPromise(model.changed);
    });

    expect(
      screen
        .getByRole('button', { name: 'All jobs' })
        .getAttribute('aria-pressed')
    ).toBe('true');
    const row = screen.getByRole('row', { name: /99/ });
    expect(cellsOf(row)).toContain('bob');
  });

  it('narrows the rows to the chosen state and to the search words', async () => {
    await renderWith(
      ok(
        jobsResponse([
          makeJob({ id: '1', name: 'prep-data', state: 'PENDING' }),
          makeJob({ id: '2', name: 'train-model', state: 'RUNNING' }),
          makeJob({ id: '3', name: 'train-eval', state: 'PENDING' })
        ])
      )
    );

    act(() => {
      fireEvent.change(screen.getByRole('combobox', { name: 'State' }), {
        target: { value: 'PENDING' }
      });
    });
    act(() => {
      fireEvent.change(screen.getByRole('searchbox', { name: 'Search jobs' }), {
        target: { value: 'train' }
      });
    });

    const rows = within(screen.getByRole('table')).getAllByRole('row');
    // The header row, then the one job left.
    expect(rows.slice(1).map(row => cellsOf(row)[0])).toEqual(['3']);
    expect(screen.getByText('1 of 3 jobs')).toBeTruthy();
  });

  it('opens a job from its row by click and by keyboard', async () => {
    await renderWith(
      ok(jobsResponse([makeJob({ id: '1' }), makeJob({ id: '2' })]))
    );
    const [first, second] = within(screen.getByRole('table'))
      .getAllByRole('row')
      .slice(1);

    fireEvent.click(second);
    act(() => {
      first.focus();
    });
    fireEvent.keyDown(first, { key: 'Enter' });

    // Descending id order by default: job 2 comes first.
    expect(cellsOf(first)[0]).toBe('2');
    expect(opened).toEqual(['1', '2']);
  });

  it('keeps only the rows in view in the DOM for 10,000 jobs', async () => {
    const jobs = Array.from({ length: 10000 }, (_, index) =>
      makeJob({ id: String(index + 1) })
    );
    await renderWith(ok(jobsResponse(jobs)));

    const table = screen.getByRole('table', { name: 'Slurm jobs' });
    expect(table.getAttribute('aria-rowcount')).toBe('10001');
    const rows = within(table).getAllByRole('row');
    expect(rows.length).toBeLessThan(60);
    expect(rows[1].getAttribute('aria-rowindex')).toBe('2');
    expect(cellsOf(rows[1])[0]).toBe('10000');
  });
});
