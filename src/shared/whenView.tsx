import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { formatWhen, preciseTime } from './when';

/**
 * Milliseconds between re-renders of a time in words ("in 10 min" does not
 * stay true for long).
 */
const REFRESH_MS = 30 * 1000;

/**
 * A time in words relative to now, the precise time in its tooltip; nothing
 * for no time.
 */
export function When(props: {
  /** ISO 8601. */
  value: string | null | undefined;
  trans: TranslationBundle;
  /** The present, for tests; the clock's (and refreshed) otherwise. */
  now?: number;
  locale?: string;
}): JSX.Element | null {
  const { value, trans, now, locale } = props;
  useRefresh(now === undefined && !!value);
  const words = formatWhen(value, trans, { now, locale });
  if (!value || words === null) {
    return null;
  }
  return (
    <time dateTime={value} title={preciseTime(value, { locale }) ?? value}>
      {words}
    </time>
  );
}

function useRefresh(active: boolean): void {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    if (!active) {
      return;
    }
    const timer = setInterval(() => setTick(tick => tick + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, [active]);
}
