import { describe, expect, it } from "vitest";
import { pollState } from "./poll";

describe("waiting for a purchase to be applied", () => {
  it("is done as soon as the change is seen, even late", () => {
    expect(pollState(true, 0)).toBe("done");
    expect(pollState(true, 120_000)).toBe("done");
  });
  it("keeps waiting until the timeout, then says so instead of spinning forever", () => {
    expect(pollState(false, 59_999)).toBe("waiting");
    expect(pollState(false, 60_000)).toBe("timed_out");
  });
});
