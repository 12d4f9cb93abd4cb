import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { refreshIcon } from '@jupyterlab/ui-components';

import { CommandIDs } from './commands';
import { JobsModel } from './model';
// The sidebar's tab must be in the shell from the start; its sections load
// lazily, the first time it is shown.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { HpcSidebar } from './sidebar';
import { JobScope } from './types';

/**
 * The settings of the sidebar plugin (schema/sidebar.json).
 */
interface ISidebarSettings {
  refreshInterval: number;
  defaultScope: JobScope;
}

const DEFAULT_SETTINGS: ISidebarSettings = {
  refreshInterval: 10,
  defaultScope: 'mine'
};

/**
 * The HPC sidebar in the left area, with the user's Slurm jobs.
 */
const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc:sidebar',
  description: "Shows the user's Slurm jobs in the left sidebar.",
  autoStart: true,
  optional: [ISettingRegistry, ITranslator, ILayoutRestorer, ICommandPalette],
  activate: async (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ): Promise<void> => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('jupyterlab_hpc');

    const settings = await loadSettings(settingRegistry);
    const initial = settings ? readSettings(settings) : DEFAULT_SETTINGS;
    const jobsModel = new JobsModel({
      refreshInterval: initial.refreshInterval * 1000,
      scope: initial.defaultScope,
      serverSettings: app.serviceManager.serverSettings
    });
    settings?.changed.connect(() => {
      const current = readSettings(settings);
      jobsModel.refreshInterval = current.refreshInterval * 1000;
      jobsModel.scope = current.defaultScope;
    });

    app.commands.addCommand(CommandIDs.refreshJobs, {
      label: trans.__('Refresh Jobs'),
      caption: trans.__('Refresh the list of Slurm jobs'),
      icon: refreshIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => jobsModel.refresh()
    });
    palette?.addItem({
      command: CommandIDs.refreshJobs,
      category: trans.__('HPC')
    });

    const sidebar = new HpcSidebar({
      commands: app.commands,
      jobsModel,
      translator
    });
    app.shell.add(sidebar, 'left', { rank: 1000 });
    restorer?.add(sidebar, HpcSidebar.id);
  }
};

/**
 * The plugin's settings, or null where there is no registry or it fails: the
 * sidebar then runs on the defaults rather than not at all.
 */
async function loadSettings(
  settingRegistry: ISettingRegistry | null
): Promise<ISettingRegistry.ISettings | null> {
  if (!settingRegistry) {
    return null;
  }
  try {
    return await settingRegistry.load(sidebarPlugin.id);
  } catch (reason) {
    console.error(
      `Failed to load the settings of ${sidebarPlugin.id}.`,
      reason
    );
    return null;
  }
}

function readSettings(settings: ISettingRegistry.ISettings): ISidebarSettings {
  return {
    refreshInterval: settings.get('refreshInterval').composite as number,
    defaultScope: settings.get('defaultScope').composite as JobScope
  };
}

export default [sidebarPlugin];
