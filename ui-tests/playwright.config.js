/**
 * Playwright configuration: Galata's defaults, with the system's Chromium
 * (Playwright cannot download its own browsers here) and a Jupyter server of
 * our own on a port that a demo on 8888 cannot take.
 */
const { randomBytes } = require('crypto');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const PORT = 8890;
// The test server's token (see jupyter_server_test_config.py). Made once, by the runner, whose
// environment the web server and the workers inherit.
process.env.HPC_GALATA_TOKEN ??= randomBytes(24).toString('hex');

module.exports = {
  ...baseConfig,
  // The list reporter ends with the "N passed" line that CI reads.
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    ...baseConfig.use,
    baseURL: `http://localhost:${PORT}`,
    extraHTTPHeaders: {
      Authorization: `token ${process.env.HPC_GALATA_TOKEN}`
    },
    // Video recording needs Playwright's own ffmpeg download.
    video: 'off',
    launchOptions: {
      executablePath: process.env.HPC_CHROMIUM_PATH || '/usr/bin/chromium',
      // Without the networking switches Chromium calls external hosts.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  webServer: {
    command: 'jlpm start',
    url: `http://localhost:${PORT}/lab`,
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
