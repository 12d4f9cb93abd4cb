import { TranslationBundle } from '@jupyterlab/translation';

import { QuotaLimit } from '../api/types';

/**
 * A limit as Slurm names it: "GrpTRESMins cpu", "MaxWall", with the
 * partition of a partition's association: "GrpTRES cpu @gpu".
 */
export function slurmLimitName(limit: QuotaLimit): string {
  const where = limit.partition ? ` @${limit.partition}` : '';
  return (limit.tres ? `${limit.name} ${limit.tres}` : limit.name) + where;
}

/**
 * A limit in plain words: "CPU-minutes", "GPUs at once", "Jobs submitted",
 * "Wall time per job"; Slurm's name for a limit without words.
 */
export function limitInWords(
  limit: QuotaLimit,
  trans: TranslationBundle
): string {
  const words = limit.tres
    ? tresLimitWords(limit.name, limit.tres, trans)
    : countLimitWords(limit.name, trans);
  if (words === null) {
    return slurmLimitName(limit);
  }
  return limit.partition
    ? trans.__('%1 (partition %2)', words, limit.partition)
    : words;
}

/**
 * The limits on jobs and wall time (sacctmgr's names).
 */
function countLimitWords(
  name: string,
  trans: TranslationBundle
): string | null {
  switch (name) {
    case 'GrpJobs':
    case 'MaxJobs':
      return trans.__('Jobs at once');
    case 'GrpSubmitJobs':
    case 'MaxSubmitJobs':
    case 'GrpSubmit':
    case 'MaxSubmit':
      return trans.__('Jobs submitted');
    case 'GrpJobsAccrue':
    case 'MaxJobsAccrue':
      return trans.__('Jobs gaining priority');
    case 'GrpWall':
      return trans.__('Wall time of running jobs');
    case 'MaxWall':
    case 'MaxWallDurationPerJob':
      return trans.__('Wall time per job');
    default:
      return null;
  }
}

/**
 * The limits per trackable resource (TRES): how much at once, over time,
 * per job or per node.
 */
function tresLimitWords(
  name: string,
  tres: string,
  trans: TranslationBundle
): string | null {
  const noun = tresNoun(tres, trans);
  switch (name) {
    case 'GrpTRES':
      return trans.__('%1 at once', noun.plural);
    case 'GrpTRESMins':
      return trans.__('%1-minutes', noun.singular);
    case 'GrpTRESRunMins':
      return trans.__('%1-minutes of running jobs', noun.singular);
    case 'MaxTRES':
    case 'MaxTRESPerJob':
      return trans.__('%1 per job', noun.plural);
    case 'MaxTRESPerNode':
      return trans.__('%1 per node', noun.plural);
    case 'MaxTRESMins':
    case 'MaxTRESMinsPerJob':
      return trans.__('%1-minutes per job', noun.singular);
    case 'MaxTRESPerUser':
      return trans.__('%1 per user', noun.plural);
    default:
      return null;
  }
}

/**
 * A TRES as a noun, singular ("CPU" of "CPU-minutes") and plural ("CPUs" of
 * "CPUs at once"); an unknown one keeps Slurm's name.
 */
function tresNoun(
  tres: string,
  trans: TranslationBundle
): { singular: string; plural: string } {
  if (tres === 'gres/gpu') {
    return { singular: trans.__('GPU'), plural: trans.__('GPUs') };
  }
  if (tres.startsWith('gres/gpu:')) {
    const type = tres.slice('gres/gpu:'.length);
    return {
      singular: trans.__('%1 GPU', type),
      plural: trans.__('%1 GPUs', type)
    };
  }
  switch (tres) {
    case 'cpu':
      return { singular: trans.__('CPU'), plural: trans.__('CPUs') };
    case 'mem':
      return { singular: trans.__('Memory'), plural: trans.__('Memory') };
    case 'node':
      return { singular: trans.__('Node'), plural: trans.__('Nodes') };
    case 'billing':
      return {
        singular: trans.__('Billing'),
        plural: trans.__('Billing units')
      };
    case 'energy':
      return { singular: trans.__('Energy'), plural: trans.__('Energy') };
    default:
      return { singular: tres, plural: tres };
  }
}
