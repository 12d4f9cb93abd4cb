import { TranslationBundle } from '@jupyterlab/translation';

/**
 * Options of the wording of a time.
 */
export interface IWhenOptions {
  /** The present (milliseconds or a date); the clock's by default. */
  now?: number | Date;
  /**
   * The BCP 47 locale of the clock and date parts; by default the one set
   * with `setTimeLocale`, else the browser's.
   */
  locale?: string;
}

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The language of the translator, set once by the plugins (`ITranslator`'s
 * `languageCode`); undefined leaves the clock and date parts to the browser.
 */
let configuredLocale: string | undefined;

/**
 * Use the translator's language for clock times and dates.
 *
 * Lab's default language, English, says nothing of how its user writes
 * dates: a browser locale of the same language (en-GB for en) wins, so the
 * regional conventions (24-hour clock, day before month) are kept.
 */
export function setTimeLocale(languageCode: string | null | undefined): void {
  configuredLocale = resolveLocale(
    languageCode,
    typeof navigator === 'undefined' ? [] : (navigator.languages ?? [])
  );
}

/**
 * The locale for `Intl.DateTimeFormat` from a translator's language code and
 * the browser's preferred languages; undefined for the browser's default.
 */
export function resolveLocale(
  languageCode: string | null | undefined,
  browserLanguages: readonly string[]
): string | undefined {
  const code = languageCode?.replace(/_/g, '-');
  if (!code || !isSupported(code)) {
    return undefined;
  }
  const language = primaryLanguage(code);
  const regional = browserLanguages.find(
    candidate => primaryLanguage(candidate) === language
  );
  if (regional && regional.includes('-') && isSupported(regional)) {
    return regional;
  }
  return code;
}

/**
 * A past or future time in words, relative to now: "in 10 min",
 * "10 min ago", "at 14:05", "today 09:10", "tomorrow 09:00",
 * "yesterday 17:30", "Fri 09:00", "3 Dec 09:00", "3 Dec 2027 09:00".
 *
 * The words go through the translation bundle, the clock and date parts
 * through `Intl.DateTimeFormat`. Null for no time; an unparsable one is
 * returned as it came.
 */
export function formatWhen(
  value: string | Date | null | undefined,
  trans: TranslationBundle,
  options: IWhenOptions = {}
): string | null {
  const date = toDate(value);
  if (date === null) {
    return typeof value === 'string' && value ? value : null;
  }
  const now = new Date(options.now ?? Date.now());
  const locale = options.locale ?? configuredLocale;
  const delta = date.getTime() - now.getTime();

  if (Math.abs(delta) < HOUR) {
    if (Math.abs(delta) < MINUTE) {
      return delta >= 0
        ? trans.__('in less than a minute')
        : trans.__('just now');
    }
    const minutes = Math.min(
      59,
      Math.max(1, Math.round(Math.abs(delta) / MINUTE))
    );
    return delta > 0
      ? trans._n('in %1 min', 'in %1 min', minutes)
      : trans._n('%1 min ago', '%1 min ago', minutes);
  }

  const time = format(date, locale, { timeStyle: 'short' });
  const days = calendarDays(now, date);
  if (days === 0) {
    return delta > 0 ? trans.__('at %1', time) : trans.__('today %1', time);
  }
  if (days === 1) {
    return trans.__('tomorrow %1', time);
  }
  if (days === -1) {
    return trans.__('yesterday %1', time);
  }
  if (Math.abs(days) < 7) {
    return trans._p(
      'weekday and time',
      '%1 %2',
      format(date, locale, { weekday: 'short' }),
      time
    );
  }
  const day = format(date, locale, {
    day: 'numeric',
    month: 'short',
    ...(date.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' })
  });
  return trans._p('date and time', '%1 %2', day, time);
}

/**
 * The time to the second, in full, for a tooltip: "Friday 4 December 2026
 * at 09:00:00 CET"; null for no time.
 */
export function preciseTime(
  value: string | Date | null | undefined,
  options: Pick<IWhenOptions, 'locale'> = {}
): string | null {
  const date = toDate(value);
  if (date === null) {
    return typeof value === 'string' && value ? value : null;
  }
  return format(date, options.locale ?? configuredLocale, {
    dateStyle: 'full',
    timeStyle: 'long'
  });
}

/**
 * Whether a time is after now (false for no time).
 */
export function isFuture(
  value: string | Date | null | undefined,
  now: number | Date = Date.now()
): boolean {
  const date = toDate(value);
  return date !== null && date.getTime() > new Date(now).getTime();
}

function toDate(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') {
    return null;
  }
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * Calendar days from `now` to `date` in the local time zone (1: tomorrow).
 */
function calendarDays(now: Date, date: Date): number {
  const start = (day: Date) =>
    new Date(day.getFullYear(), day.getMonth(), day.getDate()).getTime();
  // Rounded: a day of a daylight saving change has 23 or 25 hours.
  return Math.round((start(date) - start(now)) / DAY);
}

function format(
  date: Date,
  locale: string | undefined,
  options: Intl.DateTimeFormatOptions
): string {
  return new Intl.DateTimeFormat(locale, options).format(date);
}

function isSupported(locale: string): boolean {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([locale]).length > 0;
  } catch {
    return false;
  }
}

function primaryLanguage(locale: string): string {
  return locale.split(/[-_]/)[0].toLowerCase();
}
