import { expect, test } from "@playwright/test";
import { newOrg, ok, signIn, tokens, type Schemas } from "./support/stack";

test("the monthly budget is checked in the form and saved through the API", async ({ page }) => {
  const org = newOrg();
  await signIn(page, org, "owner", "/billing/settings");
  await expect(page.getByText(/no budget set/)).toBeVisible();
  const limit = page.getByLabel("Monthly budget (USD)");
  await limit.fill("0");
  await page.getByRole("button", { name: "Save budget" }).click();
  await expect(page.getByText("Enter a budget in dollars and cents, at least $0.01.")).toBeVisible();
  await limit.fill("150");
  await page.getByLabel("Warn at (percent)").fill("75");
  await page.getByLabel("Stop workflows when the budget is used up").check();
  await page.getByRole("button", { name: "Save budget" }).click();
  await expect(page.getByText("Budget saved.")).toBeVisible();
  const budget = await ok<Schemas["BudgetResponse"]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/budget`);
  expect(budget).toMatchObject({ monthly_limit_usd: 150, warn_at_percent: 75, hard_cap: true });
  await page.reload();
  await expect(page.getByText(/of \$150\.00/).first()).toBeVisible();
});
