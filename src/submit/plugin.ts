import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { HpcClient } from '../api/client';
import { CommandIDs } from '../shared/commands';
import { hpcIcon } from '../shared/icons';

/**
 * The file names offered for submission: batch scripts by their usual
 * extensions.
 */
const BATCH_SCRIPT = /\.(sh|sbatch|slurm)$/i;

/**
 * "Submit to Slurm" in the file browser's context menu of batch scripts
 * (the menu item is declared in schema/submit.json).
 */
export const submitPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-hpc:submit',
  description: 'Submits batch scripts to Slurm from the file browser.',
  autoStart: true,
  requires: [IDefaultFileBrowser],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    browser: IDefaultFileBrowser,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_hpc');
    const client = new HpcClient(app.serviceManager.serverSettings);
    const { commands } = app;

    commands.addCommand(CommandIDs.submitScript, {
      label: trans.__('Submit to Slurm'),
      caption: trans.__('Submit this batch script with sbatch, in its folder'),
      icon: hpcIcon,
      describedBy: {
        args: {
          type: 'object',
          properties: {
            path: {
              type: 'string',
              description: 'Batch script, relative to the server root'
            }
          }
        }
      },
      isVisible: args =>
        typeof args.path === 'string' || selectedScript(browser) !== null,
      execute: async args => {
        const path =
          typeof args.path === 'string' ? args.path : selectedScript(browser);
        if (path) {
          const { submitScript } = await import('./submission');
          await submitScript(path, { client, commands, trans });
        }
      }
    });
  }
};

/**
 * The path of the batch script selected first in the file browser, if it is
 * one.
 */
function selectedScript(browser: IDefaultFileBrowser): string | null {
  const item = browser.selectedItems().next();
  const model = item.done ? null : item.value;
  return model && model.type !== 'directory' && BATCH_SCRIPT.test(model.name)
    ? model.path
    : null;
}
