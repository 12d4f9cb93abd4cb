import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  MainAreaWidget,
  Notification,
  WidgetTracker,
  showDialog
} from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import {
  ITranslator,
  TranslationBundle,
  nullTranslator
} from '@jupyterlab/translation';
import { refreshIcon } from '@jupyterlab/ui-components';

import { HpcClient } from '../api/client';
import { CommandIDs } from '../shared/commands';
import { availableActions } from '../jobs/state';
import { hpcIcon } from '../shared/icons';
// The commands registered at activation act through the models (small:
// the views they feed load lazily).
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { PartitionsModel } from '../partitions/model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { QuotasModel } from '../quotas/model';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { JobsModel } from '../jobs/model';
import type { JobDetailWidget } from '../jobs/detailWidget';
// The sidebar's tab must be in the shell from the start; its sections load
// lazily, the first time it is shown.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { HpcSidebar } from './sidebar';
import { Job, JobAction, JobScope } from '../api/types';
import { loadSettings, setting } from '../shared/settings';

const PLUGIN_ID = 'jupyterlab-hpc:sidebar';

/**
 * The selector of a job's row, where the job actions appear in the context
 * menu (schema/sidebar.json) and whose `data-job-id` names the job.
 */
const JOB_ROW_SELECTOR = '.jp-hpc-JobsTable-row';

/**
 * The commands of each job action.
 */
const ACTION_COMMANDS: Record<JobAction, string> = {
  cancel: CommandIDs.cancelJob,
  hold: CommandIDs.holdJob,
  release: CommandIDs.releaseJob,
  requeue: CommandIDs.requeueJob
};

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
    const { commands } = app;
    const client = new HpcClient(app.serviceManager.serverSettings);

    const settings = await loadSettings(settingRegistry, PLUGIN_ID);
    const seconds = (key: string, fallback: number) =>
      setting(settings, key, fallback) * 1000;
    const models: HpcSidebar.IModels = {
      jobs: new JobsModel({
        client,
        refreshInterval: seconds('refreshInterval', 10),
        scope: setting<JobScope>(settings, 'defaultScope', 'mine'),
        active: false
      }),
      partitions: new PartitionsModel({
        client,
        refreshInterval: seconds('clusterRefreshInterval', 30),
        active: false
      }),
      quotas: new QuotasModel({
        client,
        refreshInterval: seconds('clusterRefreshInterval', 30),
        warningThreshold: setting(settings, 'quotaWarningThreshold', 90) / 100,
        active: false
      })
    };
    settings?.changed.connect(() => {
      models.jobs.refreshInterval = seconds('refreshInterval', 10);
      models.jobs.scope = setting<JobScope>(settings, 'defaultScope', 'mine');
      models.partitions.refreshInterval = seconds('clusterRefreshInterval', 30);
      models.quotas.refreshInterval = seconds('clusterRefreshInterval', 30);
      models.quotas.warningThreshold =
        setting(settings, 'quotaWarningThreshold', 90) / 100;
    });

    // Only the user's own jobs have a readable output; the server says who
    // that is. Until it has, every job's output is tried.
    let slurmUser: string | null = null;
    client.getStatus().then(
      status => {
        slurmUser = status.user;
      },
      () => undefined
    );

    const details = new WidgetTracker<MainAreaWidget<JobDetailWidget>>({
      namespace: 'jupyterlab-hpc-job'
    });

    /**
     * The job a command is about: its `id` argument, or the row the context
     * menu was opened on.
     */
    const jobIdOf = (args: { id?: unknown }): string | null => {
      if (typeof args.id === 'string') {
        return args.id;
      }
      const row = app.contextMenuHitTest(node =>
        node.matches(JOB_ROW_SELECTOR)
      );
      return row?.dataset.jobId ?? null;
    };

    const knownJob = (id: string): Job | undefined =>
      models.jobs.findJob(id) ??
      details.find(widget => widget.content.model.id === id)?.content.model
        .data ??
      undefined;

    const runAction = async (action: JobAction, id: string) => {
      const confirm = setting(settings, 'confirmJobActions', true);
      if (confirm && !(await confirmAction(action, id, knownJob(id), trans))) {
        return;
      }
      try {
        await models.jobs.act(id, action);
      } catch (error) {
        Notification.error(
          actionFailure(action, id, (error as Error).message, trans),
          { autoClose: false }
        );
      }
      await details
        .find(widget => widget.content.model.id === id)
        ?.content.model.refresh();
    };

    commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Refresh HPC Sidebar'),
      caption: trans.__('Refresh jobs, partitions and quotas'),
      icon: refreshIcon,
      describedBy: { args: { type: 'object', properties: {} } },
      execute: async () => {
        await Promise.all([
          models.jobs.refresh(),
          models.partitions.refresh(),
          models.quotas.refresh()
        ]);
      }
    });

    commands.addCommand(CommandIDs.openJob, {
      label: args =>
        typeof args.id === 'string'
          ? trans.__('Show Job %1', args.id)
          : trans.__('Show Job Details'),
      caption: trans.__('Show the details and the output of a Slurm job'),
      describedBy: {
        args: {
          type: 'object',
          properties: { id: { type: 'string', description: 'Slurm job id' } }
        }
      },
      execute: async args => {
        const id = jobIdOf(args);
        if (!id) {
          return;
        }
        const open = details.find(widget => widget.content.model.id === id);
        if (open) {
          app.shell.activateById(open.id);
          return;
        }
        const { JobDetailWidget } = await import('../jobs/detailWidget');
        const content = new JobDetailWidget({
          client,
          id,
          user: slurmUser,
          refreshInterval: seconds('refreshInterval', 10),
          outputRefreshInterval: seconds('outputRefreshInterval', 2),
          onAction: action => void runAction(action, id),
          trans
        });
        const widget = new MainAreaWidget({ content });
        widget.id = `jp-hpc-job-${id}`;
        widget.title.label = trans.__('Job %1', id);
        widget.title.icon = hpcIcon;
        widget.title.closable = true;
        await details.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    });

    commands.addCommand(CommandIDs.revealJob, {
      label: trans.__('Show Job in HPC Sidebar'),
      caption: trans.__('Show a Slurm job in the jobs list of the HPC sidebar'),
      describedBy: {
        args: {
          type: 'object',
          properties: { id: { type: 'string', description: 'Slurm job id' } },
          required: ['id']
        }
      },
      execute: args => {
        const id = jobIdOf(args);
        if (id) {
          app.shell.activateById(HpcSidebar.id);
          models.jobs.reveal(id);
        }
      }
    });

    for (const [action, command] of Object.entries(ACTION_COMMANDS) as [
      JobAction,
      string
    ][]) {
      commands.addCommand(command, {
        label: actionLabel(action, trans),
        caption: actionCaption(action, trans),
        describedBy: {
          args: {
            type: 'object',
            properties: {
              id: { type: 'string', description: 'Slurm job id' }
            }
          }
        },
        // In the context menu of a row, only what makes sense for its job.
        isVisible: args => {
          const id = jobIdOf(args);
          const job = id ? knownJob(id) : undefined;
          return !job || availableActions(job).includes(action);
        },
        execute: async args => {
          const id = jobIdOf(args);
          if (id) {
            await runAction(action, id);
          }
        }
      });
    }

    for (const command of [CommandIDs.refresh]) {
      palette?.addItem({ command, category: trans.__('HPC') });
    }

    const sidebar = new HpcSidebar({ commands, models, translator });
    app.shell.add(sidebar, 'left', { rank: 1000 });
    restorer?.add(sidebar, HpcSidebar.id);
  }
};

async function confirmAction(
  action: JobAction,
  id: string,
  job: Job | undefined,
  trans: TranslationBundle
): Promise<boolean> {
  const titles: Record<JobAction, string> = {
    cancel: trans.__('Cancel job %1?', id),
    hold: trans.__('Hold job %1?', id),
    release: trans.__('Release job %1?', id),
    requeue: trans.__('Requeue job %1?', id)
  };
  const bodies: Record<JobAction, string> = {
    cancel: trans.__('Slurm stops the job; its work so far may be lost.'),
    hold: trans.__(
      'The job stays in the queue but will not start until you release it.'
    ),
    release: trans.__('The job may start again as soon as resources are free.'),
    requeue: trans.__(
      'Slurm stops the job and puts it back in the queue to start over.'
    )
  };
  const body = job
    ? trans.__('"%1" (%2). %3', job.name, job.state, bodies[action])
    : bodies[action];
  const result = await showDialog({
    title: titles[action],
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Keep as is') }),
      action === 'cancel' || action === 'requeue'
        ? Dialog.warnButton({ label: actionLabel(action, trans) })
        : Dialog.okButton({ label: actionLabel(action, trans) })
    ]
  });
  return result.button.accept;
}

function actionLabel(action: JobAction, trans: TranslationBundle): string {
  switch (action) {
    case 'cancel':
      return trans.__('Cancel Job');
    case 'hold':
      return trans.__('Hold Job');
    case 'release':
      return trans.__('Release Job');
    case 'requeue':
      return trans.__('Requeue Job');
  }
}

function actionCaption(action: JobAction, trans: TranslationBundle): string {
  switch (action) {
    case 'cancel':
      return trans.__('Cancel the Slurm job (scancel)');
    case 'hold':
      return trans.__(
        'Keep the pending Slurm job from starting (scontrol hold)'
      );
    case 'release':
      return trans.__('Let the held Slurm job start (scontrol release)');
    case 'requeue':
      return trans.__('Put the Slurm job back in the queue (scontrol requeue)');
  }
}

function actionFailure(
  action: JobAction,
  id: string,
  message: string,
  trans: TranslationBundle
): string {
  switch (action) {
    case 'cancel':
      return trans.__('Could not cancel job %1: %2', id, message);
    case 'hold':
      return trans.__('Could not hold job %1: %2', id, message);
    case 'release':
      return trans.__('Could not release job %1: %2', id, message);
    case 'requeue':
      return trans.__('Could not requeue job %1: %2', id, message);
  }
}
