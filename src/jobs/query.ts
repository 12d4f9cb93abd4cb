import { Job } from '../api/types';

/**
 * The columns the jobs can be sorted by.
 */
export type JobSortKey =
  'id' | 'name' | 'user' | 'partition' | 'state' | 'elapsed' | 'submit_time';

/**
 * Which jobs of a listing to show and in which order. An empty filter
 * matches every job.
 */
export interface IJobQuery {
  state: string;
  partition: string;
  account: string;
  user: string;
  /** Words that must all appear in the job's id, name, user, ... */
  text: string;
  sort: JobSortKey;
  descending: boolean;
}

export const DEFAULT_JOB_QUERY: Readonly<IJobQuery> = {
  state: '',
  partition: '',
  account: '',
  user: '',
  text: '',
  sort: 'id',
  descending: true
};

/**
 * The distinct values of a listing's filterable fields, sorted, to offer as
 * filter choices.
 */
export interface IJobFilterChoices {
  state: string[];
  partition: string[];
  account: string[];
  user: string[];
}

/**
 * The jobs that match `query`, in its order; a new array.
 */
export function selectJobs(
  jobs: readonly Job[],
  query: Readonly<IJobQuery>
): Job[] {
  const words = query.text.toLowerCase().split(/\s+/).filter(Boolean);
  const selected = jobs.filter(
    job =>
      matches(job.state, query.state) &&
      matches(job.partition, query.partition) &&
      matches(job.account, query.account) &&
      matches(job.user, query.user) &&
      (words.length === 0 || containsAll(searchText(job), words))
  );
  const compare = COMPARATORS[query.sort];
  const sign = query.descending ? -1 : 1;
  // Ties keep the id order, so equal rows do not jump between polls.
  return selected.sort(
    (a, b) => sign * compare(a, b) || sign * compareIds(a.id, b.id)
  );
}

export function filterChoices(jobs: readonly Job[]): IJobFilterChoices {
  const sets = {
    state: new Set<string>(),
    partition: new Set<string>(),
    account: new Set<string>(),
    user: new Set<string>()
  };
  for (const job of jobs) {
    addValue(sets.state, job.state);
    addValue(sets.partition, job.partition);
    addValue(sets.account, job.account);
    addValue(sets.user, job.user);
  }
  return {
    state: sorted(sets.state),
    partition: sorted(sets.partition),
    account: sorted(sets.account),
    user: sorted(sets.user)
  };
}

/**
 * Whether the query hides some jobs (so an empty result is the filters'
 * doing, not an empty queue).
 */
export function isFiltering(query: Readonly<IJobQuery>): boolean {
  return Boolean(
    query.state ||
    query.partition ||
    query.account ||
    query.user ||
    query.text.trim()
  );
}

/**
 * Compare Slurm job ids numerically: "99" < "1234" < "1234_2" < "1234_10".
 */
export function compareIds(a: string, b: string): number {
  const [jobA, taskA] = splitId(a);
  const [jobB, taskB] = splitId(b);
  return jobA - jobB || taskA - taskB || a.localeCompare(b);
}

type Comparator = (a: Job, b: Job) => number;

const COMPARATORS: Record<JobSortKey, Comparator> = {
  id: (a, b) => compareIds(a.id, b.id),
  name: (a, b) => compareText(a.name, b.name),
  user: (a, b) => compareText(a.user, b.user),
  partition: (a, b) => compareText(a.partition, b.partition),
  state: (a, b) => compareText(a.state, b.state),
  elapsed: (a, b) => (a.elapsed ?? -1) - (b.elapsed ?? -1),
  // ISO 8601 UTC strings sort as their times do.
  submit_time: (a, b) => compareText(a.submit_time, b.submit_time)
};

function compareText(a: string | null, b: string | null): number {
  return (a ?? '').localeCompare(b ?? '');
}

function splitId(id: string): [number, number] {
  const [job, task] = id.split('_');
  return [Number.parseInt(job, 10) || 0, Number.parseInt(task, 10) || 0];
}

function matches(value: string | null, wanted: string): boolean {
  return !wanted || value === wanted;
}

function searchText(job: Job): string {
  return [
    job.id,
    job.name,
    job.user,
    job.account,
    job.partition,
    job.state,
    job.reason_text ?? job.reason,
    job.nodes
  ]
    .join(' ')
    .toLowerCase();
}

function containsAll(text: string, words: string[]): boolean {
  return words.every(word => text.includes(word));
}

function addValue(set: Set<string>, value: string | null): void {
  if (value) {
    set.add(value);
  }
}

function sorted(set: Set<string>): string[] {
  return [...set].sort((a, b) => a.localeCompare(b));
}
