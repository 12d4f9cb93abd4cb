import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { JobScope } from '../api/types';
import { ErrorNotice, Placeholder } from '../shared/errorNotice';
import { useRenderOnChange } from '../shared/useModel';
import { JobsModel } from './model';
import { IJobQuery, JobSortKey } from './query';
import { JobsTable } from './table';

/**
 * Properties of the jobs panel.
 */
export interface IJobsPanelProps {
  model: JobsModel;
  /** Open a job's detail view. */
  onOpenJob: (id: string) => void;
  trans: TranslationBundle;
}

/**
 * The Jobs section of the sidebar: whose jobs, filters, search and order
 * over the model's jobs, or why there are none.
 *
 * It re-renders on the model's `changed` signal; the model does the fetching.
 */
export function JobsPanel(props: IJobsPanelProps): JSX.Element {
  const { model, onOpenJob, trans } = props;
  useRenderOnChange(model);
  const onRevealed = React.useCallback(() => model.clearRevealed(), [model]);

  const { error, hasLoaded, scope } = model;
  const jobs = model.visibleJobs;
  let body: JSX.Element | null;
  if (!hasLoaded) {
    // Before the first answer an error notice says all there is to say.
    body = error ? null : <Placeholder text={trans.__('Loading jobs…')} />;
  } else if (jobs.length === 0) {
    body = <Placeholder text={emptyText(model, trans)} />;
  } else {
    body = (
      <JobsTable
        jobs={jobs}
        showUser={scope === 'all'}
        onOpen={onOpenJob}
        revealed={model.revealed}
        onRevealed={onRevealed}
        trans={trans}
      />
    );
  }

  return (
    <div className="jp-hpc-JobsPanel">
      <JobsToolbar model={model} trans={trans} />
      {error && (
        <ErrorNotice
          error={error}
          failure={message => trans.__('Could not list jobs: %1', message)}
          trans={trans}
        />
      )}
      {hasLoaded && jobs.length > 0 && (
        <div className="jp-hpc-JobsPanel-count" aria-live="polite">
          {model.isFiltering
            ? trans.__('%1 of %2 jobs', jobs.length, model.jobs.length)
            : trans._n('%1 job', '%1 jobs', jobs.length)}
        </div>
      )}
      {body}
    </div>
  );
}

function emptyText(model: JobsModel, trans: TranslationBundle): string {
  if (model.jobs.length > 0) {
    return trans.__('No job matches the filters.');
  }
  return model.scope === 'mine'
    ? trans.__('You have no jobs in the Slurm queue.')
    : trans.__('The Slurm queue is empty.');
}

/**
 * Whose jobs, text search, filters and sort order.
 */
function JobsToolbar(props: {
  model: JobsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const { query, choices } = model;
  const update = (change: Partial<IJobQuery>) => {
    model.query = { ...query, ...change };
  };
  const scopes: [JobScope, string][] = [
    ['mine', trans.__('My jobs')],
    ['all', trans.__('All jobs')]
  ];
  const sortKeys: [JobSortKey, string][] = [
    ['id', trans.__('Job ID')],
    ['name', trans.__('Name')],
    ['user', trans.__('User')],
    ['partition', trans.__('Partition')],
    ['state', trans.__('State')],
    ['elapsed', trans.__('Elapsed time')],
    ['submit_time', trans.__('Submit time')]
  ];

  return (
    <div className="jp-hpc-JobsToolbar">
      <div
        className="jp-hpc-Segmented"
        role="group"
        aria-label={trans.__('Whose jobs')}
      >
        {scopes.map(([value, label]) => (
          <button
            key={value}
            type="button"
            className="jp-hpc-Segmented-button"
            aria-pressed={model.scope === value}
            onClick={() => {
              model.scope = value;
            }}
          >
            {label}
          </button>
        ))}
      </div>
      <input
        type="search"
        className="jp-hpc-JobsToolbar-search"
        placeholder={trans.__('Search jobs')}
        aria-label={trans.__('Search jobs')}
        value={query.text}
        onChange={event => update({ text: event.target.value })}
      />
      <div className="jp-hpc-JobsToolbar-filters">
        <FilterSelect
          label={trans.__('State')}
          anyLabel={trans.__('Any state')}
          value={query.state}
          choices={choices.state}
          onChange={state => update({ state })}
        />
        <FilterSelect
          label={trans.__('Partition')}
          anyLabel={trans.__('Any partition')}
          value={query.partition}
          choices={choices.partition}
          onChange={partition => update({ partition })}
        />
        <FilterSelect
          label={trans.__('Account')}
          anyLabel={trans.__('Any account')}
          value={query.account}
          choices={choices.account}
          onChange={account => update({ account })}
        />
        {model.scope === 'all' && (
          <FilterSelect
            label={trans.__('User')}
            anyLabel={trans.__('Any user')}
            value={query.user}
            choices={choices.user}
            onChange={user => update({ user })}
          />
        )}
        <select
          className="jp-hpc-Select"
          aria-label={trans.__('Sort by')}
          title={trans.__('Sort by')}
          value={query.sort}
          onChange={event => update({ sort: event.target.value as JobSortKey })}
        >
          {sortKeys.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="jp-hpc-IconButton"
          aria-label={
            query.descending
              ? trans.__('Descending order, switch to ascending')
              : trans.__('Ascending order, switch to descending')
          }
          title={
            query.descending ? trans.__('Descending') : trans.__('Ascending')
          }
          onClick={() => update({ descending: !query.descending })}
        >
          {query.descending ? '↓' : '↑'}
        </button>
      </div>
    </div>
  );
}

/**
 * A filter over one field; the current value stays a choice even when no
 * listed job has it any more, so the filter can be seen and lifted.
 */
function FilterSelect(props: {
  label: string;
  anyLabel: string;
  value: string;
  choices: string[];
  onChange: (value: string) => void;
}): JSX.Element {
  const { label, anyLabel, value, choices, onChange } = props;
  const options =
    value && !choices.includes(value) ? [value, ...choices] : choices;
  return (
    <select
      className="jp-hpc-Select"
      aria-label={label}
      title={label}
      value={value}
      onChange={event => onChange(event.target.value)}
    >
      <option value="">{anyLabel}</option>
      {options.map(choice => (
        <option key={choice} value={choice}>
          {choice}
        </option>
      ))}
    </select>
  );
}
