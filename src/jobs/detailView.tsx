import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { JobAction, JobDetail, OutputStream } from '../api/types';
import { formatDuration } from '../shared/duration';
import { ErrorNotice, Placeholder } from '../shared/errorNotice';
import { useRenderOnChange } from '../shared/useModel';
import { When } from '../shared/whenView';
import { JobDetailModel, OutputTailModel } from './detailModel';
import { availableActions, describeJobState } from './state';
import { JobStateChip } from './stateChip';

/**
 * Properties of a job's detail view.
 */
export interface IJobDetailProps {
  model: JobDetailModel;
  /** The tail of the stream chosen, or null before the job is known. */
  tail: OutputTailModel | null;
  onSelectStream: (stream: OutputStream) => void;
  /** Ask for an action; the caller confirms it and reports failures. */
  onAction: (action: JobAction) => void;
  trans: TranslationBundle;
  /** The present for the times in words, for tests; the clock's otherwise. */
  now?: number;
}

/**
 * One job: its actions, resources, times, outcome and live output.
 */
export function JobDetailView(props: IJobDetailProps): JSX.Element {
  const { model, tail, onSelectStream, onAction, trans, now } = props;
  useRenderOnChange(model);
  const job = model.data;

  return (
    <div className="jp-hpc-JobDetail">
      {model.gone ? (
        <Placeholder
          text={
            job
              ? trans.__(
                  'Slurm no longer knows job %1: this is what it said last.',
                  model.id
                )
              : trans.__(
                  'Slurm does not know job %1 (any more): a job that ended long ago is forgotten. This tab can be closed.',
                  model.id
                )
          }
        />
      ) : (
        model.error && (
          <ErrorNotice
            error={model.error}
            failure={message =>
              trans.__('Could not read job %1: %2', model.id, message)
            }
            trans={trans}
          />
        )
      )}
      {job ? (
        <>
          <header className="jp-hpc-JobDetail-header">
            <h2 className="jp-hpc-JobDetail-title">
              {trans.__('Job %1', job.id)}{' '}
              <span className="jp-hpc-JobDetail-name">{job.name}</span>
            </h2>
            <JobStateChip state={job.state} trans={trans} />
            <JobActions job={job} onAction={onAction} trans={trans} />
          </header>
          <JobFacts job={job} trans={trans} now={now} />
          <OutputSection
            job={job}
            tail={tail}
            onSelectStream={onSelectStream}
            trans={trans}
          />
        </>
      ) : (
        !model.error && <Placeholder text={trans.__('Loading job…')} />
      )}
    </div>
  );
}

function JobActions(props: {
  job: JobDetail;
  onAction: (action: JobAction) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { job, onAction, trans } = props;
  const labels: Record<JobAction, string> = {
    cancel: trans.__('Cancel job'),
    hold: trans.__('Hold'),
    release: trans.__('Release'),
    requeue: trans.__('Requeue')
  };
  return (
    <div
      className="jp-hpc-JobDetail-actions"
      role="group"
      aria-label={trans.__('Actions on job %1', job.id)}
    >
      {availableActions(job).map(action => (
        <button
          key={action}
          type="button"
          className={
            'jp-Button jp-mod-styled ' +
            (action === 'cancel' ? 'jp-mod-warn' : 'jp-mod-reject')
          }
          onClick={() => onAction(action)}
        >
          {labels[action]}
        </button>
      ))}
    </div>
  );
}

function JobFacts(props: {
  job: JobDetail;
  trans: TranslationBundle;
  now?: number;
}): JSX.Element {
  const { job, trans, now } = props;
  const state = describeJobState(job.state, trans);
  const reason =
    job.reason && job.reason !== 'None'
      ? job.reason_text
        ? trans.__('%1 (%2)', job.reason_text, job.reason)
        : job.reason
      : null;
  const facts: [string, React.ReactNode][] = [
    [
      trans.__('State'),
      state ? trans.__('%1: %2', job.state, state) : job.state
    ],
    [trans.__('Reason'), reason],
    [trans.__('User'), job.user],
    [trans.__('Account'), job.account],
    [trans.__('Partition'), job.partition],
    [trans.__('QOS'), job.qos],
    [trans.__('Nodes'), nodesText(job, trans)],
    [trans.__('CPUs'), job.cpus],
    [
      trans.__('Memory'),
      job.memory_mb === null ? null : formatMemory(job.memory_mb)
    ],
    [trans.__('GPUs'), job.gpus],
    [
      trans.__('Time limit'),
      job.time_limit === null
        ? trans.__('unlimited')
        : formatDuration(job.time_limit)
    ],
    [trans.__('Elapsed'), formatDuration(job.elapsed)],
    [trans.__('Submitted'), timeOf(job.submit_time, trans, now)],
    [trans.__('Started'), timeOf(job.start_time, trans, now)],
    [
      trans.__('Estimated start'),
      job.state === 'PENDING'
        ? (timeOf(job.estimated_start, trans, now) ?? trans.__('not known yet'))
        : null
    ],
    [trans.__('Ended'), timeOf(job.end_time, trans, now)],
    [trans.__('Exit code'), job.exit_code],
    [trans.__('CPU efficiency'), formatFraction(job.efficiency?.cpu)],
    [trans.__('Memory efficiency'), formatFraction(job.efficiency?.memory)],
    [trans.__('Working directory'), job.work_dir],
    [trans.__('Command'), job.command]
  ];
  return (
    <dl className="jp-hpc-JobDetail-facts">
      {facts
        .filter(
          ([, value]) => value !== null && value !== undefined && value !== ''
        )
        .map(([term, value]) => (
          <React.Fragment key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </React.Fragment>
        ))}
    </dl>
  );
}

function OutputSection(props: {
  job: JobDetail;
  tail: OutputTailModel | null;
  onSelectStream: (stream: OutputStream) => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { job, tail, onSelectStream, trans } = props;
  const separate = job.stderr !== null && job.stderr !== job.stdout;
  const streams: [OutputStream, string][] = separate
    ? [
        ['stdout', trans.__('Output')],
        ['stderr', trans.__('Errors')]
      ]
    : [['stdout', trans.__('Output and errors')]];
  return (
    <section
      className="jp-hpc-JobDetail-output"
      aria-label={trans.__('Output of job %1', job.id)}
    >
      <div
        className="jp-hpc-Segmented"
        role="group"
        aria-label={trans.__('Stream')}
      >
        {streams.map(([stream, label]) => (
          <button
            key={stream}
            type="button"
            className="jp-hpc-Segmented-button"
            aria-pressed={tail?.stream === stream}
            onClick={() => onSelectStream(stream)}
          >
            {label}
          </button>
        ))}
      </div>
      {tail && <OutputTail model={tail} trans={trans} />}
    </section>
  );
}

/**
 * The end of a job's output, following it while it grows (unless the user
 * scrolled up to read).
 */
function OutputTail(props: {
  model: OutputTailModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  useRenderOnChange(model);
  const pre = React.useRef<HTMLPreElement>(null);
  const atEnd = React.useRef(true);

  React.useLayoutEffect(() => {
    if (pre.current && atEnd.current) {
      pre.current.scrollTop = pre.current.scrollHeight;
    }
  });

  return (
    <>
      {model.path && (
        <div className="jp-hpc-JobDetail-path" title={model.path}>
          {model.truncated
            ? trans.__('%1 (last part)', model.path)
            : model.path}
        </div>
      )}
      {model.error && (
        <ErrorNotice
          error={model.error}
          failure={message =>
            trans.__('Could not read the output: %1', message)
          }
          trans={trans}
        />
      )}
      <pre
        ref={pre}
        className="jp-hpc-JobDetail-tail"
        tabIndex={0}
        aria-label={trans.__('Job output')}
        onScroll={event => {
          const element = event.currentTarget;
          atEnd.current =
            element.scrollTop + element.clientHeight >=
            element.scrollHeight - 4;
        }}
      >
        {model.text}
      </pre>
    </>
  );
}

function nodesText(job: JobDetail, trans: TranslationBundle): string | null {
  if (!job.nodes) {
    return job.node_count === null ? null : String(job.node_count);
  }
  return job.node_count === null
    ? job.nodes
    : trans.__('%1 (%2)', job.nodes, job.node_count);
}

/**
 * A job's time in words ("in 10 min", "yesterday 17:30"), precise in its
 * tooltip; null when Slurm gave none.
 */
function timeOf(
  iso: string | null | undefined,
  trans: TranslationBundle,
  now: number | undefined
): JSX.Element | null {
  return iso ? <When value={iso} trans={trans} now={now} /> : null;
}

function formatFraction(value: number | null | undefined): string | null {
  return value === null || value === undefined
    ? null
    : `${Math.round(value * 100)} %`;
}

function formatMemory(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GiB` : `${mb} MiB`;
}
