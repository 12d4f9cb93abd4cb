import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { act, render, screen } from '@testing-library/react';
import * as React from 'react';

import { ClusterStatus } from '../../api/types';
import {
  FakeJupyterServer,
  ok,
  setPageVisibility
} from '../../shared/__tests__/fixtures';
import { DataSourcePanel } from '../dataSource';
import { StatusModel } from '../statusModel';

const trans = nullTranslator.load('jupyterlab_hpc');
const NO_AUTOMATIC_TICK = 60 * 1000;
const SITE_URL = 'http://hpc-site.example:8950/';

function makeStatus(site: ClusterStatus['site']): ClusterStatus {
  return {
    cluster: 'linux',
    slurm_version: '24.11.1',
    backend: 'commands',
    user: 'alice',
    default_account: 'physics',
    accounts: ['physics'],
    ok: true,
    site
  };
}

describe('DataSourcePanel', () => {
  let model: StatusModel;
  let server: FakeJupyterServer;

  beforeEach(() => setPageVisibility('visible'));
  afterEach(() => model.dispose());

  async function renderWith(site: ClusterStatus['site']): Promise<HTMLElement> {
    server = new FakeJupyterServer([ok(makeStatus(site))]);
    model = new StatusModel({
      client: server.client,
      refreshInterval: NO_AUTOMATIC_TICK
    });
    let container!: HTMLElement;
    await act(async () => {
      const loaded = signalToPromise(model.changed);
      container = render(
        <DataSourcePanel model={model} trans={trans} />
      ).container;
      await loaded;
    });
    return container;
  }

  it('shows nothing without a site service', async () => {
    const container = await renderWith(null);

    expect(new URL(server.requests[0].url).pathname).toBe('/hpc/status');
    expect(model.data?.site).toBeNull();
    expect(container.innerHTML).toBe('');
    expect(screen.queryByRole('status')).toBeNull();
  });

  it('says the data is read through the site service', async () => {
    await renderWith({ site_url: SITE_URL, via_site: true, problem: null });

    const tooltip = `Read through the site service at ${SITE_URL}: one Slurm query for all users`;
    const line = screen.getByRole('status', {
      name: `Shared site cache: ${tooltip}`
    });
    expect(line.textContent).toBe('Shared site cache');
    expect(line.getAttribute('title')).toBe(tooltip);
    expect(line.classList).toContain('jp-hpc-mod-viaSite');
    expect(line.classList).not.toContain('jp-hpc-mod-direct');
  });

  it('says the server asks Slurm itself, and why, while the site service does not answer', async () => {
    await renderWith({
      site_url: SITE_URL,
      via_site: false,
      problem: 'Connection refused'
    });

    const tooltip = `The site service at ${SITE_URL} does not answer (Connection refused); this server asks Slurm itself until it does`;
    const line = screen.getByRole('status', {
      name: `Direct to Slurm: ${tooltip}`
    });
    expect(line.textContent).toBe('Direct to Slurm');
    expect(line.getAttribute('title')).toBe(tooltip);
    expect(line.classList).toContain('jp-hpc-mod-direct');
    // The warning marker is decoration: the words say it all.
    const marker = line.querySelector('.jp-hpc-DataSource-marker')!;
    expect(marker.getAttribute('aria-hidden')).toBe('true');
  });
});
