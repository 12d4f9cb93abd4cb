/**
 * How long the jobs table takes to render 10,000 jobs (target: <= 100 ms,
 * benchmarks/README.md). Run with `jlpm bench:table`; it prints the figures rather than
 * failing on them, as timings vary between machines.
 */
import { nullTranslator } from '@jupyterlab/translation';
import { act, cleanup, render } from '@testing-library/react';
import * as React from 'react';

import { makeJob } from '../../shared/__tests__/fixtures';
import { DEFAULT_JOB_QUERY, selectJobs } from '../query';
import { JobsTable } from '../table';

// Node's, for a report free of jest's console decorations.
declare const process: { stdout: { write(text: string): void } };

const trans = nullTranslator.load('jupyterlab_hpc');
const JOB_COUNT = 10000;
const RUNS = 15;

const STATES = ['RUNNING', 'PENDING', 'COMPLETING', 'PENDING'];

const jobs = Array.from({ length: JOB_COUNT }, (_, index) =>
  makeJob({
    id: String(100000 + index),
    name: `job-${index}`,
    user: index % 7 === 0 ? 'bob' : 'alice',
    state: STATES[index % STATES.length],
    elapsed: index * 13
  })
);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

describe('jobs table with 10,000 jobs', () => {
  it('renders (filter + sort + first paint of the rows in view)', () => {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const start = performance.now();
      act(() => {
        render(
          <JobsTable
            jobs={selectJobs(jobs, { ...DEFAULT_JOB_QUERY, sort: 'elapsed' })}
            showUser={true}
            onOpen={() => undefined}
            trans={trans}
          />
        );
      });
      times.push(performance.now() - start);
      cleanup();
    }
    process.stdout.write(
      `\njobs table, ${JOB_COUNT} jobs: median ${median(times).toFixed(1)} ms, ` +
        `first ${times[0].toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms ` +
        `over ${RUNS} renders (jsdom)\n`
    );
  });
});
