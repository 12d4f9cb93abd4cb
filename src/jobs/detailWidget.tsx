import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { HpcClient } from '../api/client';
import { JobAction, OutputStream } from '../api/types';
import { JobDetailModel, OutputTailModel } from './detailModel';
import { JobDetailView } from './detailView';

/**
 * A job's detail view: it owns the models that poll the job and the tail of
 * its output, and stops them when closed.
 */
export class JobDetailWidget extends ReactWidget {
  constructor(options: JobDetailWidget.IOptions) {
    super();
    this._options = options;
    this.model = new JobDetailModel({
      client: options.client,
      id: options.id,
      refreshInterval: options.refreshInterval
    });
    this.addClass('jp-hpc-JobDetailWidget');
    this.model.changed.connect(this._onJobChanged, this);
  }

  readonly model: JobDetailModel;

  get tail(): OutputTailModel | null {
    return this._tail;
  }

  /**
   * Follow `stream` instead of the stream followed so far.
   */
  selectStream(stream: OutputStream): void {
    if (this._tail?.stream === stream) {
      return;
    }
    this._tail?.dispose();
    this._tail = new OutputTailModel({
      client: this._options.client,
      id: this._options.id,
      stream,
      refreshInterval: this._options.outputRefreshInterval
    });
    this.update();
  }

  override dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    this._tail?.dispose();
    this._tail = null;
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <JobDetailView
        model={this.model}
        tail={this._tail}
        onSelectStream={stream => this.selectStream(stream)}
        onAction={this._options.onAction}
        trans={this._options.trans}
      />
    );
  }

  /**
   * Start the output tail once the job is known to be the user's own (only
   * those have a readable output), or when who the user is is not known.
   */
  private _onJobChanged(): void {
    const job = this.model.data;
    const { user } = this._options;
    if (!this._tail && job && (user === null || job.user === user)) {
      this.selectStream('stdout');
    }
  }

  private _options: JobDetailWidget.IOptions;
  private _tail: OutputTailModel | null = null;
}

export namespace JobDetailWidget {
  export interface IOptions {
    client: HpcClient;
    id: string;
    /**
     * The Slurm user the server acts as, whose jobs' output is readable;
     * null if not known (the output is then tried).
     */
    user: string | null;
    /** Milliseconds between two reads of the job. */
    refreshInterval: number;
    /** Milliseconds between two reads of the output at its end. */
    outputRefreshInterval: number;
    onAction: (action: JobAction) => void;
    trans: TranslationBundle;
  }
}
