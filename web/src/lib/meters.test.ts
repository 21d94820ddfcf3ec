import { describe, expect, it } from "vitest";
import { meter } from "./meters";

describe("usage meters warn from 80 % and at the limit", () => {
  it("is ok below 80 %", () => {
    expect(meter(3, 5)).toMatchObject({ level: "ok", fraction: 0.6 });
  });
  it("warns from 80 % of the limit", () => {
    expect(meter(4, 5).level).toBe("warning");
    expect(meter(79, 100).level).toBe("ok");
    expect(meter(80, 100).level).toBe("warning");
  });
  it("says exhausted at and above the limit, and never fills past full", () => {
    expect(meter(5, 5)).toMatchObject({ level: "exhausted", fraction: 1 });
    expect(meter(7, 5)).toMatchObject({ level: "exhausted", fraction: 1 });
    expect(meter(0, 0).level).toBe("exhausted");
  });
  it("treats no limit as unlimited, with nothing to fill", () => {
    expect(meter(1000, null)).toMatchObject({ level: "unlimited", fraction: 0, limit: null });
    expect(meter(2, undefined).level).toBe("unlimited");
  });
});
