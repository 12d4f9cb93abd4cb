import { IStateDB } from '@jupyterlab/statedb';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

/**
 * The key of the announcements' state in Lab's state database.
 */
const STATE_KEY = 'jupyterlab-hpc:announcements';

/**
 * Which announcements this user has dismissed (banners) or been notified of
 * (info ones), remembered across reloads in Lab's state database.
 *
 * Ids of announcements that are over are forgotten, so the state stays
 * small however many maintenance windows pass.
 */
export class AnnouncementStore {
  constructor(state: IStateDB | null) {
    this._state = state;
  }

  /**
   * Read what was stored; without a state database, start empty.
   */
  async load(): Promise<void> {
    if (!this._state) {
      return;
    }
    try {
      const stored = (await this._state.fetch(STATE_KEY)) as
        ReadonlyPartialJSONObject | undefined;
      this._dismissed = new Set(idList(stored?.dismissed));
      this._notified = new Set(idList(stored?.notified));
    } catch (reason) {
      console.warn('Could not read the dismissed announcements.', reason);
    }
  }

  isDismissed(id: string): boolean {
    return this._dismissed.has(id);
  }

  isNotified(id: string): boolean {
    return this._notified.has(id);
  }

  dismiss(id: string): Promise<void> {
    this._dismissed.add(id);
    return this._save();
  }

  markNotified(id: string): Promise<void> {
    this._notified.add(id);
    return this._save();
  }

  /**
   * Forget every id not in `current` (the announcements still in force).
   */
  forgetAllBut(current: ReadonlySet<string>): Promise<void> {
    const before = this._dismissed.size + this._notified.size;
    this._dismissed = intersect(this._dismissed, current);
    this._notified = intersect(this._notified, current);
    return before === this._dismissed.size + this._notified.size
      ? Promise.resolve()
      : this._save();
  }

  private async _save(): Promise<void> {
    if (!this._state) {
      return;
    }
    try {
      await this._state.save(STATE_KEY, {
        dismissed: [...this._dismissed],
        notified: [...this._notified]
      });
    } catch (reason) {
      console.warn('Could not remember the dismissed announcements.', reason);
    }
  }

  private _dismissed = new Set<string>();
  private _notified = new Set<string>();
  private _state: IStateDB | null;
}

function idList(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((id): id is string => typeof id === 'string')
    : [];
}

function intersect(ids: Set<string>, keep: ReadonlySet<string>): Set<string> {
  return new Set([...ids].filter(id => keep.has(id)));
}
