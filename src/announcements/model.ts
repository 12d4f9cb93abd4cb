import { HpcClient } from '../api/client';
import { Conditional } from '../api/request';
import { AnnouncementList } from '../api/types';
import { IClusterModelOptions, PolledModel } from '../shared/polledModel';

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
