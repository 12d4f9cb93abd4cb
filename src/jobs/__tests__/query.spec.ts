import { makeJob } from '../../shared/__tests__/fixtures';
import { DEFAULT_JOB_QUERY, compareIds, selectJobs } from '../query';

describe('selectJobs', () => {
  const jobs = [
    makeJob({ id: '99', name: 'Prep', user: 'bob', elapsed: 50 }),
    makeJob({ id: '1234_10', name: 'sweep', elapsed: null }),
    makeJob({ id: '1234_2', name: 'sweep', elapsed: 10 }),
    makeJob({
      id: '100',
      name: 'train',
      state: 'PENDING',
      reason_text: 'Waiting for resources'
    })
  ];

  it('orders job ids as numbers, array tasks after their job', () => {
    const ids = selectJobs(jobs, {
      ...DEFAULT_JOB_QUERY,
      descending: false
    }).map(job => job.id);
    expect(ids).toEqual(['99', '100', '1234_2', '1234_10']);
    expect(compareIds('1234', '1234_1')).toBeLessThan(0);
  });

  it('searches all words, case-insensitively, in names, users and reasons', () => {
    const found = (text: string) =>
      selectJobs(jobs, { ...DEFAULT_JOB_QUERY, text }).map(job => job.id);
    expect(found('prep BOB')).toEqual(['99']);
    expect(found('waiting resources')).toEqual(['100']);
    expect(found('prep alice')).toEqual([]);
  });

  it('sorts unknown elapsed times first in ascending order', () => {
    const ids = selectJobs(jobs, {
      ...DEFAULT_JOB_QUERY,
      sort: 'elapsed',
      descending: false
    }).map(job => job.id);
    expect(ids[0]).toBe('1234_10');
  });
});
