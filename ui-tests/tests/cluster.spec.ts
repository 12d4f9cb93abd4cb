import { IJupyterLabPageFixture, expect, test } from '@jupyterlab/galata';
import { randomBytes } from 'crypto';
import * as path from 'path';

import { CLUSTER, asRoot, cancel, queuedJobIds } from './slurm';

/**
 * Where screenshots for the README go when HPC_UPDATE_SCREENSHOTS is set;
 * otherwise they are only test artifacts.
 */
const DOCS_SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');

async function saveScreenshot(
  target: { screenshot(options: { path: string }): Promise<unknown> },
  name: string,
  outputPath: (name: string) => string
): Promise<void> {
  await target.screenshot({ path: outputPath(name) });
  if (process.env.HPC_UPDATE_SCREENSHOTS) {
    await target.screenshot({ path: path.join(DOCS_SCREENSHOTS, name) });
  }
}

async function openSidebar(page: IJupyterLabPageFixture): Promise<void> {
  await page.getByRole('tab', { name: 'Slurm jobs' }).click();
}

interface IPartitionFacts {
  name: string;
  nodes: string[];
}

test.describe('Partitions and quotas', () => {
  test("show the cluster's partitions and account limits", async ({
    page
  }, testInfo) => {
    await openSidebar(page);

    for (const partition of CLUSTER.partitions as IPartitionFacts[]) {
      const cpus = page.getByRole('meter', {
        name: `Idle CPUs in ${partition.name}`
      });
      await expect(cpus).toHaveAttribute(
        'aria-valuemax',
        String(partition.nodes.length * CLUSTER.node_cpus)
      );
      await expect(
        page.getByRole('meter', { name: `Idle nodes in ${partition.name}` })
      ).toHaveAttribute('aria-valuemax', String(partition.nodes.length));
    }
    const gpuNodes = Object.keys(CLUSTER.gres);
    await expect(
      page.getByRole('meter', { name: 'Idle GPUs in compute' })
    ).toHaveAttribute('aria-valuemax', String(gpuNodes.length * 2));

    for (const [account, facts] of Object.entries(CLUSTER.accounts) as [
      string,
      { grp_tres_mins: string; grp_tres: string }
    ][]) {
      const minutes = facts.grp_tres_mins.split('=')[1];
      const cpus = facts.grp_tres.split('=')[1];
      await expect(
        page.getByRole('meter', { name: `CPU-minutes used in ${account}` })
      ).toHaveAttribute('aria-valuemax', minutes);
      await expect(
        page.getByRole('meter', { name: `CPUs at once used in ${account}` })
      ).toHaveAttribute('aria-valuemax', cpus);
    }

    await expect(page.getByText('Loading jobs…')).toHaveCount(0);
    const sidebar = page.locator('#jp-hpc-sidebar');
    await saveScreenshot(
      sidebar,
      'sidebar-light.png',
      testInfo.outputPath.bind(testInfo)
    );
    await page.theme.setDarkTheme();
    await saveScreenshot(
      sidebar,
      'sidebar-dark.png',
      testInfo.outputPath.bind(testInfo)
    );
    await page.theme.setLightTheme();
  });
});

test.describe('Maintenance announcement', () => {
  // Dismissals live in Lab's state database, which the server keeps.
  test.use({ mockState: false });
  const reservation = `galata-maint-${randomBytes(4).toString('hex')}`;

  test.beforeAll(() => {
    asRoot('scontrol', [
      'create',
      'reservation',
      `ReservationName=${reservation}`,
      'StartTime=now+2hours',
      'Duration=30',
      'Nodes=n4',
      'Users=root',
      'Flags=MAINT,IGNORE_JOBS'
    ]);
  });

  test.afterAll(() => {
    asRoot('scontrol', ['delete', `ReservationName=${reservation}`]);
  });

  test('shows a banner that stays dismissed after a reload', async ({
    page
  }, testInfo) => {
    const banner = page.getByRole('region', {
      name: 'Announcements of the computing centre'
    });
    const announcement = banner.getByRole('status').filter({ hasText: 'n4' });
    await expect(async () => {
      await page.reload();
      await expect(announcement).toBeVisible({ timeout: 5000 });
    }).toPass({ timeout: 60 * 1000 });

    await saveScreenshot(
      banner,
      'banner-light.png',
      testInfo.outputPath.bind(testInfo)
    );
    await page.theme.setDarkTheme();
    await saveScreenshot(
      banner,
      'banner-dark.png',
      testInfo.outputPath.bind(testInfo)
    );
    await page.theme.setLightTheme();

    const saved = page.waitForResponse(
      response =>
        response.url().includes('/lab/api/workspaces') &&
        response.request().method() === 'PUT'
    );
    await announcement
      .getByRole('button', { name: /^Dismiss announcement/ })
      .click();
    await expect(announcement).toHaveCount(0);
    await saved;

    await page.reload();
    // The sidebar's data has loaded by now: so have the announcements.
    await page.getByRole('tab', { name: 'Slurm jobs' }).click();
    await expect(
      page.getByRole('meter', { name: 'Idle CPUs in debug' })
    ).toBeVisible();
    await page.waitForTimeout(2000);
    await expect(announcement).toHaveCount(0);
  });
});

test.describe('Submit to Slurm', () => {
  const submitted: string[] = [];

  test.afterAll(() => cancel(...submitted));

  test('submits a batch script from the file browser and reveals its job', async ({
    page,
    tmpPath
  }) => {
    const name = `galata-submit-${randomBytes(4).toString('hex')}`;
    await page.contents.uploadContent(
      // The folder is the server's (root's): alice writes her output elsewhere.
      `#!/bin/bash\n#SBATCH -J ${name}\n#SBATCH -p debug\n#SBATCH -t 2\n#SBATCH -o /tmp/${name}-%j.out\nsleep 60\n`,
      'text',
      `${tmpPath}/job.sh`
    );
    await page.filebrowser.openDirectory(tmpPath);

    await page
      .getByRole('listitem', { name: /job\.sh/ })
      .click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Submit to Slurm' }).click();

    const notice = page.getByText(/Submitted batch job \d+/);
    await expect(notice).toBeVisible({ timeout: 30 * 1000 });
    const id = /(\d+)/.exec((await notice.textContent()) ?? '')![1];
    submitted.push(id);
    expect(queuedJobIds()).toContain(id);

    await page.getByRole('button', { name: 'Show job' }).click();
    await expect(
      page
        .getByRole('table', { name: 'Slurm jobs' })
        .getByRole('row')
        .filter({ hasText: name })
    ).toBeVisible({ timeout: 30 * 1000 });
  });
});
