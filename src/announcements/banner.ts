import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Panel, Widget } from '@lumino/widgets';

import { Announcement } from '../api/types';
import { AnnouncementsModel } from './model';
import { AnnouncementStore } from './store';

/**
 * Warnings and errors of the centre as banners across the top of Lab, each
 * dismissible (if its author allows) and remembered as dismissed.
 *
 * The shell's header area sizes its widgets by their CSS minimum height, so
 * the banner sets its own to the height of its content.
 */
export class AnnouncementBanner extends Panel {
  constructor(options: AnnouncementBanner.IOptions) {
    super();
    this._options = options;
    this.id = 'jp-hpc-announcements';
    this.addClass('jp-hpc-AnnouncementBanner');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute(
      'aria-label',
      options.trans.__('Announcements of the computing centre')
    );
    this.hide();
    // Markdown renders asynchronously and text rewraps with the width:
    // follow the items' height wherever it comes from.
    if (typeof ResizeObserver !== 'undefined') {
      this._resizeObserver = new ResizeObserver(() => this._fitToContent());
    }
    options.model.changed.connect(this._render, this);
    this._render();
  }

  /**
   * The announcements shown, for tests and for the layout.
   */
  get shown(): readonly Announcement[] {
    return this._shown;
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._fitToContent();
  }

  override dispose(): void {
    this._resizeObserver?.disconnect();
    super.dispose();
  }

  private _render(): void {
    const { model, store } = this._options;
    const shown = (model.data?.announcements ?? []).filter(
      announcement =>
        announcement.severity !== 'info' && !store.isDismissed(announcement.id)
    );
    if (JSON.stringify(shown) === JSON.stringify(this._shown)) {
      return;
    }
    this._shown = shown;
    for (const widget of [...this.widgets]) {
      widget.dispose();
    }
    for (const announcement of shown) {
      const item = this._createItem(announcement);
      this.addWidget(item);
      this._resizeObserver?.observe(item.node);
    }
    this.setHidden(shown.length === 0);
    this._fitToContent();
  }

  private _createItem(announcement: Announcement): Widget {
    const { trans } = this._options;
    const item = new Panel();
    item.addClass('jp-hpc-Announcement');
    item.addClass(`jp-hpc-mod-${announcement.severity}`);
    // Errors interrupt; warnings wait for a pause in speech.
    item.node.setAttribute(
      'role',
      announcement.severity === 'error' ? 'alert' : 'status'
    );

    const header = new Widget({ node: document.createElement('div') });
    header.addClass('jp-hpc-Announcement-header');
    const title = document.createElement('strong');
    title.className = 'jp-hpc-Announcement-title';
    title.textContent = announcement.title;
    header.node.appendChild(title);
    const when = announcementPeriod(announcement, trans);
    if (when) {
      const period = document.createElement('span');
      period.className = 'jp-hpc-Announcement-period';
      period.textContent = when;
      header.node.appendChild(period);
    }
    if (announcement.dismissible) {
      const dismiss = document.createElement('button');
      dismiss.type = 'button';
      dismiss.className = 'jp-hpc-Announcement-dismiss';
      dismiss.textContent = '×';
      dismiss.title = trans.__('Dismiss');
      dismiss.setAttribute(
        'aria-label',
        trans.__('Dismiss announcement: %1', announcement.title)
      );
      dismiss.addEventListener('click', () => {
        void this._options.store.dismiss(announcement.id);
        this._render();
      });
      header.node.appendChild(dismiss);
    }
    item.addWidget(header);

    const body = renderMarkdown(announcement.body, this._options.rendermime);
    body.addClass('jp-hpc-Announcement-body');
    item.addWidget(body);
    return item;
  }

  /**
   * Make the banner as tall as its content, once the browser laid it out.
   */
  private _fitToContent(): void {
    requestAnimationFrame(() => {
      if (this.isDisposed) {
        return;
      }
      const height = this.widgets.reduce(
        (sum, widget) => sum + widget.node.offsetHeight,
        0
      );
      if (height !== this._height) {
        this._height = height;
        this.node.style.minHeight = `${height}px`;
        this.parent?.fit();
      }
    });
  }

  private _height = -1;
  private _resizeObserver: ResizeObserver | null = null;
  private _options: AnnouncementBanner.IOptions;
  private _shown: readonly Announcement[] = [];
}

export namespace AnnouncementBanner {
  export interface IOptions {
    model: AnnouncementsModel;
    store: AnnouncementStore;
    /** Renders the Markdown bodies, sanitized; plain text without it. */
    rendermime: IRenderMimeRegistry | null;
    trans: TranslationBundle;
  }
}

/**
 * An announcement's Markdown as a widget. The model is untrusted, so the
 * renderer passes the HTML through Lab's sanitizer: an admin's file or a
 * reservation name cannot run script in the user's session.
 */
export function renderMarkdown(
  markdown: string,
  rendermime: IRenderMimeRegistry | null
): Widget {
  if (!rendermime) {
    const widget = new Widget({ node: document.createElement('div') });
    widget.node.textContent = markdown;
    widget.addClass('jp-hpc-mod-plain');
    return widget;
  }
  const renderer = rendermime.createRenderer('text/markdown');
  void renderer.renderModel(
    new MimeModel({ data: { 'text/markdown': markdown }, trusted: false })
  );
  return renderer;
}

/**
 * When an announcement applies, in the user's time zone; null if always.
 */
export function announcementPeriod(
  announcement: Announcement,
  trans: TranslationBundle
): string | null {
  const starts = localTime(announcement.starts);
  const ends = localTime(announcement.ends);
  if (starts && ends) {
    return trans.__('%1 to %2', starts, ends);
  }
  if (starts) {
    return trans.__('from %1', starts);
  }
  if (ends) {
    return trans.__('until %1', ends);
  }
  return null;
}

function localTime(iso: string | null): string | null {
  if (!iso) {
    return null;
  }
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, {
        dateStyle: 'medium',
        timeStyle: 'short'
      });
}
