import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { describeJobState, jobStateKind } from './state';

/**
 * A job's Slurm state as a coloured chip; the tooltip says it in plain words.
 */
export function JobStateChip(props: {
  state: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { state, trans } = props;
  return (
    <span
      className={`jp-hpc-StateChip jp-hpc-mod-${jobStateKind(state)}`}
      title={describeJobState(state, trans) ?? undefined}
    >
      {state}
    </span>
  );
}
