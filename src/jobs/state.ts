import { TranslationBundle } from '@jupyterlab/translation';

import { Job, JobAction } from '../api/types';

/**
 * The few kinds of Slurm job state the UI tells apart (by colour).
 */
export type JobStateKind = 'pending' | 'running' | 'done' | 'failed' | 'other';

/**
 * The kind of a Slurm long state name such as "RUNNING" or "NODE_FAIL".
 */
export function jobStateKind(state: string): JobStateKind {
  switch (state) {
    case 'PENDING':
    case 'REQUEUED':
    case 'REQUEUE_HOLD':
    case 'REQUEUE_FED':
    case 'RESV_DEL_HOLD':
    case 'SUSPENDED':
      return 'pending';
    case 'RUNNING':
    case 'CONFIGURING':
    case 'COMPLETING':
    case 'RESIZING':
    case 'SIGNALING':
    case 'STAGE_OUT':
      return 'running';
    case 'COMPLETED':
    case 'CANCELLED':
      return 'done';
    case 'FAILED':
    case 'TIMEOUT':
    case 'NODE_FAIL':
    case 'OUT_OF_MEMORY':
    case 'BOOT_FAIL':
    case 'DEADLINE':
    case 'PREEMPTED':
      return 'failed';
    default:
      return 'other';
  }
}

/**
 * A Slurm state in plain words, for users who do not know Slurm's names;
 * null for states without an explanation.
 */
export function describeJobState(
  state: string,
  trans: TranslationBundle
): string | null {
  switch (state) {
    case 'PENDING':
      return trans.__('Waiting in the queue');
    case 'RUNNING':
      return trans.__('Running');
    case 'COMPLETING':
      return trans.__('Finishing: processes are being cleaned up');
    case 'COMPLETED':
      return trans.__('Finished with exit code 0');
    case 'CANCELLED':
      return trans.__('Cancelled');
    case 'FAILED':
      return trans.__('Finished with a non-zero exit code');
    case 'TIMEOUT':
      return trans.__('Stopped at its time limit');
    case 'NODE_FAIL':
      return trans.__('Stopped because a node failed');
    case 'OUT_OF_MEMORY':
      return trans.__('Stopped because it ran out of memory');
    case 'PREEMPTED':
      return trans.__('Preempted by another job');
    case 'SUSPENDED':
      return trans.__('Suspended');
    default:
      return null;
  }
}

/**
 * What to show about where a job runs: its nodes, or for a pending job why it
 * is still waiting.
 */
export function jobPlacement(job: Job): string {
  if (job.state === 'PENDING') {
    if (job.reason_text) {
      return job.reason_text;
    }
    return job.reason === 'None' ? '' : (job.reason ?? '');
  }
  return job.nodes ?? '';
}

/**
 * Slurm's reason codes for a job held until someone releases it.
 */
const HELD_REASONS = new Set(['JobHeldUser', 'JobHeldAdmin']);

/**
 * The actions that make sense for a job in its current state; Slurm still
 * decides whether the user may.
 */
export function availableActions(job: Job): JobAction[] {
  const kind = jobStateKind(job.state);
  if (kind === 'done' || kind === 'failed') {
    return [];
  }
  const held = HELD_REASONS.has(job.reason ?? '');
  if (job.state === 'PENDING') {
    return held ? ['release', 'cancel'] : ['hold', 'cancel'];
  }
  if (job.state === 'REQUEUE_HOLD') {
    return ['release', 'cancel'];
  }
  if (kind === 'running' || job.state === 'SUSPENDED') {
    return ['requeue', 'cancel'];
  }
  return ['cancel'];
}
