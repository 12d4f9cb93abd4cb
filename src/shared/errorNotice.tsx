import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { HpcRequestError } from '../api/request';

/**
 * Why a section has no fresh data, in a live region so screen readers hear
 * it. The section keeps retrying; the notice goes away when Slurm answers.
 */
export function ErrorNotice(props: {
  error: HpcRequestError;
  /** What failed, with the server's message, for errors other than Slurm's. */
  failure: (message: string) => string;
  trans: TranslationBundle;
}): JSX.Element {
  const { error, failure, trans } = props;
  return (
    <div className="jp-hpc-ErrorBanner" role="alert">
      {describeError(error, failure, trans)}
    </div>
  );
}

export function describeError(
  error: HpcRequestError,
  failure: (message: string) => string,
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
      return failure(error.message);
  }
}

export function Placeholder(props: { text: string }): JSX.Element {
  return <p className="jp-hpc-Placeholder">{props.text}</p>;
}
