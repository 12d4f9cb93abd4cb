/**
 * The typed client of the jupyterlab-hpc REST API: the one module that knows
 * its routes. Every function may throw an `HpcRequestError`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from './request';
import { IJobsResponse, JobScope } from './types';

/**
 * List the current user's jobs, or the whole queue.
 */
export function fetchJobs(
  scope: JobScope,
  serverSettings?: ServerConnection.ISettings
): Promise<IJobsResponse> {
  return requestAPI<IJobsResponse>(
    'jobs' + URLExt.objectToQueryString({ scope }),
    {},
    serverSettings
  );
}
