import { HpcClient } from '../api/client';
import { Conditional } from '../api/request';
import { Job, JobAction, JobList, JobScope } from '../api/types';
import { PolledModel } from '../shared/polledModel';
import {
  DEFAULT_JOB_QUERY,
  IJobFilterChoices,
  IJobQuery,
  filterChoices,
  isFiltering,
  selectJobs
} from './query';

/**
 * The live list of Slurm jobs shown by the sidebar, and how the user filters,
 * searches and sorts it (on the client: instant, and one listing per scope
 * for the server to cache).
 */
export class JobsModel extends PolledModel<JobList> {
  constructor(options: JobsModel.IOptions) {
    super({
      name: 'jupyterlab-hpc:jobs',
      refreshInterval: options.refreshInterval,
      active: options.active
    });
    this.client = options.client;
    this._scope = options.scope;
  }

  /**
   * The REST client the model (and actions on its jobs) use.
   */
  readonly client: HpcClient;

  /**
   * The jobs of the last successful request, in the server's order.
   */
  get jobs(): readonly Job[] {
    return this.data?.jobs ?? [];
  }

  /**
   * Whether a request for the current scope has succeeded yet.
   */
  get hasLoaded(): boolean {
    return this.data !== null;
  }

  /**
   * Whose jobs are listed. Changing it drops the jobs shown and asks at once.
   */
  get scope(): JobScope {
    return this._scope;
  }
  set scope(scope: JobScope) {
    if (scope === this._scope) {
      return;
    }
    this._scope = scope;
    this.reset();
  }

  /**
   * Filters, search words and order of the jobs shown.
   */
  get query(): Readonly<IJobQuery> {
    return this._query;
  }
  set query(query: Readonly<IJobQuery>) {
    this._query = { ...query };
    this.emitChanged();
  }

  /**
   * The jobs that match the query, in its order.
   */
  get visibleJobs(): readonly Job[] {
    if (
      this._visible?.data !== this.data ||
      this._visible.query !== this._query
    ) {
      this._visible = {
        data: this.data,
        query: this._query,
        jobs: selectJobs(this.jobs, this._query)
      };
    }
    return this._visible.jobs;
  }

  /**
   * The values the filters can take in the current listing.
   */
  get choices(): IJobFilterChoices {
    if (this._choices?.data !== this.data) {
      this._choices = { data: this.data, choices: filterChoices(this.jobs) };
    }
    return this._choices.choices;
  }

  /**
   * Whether some jobs are hidden by the query.
   */
  get isFiltering(): boolean {
    return isFiltering(this._query);
  }

  /**
   * The job the user asked to see (e.g. one just submitted), until a view
   * has brought it into sight.
   */
  get revealed(): string | null {
    return this._revealed;
  }

  findJob(id: string): Job | undefined {
    return this.jobs.find(job => job.id === id);
  }

  /**
   * Bring job `id` into sight: lift the filters and scope that could hide
   * it, and ask the server at once (a job just submitted is not listed yet).
   */
  reveal(id: string): void {
    this._revealed = id;
    this._query = { ...DEFAULT_JOB_QUERY, sort: this._query.sort };
    if (this._scope !== 'mine' && !this.findJob(id)) {
      this.scope = 'mine';
      return;
    }
    this.emitChanged();
    void this.refresh();
  }

  /**
   * Called by the view that brought the revealed job into sight.
   */
  clearRevealed(): void {
    this._revealed = null;
  }

  /**
   * Cancel, hold, release or requeue a job, then list the jobs again; throws
   * the server's (Slurm's) refusal as an `HpcRequestError`.
   */
  async act(id: string, action: JobAction): Promise<void> {
    await this.client.actOnJob(id, action);
    await this.refresh();
  }

  protected request(etag: string | null): Promise<Conditional<JobList>> {
    return this.client.listJobs(this._scope, etag);
  }

  private _choices: {
    data: JobList | null;
    choices: IJobFilterChoices;
  } | null = null;
  private _query: IJobQuery = { ...DEFAULT_JOB_QUERY };
  private _revealed: string | null = null;
  private _scope: JobScope;
  private _visible: {
    data: JobList | null;
    query: IJobQuery;
    jobs: Job[];
  } | null = null;
}

export namespace JobsModel {
  export interface IOptions {
    client: HpcClient;

    /**
     * Milliseconds between two requests while all goes well.
     */
    refreshInterval: number;

    /**
     * Whose jobs to list at first.
     */
    scope: JobScope;

    /**
     * Whether a view shows the jobs from the start; true by default.
     */
    active?: boolean;
  }
}
