import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { HpcClient } from '../api/client';
import { JobsModel } from '../jobs/model';
import { PartitionsModel } from '../partitions/model';
import { QuotasModel } from '../quotas/model';
import { readSidebarSettings } from './settings';
import { StatusModel } from './statusModel';
import type { HpcSidebar } from './sidebar';

/**
 * The models of the sidebar's sections, as the settings say and following
 * their changes. They poll only once the sidebar shows them.
 */
export function createSidebarModels(
  client: HpcClient,
  settings: ISettingRegistry.ISettings | null
): HpcSidebar.IModels {
  const initial = readSidebarSettings(settings);
  const models: HpcSidebar.IModels = {
    jobs: new JobsModel({
      client,
      refreshInterval: initial.refreshInterval,
      scope: initial.defaultScope,
      active: false
    }),
    partitions: new PartitionsModel({
      client,
      refreshInterval: initial.clusterRefreshInterval,
      active: false
    }),
    quotas: new QuotasModel({
      client,
      refreshInterval: initial.clusterRefreshInterval,
      warningThreshold: initial.quotaWarningThreshold,
      active: false
    }),
    status: new StatusModel({
      client,
      refreshInterval: initial.clusterRefreshInterval,
      active: false
    })
  };
  settings?.changed.connect(() => {
    const current = readSidebarSettings(settings);
    models.jobs.refreshInterval = current.refreshInterval;
    models.jobs.scope = current.defaultScope;
    models.partitions.refreshInterval = current.clusterRefreshInterval;
    models.quotas.refreshInterval = current.clusterRefreshInterval;
    models.quotas.warningThreshold = current.quotaWarningThreshold;
    models.status.refreshInterval = current.clusterRefreshInterval;
  });
  return models;
}

/**
 * Ask for all the sidebar's data now.
 */
export async function refreshSidebarModels(
  models: HpcSidebar.IModels
): Promise<void> {
  await Promise.all([
    models.jobs.refresh(),
    models.partitions.refresh(),
    models.quotas.refresh(),
    models.status.refresh()
  ]);
}
