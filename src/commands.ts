/**
 * The ids of every command jupyterlab-hpc registers.
 */
export namespace CommandIDs {
  export const refreshJobs = 'hpc:refresh-jobs';
}
