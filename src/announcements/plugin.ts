import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';

import { HpcClient } from '../api/client';
import { AnnouncementStore } from './store';
// Announcements must show as soon as Lab starts: activation needs these.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AnnouncementBanner, renderMarkdown } from './banner';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { AnnouncementsModel } from './model';
import { loadSettings, setting } from '../shared/settings';

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

  model.changed.connect(() => {
    const announcements = model.data?.announcements;
    if (!announcements || model.error) {
      return;
    }
    void store.forgetAllBut(new Set(announcements.map(({ id }) => id)));
    for (const announcement of announcements) {
      if (
        announcement.severity !== 'info' ||
        store.isNotified(announcement.id)
      ) {
        continue;
      }
      void store.markNotified(announcement.id);
      Notification.info(announcement.title, {
        autoClose: false,
        actions: [
          {
            label: trans.__('Read'),
            caption: trans.__('Read the whole announcement'),
            callback: () => {
              void showDialog({
                title: announcement.title,
                body: renderMarkdown(announcement.body, rendermime),
                buttons: [Dialog.okButton({ label: trans.__('Close') })]
              });
            }
          }
        ]
      });
    }
  });
}
