import { describe, expect, it } from "vitest";
import { formatCost, formatDate, formatDay, formatDuration, formatMoney, formatTime } from "./format";

describe("money and dates go through Intl in the viewer's locale", () => {
  it("formats dollars with the currency's own symbol and two decimals", () => {
    expect(formatMoney(1234.5, "usd", "en-US")).toBe("$1,234.50");
    expect(formatMoney(1234.5, "USD", "de-DE")).toMatch(/^1\.234,50\s\$$/u);
  });

  it("shows small LLM costs to four decimals so they are not all $0.00", () => {
    expect(formatCost(0.0042, "USD", "en-US")).toBe("$0.0042");
    expect(formatCost(12.5, "USD", "en-US")).toBe("$12.50");
    expect(formatCost(0, "USD", "en-US")).toBe("$0.00");
  });

  it("reads billing dates as UTC days, whatever the viewer's time zone", () => {
    expect(formatDate("2026-12-01T00:00:00Z", "en-US")).toBe("Dec 1, 2026");
    expect(formatDate(null, "en-US")).toBe("—");
    expect(formatDate("not a date", "en-US")).toBe("—");
    expect(formatDay("2026-02-28", "en-US")).toBe("Feb 28");
  });
});

describe("durations", () => {
  it("uses the largest whole unit", () => {
    expect(formatDuration(45, "en-US")).toBe("45 sec");
    expect(formatDuration(125, "en-US")).toBe("2 min");
    expect(formatDuration(7_300, "en-US")).toBe("2 hr");
    expect(formatDuration(3 * 86_400, "en-US")).toBe("3 days");
    expect(formatDuration(0, "en-US")).toBe("0 sec");
  });
});

describe("times", () => {
  it("shows seconds", () => {
    expect(formatTime("2026-12-07T10:00:05Z", "en-US")).toMatch(/:00:05/);
    expect(formatTime(null)).toBe("—");
  });
});
