import { describe, expect, it } from "vitest";
import { byProvider, lastDays } from "./series";

describe("chart ranges and series", () => {
  it("counts today in the last N UTC days", () => {
    expect(lastDays(7, new Date("2026-12-07T23:30:00Z"))).toEqual({ from: "2026-12-01", to: "2026-12-07" });
    expect(lastDays(30, new Date("2026-03-01T00:10:00Z"))).toEqual({ from: "2026-01-31", to: "2026-03-01" });
  });

  it("folds models into providers, most expensive first, without float drift", () => {
    const item = (provider: string, model: string, billable_cost: number) => ({ provider, model, billable_cost, cost: billable_cost, tokens: 10, records: 1 });
    const folded = byProvider([item("openai", "gpt-4o", 0.1), item("anthropic", "claude", 0.05), item("openai", "gpt-4o-mini", 0.2), item("google", "gemini", 0.3)]);
    expect(folded.map((p) => p.provider)).toEqual(["google", "openai", "anthropic"]);
    expect(folded[1]).toMatchObject({ billable: 0.3, tokens: 20 });
  });
});

describe("the daily series shaped for the charts", () => {
  const day = (date: string, free: number, credits: number, run_charges: number, llm_billable_cost: number) => ({
    date,
    runs: { free, credits, subscription: 0, overage: 0, unlimited: 0 },
    total_runs: free + credits,
    run_charges,
    llm_cost: llm_billable_cost,
    llm_billable_cost,
  });

  it("orders days oldest first and adds each day's charges and LLM cost without float drift", async () => {
    const { dailyRows } = await import("./series");
    const rows = dailyRows([day("2026-12-02", 0, 2, 0.1, 0.2), day("2026-12-01", 3, 0, 0, 0)]);
    expect(rows.map((r) => r.date)).toEqual(["2026-12-01", "2026-12-02"]);
    expect(rows[1]).toMatchObject({ credits: 2, runs: 2, billable: 0.3 });
  });

  it("lists only the buckets that have runs and totals the range", async () => {
    const { dailyRows, bucketsUsed, totals } = await import("./series");
    const rows = dailyRows([day("2026-12-01", 1, 0, 0, 0.005), day("2026-12-02", 0, 2, 0.1, 0.2)]);
    expect(bucketsUsed(rows)).toEqual(["free", "credits"]);
    expect(totals(rows)).toEqual({ runs: 3, billable: 0.305 });
  });
});
