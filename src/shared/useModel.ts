import { ISignal } from '@lumino/signaling';
import * as React from 'react';

/**
 * Anything that announces its changes with a `changed` signal.
 */
export interface IChangingModel {
  readonly changed: ISignal<unknown, void>;
}

/**
 * Re-render the calling component each time the model changes.
 */
export function useRenderOnChange(model: IChangingModel): void {
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const onChanged = () => setVersion(version => version + 1);
    model.changed.connect(onChanged);
    return () => {
      model.changed.disconnect(onChanged);
    };
  }, [model]);
}
