// Usage meters: how full a limit is and when to warn. The frontend guide asks for warnings
// "at limits"; we warn from 80 % (the budget's default warning threshold too) and say so
// plainly when the limit is reached.

export type MeterLevel = "ok" | "warning" | "exhausted" | "unlimited";

export const WARNING_FRACTION = 0.8;

export interface Meter {
  used: number;
  /** `null` is unlimited (enterprise, BYO). */
  limit: number | null;
  /** 0..1, clamped; 0 when unlimited. */
  fraction: number;
  level: MeterLevel;
}

export function meter(used: number, limit: number | null | undefined): Meter {
  if (limit === null || limit === undefined) return { used, limit: null, fraction: 0, level: "unlimited" };
  if (limit <= 0) return { used, limit, fraction: 1, level: "exhausted" };
  const fraction = Math.min(1, Math.max(0, used / limit));
  const level: MeterLevel = used >= limit ? "exhausted" : fraction >= WARNING_FRACTION ? "warning" : "ok";
  return { used, limit, fraction, level };
}
