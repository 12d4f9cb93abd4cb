import { JupyterFrontEnd } from '@jupyterlab/application';
import { TranslationBundle } from '@jupyterlab/translation';

import { HpcClient } from '../api/client';
import { JobAction } from '../api/types';
import { CommandIDs } from '../shared/commands';
import {
  ACTION_COMMANDS,
  JobActionRunner,
  actionCaption,
  actionLabel
} from './actions';
import { JobDetailTracker } from './detailTracker';
import { JobsModel } from './model';

/**
 * The selector of a job's row, where the job actions appear in the context
 * menu (schema/sidebar.json) and whose `data-job-id` names the job.
 */
const JOB_ROW_SELECTOR = '.jp-hpc-JobsTable-row';

/**
 * The commands acting on one job: show its details, show it in the HPC
 * sidebar, cancel, hold, release or requeue it. Each takes the job's `id`,
 * or acts on the row the context menu was opened on.
 *
 * Returns the tracker of the job detail views, for the layout restorer.
 */
export function addJobCommands(
  app: JupyterFrontEnd,
  options: IJobCommandsOptions
): JobDetailTracker {
  const { commands, shell } = app;
  const { client, jobs, trans } = options;
  const details = new JobDetailTracker({
    client,
    shell,
    refreshInterval: options.refreshInterval,
    outputRefreshInterval: options.outputRefreshInterval,
    onAction: (action, id) => void actions.run(action, id),
    trans
  });
  const actions = new JobActionRunner({
    jobs,
    details,
    confirm: options.confirmActions,
    trans
  });

  /**
   * The job a command is about: its `id` argument, or the row the context
   * menu was opened on.
   */
  const jobIdOf = (args: { id?: unknown }): string | null => {
    if (typeof args.id === 'string') {
      return args.id;
    }
    const row = app.contextMenuHitTest(node => node.matches(JOB_ROW_SELECTOR));
    return row?.dataset.jobId ?? null;
  };

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
      if (id) {
        await details.open(id);
      }
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
        shell.activateById(options.sidebarId);
        jobs.reveal(id);
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
        return !id || actions.isAvailable(action, id);
      },
      execute: async args => {
        const id = jobIdOf(args);
        if (id) {
          await actions.run(action, id);
        }
      }
    });
  }

  return details;
}

export interface IJobCommandsOptions {
  client: HpcClient;
  /** The jobs list, which the actions refresh and `revealJob` scrolls. */
  jobs: JobsModel;
  /** The id of the HPC sidebar, which `revealJob` shows. */
  sidebarId: string;
  /** Milliseconds between two reads of a job in its detail view. */
  refreshInterval: () => number;
  /** Milliseconds between two reads of a job's output. */
  outputRefreshInterval: () => number;
  /** Whether to ask before acting on a job. */
  confirmActions: () => boolean;
  trans: TranslationBundle;
}
