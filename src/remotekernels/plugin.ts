import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IStateDB } from '@jupyterlab/statedb';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { HpcClient } from '../api/client';
import { CommandIDs } from '../shared/commands';
import { hpcIcon } from '../shared/icons';
// The commands, the status bar item and the progress notices work from the
// start on these small modules; the dialog loads on first use.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RemoteKernelModel, RemoteKernelTracker } from './model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RemoteKernelStatus } from './statusItem';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { reportEnd, warnOfWalltime } from './notices';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RestartProgress } from './restartProgress';

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
    const trans = (translator ?? nullTranslator).load('jupyterlab_hpc');
    const { commands, serviceManager } = app;
    const client = new HpcClient(serviceManager.serverSettings);
    const kernels = new RemoteKernelTracker({
      client,
      events: serviceManager.events
    });
    const restarts = new Map<NotebookPanel, RestartProgress>();
    const stoppedOnRequest = new Set<string>();

    const remoteKernelOf = (
      panel: NotebookPanel | null
    ): RemoteKernelModel | null => {
      const model = kernels.find(panel?.sessionContext.session?.kernel?.id);
      return model && !model.isFinal ? model : null;
    };
    const notebookOf = (model: RemoteKernelModel) =>
      notebooks.find(
        panel => panel.sessionContext.session?.kernel?.id === model.id
      ) ?? null;
    const restartOnCluster = async (panel: NotebookPanel) => {
      const { sessionContext } = panel;
      await sessionContext.ready;
      const kernelName =
        remoteKernelOf(panel)?.kernelName ??
        sessionContext.session?.kernel?.name ??
        sessionContext.kernelPreference.name;
      if (!kernelName) {
        Notification.error(
          trans.__('%1 has no kernel to restart on the cluster.', nameOf(panel))
        );
        return;
      }
      const { askForResources } = await import('./restartDialog');
      const resources = await askForResources(client, state, trans);
      if (!resources || panel.isDisposed) {
        return;
      }
      let id: string;
      try {
        ({ id } = await client.startRemoteKernel({
          kernel_name: kernelName,
          resources,
          path: panel.context.path
        }));
      } catch (error) {
        Notification.error(
          trans.__(
            'Could not restart %1 on the cluster: %2',
            nameOf(panel),
            (error as Error).message
          ),
          { autoClose: false }
        );
        return;
      }
      // One restart per notebook: a new choice replaces one still queued.
      void restarts.get(panel)?.cancel();
      restarts.set(
        panel,
        new RestartProgress({
          client,
          model: kernels.track(id, kernelName),
          panel,
          trans
        })
      );
    };

    const restartLocally = async (panel: NotebookPanel) => {
      const model = remoteKernelOf(panel);
      if (!model) {
        return;
      }
      stoppedOnRequest.add(model.id);
      try {
        // The server shuts the remote kernel down once the session left it.
        await panel.sessionContext.changeKernel({ name: model.kernelName });
        await client.stopRemoteKernel(model.id).catch(() => undefined);
      } catch (error) {
        Notification.error(
          trans.__(
            'Could not restart %1 locally: %2',
            nameOf(panel),
            (error as Error).message
          ),
          { autoClose: false }
        );
        return;
      }
      await model.refresh();
      Notification.success(
        trans.__(
          '%1 runs on a local kernel again; Slurm job %2 ended.',
          nameOf(panel),
          model.jobId ?? ''
        ),
        { autoClose: 5000 }
      );
    };

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
          await restartOnCluster(panel);
        }
      }
    });

    commands.addCommand(CommandIDs.restartKernelLocally, {
      label: trans.__('Restart Kernel Locally'),
      caption: trans.__(
        'Leave the compute node: restart the kernel here and end its Slurm job'
      ),
      describedBy: { args: { type: 'object', properties: {} } },
      isVisible: () => remoteKernelOf(notebooks.currentWidget) !== null,
      execute: async () => {
        const panel = notebooks.currentWidget;
        if (panel) {
          await restartLocally(panel);
        }
      }
    });

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
    const showActiveKernel = () => {
      const model = remoteKernelOf(notebooks.currentWidget);
      status.model = model?.state === 'ready' ? model : null;
      commands.notifyCommandChanged(CommandIDs.restartKernelLocally);
    };
    statusBar?.registerStatusItem(PLUGIN_ID, {
      item: status,
      align: 'left',
      rank: 5,
      isActive: () => status.model !== null,
      activeStateChanged: status.modelChanged
    });
    notebooks.currentChanged.connect(showActiveKernel);
    notebooks.widgetAdded.connect((_, panel) => {
      panel.sessionContext.kernelChanged.connect(showActiveKernel);
      panel.disposed.connect(() => restarts.delete(panel));
    });

    const states = new Map<string, string>();
    kernels.changed.connect((_, model) => {
      if (!states.has(model.id)) {
        model.walltimeWarning.connect(() =>
          warnOfWalltime(model, notebookOf(model), restartLocally, trans)
        );
      }
      const before = states.get(model.id);
      states.set(model.id, model.state);
      if (
        before === 'ready' &&
        model.state === 'ended' &&
        !stoppedOnRequest.has(model.id)
      ) {
        reportEnd(model, notebookOf(model), trans);
      }
      showActiveKernel();
    });

    // The remote kernels of notebooks open before a reload.
    void app.restored
      .then(() => kernels.restore())
      .catch(reason => {
        console.warn('Could not list the remote kernels.', reason);
      });
  }
};

function nameOf(panel: NotebookPanel): string {
  return PathExt.basename(panel.context.path);
}
