import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { JobScope } from '../api/types';
import { setting } from '../shared/settings';

/**
 * The sidebar plugin's settings (schema/sidebar.json), or their defaults
 * without settings, in the units the models take.
 */
export interface ISidebarSettings {
  /** Milliseconds between two reads of the jobs (and of an open job). */
  refreshInterval: number;
  /** Milliseconds between two reads of a job's output. */
  outputRefreshInterval: number;
  /** Milliseconds between two reads of the partitions and the quotas. */
  clusterRefreshInterval: number;
  defaultScope: JobScope;
  /** The fraction (0 to 1) of a quota from which it shows as nearly used. */
  quotaWarningThreshold: number;
  confirmJobActions: boolean;
}

/**
 * The settings' values now.
 */
export function readSidebarSettings(
  settings: ISettingRegistry.ISettings | null
): ISidebarSettings {
  const seconds = (key: string, fallback: number) =>
    setting(settings, key, fallback) * 1000;
  return {
    refreshInterval: seconds('refreshInterval', 10),
    outputRefreshInterval: seconds('outputRefreshInterval', 2),
    clusterRefreshInterval: seconds('clusterRefreshInterval', 30),
    defaultScope: setting<JobScope>(settings, 'defaultScope', 'mine'),
    quotaWarningThreshold: setting(settings, 'quotaWarningThreshold', 90) / 100,
    confirmJobActions: setting(settings, 'confirmJobActions', true)
  };
}
