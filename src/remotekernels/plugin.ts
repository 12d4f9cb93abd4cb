import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IStateDB } from '@jupyterlab/statedb';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { HpcClient } from '../api/client';
import { CommandIDs } from '../shared/commands';
import { setTimeLocale } from '../shared/when';
// The commands, the status bar item and the progress notices work from the
// start on these small modules; the dialog loads on first use.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { addRemoteKernelCommands } from './commands';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RemoteKernelTracker } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RemoteKernelStatus } from './statusItem';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RemoteKernelSwitcher } from './switcher';

const PLUGIN_ID = 'jupyterlab-hpc:remote-kernel';

/**
 * Kernel > Restart Kernel on Cluster (also in the palette and the notebook
 * toolbar), Restart Kernel Locally, the status bar item of a remote kernel
 * and its walltime warning.
 */
export const remoteKernelPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    "Moves a notebook's kernel into a Slurm job on a compute node and back.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ITranslator, IStateDB, ICommandPalette, IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    translator: ITranslator | null,
    state: IStateDB | null,
    palette: ICommandPalette | null,
    statusBar: IStatusBar | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('jupyterlab_hpc');
    setTimeLocale(translator.languageCode);
    const { commands, serviceManager } = app;
    const client = new HpcClient(serviceManager.serverSettings);
    const kernels = new RemoteKernelTracker({
      client,
      events: serviceManager.events
    });
    const switcher = new RemoteKernelSwitcher({
      client,
      kernels,
      notebooks,
      state,
      trans
    });

    addRemoteKernelCommands(commands, { notebooks, switcher, trans });
    for (const command of [
      CommandIDs.restartKernelOnCluster,
      CommandIDs.restartKernelLocally
    ]) {
      palette?.addItem({ command, category: trans.__('Kernel Operations') });
    }

    const status = new RemoteKernelStatus({
      trans,
      onOpen: id => void commands.execute(CommandIDs.revealJob, { id })
    });
    statusBar?.registerStatusItem(PLUGIN_ID, {
      item: status,
      align: 'left',
      rank: 5,
      isActive: () => status.model !== null,
      activeStateChanged: status.modelChanged
    });
    switcher.activeChanged.connect(() => {
      const model = switcher.activeKernel;
      status.model = model?.state === 'ready' ? model : null;
      commands.notifyCommandChanged(CommandIDs.restartKernelLocally);
    });

    // The remote kernels of notebooks open before a reload.
    void app.restored
      .then(() => kernels.restore())
      .catch(reason => {
        console.warn('Could not list the remote kernels.', reason);
      });
  }
};
