// Flags and promotion codes: an operator defines and edits a flag with a reason (its audit
// entry shown in place and in the flag's trail), creates a promotion code, sees its
// redemptions and deactivates it after a confirmation.
import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { signInAdmin } from "./support/admin";
import { ok, tokens, type Schemas } from "./support/stack";

test("a flag defined and edited per tier, with its reason in the trail", async ({ page }) => {
  const flag = `ui-${randomUUID().slice(0, 8)}`;
  await signInAdmin(page, "/admin/flags");
  await page.getByRole("button", { name: "Define a flag" }).click();
  const editor = page.getByRole("region", { name: "Define a flag" });
  await editor.getByLabel("Name").fill(flag);
  await editor.getByLabel("Default").selectOption({ label: "Off" });
  await editor.getByLabel("On pro").selectOption({ label: "On" });
  await editor.getByRole("button", { name: "Save flag" }).click();
  await expect(editor.getByText("Say why: every operator action needs a reason.")).toBeVisible();
  await editor.getByLabel("Reason").fill("beta for pro");
  await editor.getByRole("button", { name: "Save flag" }).click();
  await expect(editor.getByText(`${flag} saved`)).toBeVisible();
  await expect(editor.getByText(/Audit entry: Flag defined by/)).toBeVisible();
  const row = page.getByRole("table", { name: "Defined flags" }).getByRole("row", { name: new RegExp(flag) });
  await expect(row).toContainText("pro: On");
  const saved = await ok<Schemas["FlagResponse"]>(tokens.admin(), "GET", `/api/billing/admin/flags/${flag}`);
  expect([saved.enabled, saved.tiers]).toEqual([false, { pro: true }]);

  // Edit: on for everyone.
  await row.getByRole("button", { name: `Edit ${flag}` }).click();
  const edit = page.getByRole("region", { name: `Edit ${flag}` });
  await edit.getByLabel("Default").selectOption({ label: "On" });
  await edit.getByLabel("Reason").fill("general availability");
  await edit.getByRole("button", { name: "Save flag" }).click();
  await expect(edit.getByText(/Audit entry: Flag changed by/)).toBeVisible();
  expect((await ok<Schemas["FlagResponse"]>(tokens.admin(), "GET", `/api/billing/admin/flags/${flag}`)).enabled).toBe(true);

  await row.getByRole("link", { name: /Trail/ }).click();
  const trail = page.getByRole("table", { name: new RegExp(`A flag: ${flag}`) });
  await expect(trail.getByRole("row").nth(1)).toContainText("general availability");
  await expect(trail.getByRole("row").nth(2)).toContainText("beta for pro");
});

test("a promo code created, listed with its redemptions, and deactivated after a confirmation", async ({ page }) => {
  const code = `UI${randomUUID().slice(0, 8).toUpperCase()}`;
  await signInAdmin(page, "/admin/promo-codes");
  const form = page.getByRole("region", { name: "Create a promo code" });
  await form.getByLabel("Code").fill(code.toLowerCase());
  await form.getByLabel("Discount").selectOption({ label: "A percentage off" });
  await form.getByLabel("Percent off").fill("150");
  await form.getByLabel("Duration").selectOption({ label: "For some months" });
  await form.getByLabel("Months").fill("3");
  await form.getByLabel("Most redemptions").fill("10");
  await form.getByLabel("pro").check();
  await form.getByRole("button", { name: "Create promo code" }).click();
  await expect(form.getByText("Enter a whole percentage from 1 to 100.")).toBeVisible();
  await form.getByLabel("Percent off").fill("20");
  await form.getByRole("button", { name: "Create promo code" }).click();
  await expect(form.getByText(`${code} created: 20 % off`)).toBeVisible();

  const row = page.getByRole("table", { name: "Promo codes" }).getByRole("row", { name: new RegExp(code) });
  await expect(row).toContainText("For 3 months");
  await expect(row).toContainText("0 taken, 0 held, of 10");
  await expect(row).toContainText("pro");
  await expect(row).toContainText("Active");

  await row.getByRole("button", { name: `Deactivate ${code}` }).click();
  await page.getByRole("alertdialog", { name: `Deactivate ${code}?` }).getByRole("button", { name: "Deactivate" }).click();
  await expect(row).toContainText("Deactivated");
  const listed = await ok<Schemas["PromoCodeListResponse"]>(tokens.admin(), "GET", "/api/billing/admin/promo-codes");
  expect(listed.promo_codes.find((p) => p.code === code)?.active).toBe(false);
});
