import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { INotebookTracker } from '@jupyterlab/notebook';

import { addRemoteKernelCommands } from '../../remotekernels/commands';
import { RemoteKernelSwitcher } from '../../remotekernels/switcher';
import { CommandIDs } from '../commands';
import announcementsSchema from '../../../schema/announcements.json';
import remoteKernelSchema from '../../../schema/remote-kernel.json';
import sidebarSchema from '../../../schema/sidebar.json';
import submitSchema from '../../../schema/submit.json';

/**
 * The settings schemas of the plugins, which JupyterLab reads the keyboard
 * shortcuts from.
 */
const SCHEMAS: Record<string, unknown> = {
  announcements: announcementsSchema,
  'remote-kernel': remoteKernelSchema,
  sidebar: sidebarSchema,
  submit: submitSchema
};

interface IShortcut {
  command: string;
  keys: string[];
  selector: string;
}

/**
 * The keyboard shortcuts a plugin's settings schema declares.
 */
function shortcutsOf(schema: string): IShortcut[] {
  const parsed = SCHEMAS[schema] as Record<string, IShortcut[] | undefined>;
  return parsed['jupyter.lab.shortcuts'] ?? [];
}

function shortcutOf(schema: string, command: string): IShortcut {
  const found = shortcutsOf(schema).filter(s => s.command === command);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('keyboard shortcuts', () => {
  it('show the HPC sidebar from anywhere (sidebar plugin)', () => {
    const shortcut = shortcutOf('sidebar', CommandIDs.showSidebar);
    expect(shortcut.selector).toBe('body');
    expect(shortcut.keys).toEqual(['Accel Shift Y']);
  });

  it('refresh the sidebar only while the focus is in it (sidebar plugin)', () => {
    const shortcut = shortcutOf('sidebar', CommandIDs.refresh);
    expect(shortcut.selector).toBe('.jp-hpc-Sidebar');
    expect(shortcut.keys).toEqual(['Alt R']);
  });

  it('restart a notebook kernel on the cluster from the notebook (remote kernel plugin)', () => {
    const shortcut = shortcutOf(
      'remote-kernel',
      CommandIDs.restartKernelOnCluster
    );
    expect(shortcut.selector).toBe('.jp-Notebook');
    expect(shortcut.keys).toEqual(['Accel Shift O']);
  });

  it('name only commands of jupyterlab-hpc, each bound to one key combination', () => {
    const ids = new Set<string>(Object.values(CommandIDs));
    const all = Object.keys(SCHEMAS).flatMap(shortcutsOf);
    for (const shortcut of all) {
      expect(ids.has(shortcut.command)).toBe(true);
      expect(shortcut.keys).toHaveLength(1);
    }
    const keys = all.map(shortcut => shortcut.keys.join(', '));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('Restart Kernel on Cluster has a label and caption for the shortcut editor', () => {
    const commands = new CommandRegistry();
    addRemoteKernelCommands(commands, {
      notebooks: { currentWidget: null } as unknown as INotebookTracker,
      switcher: {} as RemoteKernelSwitcher,
      trans: nullTranslator.load('jupyterlab_hpc')
    });
    const id = CommandIDs.restartKernelOnCluster;
    expect(commands.label(id)).toBe('Restart Kernel on Cluster…');
    expect(commands.caption(id)).not.toBe('');
  });
});
