import { expect, test } from '@jupyterlab/galata';
import { randomBytes } from 'crypto';

import { cancel, submit } from './slurm';

test.describe('Keyboard and layout', () => {
  const submitted: string[] = [];

  test.afterAll(() => {
    cancel(...submitted);
  });

  test('Accel Shift Y shows the HPC sidebar', async ({ page }) => {
    const tab = page.getByRole('tab', { name: 'Slurm jobs' });
    await expect(tab).toHaveAttribute('aria-selected', 'false');

    await page.keyboard.press('Control+Shift+Y');

    await expect(tab).toHaveAttribute('aria-selected', 'true');
    await expect(
      page.getByRole('region', { name: 'Jobs Section' })
    ).toBeVisible();
  });

  test('Accel Shift O in a notebook opens Restart Kernel on Cluster', async ({
    page
  }) => {
    await page.notebook.createNew('shortcut.ipynb', { kernel: 'python3' });
    await page.notebook.selectCells(0);

    await page.keyboard.press('Control+Shift+O');

    const dialog = page.getByRole('dialog');
    await expect(
      dialog.getByText('Restart Kernel on Cluster', { exact: true })
    ).toBeVisible();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  test("a job's view comes back after a reload", async ({ page }) => {
    const id = submit(
      `galata-restore-${randomBytes(4).toString('hex')}`,
      'sleep 300',
      ['-o', '/dev/null']
    );
    submitted.push(id);
    await page.getByRole('tab', { name: 'Slurm jobs' }).click();
    await page
      .getByRole('table', { name: 'Slurm jobs' })
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: id, exact: true }) })
      .click({ timeout: 30 * 1000 });
    // The layout is saved in the workspace, with the job's view under its id.
    const saved = page.waitForResponse(
      response =>
        response.url().includes('/lab/api/workspaces') &&
        response.request().method() === 'PUT' &&
        (response.request().postData() ?? '').includes(
          `jupyterlab-hpc-job:${id}`
        )
    );
    const detail = page.getByRole('tabpanel', { name: `Job ${id}` });
    await expect(detail).toBeVisible();
    await saved;

    // Not waiting for the launcher: the restored view takes the main area instead.
    await page.reload({ waitForIsReady: false });

    await expect(page.getByRole('tabpanel', { name: `Job ${id}` })).toBeVisible(
      { timeout: 30 * 1000 }
    );
  });
});
