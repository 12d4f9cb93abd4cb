/**
 * The real cluster, driven from the browser tests' node side.
 */
import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';

/**
 * The cluster user the test server acts as (jupyter_server_test_config.py).
 */
export const SLURM_USER = 'alice';

/**
 * What the cluster tool wrote about the cluster it started.
 */
export const CLUSTER = JSON.parse(
  readFileSync('/var/tmp/jupyterlab-hpc-cluster/cluster.json', 'utf-8')
);

function run(command: string, args: string[]): string {
  return execFileSync(command, args, {
    encoding: 'utf-8',
    timeout: 30 * 1000
  }).trim();
}

/**
 * Run a Slurm command as the test user and return its output.
 */
export function asSlurmUser(command: string, args: string[]): string {
  return run('runuser', ['-u', SLURM_USER, '--', command, ...args]);
}

/**
 * Run a Slurm command as root (the tests run as root), e.g. scontrol.
 */
export function asRoot(command: string, args: string[]): string {
  return run(command, args);
}

/**
 * Submit a job as the test user; returns its id.
 */
export function submit(
  name: string,
  script: string,
  extra: string[] = []
): string {
  // --parsable prints "<id>" or "<id>;<cluster>".
  return asSlurmUser('sbatch', [
    '--parsable',
    '-J',
    name,
    '-p',
    'debug',
    '-t',
    '5',
    '--chdir',
    '/tmp',
    ...extra,
    '--wrap',
    script
  ]).split(';')[0];
}

/**
 * The ids of the test user's jobs still in the queue.
 */
export function queuedJobIds(): string[] {
  return asSlurmUser('squeue', ['-h', '-u', SLURM_USER, '-o', '%i'])
    .split('\n')
    .filter(Boolean);
}

export function cancel(...ids: string[]): void {
  const present = ids.filter(Boolean);
  if (present.length) {
    asSlurmUser('scancel', present);
  }
}
