import { expect, test } from "@playwright/test";
import { payOnCheckout, subscribeThroughApi } from "./support/checkout";
import { newOrg, ok, signIn, tokens, type Schemas } from "./support/stack";

test.describe("buying", () => {
  test("credits bought through Checkout arrive, and the success page waits for them", async ({ page }) => {
    const org = newOrg();
    await signIn(page, org, "owner");
    await expect(page.getByTestId("credit-balance")).toHaveText("$0.00");
    await page.getByRole("button", { name: "Buy credits" }).click();
    const dialog = page.getByRole("dialog", { name: "Buy credits" });
    const amount = dialog.getByLabel("Amount in US dollars");
    // The form refuses what the API would refuse, next to the field.
    await amount.fill("1000.01");
    await dialog.getByRole("button", { name: "Continue to payment" }).click();
    await expect(dialog.getByText("The most you can buy at once is $1,000.00.")).toBeVisible();
    await amount.fill("0");
    await expect(dialog.getByText("The amount must be more than zero.")).toBeVisible();
    await amount.fill("25.50");
    await dialog.getByRole("button", { name: "Continue to payment" }).click();
    await payOnCheckout(page);
    await expect(page.getByTestId("purchase-applied")).toHaveText("$25.50 in credits added. Your balance is now $25.50.");
    await page.getByRole("link", { name: "Back to billing" }).click();
    await expect(page.getByTestId("credit-balance")).toHaveText("$25.50");
    const credits = await ok<Schemas["CreditsResponse"]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/credits`);
    expect(credits.available).toBe(25.5);
  });

  test("leaving Checkout says nothing was charged", async ({ page }) => {
    const org = newOrg();
    await signIn(page, org, "owner");
    await page.getByRole("button", { name: "Buy credits" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Continue to payment" }).click();
    await expect(page).toHaveURL(/\/_local\/checkout\//);
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByRole("heading", { name: "Checkout canceled" })).toBeVisible();
    await expect(page.getByText("Nothing was charged.")).toBeVisible();
    const account = await ok<Schemas["BillingAccountResponse"]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}`);
    expect(account.credit_balance).toBe(0);
  });

  test("the complete subscription flow: free, Checkout for Pro, signed webhook, Pro with Pro's limits", async ({ page }) => {
    const org = newOrg();
    await signIn(page, org, "owner", "/billing/plan");
    await expect(page.getByTestId("current-tier")).toHaveText("Free");
    await page.getByRole("button", { name: "Choose Pro" }).click();
    await payOnCheckout(page);
    await expect(page.getByTestId("purchase-applied")).toHaveText("You are now on Pro.");
    await page.getByRole("link", { name: "Back to billing" }).click();
    await expect(page.getByTestId("current-tier")).toHaveText("Pro");
    await expect(page.getByRole("progressbar", { name: "Workflows" })).toHaveAttribute("aria-valuetext", "0 of 100");
    await expect(page.getByRole("progressbar", { name: "Concurrent agents" })).toHaveAttribute("aria-valuetext", "0 of 5");
  });
});

test.describe("changing the plan", () => {
  test("an upgrade shows its price first, then applies at once with higher limits", async ({ page }) => {
    const org = newOrg();
    await subscribeThroughApi(org, "starter");
    await signIn(page, org, "owner", "/billing/plan");
    await expect(page.getByTestId("current-tier")).toHaveText("Starter");
    const pro = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Pro" }) });
    await pro.getByRole("button", { name: "Upgrade" }).click();
    const dialog = page.getByRole("dialog", { name: "Upgrade to Pro" });
    await expect(dialog.getByTestId("change-preview")).toContainText("Due now");
    await expect(dialog.getByTestId("change-preview")).toContainText("$79.00");
    await dialog.getByRole("button", { name: "Confirm change" }).click();
    await expect(page.getByTestId("current-tier")).toHaveText("Pro");
    await page.getByRole("link", { name: "Overview" }).click();
    await expect(page.getByRole("progressbar", { name: "Workflows" })).toHaveAttribute("aria-valuetext", "0 of 100");
  });

  test("a downgrade waits for the period end and says so", async ({ page }) => {
    const org = newOrg();
    await subscribeThroughApi(org, "pro");
    await signIn(page, org, "owner", "/billing/plan");
    const starter = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Starter" }) });
    await starter.getByRole("button", { name: "Downgrade" }).click();
    const dialog = page.getByRole("dialog", { name: "Downgrade to Starter" });
    await expect(dialog.getByTestId("change-preview")).toContainText("$0.00");
    await dialog.getByRole("button", { name: "Confirm change" }).click();
    await expect(page.getByText(/Your plan changes to Starter on/)).toBeVisible();
    await expect(page.getByTestId("current-tier")).toHaveText("Pro");
  });

  test("cancel at period end, then reactivate", async ({ page }) => {
    const org = newOrg();
    await subscribeThroughApi(org, "starter");
    await signIn(page, org, "owner");
    await page.getByRole("button", { name: "Cancel plan" }).click();
    const confirm = page.getByRole("alertdialog", { name: "Cancel your plan?" });
    await confirm.getByLabel("Why are you leaving? (optional)").fill("Trying another tool");
    await confirm.getByRole("button", { name: "Cancel at period end" }).click();
    await expect(page.getByText(/Your plan ends on/)).toBeVisible();
    const sub = await ok<Schemas["SubscriptionResponse"]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/subscription`);
    expect(sub).toMatchObject({ cancel_at_period_end: true, tier: "starter" });
    await page.getByRole("button", { name: "Reactivate" }).first().click();
    await expect(page.getByText(/Your plan ends on/)).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Cancel plan" })).toBeVisible();
  });
});

test.describe("errors", () => {
  test("the API's own detail is shown when it refuses, and nothing is charged", async ({ page }) => {
    const org = newOrg();
    await signIn(page, org, "owner", "/billing/plan");
    await page.getByLabel("Promotion code (optional)").fill("NOPE2026");
    await page.getByRole("button", { name: "Choose Pro" }).click();
    const refusal = page.getByRole("alert").filter({ hasText: "Checkout could not be opened" });
    await expect(refusal).toContainText("No promo code NOPE2026 exists.");
    await expect(page).toHaveURL(/\/billing\/plan/);
    const sub = await ok<Schemas["SubscriptionResponse"]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/subscription`);
    expect(sub.tier).toBe("free");
  });
});
