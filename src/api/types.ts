/**
 * Payload types of the jupyterlab-hpc REST API, taken from the types that
 * `jlpm generate:types` writes from the server's OpenAPI document
 * (jupyterlab_hpc/openapi/openapi.json). Looked up by route, so they follow
 * the contract (the OpenAPI document) rather than the document's schema names.
 */
import type { paths } from './openapi';

/**
 * The JSON body of a route's successful answer.
 */
type JsonOf<Operation> = Operation extends {
  responses: infer Responses;
}
  ? {
      [Status in keyof Responses]: Responses[Status] extends {
        content: { 'application/json': infer Body };
      }
        ? Status extends 200 | 201 | 202
          ? Body
          : never
        : never;
    }[keyof Responses]
  : never;

/**
 * Whose jobs to list: the current user's, or the whole queue.
 */
export type JobScope = NonNullable<
  NonNullable<paths['/hpc/jobs']['get']['parameters']['query']>['scope']
>;

export type JobList = JsonOf<paths['/hpc/jobs']['get']>;

/**
 * One Slurm job (or one task of a job array) as the server reports it.
 */
export type Job = JobList['jobs'][number];

/**
 * A job with what only `GET /hpc/jobs/{id}` tells: estimated start,
 * efficiency and command.
 */
export type JobDetail = JsonOf<paths['/hpc/jobs/{job_id}']['get']>;

export type Submitted = JsonOf<paths['/hpc/jobs']['post']>;

export type OutputChunk = JsonOf<paths['/hpc/jobs/{job_id}/output']['get']>;

export type OutputStream = NonNullable<
  NonNullable<
    paths['/hpc/jobs/{job_id}/output']['get']['parameters']['query']
  >['stream']
>;

export type ClusterStatus = JsonOf<paths['/hpc/status']['get']>;

export type PartitionList = JsonOf<paths['/hpc/partitions']['get']>;

export type Partition = PartitionList['partitions'][number];

export type QuotaList = JsonOf<paths['/hpc/quotas']['get']>;

/**
 * One of the user's accounts with every limit Slurm enforces on it.
 */
export type AccountQuota = QuotaList['accounts'][number];

export type QuotaLimit = AccountQuota['limits'][number];

export type AnnouncementList = JsonOf<paths['/hpc/announcements']['get']>;

export type Announcement = AnnouncementList['announcements'][number];

/**
 * An action on a job, each behind its own route.
 */
export type JobAction = 'cancel' | 'hold' | 'release' | 'requeue';

export type KernelOptions = JsonOf<paths['/hpc/kernels/options']['get']>;

/**
 * What a remote kernel's Slurm job asks for; an absent or null field leaves
 * it to Slurm's default.
 */
export type KernelResources = KernelOptions['defaults'];

export type KernelPreset = KernelOptions['presets'][number];

/**
 * The site's upper bounds on remote kernels' resources (null: Slurm's only).
 */
export type KernelLimits = NonNullable<KernelOptions['limits']>;

export type KernelStartRequest = NonNullable<
  paths['/hpc/kernels']['post']['requestBody']
>['content']['application/json'];

export type KernelStarted = JsonOf<paths['/hpc/kernels']['post']>;

export type RemoteKernelList = JsonOf<paths['/hpc/kernels']['get']>;

/**
 * A kernel started in a Slurm job, as `GET /hpc/kernels/{id}` reports it.
 */
export type RemoteKernel = JsonOf<paths['/hpc/kernels/{kernel_id}']['get']>;

export type RemoteKernelState = RemoteKernel['state'];
