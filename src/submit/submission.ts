import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';

import { HpcClient } from '../api/client';
import { CommandIDs } from '../shared/commands';

/**
 * sbatch the batch script at `path` in its folder, and say how it went: the
 * job's id (with a way to it in the HPC sidebar), or Slurm's refusal.
 */
export async function submitScript(
  path: string,
  options: {
    client: HpcClient;
    commands: CommandRegistry;
    trans: TranslationBundle;
  }
): Promise<void> {
  const { client, commands, trans } = options;
  try {
    const { id } = await client.submitJob(path);
    Notification.success(trans.__('Submitted batch job %1', id), {
      autoClose: 8000,
      actions: [
        {
          label: trans.__('Show job'),
          caption: trans.__('Show the job in the HPC sidebar'),
          callback: () => {
            void commands.execute(CommandIDs.revealJob, { id });
          }
        }
      ]
    });
  } catch (error) {
    // sbatch's own words: they say what to fix in the script.
    Notification.error(
      trans.__('Slurm refused %1: %2', path, (error as Error).message),
      { autoClose: false }
    );
  }
}
