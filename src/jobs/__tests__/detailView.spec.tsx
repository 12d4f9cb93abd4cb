import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { act, render, screen } from '@testing-library/react';
import * as React from 'react';

import { JobDetail } from '../../api/types';
import {
  FakeJupyterServer,
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
    model = new JobDetailModel({
      client: new FakeJupyterServer([ok(job)]).client,
      id: job.id,
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
});
