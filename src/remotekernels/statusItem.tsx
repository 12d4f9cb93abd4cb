import { ReactWidget } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import { formatDuration } from '../shared/duration';
import { hpcIcon } from '../shared/icons';
import { useRenderOnChange } from '../shared/useModel';
import { RemoteKernelModel } from './model';

/**
 * Time left (seconds) from which the status shows as nearly over.
 */
const LOW_TIME_LEFT = 5 * 60;

/**
 * The status bar item of the active notebook's kernel when it runs on the
 * cluster: node, Slurm job and time left, counting down between the
 * server's reports. Clicking it shows the job in the HPC sidebar.
 */
export class RemoteKernelStatus extends ReactWidget {
  constructor(options: RemoteKernelStatus.IOptions) {
    super();
    this._options = options;
    this.addClass('jp-hpc-RemoteKernelStatus');
  }

  /**
   * The remote kernel shown; null when the active notebook has none.
   */
  get model(): RemoteKernelModel | null {
    return this._model;
  }
  set model(model: RemoteKernelModel | null) {
    if (model === this._model) {
      return;
    }
    this._model = model;
    this.update();
    this._modelChanged.emit();
  }

  /**
   * Emitted when the kernel shown changes (the status bar shows the item
   * only with one).
   */
  get modelChanged(): ISignal<this, void> {
    return this._modelChanged;
  }

  protected render(): JSX.Element | null {
    return this._model ? (
      <StatusView
        model={this._model}
        trans={this._options.trans}
        onOpen={this._options.onOpen}
      />
    ) : null;
  }

  private _model: RemoteKernelModel | null = null;
  private _modelChanged = new Signal<this, void>(this);
  private _options: RemoteKernelStatus.IOptions;
}

export namespace RemoteKernelStatus {
  export interface IOptions {
    trans: TranslationBundle;
    /** Show the kernel's Slurm job (in the HPC sidebar). */
    onOpen: (jobId: string) => void;
  }
}

function StatusView(props: {
  model: RemoteKernelModel;
  trans: TranslationBundle;
  onOpen: (jobId: string) => void;
}): JSX.Element {
  const { model, trans, onOpen } = props;
  useRenderOnChange(model);
  useEverySecond();
  const left = model.timeLeft();
  const node = model.node ?? '?';
  const job = model.jobId ?? '?';
  const text =
    left === null
      ? trans.__('%1 · job %2', node, job)
      : trans.__('%1 · job %2 · %3 left', node, job, formatDuration(left));
  const label =
    left === null
      ? trans.__('Kernel on compute node %1, Slurm job %2', node, job)
      : trans.__(
          'Kernel on compute node %1, Slurm job %2, %3 left',
          node,
          job,
          formatDuration(left)
        );
  return (
    <button
      type="button"
      className={
        'jp-hpc-RemoteKernelStatus-button' +
        (left !== null && left < LOW_TIME_LEFT ? ' jp-mod-warning' : '')
      }
      aria-label={label}
      title={trans.__('%1. Show the job in the HPC sidebar.', label)}
      onClick={() => model.jobId && onOpen(model.jobId)}
    >
      <hpcIcon.react tag="span" className="jp-hpc-RemoteKernelStatus-icon" />
      <span>{text}</span>
    </button>
  );
}

/**
 * Re-render every second: the time left counts down between reports.
 */
function useEverySecond(): void {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    const timer = setInterval(() => setTick(tick => tick + 1), 1000);
    return () => clearInterval(timer);
  }, []);
}
