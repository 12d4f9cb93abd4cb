import {
  Dialog,
  Notification,
  ReactWidget,
  showDialog
} from '@jupyterlab/apputils';
import { IStateDB } from '@jupyterlab/statedb';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { HpcClient } from '../api/client';
import { KernelOptions, KernelResources, Partition } from '../api/types';
import { PartitionsModel } from '../partitions/model';
import { formatDuration } from '../shared/duration';
import { useRenderOnChange } from '../shared/useModel';
import {
  ICheckedChoice,
  IResourceChoice,
  ResourceField,
  checkChoice,
  choiceOfPreset,
  initialChoice,
  isResourceChoice,
  parseWalltime
} from './resources';

/**
 * Where the dialog's last accepted choice is kept.
 */
const LAST_CHOICE_KEY = 'jupyterlab-hpc:remote-kernel:last-choice';

/**
 * Milliseconds between two reads of the partitions while the dialog is open.
 */
const DIALOG_PARTITIONS_REFRESH = 5000;

/**
 * Show the dialog; the resources to request, or null when cancelled.
 */
export async function askForResources(
  client: HpcClient,
  state: IStateDB | null,
  trans: TranslationBundle
): Promise<KernelResources | null> {
  let options;
  try {
    options = await client.getKernelOptions();
  } catch (error) {
    Notification.error(
      trans.__(
        'Could not ask Slurm what the cluster offers: %1',
        (error as Error).message
      ),
      { autoClose: false }
    );
    return null;
  }
  if (options.partitions.length === 0) {
    Notification.error(
      trans.__('There is no partition where you may start a kernel.'),
      { autoClose: false }
    );
    return null;
  }
  const saved = await state?.fetch(LAST_CHOICE_KEY).catch(() => undefined);
  const lastChoice = isResourceChoice(saved) ? saved : null;
  const partitions = new PartitionsModel({
    client,
    refreshInterval: DIALOG_PARTITIONS_REFRESH
  });
  try {
    const result = await showDialog({
      title: trans.__('Restart Kernel on Cluster'),
      body: new ResourceDialogBody({
        options,
        partitions,
        initial: initialChoice(options, lastChoice),
        trans
      }),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.okButton({ label: trans.__('Restart on Cluster') })
      ],
      focusNodeSelector: 'select, input'
    });
    const value = result.value;
    if (!result.button.accept || !value?.resources) {
      return null;
    }
    await saveChoice(state, value.choice);
    return value.resources;
  } finally {
    partitions.dispose();
  }
}

async function saveChoice(
  state: IStateDB | null,
  choice: IResourceChoice
): Promise<void> {
  try {
    await state?.save(LAST_CHOICE_KEY, { ...choice });
  } catch (reason) {
    console.warn('Could not remember the kernel resources.', reason);
  }
}

/**
 * The dialog's answer: the fields as typed, and the resources to request
 * (null while a field has a problem).
 */
export interface IResourceDialogValue extends ICheckedChoice {
  choice: IResourceChoice;
}

/**
 * The body of the Restart Kernel on Cluster dialog: partition (with its live
 * availability), account, walltime, CPUs, memory, GPUs and the site's
 * presets, each checked as it is typed.
 *
 * A field with a problem carries `jp-mod-error`, by which Lab's dialog keeps
 * its accept button disabled.
 */
export class ResourceDialogBody
  extends ReactWidget
  implements Dialog.IBodyWidget<IResourceDialogValue>
{
  constructor(options: ResourceDialogBody.IOptions) {
    super();
    this._options = options;
    this._choice = options.initial;
    this.addClass('jp-hpc-ResourceDialog');
  }

  getValue(): IResourceDialogValue {
    return {
      choice: this._choice,
      ...checkChoice(
        this._choice,
        resourceContext(this._options.options, this._options.partitions),
        this._options.trans
      )
    };
  }

  protected render(): JSX.Element {
    return (
      <ResourceForm
        {...this._options}
        choice={this._choice}
        onChange={choice => {
          this._choice = choice;
          this.update();
        }}
      />
    );
  }

  private _choice: IResourceChoice;
  private _options: ResourceDialogBody.IOptions;
}

export namespace ResourceDialogBody {
  export interface IOptions {
    /** What the server offers (GET /hpc/kernels/options). */
    options: KernelOptions;
    /** The partitions' live availability. */
    partitions: PartitionsModel;
    /** The fields' values at first. */
    initial: IResourceChoice;
    trans: TranslationBundle;
  }
}

/**
 * The partitions the user may use, with their latest availability where the
 * partitions model has it.
 */
function resourceContext(options: KernelOptions, model: PartitionsModel) {
  const live = new Map(
    (model.data?.partitions ?? []).map(partition => [partition.name, partition])
  );
  return {
    partitions: options.partitions.map(
      partition => live.get(partition.name) ?? partition
    ),
    accounts: options.accounts,
    limits: options.limits
  };
}

function ResourceForm(props: {
  options: KernelOptions;
  partitions: PartitionsModel;
  trans: TranslationBundle;
  choice: IResourceChoice;
  onChange: (choice: IResourceChoice) => void;
}): JSX.Element {
  const { options, partitions: model, trans, choice, onChange } = props;
  useRenderOnChange(model);
  const context = resourceContext(options, model);
  const { problems } = checkChoice(choice, context, trans);
  const partition = context.partitions.find(p => p.name === choice.partition);
  const form = React.useRef<HTMLDivElement>(null);

  // Lab's dialog re-checks its fields for jp-mod-error on 'input' events,
  // which it catches before React has rendered the change: ask again after.
  React.useEffect(() => {
    form.current?.dispatchEvent(new Event('input', { bubbles: true }));
  });

  const set = (field: keyof IResourceChoice, value: string) =>
    onChange({
      ...choice,
      [field]: value,
      preset: field === 'preset' ? value : ''
    });

  const field = (
    name: ResourceField,
    label: string,
    control: (props: IControlProps) => JSX.Element,
    hint?: string
  ) => {
    const id = `jp-hpc-resource-${name}`;
    const problem = problems[name];
    const note = problem ?? hint;
    return (
      <div className="jp-hpc-ResourceDialog-field">
        <label htmlFor={id}>{label}</label>
        {control({
          id,
          className:
            'jp-hpc-ResourceDialog-control' + (problem ? ' jp-mod-error' : ''),
          'aria-invalid': problem ? true : undefined,
          'aria-describedby': note ? `${id}-note` : undefined
        })}
        {note && (
          <div
            id={`${id}-note`}
            className={
              problem
                ? 'jp-hpc-ResourceDialog-problem'
                : 'jp-hpc-ResourceDialog-hint'
            }
            aria-live="polite"
          >
            {note}
          </div>
        )}
      </div>
    );
  };

  const text =
    (name: ResourceField, placeholder: string) =>
    (controlProps: IControlProps) => (
      <input
        {...controlProps}
        type="text"
        inputMode={name === 'walltime' ? 'text' : 'numeric'}
        autoComplete="off"
        spellCheck={false}
        placeholder={placeholder}
        value={choice[name]}
        onChange={event => set(name, event.target.value)}
      />
    );

  const walltime = parseWalltime(choice.walltime);
  const defaultTime =
    partition?.default_time !== null && partition?.default_time !== undefined
      ? trans.__('partition default %1', formatDuration(partition.default_time))
      : trans.__("Slurm's default");

  return (
    <div className="jp-hpc-ResourceDialog-form" ref={form}>
      {options.presets.length > 0 && (
        <div className="jp-hpc-ResourceDialog-field">
          <label htmlFor="jp-hpc-resource-preset">{trans.__('Preset')}</label>
          <select
            id="jp-hpc-resource-preset"
            className="jp-hpc-ResourceDialog-control"
            value={choice.preset}
            onChange={event => {
              const preset = options.presets.find(
                p => p.name === event.target.value
              );
              onChange(
                preset
                  ? choiceOfPreset(preset, choice)
                  : { ...choice, preset: '' }
              );
            }}
          >
            <option value="">{trans.__('Custom')}</option>
            {options.presets.map(preset => (
              <option key={preset.name} value={preset.name}>
                {preset.title}
              </option>
            ))}
          </select>
        </div>
      )}
      {field(
        'partition',
        trans.__('Partition'),
        controlProps => (
          <select
            {...controlProps}
            value={choice.partition}
            onChange={event => set('partition', event.target.value)}
          >
            {!partition && <option value={choice.partition}></option>}
            {context.partitions.map(p => (
              <option key={p.name} value={p.name}>
                {partitionLabel(p, trans)}
              </option>
            ))}
          </select>
        ),
        partition ? availability(partition, trans) : undefined
      )}
      {field('account', trans.__('Account'), controlProps => (
        <select
          {...controlProps}
          value={choice.account}
          onChange={event => set('account', event.target.value)}
        >
          <option value="">{trans.__('Your default account')}</option>
          {options.accounts.map(account => (
            <option key={account} value={account}>
              {account}
            </option>
          ))}
        </select>
      ))}
      {field(
        'walltime',
        trans.__('Walltime'),
        text('walltime', defaultTime),
        walltime
          ? trans.__(
              '%1 (h:mm:ss); the kernel stops then.',
              formatDuration(walltime)
            )
          : trans.__('Minutes, h:mm:ss or d-hh:mm, as sbatch --time.')
      )}
      {field('cpus', trans.__('CPUs'), text('cpus', '1'))}
      {field(
        'memory',
        trans.__('Memory'),
        text('memory', trans.__("Slurm's default")),
        trans.__('MB, or with a unit: 512M, 4G.')
      )}
      {field(
        'gpus',
        trans.__('GPUs'),
        text('gpus', trans.__('none')),
        partition && partition.gpus.total > 0
          ? trans.__('A count, or type:count (a100:2).')
          : undefined
      )}
    </div>
  );
}

interface IControlProps {
  id: string;
  className: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}

function partitionLabel(partition: Partition, trans: TranslationBundle) {
  const max =
    partition.max_time === null
      ? trans.__('no time limit')
      : trans.__('max %1', formatDuration(partition.max_time));
  return trans.__(
    '%1 (%2 of %3 nodes idle, %4)',
    partition.name,
    partition.nodes.idle,
    partition.nodes.total,
    max
  );
}

function availability(partition: Partition, trans: TranslationBundle): string {
  const parts = [
    trans.__(
      'Now %1 of %2 CPUs idle',
      partition.cpus.idle,
      partition.cpus.total
    )
  ];
  if (partition.gpus.total > 0) {
    parts.push(
      trans.__('%1 of %2 GPUs', partition.gpus.idle, partition.gpus.total)
    );
  }
  parts.push(
    partition.max_time === null
      ? trans.__('no time limit')
      : trans.__('max walltime %1', formatDuration(partition.max_time))
  );
  if (partition.state !== 'UP') {
    parts.push(partition.state);
  }
  return parts.join(', ') + '.';
}
