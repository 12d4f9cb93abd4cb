/**
 * The Restart Kernel on Cluster dialog's choice, checked against the chosen
 * partition and the site's limits before anything is submitted.
 *
 * A kernel's job runs on one node, but partitions report only their totals:
 * the checks use those, so they never refuse what Slurm could run; Slurm's
 * own refusal reaches the user for the rest.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import {
  KernelLimits,
  KernelOptions,
  KernelPreset,
  KernelResources,
  Partition
} from '../api/types';
import { formatDuration } from '../shared/duration';

/**
 * The dialog's fields as the user typed them: what the state database keeps
 * as the last choice.
 */
export interface IResourceChoice {
  /** The preset picked last, or '' for a choice of one's own. */
  preset: string;
  partition: string;
  account: string;
  /** Slurm's time formats: minutes, h:mm:ss, d-hh:mm... */
  walltime: string;
  cpus: string;
  /** Megabytes, or a number with K, M, G or T as sbatch --mem takes it. */
  memory: string;
  /** A count, or type:count. */
  gpus: string;
}

export type ResourceField = Exclude<keyof IResourceChoice, 'preset'>;

/**
 * What is wrong with each field, in words for the user.
 */
export type ResourceProblems = Partial<Record<ResourceField, string>>;

/**
 * What the choice is checked against.
 */
export interface IResourceContext {
  /** The partitions the user may use, with their latest availability. */
  partitions: readonly Partition[];
  accounts: readonly string[];
  limits?: KernelLimits | null;
}

export interface ICheckedChoice {
  /** The resources to request; null while a field has a problem. */
  resources: KernelResources | null;
  problems: ResourceProblems;
}

const MINUTE = 60;
const MEMORY_UNITS_MB: Record<string, number> = {
  K: 1 / 1024,
  M: 1,
  G: 1024,
  T: 1024 * 1024
};

/**
 * Check every field; the resources to request when all are fine.
 */
export function checkChoice(
  choice: IResourceChoice,
  context: IResourceContext,
  trans: TranslationBundle
): ICheckedChoice {
  const problems: ResourceProblems = {};
  const limits = context.limits ?? {};
  const partition = context.partitions.find(p => p.name === choice.partition);
  const partitionName = choice.partition;

  if (!partition) {
    problems.partition = choice.partition
      ? trans.__('You may not start kernels in partition %1.', partitionName)
      : trans.__('Choose a partition.');
  } else if (partition.state !== 'UP') {
    problems.partition = trans.__(
      'Partition %1 is %2: the kernel would not start.',
      partitionName,
      partition.state
    );
  }

  if (
    choice.account &&
    context.accounts.length > 0 &&
    !context.accounts.includes(choice.account)
  ) {
    problems.account = trans.__(
      'Account %1 is not one of yours (%2).',
      choice.account,
      context.accounts.join(', ')
    );
  }

  const time = parseWalltime(choice.walltime);
  if (time === undefined) {
    problems.walltime = trans.__(
      'Write the time as minutes, h:mm:ss or d-hh:mm, e.g. 1:00:00.'
    );
  } else if (time !== null && time < MINUTE) {
    problems.walltime = trans.__('Ask for at least 1 minute.');
  } else if (
    time !== null &&
    partition?.max_time !== null &&
    partition?.max_time !== undefined &&
    time > partition.max_time
  ) {
    problems.walltime = trans.__(
      '%1 is longer than the limit of %2 (%3).',
      formatDuration(time),
      partitionName,
      formatDuration(partition.max_time)
    );
  } else if (time !== null && isAbove(time, limits.max_time)) {
    problems.walltime = trans.__(
      '%1 is longer than the site allows for kernels (%2).',
      formatDuration(time),
      formatDuration(limits.max_time!)
    );
  }

  const cpus = parseCount(choice.cpus);
  if (cpus === undefined || cpus === 0) {
    problems.cpus = trans.__('Write a whole number of CPUs, 1 or more.');
  } else if (partition && cpus !== null && cpus > partition.cpus.total) {
    problems.cpus = trans.__(
      '%1 has %2 CPUs in all.',
      partitionName,
      partition.cpus.total
    );
  } else if (cpus !== null && isAbove(cpus, limits.max_cpus)) {
    problems.cpus = trans.__(
      'The site allows kernels at most %1 CPUs.',
      limits.max_cpus!
    );
  }

  const memory = parseMemory(choice.memory);
  if (memory === undefined || memory === 0) {
    problems.memory = trans.__(
      'Write the memory in MB, or with a unit: 512M, 4G.'
    );
  } else if (partition && memory !== null && memory > partition.memory_mb) {
    problems.memory = trans.__(
      '%1 has %2 MB of memory in all.',
      partitionName,
      partition.memory_mb
    );
  } else if (memory !== null && isAbove(memory, limits.max_memory_mb)) {
    problems.memory = trans.__(
      'The site allows kernels at most %1 MB of memory.',
      limits.max_memory_mb!
    );
  }

  const gpus = parseGpus(choice.gpus);
  if (gpus === undefined) {
    problems.gpus = trans.__('Write a number of GPUs, or type:count (a100:2).');
  } else if (gpus !== null && gpus.count > 0) {
    if (partition && partition.gpus.total === 0) {
      problems.gpus = trans.__('%1 has no GPUs.', partitionName);
    } else if (partition && gpus.count > partition.gpus.total) {
      problems.gpus = trans.__(
        '%1 has %2 GPUs in all.',
        partitionName,
        partition.gpus.total
      );
    } else if (isAbove(gpus.count, limits.max_gpus)) {
      problems.gpus = trans.__(
        'The site allows kernels at most %1 GPUs.',
        limits.max_gpus!
      );
    }
  }

  if (Object.keys(problems).length > 0) {
    return { resources: null, problems };
  }
  const resources: KernelResources = { partition: choice.partition };
  if (choice.account) {
    resources.account = choice.account;
  }
  if (time) {
    resources.time = time;
  }
  if (cpus) {
    resources.cpus = cpus;
  }
  if (memory) {
    resources.memory_mb = memory;
  }
  if (gpus && gpus.count > 0) {
    resources.gpus = gpus.value;
  }
  return { resources, problems };
}

/**
 * A preset's resources as the dialog's fields (the preset named).
 */
export function choiceOfPreset(
  preset: KernelPreset,
  current: IResourceChoice
): IResourceChoice {
  return {
    ...current,
    ...choiceOfResources(preset.resources, current),
    preset: preset.name
  };
}

/**
 * Resources (the server's defaults, a preset's) as the dialog's fields;
 * fields they leave out keep their value in `current`.
 */
export function choiceOfResources(
  resources: KernelResources,
  current: IResourceChoice
): IResourceChoice {
  const text = (value: string | number | null | undefined, fallback: string) =>
    value === null || value === undefined ? fallback : String(value);
  return {
    preset: '',
    partition: text(resources.partition, current.partition),
    account: text(resources.account, current.account),
    walltime:
      typeof resources.time === 'number'
        ? formatDuration(resources.time)
        : current.walltime,
    cpus: text(resources.cpus, current.cpus),
    memory: text(resources.memory_mb, current.memory),
    gpus: text(resources.gpus, current.gpus)
  };
}

/**
 * Seconds of a walltime in one of sbatch --time's formats ("minutes",
 * "minutes:seconds", "hours:minutes:seconds", "days-hours",
 * "days-hours:minutes", "days-hours:minutes:seconds"); null when empty
 * (Slurm's default), undefined when not a walltime.
 */
export function parseWalltime(text: string): number | null | undefined {
  const value = text.trim();
  if (!value) {
    return null;
  }
  const match = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(value);
  if (!match) {
    return undefined;
  }
  const [, days, first, second, third] = match;
  const numbers = [first, second, third]
    .filter(part => part !== undefined)
    .map(Number);
  if (days !== undefined) {
    // days-hours[:minutes[:seconds]]
    const [hours, minutes = 0, seconds = 0] = numbers;
    return ((Number(days) * 24 + hours) * 60 + minutes) * 60 + seconds;
  }
  switch (numbers.length) {
    case 1:
      return numbers[0] * 60;
    case 2:
      return numbers[0] * 60 + numbers[1];
    default:
      return (numbers[0] * 60 + numbers[1]) * 60 + numbers[2];
  }
}

/**
 * Megabytes of "4000", "512M", "4G", "1T" (sbatch --mem's units, MB by
 * default; rounded up to whole MB); null when empty, undefined when not a
 * size.
 */
export function parseMemory(text: string): number | null | undefined {
  const value = text.trim().toUpperCase();
  if (!value) {
    return null;
  }
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT])?B?$/.exec(value);
  if (!match) {
    return undefined;
  }
  return Math.ceil(Number(match[1]) * MEMORY_UNITS_MB[match[2] ?? 'M']);
}

function parseCount(text: string): number | null | undefined {
  const value = text.trim();
  if (!value) {
    return null;
  }
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * A GPU count, or type:count, with the value to send.
 */
function parseGpus(
  text: string
): { count: number; value: number | string } | null | undefined {
  const value = text.trim();
  if (!value) {
    return null;
  }
  if (/^\d+$/.test(value)) {
    return { count: Number(value), value: Number(value) };
  }
  const match = /^[A-Za-z0-9_.-]+:(\d+)$/.exec(value);
  return match ? { count: Number(match[1]), value } : undefined;
}

function isAbove(value: number, limit: number | null | undefined): boolean {
  return limit !== null && limit !== undefined && value > limit;
}

/**
 * Where the dialog starts: the user's last choice, else the site's defaults,
 * else the default partition and account with Slurm's defaults.
 */
export function initialChoice(
  options: KernelOptions,
  lastChoice: IResourceChoice | null
): IResourceChoice {
  if (lastChoice) {
    return lastChoice;
  }
  const partition =
    options.partitions.find(p => p.default) ?? options.partitions[0];
  const blank: IResourceChoice = {
    preset: '',
    partition: partition?.name ?? '',
    account: options.default_account ?? options.accounts[0] ?? '',
    walltime: '',
    cpus: '',
    memory: '',
    gpus: ''
  };
  return choiceOfResources(options.defaults, blank);
}

/**
 * Whether a value from the state database is a choice the dialog can show.
 */
export function isResourceChoice(value: unknown): value is IResourceChoice {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const fields: (keyof IResourceChoice)[] = [
    'preset',
    'partition',
    'account',
    'walltime',
    'cpus',
    'memory',
    'gpus'
  ];
  return fields.every(
    field => typeof (value as Record<string, unknown>)[field] === 'string'
  );
}
