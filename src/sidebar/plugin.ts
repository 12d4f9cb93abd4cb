import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { refreshIcon } from '@jupyterlab/ui-components';

import { HpcClient } from '../api/client';
// The commands registered at activation act through the models (small:
// the views they feed load lazily, as do the job detail views).
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { addJobCommands } from '../jobs/commands';
import { CommandIDs } from '../shared/commands';
import { loadSettings } from '../shared/settings';
import { setTimeLocale } from '../shared/when';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { createSidebarModels, refreshSidebarModels } from './models';
import { readSidebarSettings } from './settings';
// The sidebar's tab must be in the shell from the start; its sections load
// lazily, the first time it is shown.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { HpcSidebar } from './sidebar';

const PLUGIN_ID = 'jupyterlab-hpc:sidebar';

/**
 * The HPC sidebar (jobs, partitions, quotas) in the left area, the job
 * detail views and the commands acting on jobs.
 */
export const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    "Shows the user's Slurm jobs, the partitions and the account quotas in the left sidebar.",
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
    setTimeLocale(translator.languageCode);
    const { commands } = app;
    const client = new HpcClient(app.serviceManager.serverSettings);
    const settings = await loadSettings(settingRegistry, PLUGIN_ID);
    const current = () => readSidebarSettings(settings);
    const models = createSidebarModels(client, settings);

    const details = addJobCommands(app, {
      client,
      jobs: models.jobs,
      sidebarId: HpcSidebar.id,
      refreshInterval: () => current().refreshInterval,
      outputRefreshInterval: () => current().outputRefreshInterval,
      confirmActions: () => current().confirmJobActions,
      trans
    });
    commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Refresh HPC Sidebar'),
      caption: trans.__('Refresh jobs, partitions and quotas'),
      icon: refreshIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => refreshSidebarModels(models)
    });
    commands.addCommand(CommandIDs.showSidebar, {
      label: trans.__('Show HPC Sidebar'),
      caption: trans.__(
        'Show the HPC sidebar: Slurm jobs, partitions and quotas'
      ),
      describedBy: { args: { type: 'object', properties: {} } },
      execute: () => app.shell.activateById(HpcSidebar.id)
    });
    for (const command of [CommandIDs.showSidebar, CommandIDs.refresh]) {
      palette?.addItem({ command, category: trans.__('HPC') });
    }

    const sidebar = new HpcSidebar({ commands, models, translator });
    app.shell.add(sidebar, 'left', { rank: 1000 });
    restorer?.add(sidebar, HpcSidebar.id);
    // The job detail tabs open before a reload come back, each by opening
    // its job again (a job Slurm has forgotten since says so in its tab).
    void restorer?.restore(details.tracker, {
      command: CommandIDs.openJob,
      args: widget => ({ id: widget.content.model.id }),
      name: widget => widget.content.model.id
    });
  }
};
