import { StateDB } from '@jupyterlab/statedb';

import { AnnouncementStore } from '../store';

describe('AnnouncementStore', () => {
  it('forgets announcements that are no longer in force', async () => {
    const state = new StateDB();
    const store = new AnnouncementStore(state);
    await store.dismiss('maint:old');
    await store.dismiss('maint:new');
    await store.markNotified('admin:info');

    await store.forgetAllBut(new Set(['maint:new']));

    const reloaded = new AnnouncementStore(state);
    await reloaded.load();
    expect(reloaded.isDismissed('maint:old')).toBe(false);
    expect(reloaded.isDismissed('maint:new')).toBe(true);
    expect(reloaded.isNotified('admin:info')).toBe(false);
  });
});
