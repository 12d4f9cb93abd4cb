import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { formatDuration } from '../duration';
import { jobPlacement } from '../jobstate';
import { IJob } from '../types';
import { JobStateChip } from './JobStateChip';

/**
 * Properties of the jobs table.
 */
export interface IJobsTableProps {
  jobs: readonly IJob[];
  /** Add a user column, for listings of other users' jobs too. */
  showUser: boolean;
  trans: TranslationBundle;
}

/**
 * The jobs as a table, one row per job (or array task).
 *
 * The roles are explicit because a narrow sidebar lays rows out as grids,
 * and browsers drop a table's implicit roles once its display changes.
 */
export function JobsTable(props: IJobsTableProps): JSX.Element {
  const { jobs, showUser, trans } = props;
  return (
    <table
      className="jp-hpc-JobsTable"
      role="table"
      aria-label={trans.__('Slurm jobs')}
    >
      <thead role="rowgroup">
        <tr role="row">
          <th role="columnheader" scope="col">
            {trans.__('ID')}
          </th>
          <th role="columnheader" scope="col">
            {trans.__('Name')}
          </th>
          {showUser && (
            <th role="columnheader" scope="col">
              {trans.__('User')}
            </th>
          )}
          <th role="columnheader" scope="col">
            {trans.__('Partition')}
          </th>
          <th role="columnheader" scope="col">
            {trans.__('State')}
          </th>
          <th role="columnheader" scope="col">
            {trans.__('Elapsed')}
          </th>
          <th role="columnheader" scope="col">
            {trans.__('Nodes or reason')}
          </th>
        </tr>
      </thead>
      <tbody role="rowgroup">
        {jobs.map(job => (
          <JobRow key={job.id} job={job} showUser={showUser} trans={trans} />
        ))}
      </tbody>
    </table>
  );
}

function JobRow(props: {
  job: IJob;
  showUser: boolean;
  trans: TranslationBundle;
}): JSX.Element {
  const { job, showUser, trans } = props;
  const placement = jobPlacement(job);
  return (
    <tr className="jp-hpc-JobsTable-row" role="row">
      <td className="jp-hpc-JobsTable-id" role="cell">
        {job.id}
      </td>
      <td className="jp-hpc-JobsTable-name" role="cell" title={job.name}>
        {job.name}
      </td>
      {showUser && (
        <td className="jp-hpc-JobsTable-user" role="cell">
          {job.user}
        </td>
      )}
      <td className="jp-hpc-JobsTable-partition" role="cell">
        {job.partition}
      </td>
      <td className="jp-hpc-JobsTable-state" role="cell">
        <JobStateChip state={job.state} trans={trans} />
      </td>
      <td className="jp-hpc-JobsTable-elapsed" role="cell">
        {formatDuration(job.elapsed)}
      </td>
      <td className="jp-hpc-JobsTable-placement" role="cell" title={placement}>
        {placement}
      </td>
    </tr>
  );
}
