import { HpcClient } from '../api/client';
import { Conditional } from '../api/request';
import { PartitionList } from '../api/types';
import { IClusterModelOptions, PolledModel } from '../shared/polledModel';

/**
 * The partitions, their availability and whether the user may submit there.
 */
export class PartitionsModel extends PolledModel<PartitionList> {
  constructor(options: IClusterModelOptions) {
    super({ name: 'jupyterlab-hpc:partitions', ...options });
    this._client = options.client;
  }

  protected request(etag: string | null): Promise<Conditional<PartitionList>> {
    return this._client.listPartitions(etag);
  }

  private _client: HpcClient;
}
