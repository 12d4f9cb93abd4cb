import { IJupyterLabPageFixture, expect, test } from '@jupyterlab/galata';
import { randomBytes } from 'crypto';

import { asSlurmUser, cancel, queuedJobIds, submit } from './slurm';

/**
 * The row of job `id` in the jobs table.
 */
function jobRow(page: IJupyterLabPageFixture, id: string) {
  return page
    .getByRole('table', { name: 'Slurm jobs' })
    .getByRole('row')
    .filter({ has: page.getByRole('cell', { name: id, exact: true }) });
}

async function openSidebar(page: IJupyterLabPageFixture): Promise<void> {
  await page.getByRole('tab', { name: 'Slurm jobs' }).click();
  await page
    .getByRole('button', { name: 'Refresh jobs, partitions and quotas' })
    .click();
}

test.describe('Jobs panel', () => {
  const suffix = randomBytes(4).toString('hex');
  const submitted: string[] = [];

  test.afterAll(() => {
    cancel(...submitted);
  });

  test('shows a job the user just submitted, running or pending', async ({
    page
  }, testInfo) => {
    const name = `galata-${suffix}`;
    const id = submit(name, 'sleep 300', ['-o', '/dev/null']);
    submitted.push(id);

    await openSidebar(page);

    const row = jobRow(page, id);
    await expect(row).toBeVisible({ timeout: 30 * 1000 });
    await expect(row.getByRole('cell', { name, exact: true })).toBeVisible();
    await expect(row.getByText(/^(RUNNING|PENDING)$/)).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath('jobs-panel.png') });
  });

  test('cancels a job from its detail view, after confirmation', async ({
    page
  }) => {
    const id = submit(`galata-cancel-${suffix}`, 'sleep 300', [
      '-o',
      '/dev/null'
    ]);
    submitted.push(id);
    await openSidebar(page);

    await jobRow(page, id).click();
    const detail = page.getByRole('main').getByRole('tabpanel', {
      name: `Job ${id}`
    });
    await detail.getByRole('button', { name: 'Cancel job' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog).toContainText(`Cancel job ${id}?`);
    await dialog.getByRole('button', { name: 'Cancel Job' }).click();

    await expect
      .poll(() => queuedJobIds(), { timeout: 30 * 1000 })
      .not.toContain(id);
    await expect(jobRow(page, id)).toHaveCount(0, { timeout: 30 * 1000 });
  });

  test('holds a pending job: Slurm then says JobHeldUser', async ({ page }) => {
    // Not eligible for an hour, so it stays pending whatever else runs.
    const id = submit(`galata-hold-${suffix}`, 'true', [
      '--begin',
      'now+1hour',
      '-o',
      '/dev/null'
    ]);
    submitted.push(id);
    await openSidebar(page);

    await jobRow(page, id).click();
    const detail = page.getByRole('tabpanel', { name: `Job ${id}` });
    await detail.getByRole('button', { name: 'Hold' }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: 'Hold Job' })
      .click();

    await expect(detail.getByText(/JobHeldUser/)).toBeVisible({
      timeout: 30 * 1000
    });
    expect(asSlurmUser('squeue', ['-h', '-j', id, '-o', '%r'])).toBe(
      'JobHeldUser'
    );
    await expect(detail.getByRole('button', { name: 'Release' })).toBeVisible();
  });

  test("a pending job's estimated start reads in words", async ({ page }) => {
    const id = submit(`galata-later-${suffix}`, 'true', [
      '--begin',
      'now+30minutes',
      '-o',
      '/dev/null'
    ]);
    submitted.push(id);
    await openSidebar(page);

    await jobRow(page, id).click();
    const detail = page.getByRole('tabpanel', { name: `Job ${id}` });

    // Slurm's estimate is the begin time: in half an hour, not "next year".
    await expect(detail.getByText(/^in (29|30) min$/)).toBeVisible({
      timeout: 30 * 1000
    });
  });

  test('follows the output of a running job', async ({ page }) => {
    const id = submit(
      `galata-tail-${suffix}`,
      'for i in $(seq 1 60); do echo "tick $i"; sleep 1; done',
      ['-o', `/tmp/galata-tail-${suffix}-%j.out`]
    );
    submitted.push(id);
    await openSidebar(page);

    await jobRow(page, id).click();
    const output = page
      .getByRole('tabpanel', { name: `Job ${id}` })
      .getByRole('region', { name: `Output of job ${id}` });
    // Once the job runs (the queue may be busy), its lines keep coming.
    await expect(output).toContainText('tick 1', { timeout: 90 * 1000 });
    await expect(output).toContainText('tick 4', { timeout: 30 * 1000 });
  });

  test('renders a job named like HTML as text', async ({ page }) => {
    const name = '<img src=x onerror=alert(1)>';
    const id = submit(name, 'sleep 120', ['-o', '/dev/null']);
    submitted.push(id);
    const dialogs: string[] = [];
    page.on('dialog', dialog => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });

    await openSidebar(page);

    const row = jobRow(page, id);
    await expect(row.getByRole('cell', { name, exact: true })).toBeVisible({
      timeout: 30 * 1000
    });
    await expect(row.locator('img')).toHaveCount(0);
    expect(dialogs).toEqual([]);
  });
});
