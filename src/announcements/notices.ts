import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';

import { renderMarkdown } from './banner';
import { AnnouncementsModel } from './model';
import { AnnouncementStore } from './store';

/**
 * Put the info announcements the user has not been notified of yet in the
 * notification centre (warnings and errors are the banner's), each once;
 * forget the ids of announcements that are over.
 */
export function notifyOfAnnouncements(
  model: AnnouncementsModel,
  store: AnnouncementStore,
  rendermime: IRenderMimeRegistry | null,
  trans: TranslationBundle
): void {
  const announcements = model.data?.announcements;
  if (!announcements || model.error) {
    return;
  }
  void store.forgetAllBut(new Set(announcements.map(({ id }) => id)));
  for (const announcement of announcements) {
    if (announcement.severity !== 'info' || store.isNotified(announcement.id)) {
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
}
