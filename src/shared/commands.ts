/**
 * The ids of every command jupyterlab-hpc registers.
 */
export namespace CommandIDs {
  export const showSidebar = 'hpc:show-sidebar';
  export const refresh = 'hpc:refresh';
  export const openJob = 'hpc:open-job';
  export const revealJob = 'hpc:reveal-job';
  export const cancelJob = 'hpc:cancel-job';
  export const holdJob = 'hpc:hold-job';
  export const releaseJob = 'hpc:release-job';
  export const requeueJob = 'hpc:requeue-job';
  export const submitScript = 'hpc:submit-script';
  export const restartKernelOnCluster = 'hpc:restart-kernel-on-cluster';
  export const restartKernelLocally = 'hpc:restart-kernel-locally';
}
