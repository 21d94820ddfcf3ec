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
