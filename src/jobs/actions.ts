import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { Job, JobAction } from '../api/types';
import { CommandIDs } from '../shared/commands';
import type { JobDetailTracker } from './detailTracker';
import { JobsModel } from './model';
import { availableActions } from './state';

/**
 * The commands of each job action.
 */
export const ACTION_COMMANDS: Record<JobAction, string> = {
  cancel: CommandIDs.cancelJob,
  hold: CommandIDs.holdJob,
  release: CommandIDs.releaseJob,
  requeue: CommandIDs.requeueJob
};

/**
 * Cancels, holds, releases or requeues jobs for the user: asks first (if the
 * settings say so), reports Slurm's refusal, and brings the jobs list and
 * the job's open detail view up to date.
 */
export class JobActionRunner {
  constructor(options: JobActionRunner.IOptions) {
    this._options = options;
  }

  /**
   * What the page knows of job `id`: from the jobs list, or from its open
   * detail view.
   */
  knownJob(id: string): Job | undefined {
    const { jobs, details } = this._options;
    return jobs.findJob(id) ?? details.job(id);
  }

  /**
   * Whether `action` makes sense for job `id`; true for a job not known.
   */
  isAvailable(action: JobAction, id: string): boolean {
    const job = this.knownJob(id);
    return !job || availableActions(job).includes(action);
  }

  async run(action: JobAction, id: string): Promise<void> {
    const { confirm, details, jobs, trans } = this._options;
    if (
      confirm() &&
      !(await confirmAction(action, id, this.knownJob(id), trans))
    ) {
      return;
    }
    try {
      await jobs.act(id, action);
    } catch (error) {
      Notification.error(
        actionFailure(action, id, (error as Error).message, trans),
        { autoClose: false }
      );
    }
    await details.refresh(id);
  }

  private _options: JobActionRunner.IOptions;
}

export namespace JobActionRunner {
  export interface IOptions {
    jobs: JobsModel;
    /** The open detail views, refreshed after an action on their job. */
    details: JobDetailTracker;
    /** Whether to ask before acting (the `confirmJobActions` setting). */
    confirm: () => boolean;
    trans: TranslationBundle;
  }
}

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

export function actionLabel(
  action: JobAction,
  trans: TranslationBundle
): string {
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

export function actionCaption(
  action: JobAction,
  trans: TranslationBundle
): string {
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
