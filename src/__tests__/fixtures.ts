import { ServerConnection } from '@jupyterlab/services';

import { IJob, IJobsResponse } from '../types';

/**
 * A job as the server would report it; override what a test is about.
 */
export function makeJob(fields: Partial<IJob> = {}): IJob {
  return {
    id: '1234',
    name: 'train-model',
    user: 'alice',
    account: 'physics',
    partition: 'debug',
    qos: 'normal',
    state: 'RUNNING',
    reason: 'None',
    reason_text: null,
    submit_time: '2026-01-01T10:00:00Z',
    start_time: '2026-01-01T10:00:05Z',
    end_time: null,
    time_limit: 3600,
    elapsed: 3725,
    nodes: 'n[1-2]',
    node_count: 2,
    cpus: 4,
    memory_mb: 4096,
    gpus: null,
    work_dir: '/home/alice',
    stdout: '/home/alice/slurm-1234.out',
    stderr: '/home/alice/slurm-1234.out',
    array_job_id: null,
    array_task_id: null,
    exit_code: null,
    ...fields
  };
}

export function jobsResponse(jobs: IJob[]): IJobsResponse {
  return { jobs, updated: '2026-01-01T11:02:10Z' };
}

/**
 * One answer of the fake server: a status and a JSON body.
 */
export interface IFakeAnswer {
  status: number;
  body: unknown;
}

/**
 * Stands in for the Jupyter server at the fetch layer, so the real request and
 * API code run. It gives its answers in order, repeating the last one.
 */
export class FakeJupyterServer {
  constructor(answers: IFakeAnswer[]) {
    this._answers = answers;
    this.settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      fetch: (input: RequestInfo | URL) => this._fetch(input)
    });
  }

  /**
   * Connection settings that send every request to this fake.
   */
  readonly settings: ServerConnection.ISettings;

  /**
   * The requests received, oldest first.
   */
  readonly requests: Request[] = [];

  private async _fetch(input: RequestInfo | URL): Promise<Response> {
    this.requests.push(input as Request);
    const answer =
      this._answers.length > 1 ? this._answers.shift()! : this._answers[0];
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'Content-Type': 'application/json' }
    });
  }

  private _answers: IFakeAnswer[];
}

export function ok(body: unknown): IFakeAnswer {
  return { status: 200, body };
}

/**
 * An error answer in jupyter_server's shape.
 */
export function failure(status: number, message: string): IFakeAnswer {
  return { status, body: { message, reason: null } };
}

/**
 * Make the browser tab visible or hidden, as a poll sees it (jsdom starts
 * hidden).
 */
export function setPageVisibility(state: DocumentVisibilityState): void {
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => state
  });
  document.dispatchEvent(new Event('visibilitychange'));
}
