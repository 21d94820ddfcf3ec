// Money, numbers and dates for people: always through `Intl`, in the browser's locale.
// The API sends USD amounts as JSON numbers with at most two decimals (it rounds in
// `rust_decimal`), so formatting never does arithmetic on them.

export type Locale = string | undefined;

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => T): T {
  let found = cache.get(key) as T | undefined;
  if (!found) {
    found = make();
    cache.set(key, found);
  }
  return found;
}

export function formatMoney(amount: number, currency = "USD", locale?: Locale): string {
  const code = currency.toUpperCase();
  return cached(`money:${locale}:${code}`, () => new Intl.NumberFormat(locale, { style: "currency", currency: code })).format(amount);
}

/** Small LLM costs need more than two decimals to be anything but $0.00. */
export function formatCost(amount: number, currency = "USD", locale?: Locale): string {
  const code = currency.toUpperCase();
  const digits = amount !== 0 && Math.abs(amount) < 1 ? 4 : 2;
  return cached(
    `cost:${locale}:${code}:${digits}`,
    () => new Intl.NumberFormat(locale, { style: "currency", currency: code, minimumFractionDigits: 2, maximumFractionDigits: digits }),
  ).format(amount);
}

export function formatNumber(value: number, locale?: Locale): string {
  return cached(`num:${locale}`, () => new Intl.NumberFormat(locale)).format(value);
}

export function formatCompact(value: number, locale?: Locale): string {
  return cached(`compact:${locale}`, () => new Intl.NumberFormat(locale, { notation: "compact" })).format(value);
}

export function formatPercent(fraction: number, locale?: Locale): string {
  return cached(`pct:${locale}`, () => new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 })).format(fraction);
}

/** A date without time ("Dec 7, 2026"), in UTC: billing periods and invoice dates are UTC days. */
export function formatDate(iso: string | null | undefined, locale?: Locale): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return cached(`date:${locale}`, () => new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" })).format(date);
}

/** A moment ("Dec 7, 2026, 7:34 PM") in the viewer's time zone. */
export function formatDateTime(iso: string | null | undefined, locale?: Locale): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return cached(`datetime:${locale}`, () => new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" })).format(date);
}

/** A chart axis day label ("Dec 7") for a `YYYY-MM-DD` day. */
export function formatDay(day: string, locale?: Locale): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return cached(`day:${locale}`, () => new Intl.DateTimeFormat(locale, { month: "short", day: "numeric", timeZone: "UTC" })).format(date);
}

export function formatGigabytes(value: number, locale?: Locale): string {
  return cached(`gb:${locale}`, () => new Intl.NumberFormat(locale, { style: "unit", unit: "gigabyte", maximumFractionDigits: 1 })).format(value);
}

/** An age or wait ("45 sec", "12 min", "3 hr", "2 days"): the largest whole unit, through `Intl`. */
export function formatDuration(seconds: number, locale?: Locale): string {
  const units: Array<[Intl.NumberFormatOptions["unit"], number]> = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
    ["second", 1],
  ];
  const [unit, size] = units.find(([, s]) => seconds >= s) ?? ["second", 1];
  const value = Math.floor(seconds / size);
  return cached(`dur:${locale}:${unit}`, () => new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "short" })).format(value);
}

/** A moment to the second ("7:34:05 PM"), in the viewer's time zone: when something was last checked. */
export function formatTime(iso: string | null | undefined, locale?: Locale): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return cached(`time:${locale}`, () => new Intl.DateTimeFormat(locale, { timeStyle: "medium" })).format(date);
}
