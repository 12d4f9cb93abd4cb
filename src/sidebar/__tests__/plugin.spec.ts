import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import type { IRestorer } from '@jupyterlab/statedb';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { CommandIDs } from '../../shared/commands';
import {
  FakeJupyterServer,
  IFakeAnswer,
  failure,
  setPageVisibility,
  sleep
} from '../../shared/__tests__/fixtures';
import type { JobDetailWidget } from '../../jobs/detailWidget';
import { sidebarPlugin } from '../plugin';
import { HpcSidebar } from '../sidebar';

type DetailTab = MainAreaWidget<JobDetailWidget>;

/**
 * The parts of a layout restorer the plugin uses, recording its calls.
 */
class FakeRestorer {
  readonly add = jest.fn<void, [Widget, string]>();
  readonly restore = jest.fn<
    Promise<unknown>,
    [WidgetTracker<DetailTab>, IRestorer.IOptions<DetailTab>]
  >(() => Promise.resolve());
}

describe('sidebarPlugin', () => {
  let commands: CommandRegistry;
  let shell: { add: jest.Mock; activateById: jest.Mock };
  let restorer: FakeRestorer;
  let server: FakeJupyterServer;

  beforeEach(() => setPageVisibility('visible'));

  afterEach(() => {
    for (const [widget] of shell.add.mock.calls as [Widget][]) {
      widget.dispose();
    }
  });

  async function activate(...answers: IFakeAnswer[]): Promise<void> {
    server = new FakeJupyterServer(answers);
    commands = new CommandRegistry();
    shell = { add: jest.fn(), activateById: jest.fn() };
    restorer = new FakeRestorer();
    const app = {
      commands,
      shell,
      serviceManager: { serverSettings: server.settings },
      contextMenuHitTest: () => undefined
    } as unknown as JupyterFrontEnd;
    await sidebarPlugin.activate(app, null, null, restorer, null);
  }

  it('adds a command that shows the HPC sidebar, named for the palette and the shortcut editor', async () => {
    await activate(failure(503, 'Slurm is down'));

    expect(commands.hasCommand(CommandIDs.showSidebar)).toBe(true);
    expect(commands.label(CommandIDs.showSidebar)).toBe('Show HPC Sidebar');
    expect(commands.caption(CommandIDs.showSidebar)).not.toBe('');
    await commands.execute(CommandIDs.showSidebar);
    expect(shell.activateById).toHaveBeenCalledWith(HpcSidebar.id);
  });

  it('keeps the sidebar in the layout restorer', async () => {
    await activate(failure(503, 'Slurm is down'));

    const [sidebar] = shell.add.mock.calls[0] as [Widget, string];
    expect(sidebar).toBeInstanceOf(HpcSidebar);
    expect(restorer.add).toHaveBeenCalledWith(sidebar, HpcSidebar.id);
  });

  it('restores the job detail tabs by opening their job again', async () => {
    await activate(failure(503, 'Slurm is down'));

    expect(restorer.restore).toHaveBeenCalledTimes(1);
    const [tracker, options] = restorer.restore.mock.calls[0];
    expect(tracker).toBeInstanceOf(WidgetTracker);
    expect(tracker.namespace).toBe('jupyterlab-hpc-job');
    expect(options.command).toBe(CommandIDs.openJob);

    // What the restorer saves of a tab, and that it opens the tab again.
    await commands.execute(CommandIDs.openJob, { id: '1234_7' });
    const tab = tracker.find(() => true)!;
    expect(tab).toBeDefined();
    expect(tab.id).toBe('jp-hpc-job-1234_7');
    expect(options.args!(tab)).toEqual({ id: '1234_7' });
    expect(options.name(tab)).toBe('1234_7');
    expect(shell.add).toHaveBeenCalledWith(tab, 'main');
  });

  it('a restored tab of a job Slurm has forgotten stops asking', async () => {
    await activate(failure(404, 'No job 99 in Slurm'));
    const [tracker] = restorer.restore.mock.calls[0];

    await commands.execute(CommandIDs.openJob, { id: '99' });
    const model = tracker.find(() => true)!.content.model;
    await model.refresh();

    expect(model.gone).toBe(true);
    expect(model.active).toBe(false);
    const asked = server.requests.length;
    await model.refresh();
    await sleep(50);
    expect(server.requests.length).toBe(asked);
  });
});
