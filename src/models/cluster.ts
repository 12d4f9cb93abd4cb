import { HpcClient } from '../api';
import { Conditional } from '../request';
import { AnnouncementList, PartitionList, QuotaList } from '../types';
import { PolledModel } from './polled';

/**
 * Options shared by the models of cluster-wide data.
 */
export interface IClusterModelOptions {
  client: HpcClient;
  /** Milliseconds between two requests while all goes well. */
  refreshInterval: number;
  /** Whether a view shows the data from the start; true by default. */
  active?: boolean;
}

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

/**
 * The user's accounts with their usage against every enforced limit; the
 * error is a 503 while slurmdbd is unreachable.
 */
export class QuotasModel extends PolledModel<QuotaList> {
  constructor(options: IClusterModelOptions & { warningThreshold: number }) {
    super({ name: 'jupyterlab-hpc:quotas', ...options });
    this._client = options.client;
    this._warningThreshold = options.warningThreshold;
  }

  /**
   * The fraction of a limit (0 to 1) from which it is shown as nearly used up.
   */
  get warningThreshold(): number {
    return this._warningThreshold;
  }
  set warningThreshold(threshold: number) {
    if (threshold !== this._warningThreshold) {
      this._warningThreshold = threshold;
      this.emitChanged();
    }
  }

  protected request(etag: string | null): Promise<Conditional<QuotaList>> {
    return this._client.listQuotas(etag);
  }

  private _client: HpcClient;
  private _warningThreshold: number;
}

/**
 * The centre's announcements in force, admin-written or from maintenance
 * reservations.
 */
export class AnnouncementsModel extends PolledModel<AnnouncementList> {
  constructor(options: IClusterModelOptions) {
    super({ name: 'jupyterlab-hpc:announcements', ...options });
    this._client = options.client;
  }

  protected request(
    etag: string | null
  ): Promise<Conditional<AnnouncementList>> {
    return this._client.listAnnouncements(etag);
  }

  private _client: HpcClient;
}
