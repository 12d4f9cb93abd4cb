import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { act, render, screen } from '@testing-library/react';
import * as React from 'react';

import { JobDetail } from '../../api/types';
import {
  FakeJupyterServer,
  IFakeAnswer,
  failure,
  makeJobDetail,
  ok,
  setPageVisibility
} from '../../shared/__tests__/fixtures';
import { JobDetailModel } from '../detailModel';
import { JobDetailView } from '../detailView';

const trans = nullTranslator.load('jupyterlab_hpc');
const NO_AUTOMATIC_TICK = 60 * 1000;
const NOW = Date.parse('2026-01-01T12:00:00Z');
const MINUTE = 60 * 1000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

describe('JobDetailView', () => {
  let model: JobDetailModel;

  beforeEach(() => setPageVisibility('visible'));
  afterEach(() => model.dispose());

  async function renderJob(job: JobDetail): Promise<void> {
    await renderAnswers(job.id, ok(job));
  }

  async function renderAnswers(
    id: string,
    ...answers: IFakeAnswer[]
  ): Promise<void> {
    model = new JobDetailModel({
      client: new FakeJupyterServer(answers).client,
      id,
      refreshInterval: NO_AUTOMATIC_TICK
    });
    await act(async () => {
      const loaded = signalToPromise(model.changed);
      render(
        <JobDetailView
          model={model}
          tail={null}
          onSelectStream={() => undefined}
          onAction={() => undefined}
          trans={trans}
          now={NOW}
        />
      );
      await loaded;
    });
  }

  function fact(term: string): HTMLElement {
    const dt = screen.getByText(term, { selector: 'dt' });
    return dt.nextElementSibling as HTMLElement;
  }

  it('words the times of a pending job, precise in their tooltips', async () => {
    await renderJob(
      makeJobDetail({
        state: 'PENDING',
        reason: 'Priority',
        submit_time: iso(NOW - 10 * MINUTE),
        start_time: null,
        estimated_start: iso(NOW + 10 * MINUTE)
      })
    );

    expect(fact('Estimated start').textContent).toBe('in 10 min');
    expect(fact('Submitted').textContent).toBe('10 min ago');
    const time = fact('Estimated start').querySelector('time')!;
    expect(time.getAttribute('dateTime')).toBe(iso(NOW + 10 * MINUTE));
    expect(time.title).toMatch(/2026/);
    expect(screen.queryByText('Started', { selector: 'dt' })).toBeNull();
  });

  it('says when the estimate is not known yet', async () => {
    await renderJob(
      makeJobDetail({
        state: 'PENDING',
        start_time: null,
        estimated_start: null
      })
    );
    expect(fact('Estimated start').textContent).toBe('not known yet');
  });

  it('words the start and end of a finished job', async () => {
    await renderJob(
      makeJobDetail({
        state: 'COMPLETED',
        submit_time: iso(NOW - 3 * MINUTE),
        start_time: iso(NOW - 2 * MINUTE),
        end_time: iso(NOW - 20 * 1000)
      })
    );
    expect(fact('Started').textContent).toBe('2 min ago');
    expect(fact('Ended').textContent).toBe('just now');
    expect(
      screen.queryByText('Estimated start', { selector: 'dt' })
    ).toBeNull();
  });

  it('says that Slurm does not know a job, without an error that stays', async () => {
    await renderAnswers('99', failure(404, 'No job 99 in Slurm'));

    expect(model.gone).toBe(true);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByText('Loading job…')).toBeNull();
    expect(screen.getByText(/Slurm does not know job 99/)).toBeTruthy();
  });

  it('keeps what Slurm said last of a job it forgets while the tab is open', async () => {
    await renderAnswers(
      '1234',
      ok(makeJobDetail({ id: '1234', state: 'COMPLETED' })),
      failure(404, 'No job 1234 in Slurm')
    );
    await act(() => model.refresh());

    expect(model.gone).toBe(true);
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByText(/Slurm no longer knows job 1234/)).toBeTruthy();
    expect(fact('State').textContent).toMatch(/^COMPLETED/);
  });

  it('still shows other failures as errors', async () => {
    await renderAnswers('1234', failure(503, 'slurmctld is down'));

    expect(model.gone).toBe(false);
    expect(screen.getByRole('alert').textContent).toBe(
      'Slurm is unreachable: slurmctld is down'
    );
  });
});
