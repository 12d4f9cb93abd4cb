import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';

import { HpcClient } from '../api/client';
import { loadSettings, setting } from '../shared/settings';
// Announcements must show as soon as Lab starts: activation needs these.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AnnouncementBanner } from './banner';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AnnouncementsModel } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { notifyOfAnnouncements } from './notices';
import { AnnouncementStore } from './store';

const PLUGIN_ID = 'jupyterlab-hpc:announcements';

/**
 * The computing centre's announcements: warnings and errors as a banner
 * across the top of Lab, the others in the notification centre.
 */
export const announcementsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    "Shows the computing centre's announcements and maintenance windows.",
  autoStart: true,
  optional: [ISettingRegistry, ITranslator, IStateDB, IRenderMimeRegistry],
  activate: async (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    state: IStateDB | null,
    rendermime: IRenderMimeRegistry | null
  ): Promise<void> => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_hpc');
    const settings = await loadSettings(settingRegistry, PLUGIN_ID);

    // The state database answers only once Lab has restored its layout,
    // which waits for every plugin's activation: so not before activation.
    void app.restored
      .then(() => showAnnouncements(app, settings, state, rendermime, trans))
      .catch(reason => {
        console.error('Failed to show the HPC announcements.', reason);
      });
  }
};

async function showAnnouncements(
  app: JupyterFrontEnd,
  settings: ISettingRegistry.ISettings | null,
  state: IStateDB | null,
  rendermime: IRenderMimeRegistry | null,
  trans: TranslationBundle
): Promise<void> {
  const interval = () =>
    setting(settings, 'announcementsRefreshInterval', 60) * 1000;
  const store = new AnnouncementStore(state);
  await store.load();
  const model = new AnnouncementsModel({
    client: new HpcClient(app.serviceManager.serverSettings),
    refreshInterval: interval()
  });
  settings?.changed.connect(() => {
    model.refreshInterval = interval();
  });

  const banner = new AnnouncementBanner({ model, store, rendermime, trans });
  app.shell.add(banner, 'header');

  model.changed.connect(() =>
    notifyOfAnnouncements(model, store, rendermime, trans)
  );
}
