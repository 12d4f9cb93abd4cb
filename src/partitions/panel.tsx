import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { Partition } from '../api/types';
import { formatDuration } from '../shared/duration';
import { ErrorNotice, Placeholder } from '../shared/errorNotice';
import { Meter } from '../shared/meter';
import { useRenderOnChange } from '../shared/useModel';
import { PartitionsModel } from './model';

/**
 * The Partitions section: for each partition how much is free now, how long
 * a job may run, and whether the user may submit there.
 */
export function PartitionsPanel(props: {
  model: PartitionsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  useRenderOnChange(model);
  const partitions = model.data?.partitions;

  return (
    <div className="jp-hpc-PartitionsPanel">
      {model.error && (
        <ErrorNotice
          error={model.error}
          failure={message =>
            trans.__('Could not list partitions: %1', message)
          }
          trans={trans}
        />
      )}
      {!partitions ? (
        !model.error && <Placeholder text={trans.__('Loading partitions…')} />
      ) : partitions.length === 0 ? (
        <Placeholder text={trans.__('Slurm lists no partitions.')} />
      ) : (
        <ul className="jp-hpc-CardList" aria-label={trans.__('Partitions')}>
          {partitions.map(partition => (
            <PartitionCard
              key={partition.name}
              partition={partition}
              trans={trans}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function PartitionCard(props: {
  partition: Partition;
  trans: TranslationBundle;
}): JSX.Element {
  const { partition, trans } = props;
  const { name, nodes, cpus, gpus } = partition;
  const up = partition.state === 'UP';
  const unavailable = nodes.down + nodes.drained + nodes.maintenance;
  return (
    <li
      className={'jp-hpc-Card' + (partition.allowed ? '' : ' jp-mod-disabled')}
      aria-label={trans.__('Partition %1', name)}
    >
      <div className="jp-hpc-Card-header">
        <span className="jp-hpc-Card-title">{name}</span>
        {partition.default && (
          <span className="jp-hpc-Tag">{trans.__('default')}</span>
        )}
        <span
          className={
            'jp-hpc-StateChip ' +
            (up ? 'jp-hpc-mod-running' : 'jp-hpc-mod-failed')
          }
        >
          {partition.state}
        </span>
      </div>
      {!partition.allowed && (
        <div className="jp-hpc-Card-note">
          {trans.__('You may not submit jobs here.')}
        </div>
      )}
      <Availability
        label={trans.__('Idle nodes in %1', name)}
        caption={trans.__('Nodes')}
        idle={nodes.idle}
        total={nodes.total}
        trans={trans}
      />
      <Availability
        label={trans.__('Idle CPUs in %1', name)}
        caption={trans.__('CPUs')}
        idle={cpus.idle}
        total={cpus.total}
        trans={trans}
      />
      {gpus.total > 0 && (
        <Availability
          label={trans.__('Idle GPUs in %1', name)}
          caption={trans.__('GPUs')}
          idle={gpus.idle}
          total={gpus.total}
          trans={trans}
        />
      )}
      <dl className="jp-hpc-Card-facts">
        <dt>{trans.__('Max walltime')}</dt>
        <dd>
          {partition.max_time === null
            ? trans.__('unlimited')
            : formatDuration(partition.max_time)}
        </dd>
        {partition.default_time !== null && (
          <>
            <dt>{trans.__('Default walltime')}</dt>
            <dd>{formatDuration(partition.default_time)}</dd>
          </>
        )}
        <dt>{trans.__('Node states')}</dt>
        <dd>
          {trans.__(
            '%1 mixed, %2 allocated, %3 unavailable',
            nodes.mixed,
            nodes.allocated,
            unavailable
          )}
        </dd>
      </dl>
    </li>
  );
}

function Availability(props: {
  label: string;
  caption: string;
  idle: number;
  total: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { label, caption, idle, total, trans } = props;
  const text = trans.__('%1 of %2 idle', idle, total);
  return (
    <div className="jp-hpc-MeterRow">
      <span className="jp-hpc-MeterRow-caption">{caption}</span>
      <Meter label={label} value={idle} max={total} valueText={text} />
      <span className="jp-hpc-MeterRow-value">{text}</span>
    </div>
  );
}
