import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';

/**
 * The cluster user the test server acts as (jupyter_server_test_config.py).
 */
const SLURM_USER = 'alice';

/**
 * Run a Slurm command as the test user and return its output.
 */
function asSlurmUser(command: string, args: string[]): string {
  return execFileSync('runuser', ['-u', SLURM_USER, '--', command, ...args], {
    encoding: 'utf-8',
    timeout: 30 * 1000
  }).trim();
}

test.describe('Jobs panel', () => {
  const jobName = `galata-${randomBytes(4).toString('hex')}`;
  let jobId = '';

  test.beforeAll(() => {
    // --parsable prints "<id>" or "<id>;<cluster>".
    jobId = asSlurmUser('sbatch', [
      '--parsable',
      '-J',
      jobName,
      '-p',
      'debug',
      '-t',
      '5',
      '-o',
      '/dev/null',
      '--chdir',
      '/tmp',
      '--wrap',
      'sleep 300'
    ]).split(';')[0];
  });

  test.afterAll(() => {
    if (jobId) {
      asSlurmUser('scancel', [jobId]);
    }
  });

  test('shows a job the user just submitted, running or pending', async ({
    page
  }, testInfo) => {
    await page.getByRole('tab', { name: 'Slurm jobs' }).click();
    await page
      .getByRole('button', { name: 'Refresh the list of Slurm jobs' })
      .click();

    const row = page
      .getByRole('table', { name: 'Slurm jobs' })
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: jobId, exact: true }) });
    // The server refreshes its Slurm cache on its own schedule.
    await expect(row).toBeVisible({ timeout: 30 * 1000 });
    await expect(
      row.getByRole('cell', { name: jobName, exact: true })
    ).toBeVisible();
    await expect(row.getByText(/^(RUNNING|PENDING)$/)).toBeVisible();

    await page.screenshot({ path: testInfo.outputPath('jobs-panel.png') });
  });
});
