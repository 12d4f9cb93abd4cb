import { ISettingRegistry } from '@jupyterlab/settingregistry';

/**
 * A plugin's settings, or null where there is no registry or it fails: the
 * plugin then runs on its defaults rather than not at all.
 */
export async function loadSettings(
  settingRegistry: ISettingRegistry | null,
  pluginId: string
): Promise<ISettingRegistry.ISettings | null> {
  if (!settingRegistry) {
    return null;
  }
  try {
    return await settingRegistry.load(pluginId);
  } catch (reason) {
    console.error(`Failed to load the settings of ${pluginId}.`, reason);
    return null;
  }
}

/**
 * Read a setting's composite value, or `fallback` without settings.
 */
export function setting<T>(
  settings: ISettingRegistry.ISettings | null,
  key: string,
  fallback: T
): T {
  return settings ? (settings.get(key).composite as T) : fallback;
}
