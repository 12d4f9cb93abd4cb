import * as React from 'react';

/**
 * A horizontal bar showing `value` out of `max`, as an ARIA meter.
 */
export function Meter(props: {
  /** The accessible name, e.g. "Idle CPUs in debug". */
  label: string;
  value: number;
  max: number;
  /** What a screen reader says for the value, e.g. "6 of 8". */
  valueText: string;
  /** Colour the bar as a warning (e.g. a quota nearly used up). */
  warn?: boolean;
}): JSX.Element {
  const { label, value, max, valueText, warn } = props;
  const fraction = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  return (
    <div
      className={'jp-hpc-Meter' + (warn ? ' jp-mod-warn' : '')}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={Math.min(value, max)}
      aria-valuetext={valueText}
      title={valueText}
    >
      <div
        className="jp-hpc-Meter-fill"
        style={{ width: `${(fraction * 100).toFixed(1)}%` }}
      />
    </div>
  );
}
