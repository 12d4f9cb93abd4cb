/**
 * Payload types of the jupyterlab-hpc REST API (see the project's API contract).
 *
 * Written by hand for now; they are to be generated from the server's OpenAPI
 * document, so keep them a plain mirror of the JSON with no client logic.
 */

/**
 * Whose jobs to list: the current user's, or the whole queue.
 */
export type JobScope = 'mine' | 'all';

/**
 * One Slurm job (or one task of a job array) as the server reports it.
 *
 * Times are ISO 8601 UTC strings; durations are seconds; null means unknown
 * or unlimited.
 */
export interface IJob {
  /** Slurm job id, "1234" or "1234_7" for an array task. */
  id: string;
  name: string;
  user: string;
  account: string;
  partition: string;
  qos: string;
  /** Slurm's long state name, e.g. "PENDING", "RUNNING", "COMPLETED". */
  state: string;
  /** Slurm's reason code, e.g. "Priority", or "None". */
  reason: string;
  /** The reason code explained in plain words. */
  reason_text: string | null;
  submit_time: string | null;
  start_time: string | null;
  end_time: string | null;
  time_limit: number | null;
  elapsed: number | null;
  /** Slurm node list, e.g. "n[1-2]". */
  nodes: string | null;
  node_count: number | null;
  cpus: number | null;
  memory_mb: number | null;
  gpus: number | null;
  work_dir: string | null;
  stdout: string | null;
  stderr: string | null;
  array_job_id: string | null;
  array_task_id: string | null;
  exit_code: string | null;
}

/**
 * Response of `GET /hpc/jobs`.
 */
export interface IJobsResponse {
  jobs: IJob[];
  /** When the server last asked Slurm, ISO 8601 UTC. */
  updated: string;
}
