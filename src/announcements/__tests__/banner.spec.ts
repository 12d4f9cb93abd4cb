import { Sanitizer } from '@jupyterlab/apputils';
import {
  RenderMimeRegistry,
  standardRendererFactories
} from '@jupyterlab/rendermime';
import { StateDB } from '@jupyterlab/statedb';
import { signalToPromise } from '@jupyterlab/testing';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { AnnouncementBanner } from '../banner';
import { AnnouncementsModel } from '../model';
import { AnnouncementStore } from '../store';
import {
  FakeJupyterServer,
  makeAnnouncement,
  ok,
  setPageVisibility,
  sleep
} from '../../shared/__tests__/fixtures';

const trans = nullTranslator.load('jupyterlab_hpc');

/**
 * A Markdown parser that passes HTML through, as marked does.
 */
const passThroughParser = {
  render: (source: string) => Promise.resolve(source)
};

describe('AnnouncementBanner', () => {
  let model: AnnouncementsModel;
  let banner: AnnouncementBanner;

  beforeEach(() => setPageVisibility('visible'));
  afterEach(() => {
    banner.dispose();
    model.dispose();
  });

  async function showBanner(
    store: AnnouncementStore,
    rendermime: RenderMimeRegistry | null = null
  ): Promise<void> {
    const server = new FakeJupyterServer([
      ok({
        announcements: [
          makeAnnouncement({ id: 'maint:a', title: 'Maintenance' }),
          makeAnnouncement({
            id: 'admin:b',
            title: 'Scratch is failing',
            severity: 'error',
            body: 'Copy your data <img src=x onerror="window.hacked=1"> now',
            dismissible: false
          }),
          makeAnnouncement({
            id: 'admin:c',
            title: 'New GPUs',
            severity: 'info'
          })
        ]
      })
    ]);
    model = new AnnouncementsModel({
      client: server.client,
      refreshInterval: 60 * 1000
    });
    const loaded = signalToPromise(model.changed);
    banner = new AnnouncementBanner({ model, store, rendermime, trans });
    Widget.attach(banner, document.body);
    await loaded;
  }

  function titles(): string[] {
    return [...banner.node.querySelectorAll('.jp-hpc-Announcement-title')].map(
      node => node.textContent ?? ''
    );
  }

  it('shows warnings and errors, not info announcements', async () => {
    await showBanner(new AnnouncementStore(new StateDB()));

    expect(titles()).toEqual(['Maintenance', 'Scratch is failing']);
    expect(banner.isHidden).toBe(false);
  });

  it('remembers a dismissal in the state database, for the next page load too', async () => {
    const state = new StateDB();
    await showBanner(new AnnouncementStore(state));

    const dismiss = banner.node.querySelector<HTMLButtonElement>(
      'button[aria-label="Dismiss announcement: Maintenance"]'
    )!;
    dismiss.click();
    await sleep(0);
    expect(titles()).toEqual(['Scratch is failing']);
    // An announcement its author made permanent has no dismiss button.
    expect(banner.node.querySelectorAll('button')).toHaveLength(0);

    const reloaded = new AnnouncementStore(state);
    await reloaded.load();
    expect(reloaded.isDismissed('maint:a')).toBe(true);
    expect(reloaded.isDismissed('admin:b')).toBe(false);
  });

  it('renders the Markdown through the sanitizer', async () => {
    const rendermime = new RenderMimeRegistry({
      initialFactories: standardRendererFactories,
      sanitizer: new Sanitizer(),
      markdownParser: passThroughParser
    });
    await showBanner(new AnnouncementStore(null), rendermime);
    await sleep(50);

    const image = banner.node.querySelector('img');
    expect(banner.node.textContent).toContain('Copy your data');
    // The sanitizer keeps the image and drops its script.
    expect(image).not.toBeNull();
    expect(image!.getAttribute('onerror')).toBeNull();
  });
});
