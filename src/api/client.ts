/**
 * The typed client of the jupyterlab-hpc REST API (the OpenAPI document, jupyterlab_hpc/openapi/openapi.json): the one module
 * that knows its routes. Every method may throw an `HpcRequestError`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { Conditional, HpcRequestError, requestAPI } from './request';
import {
  AnnouncementList,
  ClusterStatus,
  JobAction,
  JobDetail,
  JobList,
  JobScope,
  KernelOptions,
  KernelStartRequest,
  KernelStarted,
  OutputChunk,
  OutputStream,
  PartitionList,
  QuotaList,
  RemoteKernel,
  RemoteKernelList,
  Submitted
} from './types';

export class HpcClient {
  /**
   * @param serverSettings The connection to the Jupyter server; the page's
   * own by default.
   */
  constructor(readonly serverSettings?: ServerConnection.ISettings) {}

  /**
   * The current user's jobs, or the whole queue; `unchanged` when the
   * listing still has the ETag `etag`.
   */
  listJobs(
    scope: JobScope,
    etag: string | null = null
  ): Promise<Conditional<JobList>> {
    return this._get('jobs' + URLExt.objectToQueryString({ scope }), etag);
  }

  async getJob(id: string): Promise<JobDetail> {
    return this._body(await this._get<JobDetail>(jobPath(id)));
  }

  /**
   * Cancel, hold, release or requeue a job; resolves once Slurm accepted it.
   */
  async actOnJob(id: string, action: JobAction): Promise<void> {
    const init: RequestInit =
      action === 'cancel'
        ? { method: 'DELETE' }
        : { method: 'POST', body: '{}' };
    const path = action === 'cancel' ? jobPath(id) : `${jobPath(id)}/${action}`;
    await requestAPI(path, { init, serverSettings: this.serverSettings });
  }

  /**
   * sbatch a batch script (a path relative to the server root) in its folder.
   */
  async submitJob(path: string): Promise<Submitted> {
    const answer = await requestAPI<Submitted>('jobs', {
      init: { method: 'POST', body: JSON.stringify({ path }) },
      serverSettings: this.serverSettings
    });
    return this._body(answer);
  }

  /**
   * The bytes of a job's stdout or stderr from `offset` on.
   */
  async readOutput(
    id: string,
    stream: OutputStream,
    offset: number
  ): Promise<OutputChunk> {
    const query = URLExt.objectToQueryString({ stream, offset });
    return this._body(
      await this._get<OutputChunk>(`${jobPath(id)}/output${query}`)
    );
  }

  async getStatus(): Promise<ClusterStatus> {
    return this._body(await this._get<ClusterStatus>('status'));
  }

  /**
   * The cluster status (who the user is, where the Slurm data comes from);
   * `unchanged` when it still has the ETag `etag`.
   */
  pollStatus(etag: string | null = null): Promise<Conditional<ClusterStatus>> {
    return this._get('status', etag);
  }

  listPartitions(
    etag: string | null = null
  ): Promise<Conditional<PartitionList>> {
    return this._get('partitions', etag);
  }

  listQuotas(etag: string | null = null): Promise<Conditional<QuotaList>> {
    return this._get('quotas', etag);
  }

  listAnnouncements(
    etag: string | null = null
  ): Promise<Conditional<AnnouncementList>> {
    return this._get('announcements', etag);
  }

  /**
   * What the Restart Kernel on Cluster dialog offers: presets, defaults, the
   * user's partitions and accounts, the site's limits.
   */
  async getKernelOptions(): Promise<KernelOptions> {
    return this._body(await this._get<KernelOptions>('kernels/options'));
  }

  /**
   * Start a kernel in a Slurm job; resolves at once with its Jupyter kernel
   * id, queued. Progress follows as events and in `getRemoteKernel`.
   */
  async startRemoteKernel(request: KernelStartRequest): Promise<KernelStarted> {
    const answer = await requestAPI<KernelStarted>('kernels', {
      init: { method: 'POST', body: JSON.stringify(request) },
      serverSettings: this.serverSettings
    });
    return this._body(answer);
  }

  async listRemoteKernels(): Promise<RemoteKernelList> {
    return this._body(await this._get<RemoteKernelList>('kernels'));
  }

  async getRemoteKernel(id: string): Promise<RemoteKernel> {
    return this._body(await this._get<RemoteKernel>(kernelPath(id)));
  }

  /**
   * Cancel a queued remote kernel, shut a running one down (its job ends),
   * or forget one that ended.
   */
  async stopRemoteKernel(id: string): Promise<void> {
    await requestAPI(kernelPath(id), {
      init: { method: 'DELETE' },
      serverSettings: this.serverSettings
    });
  }

  private _get<T>(
    endPoint: string,
    etag: string | null = null
  ): Promise<Conditional<T>> {
    return requestAPI<T>(endPoint, {
      etag,
      serverSettings: this.serverSettings
    });
  }

  /**
   * The body of an answer to a request sent without an ETag, which the
   * server cannot answer with 304.
   */
  private _body<T>(answer: Conditional<T>): T {
    if (answer.unchanged) {
      throw new HpcRequestError(
        304,
        'The server answered 304 to a request without an ETag'
      );
    }
    return answer.body;
  }
}

function jobPath(id: string): string {
  return `jobs/${encodeURIComponent(id)}`;
}

function kernelPath(id: string): string {
  return `kernels/${encodeURIComponent(id)}`;
}
