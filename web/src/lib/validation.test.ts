import { describe, expect, it } from "vitest";
import { budgetAmountError, creditAmountError, percentError } from "./validation";

describe("credit purchases take 0 < amount <= the catalog's maximum, in cents", () => {
  it("accepts whole dollars and cents up to the maximum", () => {
    for (const ok of ["1", "25.5", "25.50", "0.01", "1000"]) expect(creditAmountError(ok, 1000)).toBeNull();
  });
  it("refuses zero, too much, fractions of a cent and anything not a number", () => {
    expect(creditAmountError("0", 1000)).toMatch(/more than zero/);
    expect(creditAmountError("1000.01", 1000)).toMatch(/most you can buy/);
    expect(creditAmountError("1.005", 1000)).toMatch(/dollars and cents/);
    for (const bad of ["", "-5", "abc", "1e3", " "]) expect(creditAmountError(bad, 1000)).not.toBeNull();
  });
});

describe("budgets", () => {
  it("need at least a cent and a whole percent from 1 to 100", () => {
    expect(budgetAmountError("50")).toBeNull();
    expect(budgetAmountError("0")).not.toBeNull();
    expect(percentError("80")).toBeNull();
    expect(percentError("0")).not.toBeNull();
    expect(percentError("101")).not.toBeNull();
    expect(percentError("8.5")).not.toBeNull();
  });
});
