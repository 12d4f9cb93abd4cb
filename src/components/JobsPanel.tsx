import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { JobsModel } from '../model';
import { HpcRequestError } from '../request';
import { JobsTable } from './JobsTable';

/**
 * Properties of the jobs panel.
 */
export interface IJobsPanelProps {
  model: JobsModel;
  trans: TranslationBundle;
}

/**
 * The Jobs section of the sidebar: the model's jobs, or why there are none.
 *
 * It re-renders on the model's `changed` signal; the model does the fetching.
 */
export function JobsPanel(props: IJobsPanelProps): JSX.Element {
  const { model, trans } = props;
  useRenderOnChange(model);

  const { error, hasLoaded, jobs, scope } = model;
  let body: JSX.Element | null;
  if (!hasLoaded) {
    // Before the first answer an error banner says all there is to say.
    body = error ? null : <Placeholder text={trans.__('Loading jobs…')} />;
  } else if (jobs.length === 0) {
    body = (
      <Placeholder
        text={
          scope === 'mine'
            ? trans.__('You have no jobs in the Slurm queue.')
            : trans.__('The Slurm queue is empty.')
        }
      />
    );
  } else {
    body = <JobsTable jobs={jobs} showUser={scope === 'all'} trans={trans} />;
  }

  return (
    <div className="jp-hpc-JobsPanel">
      {error && (
        <div className="jp-hpc-ErrorBanner" role="alert">
          {describeError(error, trans)}
        </div>
      )}
      {body}
    </div>
  );
}

function Placeholder(props: { text: string }): JSX.Element {
  return <p className="jp-hpc-Placeholder">{props.text}</p>;
}

/**
 * Re-render the calling component each time the model changes.
 */
function useRenderOnChange(model: JobsModel): void {
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const onChanged = () => setVersion(version => version + 1);
    model.changed.connect(onChanged);
    return () => {
      model.changed.disconnect(onChanged);
    };
  }, [model]);
}

function describeError(
  error: HpcRequestError,
  trans: TranslationBundle
): string {
  switch (error.status) {
    case 0:
      return trans.__('The Jupyter server is unreachable: %1', error.message);
    case 503:
      return trans.__('Slurm is unreachable: %1', error.message);
    case 504:
      return trans.__('Slurm did not answer in time: %1', error.message);
    default:
      return trans.__('Could not list jobs: %1', error.message);
  }
}
