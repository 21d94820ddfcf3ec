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
