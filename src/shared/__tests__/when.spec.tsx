import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { render } from '@testing-library/react';
import * as React from 'react';

import {
  formatWhen,
  isFuture,
  preciseTime,
  resolveLocale,
  setTimeLocale
} from '../when';
import { When } from '../whenView';

const trans = nullTranslator.load('jupyterlab_hpc');

// Local times, so the tests hold in any time zone: Wednesday 2 Dec 2026.
const NOW = new Date(2026, 11, 2, 12, 0);
const MINUTE = 60 * 1000;

function at(
  day: number,
  hours: number,
  minutes = 0,
  month = 11,
  year = 2026
): Date {
  return new Date(year, month, day, hours, minutes);
}

function words(date: Date, now: Date = NOW): string | null {
  return formatWhen(date, trans, { now, locale: 'en-GB' });
}

function later(ms: number, now: Date = NOW): Date {
  return new Date(now.getTime() + ms);
}

describe('formatWhen', () => {
  it('counts the minutes within the next hour', () => {
    expect(words(later(10 * MINUTE))).toBe('in 10 min');
    expect(words(later(1 * MINUTE))).toBe('in 1 min');
    expect(words(later(59 * MINUTE))).toBe('in 59 min');
    expect(words(later(59.9 * MINUTE))).toBe('in 59 min');
    expect(words(later(30 * 1000))).toBe('in less than a minute');
  });

  it('counts the minutes within the past hour', () => {
    expect(words(later(-10 * MINUTE))).toBe('10 min ago');
    expect(words(later(-59 * MINUTE))).toBe('59 min ago');
    expect(words(later(-30 * 1000))).toBe('just now');
  });

  it('gives the clock time from exactly an hour on', () => {
    expect(words(later(60 * MINUTE))).toBe('at 13:00');
    expect(words(later(-60 * MINUTE))).toBe('today 11:00');
  });

  it('gives the clock time later and earlier today', () => {
    expect(words(at(2, 14, 5))).toBe('at 14:05');
    expect(words(at(2, 9, 10))).toBe('today 09:10');
  });

  it('says tomorrow and yesterday', () => {
    expect(words(at(3, 9, 0))).toBe('tomorrow 09:00');
    expect(words(at(1, 17, 30))).toBe('yesterday 17:30');
  });

  it('goes by the calendar across midnight', () => {
    const lateEvening = at(2, 23, 30);
    expect(words(at(3, 0, 10), lateEvening)).toBe('in 40 min');
    expect(words(at(3, 0, 30), lateEvening)).toBe('tomorrow 00:30');
    expect(words(at(3, 1, 0), lateEvening)).toBe('tomorrow 01:00');

    const afterMidnight = at(3, 0, 30);
    expect(words(at(2, 23, 50), afterMidnight)).toBe('40 min ago');
    expect(words(at(2, 23, 0), afterMidnight)).toBe('yesterday 23:00');
    expect(words(at(3, 23, 0), afterMidnight)).toBe('at 23:00');
  });

  it('names the weekday within a week', () => {
    expect(words(at(4, 9, 0))).toBe('Fri 09:00');
    expect(words(at(8, 9, 0))).toBe('Tue 09:00');
    expect(words(at(29, 9, 0, 10))).toBe('Sun 09:00');
  });

  it('gives the date beyond a week, with the year when not this one', () => {
    expect(words(at(9, 9, 0))).toBe('9 Dec 09:00');
    expect(words(at(3, 9, 0, 10))).toBe('3 Nov 09:00');
    expect(words(at(3, 9, 0, 11, 2025))).toBe('3 Dec 2025 09:00');
    expect(words(at(4, 9, 0, 0, 2027))).toBe('4 Jan 2027 09:00');
    // Within a week, even in another year.
    expect(words(at(1, 9, 0, 0, 2027), at(30, 12, 0))).toBe('Fri 09:00');
  });

  it('reads ISO 8601 and gives nothing for no time', () => {
    expect(
      formatWhen(later(10 * MINUTE).toISOString(), trans, { now: NOW })
    ).toBe('in 10 min');
    expect(formatWhen(null, trans)).toBeNull();
    expect(formatWhen('', trans)).toBeNull();
    expect(formatWhen('soon', trans)).toBe('soon');
  });

  it('takes every word from the translation bundle', () => {
    const german: Record<string, string> = {
      'tomorrow %1': 'morgen %1',
      'in %1 min': 'in %1 Min.'
    };
    const fill = (text: string, args: unknown[]) =>
      args.reduce<string>(
        (result, arg, index) => result.replace(`%${index + 1}`, String(arg)),
        text
      );
    const bundle = {
      _p: (_context: string, msgid: string, ...args: unknown[]) =>
        fill(german[msgid] ?? msgid, args),
      __: (msgid: string, ...args: unknown[]) =>
        fill(german[msgid] ?? msgid, args),
      _n: (msgid: string, _plural: string, n: number, ...args: unknown[]) =>
        fill(german[msgid] ?? msgid, [n, ...args])
    } as unknown as TranslationBundle;

    expect(formatWhen(at(3, 9, 0), bundle, { now: NOW, locale: 'de' })).toBe(
      'morgen 09:00'
    );
    expect(
      formatWhen(later(10 * MINUTE), bundle, { now: NOW, locale: 'de' })
    ).toBe('in 10 Min.');
    // The weekday is the locale's (ICU's spelling varies with its version).
    const friday = new Intl.DateTimeFormat('de', { weekday: 'short' }).format(
      at(4, 9, 0)
    );
    expect(formatWhen(at(4, 9, 0), bundle, { now: NOW, locale: 'de' })).toBe(
      `${friday} 09:00`
    );
  });

  it('uses the locale set from the translator', () => {
    setTimeLocale('de_DE');
    try {
      const day = new Intl.DateTimeFormat('de-DE', {
        day: 'numeric',
        month: 'short'
      }).format(at(9, 9, 0));
      expect(formatWhen(at(9, 9, 0), trans, { now: NOW })).toBe(`${day} 09:00`);
      expect(day).toMatch(/^9\. Dez/);
    } finally {
      setTimeLocale(undefined);
    }
  });
});

describe('resolveLocale', () => {
  it("prefers the browser's region of the translator's language", () => {
    expect(resolveLocale('en', ['en-GB', 'de-DE'])).toBe('en-GB');
    expect(resolveLocale('de_DE', ['en-GB'])).toBe('de-DE');
    expect(resolveLocale('en', ['fr-FR'])).toBe('en');
    expect(resolveLocale('', ['fr-FR'])).toBeUndefined();
    expect(resolveLocale(null, [])).toBeUndefined();
  });
});

describe('preciseTime and isFuture', () => {
  it('gives the time to the second', () => {
    expect(preciseTime(at(4, 9, 0), { locale: 'en-GB' })).toMatch(
      /^Friday,? 4 December 2026 at 09:00:00/
    );
    expect(preciseTime(null)).toBeNull();
  });

  it('tells the future from the past', () => {
    expect(isFuture(later(MINUTE), NOW)).toBe(true);
    expect(isFuture(later(-MINUTE), NOW)).toBe(false);
    expect(isFuture(null, NOW)).toBe(false);
  });
});

describe('When', () => {
  it('shows the words, the precise time in its tooltip', () => {
    const value = at(3, 9, 0).toISOString();
    const { container } = render(
      <When value={value} trans={trans} now={NOW.getTime()} locale="en-GB" />
    );
    const time = container.querySelector('time')!;
    expect(time.textContent).toBe('tomorrow 09:00');
    expect(time.getAttribute('dateTime')).toBe(value);
    expect(time.title).toMatch(/^Thursday,? 3 December 2026 at 09:00:00/);
  });

  it('shows nothing for no time', () => {
    const { container } = render(<When value={null} trans={trans} />);
    expect(container.innerHTML).toBe('');
  });
});
