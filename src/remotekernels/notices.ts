import { Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';

import { RemoteKernelModel } from './model';

/**
 * The job of the remote kernel of `panel` nears its time limit: say so,
 * offering to save the notebook or to move the kernel back.
 */
export function warnOfWalltime(
  model: RemoteKernelModel,
  panel: NotebookPanel | null,
  restartLocally: (panel: NotebookPanel) => Promise<void>,
  trans: TranslationBundle
): void {
  const left = model.timeLeft();
  const name = panel ? nameOf(panel) : trans.__('A notebook');
  const job = model.jobId ?? '';
  const message =
    left === null
      ? trans.__(
          '%1: the cluster kernel (job %2) reaches its time limit soon. Save your work.',
          name,
          job
        )
      : trans._n(
          '%2: the cluster kernel (job %3) stops in %1 minute, at its time limit. Save your work.',
          '%2: the cluster kernel (job %3) stops in %1 minutes, at its time limit. Save your work.',
          Math.max(1, Math.round(left / 60)),
          name,
          job
        );
  const actions: Notification.IAction[] = panel
    ? [
        {
          label: trans.__('Save notebook'),
          caption: trans.__('Save %1 now', nameOf(panel)),
          displayType: 'accent',
          callback: () => void panel.context.save()
        },
        {
          label: trans.__('Restart Kernel Locally'),
          caption: trans.__('Move the kernel back before the job ends'),
          callback: () => void restartLocally(panel)
        }
      ]
    : [];
  Notification.warning(message, { autoClose: false, actions });
}

/**
 * The remote kernel of `panel` ended by itself (time limit, node failure):
 * say why, offering a local kernel.
 */
export function reportEnd(
  model: RemoteKernelModel,
  panel: NotebookPanel | null,
  trans: TranslationBundle
): void {
  const message = trans.__(
    'The cluster kernel of %1 ended (job %2): %3',
    panel ? nameOf(panel) : trans.__('a notebook'),
    model.jobId ?? '',
    model.reason ?? trans.__('no reason given')
  );
  const actions: Notification.IAction[] = panel
    ? [
        {
          label: trans.__('Start a local kernel'),
          caption: trans.__('Start a %1 kernel here', model.kernelName),
          callback: () =>
            void panel.sessionContext.changeKernel({ name: model.kernelName })
        }
      ]
    : [];
  Notification.error(message, { autoClose: false, actions });
}

function nameOf(panel: NotebookPanel): string {
  return PathExt.basename(panel.context.path);
}
