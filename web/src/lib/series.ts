// Shaping API answers into chart rows. Pure functions, unit-tested (`series.test.ts`).
import type { Schemas } from "@/api/client";

export type RangeDays = 7 | 30 | 90;
export const RANGES: readonly RangeDays[] = [7, 30, 90];

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The last `days` UTC days, today included: `from` and `to` as the API takes them. */
export function lastDays(days: number, today: Date = new Date()): { from: string; to: string } {
  const end = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  const start = new Date(end);
  start.setUTCDate(start.getUTCDate() - (days - 1));
  return { from: isoDay(start), to: isoDay(end) };
}

export interface ProviderCost {
  provider: string;
  billable: number;
  cost: number;
  tokens: number;
}

/** The breakdown by model folded into providers, most expensive first. */
export function byProvider(items: Schemas["CostBreakdownItem"][]): ProviderCost[] {
  const totals = new Map<string, ProviderCost>();
  for (const item of items) {
    const entry = totals.get(item.provider) ?? { provider: item.provider, billable: 0, cost: 0, tokens: 0 };
    // Cents are summed as integers so many small costs do not drift.
    entry.billable = Math.round(entry.billable * 1e6 + item.billable_cost * 1e6) / 1e6;
    entry.cost = Math.round(entry.cost * 1e6 + item.cost * 1e6) / 1e6;
    entry.tokens += item.tokens;
    totals.set(item.provider, entry);
  }
  return [...totals.values()].sort((a, b) => b.billable - a.billable || a.provider.localeCompare(b.provider));
}

export const BUCKETS = ["free", "credits", "subscription", "overage", "unlimited"] as const;
export type Bucket = (typeof BUCKETS)[number];

export interface DayRow {
  date: string;
  free: number;
  credits: number;
  subscription: number;
  overage: number;
  unlimited: number;
  runs: number;
  /** Run charges and billable LLM cost, in dollars. */
  charges: number;
  llm: number;
  billable: number;
}

/** One chart row per day of the daily series, oldest first; money summed in micro-dollars. */
export function dailyRows(days: Schemas["DailyUsage"][]): DayRow[] {
  return [...days]
    .sort((a, b) => a.date.localeCompare(b.date))
    .map((day) => ({
      date: day.date,
      free: day.runs.free,
      credits: day.runs.credits,
      subscription: day.runs.subscription,
      overage: day.runs.overage,
      unlimited: day.runs.unlimited,
      runs: day.total_runs,
      charges: day.run_charges,
      llm: day.llm_billable_cost,
      billable: Math.round(day.run_charges * 1e6 + day.llm_billable_cost * 1e6) / 1e6,
    }));
}

/** The buckets that have any runs in the range, so the legend lists only what is drawn. */
export function bucketsUsed(rows: DayRow[]): Bucket[] {
  return BUCKETS.filter((bucket) => rows.some((row) => row[bucket] > 0));
}

export interface SeriesTotals {
  runs: number;
  billable: number;
}

export function totals(rows: DayRow[]): SeriesTotals {
  const micros = rows.reduce((sum, row) => sum + Math.round(row.billable * 1e6), 0);
  return { runs: rows.reduce((sum, row) => sum + row.runs, 0), billable: micros / 1e6 };
}
