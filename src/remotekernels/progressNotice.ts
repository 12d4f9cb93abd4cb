import { TranslationBundle } from '@jupyterlab/translation';

import { formatWhen, isFuture } from '../shared/when';
import { RemoteKernelModel } from './model';

/**
 * What the progress notification of a restart on the cluster says.
 */
export interface IProgressNotice {
  message: string;
  type: 'in-progress' | 'success' | 'error' | 'info';
  /** Whether the restart is over (the notice no longer offers Cancel). */
  done: boolean;
}

/**
 * The notice for where the remote kernel of `notebook` is on its way.
 *
 * Notifications are cut at 140 characters: the words that matter come
 * first, and a long reason is offered in full separately.
 *
 * @param cancelled Whether the user cancelled the restart (an end is then
 * no failure).
 * @param now The present for the estimated start in words (for tests).
 */
export function describeProgress(
  model: RemoteKernelModel,
  notebook: string,
  trans: TranslationBundle,
  cancelled = false,
  now: number = Date.now()
): IProgressNotice {
  const job = model.jobId;
  switch (model.state) {
    case 'queued': {
      if (!job) {
        return {
          message: trans.__('%1: submitting a kernel job to Slurm…', notebook),
          type: 'in-progress',
          done: false
        };
      }
      const parts = [trans.__('%1: job %2 queued.', notebook, job)];
      if (model.reason) {
        parts.push(trans.__('%1.', model.reason));
      }
      const start = formatWhen(model.estimatedStart, trans, { now });
      if (start) {
        parts.push(
          isFuture(model.estimatedStart, now)
            ? trans.__('Starts %1.', start)
            : // Slurm's estimate went by and the job still waits.
              trans.__('Was expected to start %1.', start)
        );
      }
      return { message: parts.join(' '), type: 'in-progress', done: false };
    }
    case 'starting':
      return {
        message: model.node
          ? trans.__(
              '%1: kernel starting on %2 (job %3)…',
              notebook,
              model.node,
              job ?? ''
            )
          : trans.__('%1: kernel starting (job %2)…', notebook, job ?? ''),
        type: 'in-progress',
        done: false
      };
    case 'ready':
      return {
        message: trans.__(
          '%1 now runs on %2 (job %3).',
          notebook,
          model.node ?? '?',
          job ?? ''
        ),
        type: 'success',
        done: true
      };
    case 'failed':
      return {
        message: trans.__(
          '%1: the kernel could not start on the cluster: %2',
          notebook,
          model.reason ?? trans.__('no reason given')
        ),
        type: 'error',
        done: true
      };
    case 'ended':
      return cancelled
        ? {
            message: trans.__(
              '%1: restart on the cluster cancelled; the kernel is unchanged.',
              notebook
            ),
            type: 'info',
            done: true
          }
        : {
            message: trans.__(
              '%1: the cluster kernel ended: %2',
              notebook,
              model.reason ?? trans.__('no reason given')
            ),
            type: 'error',
            done: true
          };
  }
}
