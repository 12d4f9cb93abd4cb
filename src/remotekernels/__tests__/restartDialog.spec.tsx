import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';

import { KernelOptions } from '../../api/types';
import { PartitionsModel } from '../../partitions/model';
import {
  FakeJupyterServer,
  makePartition,
  ok
} from '../../shared/__tests__/fixtures';
import { ResourceDialogBody } from '../restartDialog';

const trans = nullTranslator.load('jupyterlab_hpc');

const OPTIONS: KernelOptions = {
  presets: [
    {
      name: 'small',
      title: '1 CPU, 10 minutes',
      resources: { partition: 'debug', cpus: 1, time: 600 }
    }
  ],
  defaults: {},
  partitions: [makePartition({ name: 'debug', max_time: 1800 })],
  accounts: ['proj1'],
  default_account: 'proj1',
  limits: {}
};

describe('ResourceDialogBody', () => {
  let body: ResourceDialogBody;
  let partitions: PartitionsModel;

  beforeEach(async () => {
    // The live availability: fewer idle CPUs than when the options came.
    const server = new FakeJupyterServer([
      ok({
        partitions: [
          makePartition({
            name: 'debug',
            max_time: 1800,
            cpus: { total: 4, idle: 1 }
          })
        ],
        updated: '2026-01-01T00:00:00Z'
      })
    ]);
    partitions = new PartitionsModel({
      client: server.client,
      refreshInterval: 60 * 1000
    });
    body = new ResourceDialogBody({
      options: OPTIONS,
      partitions,
      initial: {
        preset: '',
        partition: 'debug',
        account: 'proj1',
        walltime: '',
        cpus: '',
        memory: '',
        gpus: ''
      },
      trans
    });
    await act(async () => {
      Widget.attach(body, document.body);
      await partitions.refresh();
    });
  });

  afterEach(() => {
    act(() => body.dispose());
    partitions.dispose();
  });

  it("shows the partition's live availability and its limit", async () => {
    await waitFor(() =>
      expect(
        screen.getByText('Now 1 of 4 CPUs idle, max walltime 0:30:00.')
      ).toBeTruthy()
    );
  });

  it('marks a field that breaks a limit and gives no resources for it', async () => {
    const walltime = await screen.findByLabelText('Walltime');

    act(() => {
      fireEvent.change(walltime, { target: { value: '1:00:00' } });
    });

    await waitFor(() =>
      expect(walltime.getAttribute('aria-invalid')).toBe('true')
    );
    expect(walltime.classList.contains('jp-mod-error')).toBe(true);
    const note = document.getElementById(
      walltime.getAttribute('aria-describedby')!
    );
    expect(note?.textContent).toBe(
      '1:00:00 is longer than the limit of debug (0:30:00).'
    );
    expect(body.getValue().resources).toBeNull();

    act(() => {
      fireEvent.change(walltime, { target: { value: '20' } });
    });
    await waitFor(() =>
      expect(walltime.getAttribute('aria-invalid')).toBe(null)
    );
    expect(body.getValue().resources).toEqual({
      partition: 'debug',
      account: 'proj1',
      time: 1200
    });
  });

  it("fills the fields from the site's preset", async () => {
    const preset = await screen.findByLabelText('Preset');

    act(() => {
      fireEvent.change(preset, { target: { value: 'small' } });
    });

    await waitFor(() =>
      expect(
        (screen.getByLabelText('Walltime') as HTMLInputElement).value
      ).toBe('0:10:00')
    );
    expect(body.getValue().choice.preset).toBe('small');
    expect(body.getValue().resources).toEqual({
      partition: 'debug',
      account: 'proj1',
      time: 600,
      cpus: 1
    });
  });
});
