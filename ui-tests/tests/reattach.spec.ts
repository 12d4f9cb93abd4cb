import { IJupyterLabPageFixture, expect, test } from '@jupyterlab/galata';
import { ChildProcess, spawn } from 'child_process';
import { chmodSync, mkdtempSync, openSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { asSlurmUser, cancel } from './slurm';

/**
 * A Jupyter server of this test's own (the shared one must not be killed),
 * with the same configuration, on another port. Killed and started again on
 * the same port, folder and runtime directory, as JupyterHub restarts a
 * user's server that died.
 */
const PORT = 8891;
const URL = `http://localhost:${PORT}`;
const ROOT = mkdtempSync(path.join(os.tmpdir(), 'galata-reattach-'));
const RUNTIME = mkdtempSync(path.join(os.tmpdir(), 'galata-reattach-runtime-'));
const KERNEL_JOB_NAME = 'galata-kernel';

function startServer(): ChildProcess {
  const log = openSync(path.join(RUNTIME, `server-${Date.now()}.log`), 'w');
  return spawn(
    'jupyter',
    ['lab', '--config', 'jupyter_server_test_config.py'],
    {
      cwd: path.resolve(__dirname, '..'),
      env: {
        ...process.env,
        HPC_GALATA_PORT: String(PORT),
        HPC_GALATA_ROOT: ROOT,
        // Time for the server to start again before the kernel's job ends.
        HPC_GALATA_GRACE_PERIOD: '90',
        JUPYTER_RUNTIME_DIR: RUNTIME
      },
      stdio: ['ignore', log, log]
    }
  );
}

async function untilAnswering(page: IJupyterLabPageFixture): Promise<void> {
  await expect
    .poll(
      async () => {
        try {
          return (await page.request.get(`${URL}/api/status`)).status();
        } catch {
          return 0;
        }
      },
      { timeout: 60 * 1000 }
    )
    .toBe(200);
}

/**
 * The numbers the counting cell printed so far.
 */
async function counted(page: IJupyterLabPageFixture): Promise<number[]> {
  const output = ((await page.notebook.getCellTextOutput(0)) ?? []).join('');
  return (output.match(/^\d+$/gm) ?? []).map(Number);
}

function kernelJobs(): string[] {
  return asSlurmUser('squeue', ['-h', '-n', KERNEL_JOB_NAME, '-o', '%i'])
    .split('\n')
    .filter(Boolean);
}

test.describe('A remote kernel outlives its server', () => {
  // Galata's bookkeeping of kernels, sessions and terminals proxies their API
  // requests, and fails the test when the server it proxies to is gone.
  test.use({ kernels: null, sessions: null, terminals: null });
  let server: ChildProcess | undefined;

  test.beforeAll(() => {
    chmodSync(ROOT, 0o1777); // alice's kernel runs in the notebook's folder
  });

  test.afterAll(() => {
    server?.kill('SIGTERM');
    cancel(...kernelJobs());
  });

  test('the open notebook reconnects to it, without a reload, when the server is back', async ({
    page
  }) => {
    test.setTimeout(240 * 1000);
    const before = new Set(kernelJobs());
    server = startServer();
    await untilAnswering(page);
    await page.goto(`${URL}/lab`);
    await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
    await page.notebook.createNew('reattach.ipynb', { kernel: 'python3' });

    await page.menu.clickMenuItem('Kernel>Restart Kernel on Cluster…');
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Preset').selectOption('debug-small');
    await dialog.getByRole('button', { name: 'Restart on Cluster' }).click();
    await expect(page.getByText(/reattach\.ipynb now runs on n\d/)).toBeVisible(
      { timeout: 90 * 1000 }
    );
    const jobs = kernelJobs().filter(id => !before.has(id));
    expect(jobs).toHaveLength(1);

    await page.notebook.setCell(
      0,
      'code',
      'x = 42\nimport time\nfor i in range(600):\n    print(i, flush=True)\n    time.sleep(1)'
    );
    await page.notebook.selectCells(0);
    await page.keyboard.press('Control+Enter');
    await expect
      .poll(async () => (await counted(page)).length, { timeout: 30 * 1000 })
      .toBeGreaterThan(2);

    server.kill('SIGKILL');
    const lastBefore = Math.max(...(await counted(page)));
    server = startServer();
    await untilAnswering(page);

    // No reload: the cell's later output arrives in the same page.
    await expect
      .poll(async () => Math.max(...(await counted(page))), {
        timeout: 90 * 1000
      })
      .toBeGreaterThan(lastBefore + 3);
    expect(kernelJobs()).toContain(jobs[0]);
    // While the server was gone Lab may have said so, as it does to a user.
    const lost = page.getByRole('dialog', { name: /Server Connection Error/ });
    if (await lost.isVisible()) {
      await lost.getByRole('button', { name: 'Close' }).click();
    }
    await expect(
      page.getByRole('button', {
        name: new RegExp(`^Kernel on compute node n\\d, Slurm job ${jobs[0]}`)
      })
    ).toBeVisible();

    // The counting cell's own reply went to the dead server: Lab never marks
    // it done, so the next cell is run by key, not by a helper that waits for
    // the notebook to be idle.
    await page.menu.clickMenuItem('Kernel>Interrupt Kernel');
    // A cell sent before the interrupted one has ended would be aborted with it.
    await expect
      .poll(
        async () => ((await page.notebook.getCellTextOutput(0)) ?? []).join(''),
        { timeout: 30 * 1000 }
      )
      .toContain('KeyboardInterrupt');
    await page.notebook.addCell('code', 'print(x)');
    await page.notebook.selectCells(1);
    await page.keyboard.press('Control+Enter');
    await expect
      .poll(
        async () =>
          ((await page.notebook.getCellTextOutput(1)) ?? []).join('').trim(),
        { timeout: 30 * 1000 }
      )
      .toBe('42');

    await page.menu.clickMenuItem('Kernel>Restart Kernel Locally');
    await expect
      .poll(() => kernelJobs(), { timeout: 30 * 1000 })
      .not.toContain(jobs[0]);
  });
});
