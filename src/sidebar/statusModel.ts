import { HpcClient } from '../api/client';
import { Conditional } from '../api/request';
import { ClusterStatus } from '../api/types';
import { IClusterModelOptions, PolledModel } from '../shared/polledModel';

/**
 * The cluster status, for where the sidebar's Slurm data comes from: the
 * site service's shared cache, or Slurm itself.
 */
export class StatusModel extends PolledModel<ClusterStatus> {
  constructor(options: IClusterModelOptions) {
    super({ name: 'jupyterlab-hpc:status', ...options });
    this._client = options.client;
  }

  /**
   * The site service as the server last reported it; null without one (or
   * before the first answer).
   */
  get site(): ClusterStatus['site'] {
    return this.data?.site ?? null;
  }

  protected request(etag: string | null): Promise<Conditional<ClusterStatus>> {
    return this._client.pollStatus(etag);
  }

  private _client: HpcClient;
}
