import { INotebookTracker } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';

import { CommandIDs } from '../shared/commands';
import { hpcIcon } from '../shared/icons';
import { RemoteKernelSwitcher } from './switcher';

/**
 * Restart Kernel on Cluster and Restart Kernel Locally, for the active
 * notebook.
 */
export function addRemoteKernelCommands(
  commands: CommandRegistry,
  options: {
    notebooks: INotebookTracker;
    switcher: RemoteKernelSwitcher;
    trans: TranslationBundle;
  }
): void {
  const { notebooks, switcher, trans } = options;

  commands.addCommand(CommandIDs.restartKernelOnCluster, {
    label: trans.__('Restart Kernel on Cluster…'),
    caption: trans.__(
      "Restart the notebook's kernel in a Slurm job on a compute node"
    ),
    icon: args => (args['toolbar'] ? hpcIcon : undefined),
    describedBy: {
      args: {
        type: 'object',
        properties: {
          toolbar: {
            type: 'boolean',
            description: 'Shown in a toolbar (with an icon)'
          }
        }
      }
    },
    isEnabled: () => notebooks.currentWidget !== null,
    execute: async () => {
      const panel = notebooks.currentWidget;
      if (panel) {
        await switcher.restartOnCluster(panel);
      }
    }
  });

  commands.addCommand(CommandIDs.restartKernelLocally, {
    label: trans.__('Restart Kernel Locally'),
    caption: trans.__(
      'Leave the compute node: restart the kernel here and end its Slurm job'
    ),
    describedBy: { args: { type: 'object', properties: {} } },
    isVisible: () => switcher.remoteKernelOf(notebooks.currentWidget) !== null,
    execute: async () => {
      const panel = notebooks.currentWidget;
      if (panel) {
        await switcher.restartLocally(panel);
      }
    }
  });
}
