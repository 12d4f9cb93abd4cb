import { HpcClient } from '../api/client';
import { Conditional } from '../api/request';
import { QuotaList } from '../api/types';
import { IClusterModelOptions, PolledModel } from '../shared/polledModel';

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
