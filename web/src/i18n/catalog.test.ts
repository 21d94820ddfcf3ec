import { describe, expect, it } from "vitest";
import { en } from "./en";
import { t } from "./index";

describe("the string catalog", () => {
  it("fills placeholders and leaves unknown ones visible", () => {
    expect(t("plan.perMonth", { price: "$79.00" })).toBe("$79.00 per month");
    expect(t("plan.perMonth")).toBe("{price} per month");
  });
  it("has no empty strings", () => {
    for (const [key, value] of Object.entries(en)) expect(value.trim(), key).not.toBe("");
  });
});
