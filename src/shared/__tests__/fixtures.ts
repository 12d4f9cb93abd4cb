import { ServerConnection } from '@jupyterlab/services';

import { HpcClient } from '../../api/client';
import {
  AccountQuota,
  Announcement,
  Job,
  JobDetail,
  JobList,
  Partition
} from '../../api/types';

/**
 * A job as the server would report it; override what a test is about.
 */
export function makeJob(fields: Partial<Job> = {}): Job {
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

export function makeJobDetail(fields: Partial<JobDetail> = {}): JobDetail {
  return {
    ...makeJob(),
    estimated_start: null,
    efficiency: null,
    command: '/home/alice/train.sh',
    ...fields
  };
}

export function jobsResponse(jobs: Job[]): JobList {
  return { jobs, updated: '2026-01-01T11:02:10Z' };
}

export function makePartition(fields: Partial<Partition> = {}): Partition {
  return {
    name: 'debug',
    state: 'UP',
    default: true,
    max_time: 1800,
    default_time: 300,
    nodes: {
      total: 2,
      idle: 1,
      mixed: 1,
      allocated: 0,
      down: 0,
      drained: 0,
      maintenance: 0
    },
    cpus: { total: 4, idle: 3 },
    gpus: { total: 0, idle: 0 },
    memory_mb: 4000,
    allowed: true,
    ...fields
  };
}

export function makeAccount(fields: Partial<AccountQuota> = {}): AccountQuota {
  return {
    account: 'proj1',
    default: true,
    fairshare: 0.2,
    limits: [
      {
        name: 'GrpTRESMins',
        tres: 'cpu',
        limit: 6000,
        used: 5700,
        unit: 'cpu-minutes',
        fraction: 0.95,
        scope: 'account',
        account: 'proj1',
        partition: null
      },
      {
        name: 'GrpTRES',
        tres: 'cpu',
        limit: 6,
        used: 3,
        unit: 'cpus',
        fraction: 0.5,
        scope: 'account',
        account: 'proj1',
        partition: null
      },
      {
        name: 'MaxWall',
        tres: null,
        limit: 240,
        used: null,
        unit: 'minutes',
        fraction: null,
        scope: 'user',
        account: 'proj1',
        partition: null
      }
    ],
    ...fields
  };
}

export function makeAnnouncement(
  fields: Partial<Announcement> = {}
): Announcement {
  return {
    id: 'maint:kernel-update',
    title: 'Maintenance on Tuesday',
    body: 'The cluster is **down** from 8:00.',
    severity: 'warning',
    starts: '2026-01-06T08:00:00Z',
    ends: '2026-01-06T18:00:00Z',
    dismissible: true,
    source: 'maintenance',
    ...fields
  };
}

/**
 * One answer of the fake server: a status, a JSON body and headers.
 */
export interface IFakeAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
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
    this.client = new HpcClient(this.settings);
  }

  /**
   * Connection settings that send every request to this fake.
   */
  readonly settings: ServerConnection.ISettings;

  /**
   * A REST client talking to this fake.
   */
  readonly client: HpcClient;

  /**
   * The requests received, oldest first.
   */
  readonly requests: Request[] = [];

  private async _fetch(input: RequestInfo | URL): Promise<Response> {
    this.requests.push(input as Request);
    const answer =
      this._answers.length > 1 ? this._answers.shift()! : this._answers[0];
    const body =
      answer.status === 304 || answer.status === 204
        ? null
        : JSON.stringify(answer.body);
    return new Response(body, {
      status: answer.status,
      headers: { 'Content-Type': 'application/json', ...answer.headers }
    });
  }

  private _answers: IFakeAnswer[];
}

export function ok(body: unknown, etag?: string): IFakeAnswer {
  return { status: 200, body, headers: etag ? { ETag: etag } : {} };
}

export function notModified(): IFakeAnswer {
  return { status: 304, body: null };
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

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
