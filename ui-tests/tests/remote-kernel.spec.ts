import { IJupyterLabPageFixture, expect, test } from '@jupyterlab/galata';
import * as path from 'path';

import { asSlurmUser, cancel, queuedJobIds } from './slurm';

/**
 * Where screenshots for the README go when HPC_UPDATE_SCREENSHOTS is set;
 * otherwise they are only test artifacts.
 */
const DOCS_SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');

/**
 * The Slurm job name of the test server's kernel jobs
 * (jupyter_server_test_config.py).
 */
const KERNEL_JOB_NAME = 'galata-kernel';

async function saveScreenshots(
  page: IJupyterLabPageFixture,
  target: { screenshot(options: { path: string }): Promise<unknown> },
  name: string,
  outputPath: (name: string) => string
): Promise<void> {
  for (const theme of ['light', 'dark']) {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    const file = `${name}-${theme}.png`;
    await target.screenshot({ path: outputPath(file) });
    if (process.env.HPC_UPDATE_SCREENSHOTS) {
      await target.screenshot({ path: path.join(DOCS_SCREENSHOTS, file) });
    }
  }
  await page.theme.setLightTheme();
}

/**
 * The output of the notebook's first cell once `code` ran there.
 */
async function runFirstCell(
  page: IJupyterLabPageFixture,
  code: string
): Promise<string> {
  await page.notebook.setCell(0, 'code', code);
  await page.notebook.runCell(0);
  return ((await page.notebook.getCellTextOutput(0)) ?? []).join('').trim();
}

function kernelJobs(): string[] {
  return asSlurmUser('squeue', [
    '-h',
    '-u',
    'alice',
    '-n',
    KERNEL_JOB_NAME,
    '-o',
    '%i'
  ])
    .split('\n')
    .filter(Boolean);
}

test.describe('Restart Kernel on Cluster', () => {
  test.afterAll(() => cancel(...kernelJobs()));

  test("moves a notebook's kernel to a compute node and back", async ({
    page
  }, testInfo) => {
    test.setTimeout(150 * 1000);
    await page.notebook.createNew('remote.ipynb', { kernel: 'python3' });
    const localHost = await runFirstCell(
      page,
      'import socket; print(socket.gethostname())'
    );

    await expect(
      page
        .getByRole('toolbar', { name: 'main area toolbar' })
        .getByRole('button', {
          name: "Restart the notebook's kernel in a Slurm job on a compute node"
        })
    ).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath('notebook.png') });

    await page.menu.clickMenuItem('Kernel>Restart Kernel on Cluster…');
    const dialog = page.getByRole('dialog');
    await expect(
      dialog.getByText('Restart Kernel on Cluster', { exact: true })
    ).toBeVisible();

    // The partition's limit is checked before anything is submitted.
    const restart = dialog.getByRole('button', { name: 'Restart on Cluster' });
    await dialog.getByLabel('Partition').selectOption('debug');
    await dialog.getByLabel('Walltime').fill('2:00:00');
    await expect(
      dialog.getByText('2:00:00 is longer than the limit of debug (0:30:00).')
    ).toBeVisible();
    await expect(restart).toBeDisabled();

    // The site's preset (jupyter_server_test_config.py), by its name.
    await dialog.getByLabel('Preset').selectOption('debug-small');
    await expect(dialog.getByLabel('Walltime')).toHaveValue('0:10:00');
    await expect(dialog.getByLabel('CPUs')).toHaveValue('1');
    await expect(restart).toBeEnabled();
    await expect(dialog.getByText(/^Now \d+ of 4 CPUs idle/)).toBeVisible();
    await saveScreenshots(
      page,
      page.locator('.jp-Dialog-content'),
      'restart-dialog',
      testInfo.outputPath.bind(testInfo)
    );
    await restart.click();

    // Queued or starting, then ready: the notebook switches by itself.
    await expect(page.getByText(/remote\.ipynb now runs on n\d/)).toBeVisible({
      timeout: 90 * 1000
    });
    const status = page.getByRole('button', {
      name: /^Kernel on compute node n\d, Slurm job \d+/
    });
    await expect(status).toBeVisible();
    const label = (await status.getAttribute('aria-label')) ?? '';
    const [, node, jobId] = /node (n\d), Slurm job (\d+)/.exec(label)!;
    expect(kernelJobs()).toContain(jobId);

    const remoteHost = await runFirstCell(
      page,
      'import socket; print(socket.gethostname())'
    );
    expect(remoteHost).toBe(node);
    expect(remoteHost).toMatch(/^n[1-4]$/);

    await expect(status).toHaveAccessibleName(/, \d+:\d\d:\d\d left$/);
    await saveScreenshots(
      page,
      page.locator('#jp-main-statusbar'),
      'remote-kernel-status',
      testInfo.outputPath.bind(testInfo)
    );

    await page.menu.clickMenuItem('Kernel>Restart Kernel Locally');
    await expect(
      page.getByText(/remote\.ipynb runs on a local kernel again/)
    ).toBeVisible({ timeout: 30 * 1000 });
    await expect(status).toHaveCount(0);
    await expect
      .poll(() => queuedJobIds(), { timeout: 30 * 1000 })
      .not.toContain(jobId);
    expect(
      await runFirstCell(page, 'import socket; print(socket.gethostname())')
    ).toBe(localHost);
  });
});
