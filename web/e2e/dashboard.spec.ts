import { expect, test } from "@playwright/test";
import { call, newOrg, ok, runWorkflow, signIn, tokens, type Schemas } from "./support/stack";

test.describe("the overview", () => {
  test("creates the account on the first visit and shows the free plan, its meters and credits", async ({ page }) => {
    const org = newOrg();
    // Nothing exists for this organization before the page asks.
    await signIn(page, org, "owner");
    await expect(page.getByRole("heading", { level: 1, name: "Billing" })).toBeVisible();
    await expect(page.getByTestId("current-tier")).toHaveText("Free");
    await expect(page.getByTestId("credit-balance")).toHaveText("$0.00");
    await expect(page.getByRole("progressbar", { name: "Workflows" })).toHaveAttribute("aria-valuetext", "0 of 5");
    const account = await ok<Schemas["BillingAccountResponse"]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}`);
    expect(account).toMatchObject({ organization_id: org, status: "active" });
  });

  test("shows a run reserved and committed through the internal API", async ({ page }) => {
    const org = newOrg();
    await signIn(page, org, "member");
    const workflows = page.getByRole("progressbar", { name: "Workflows" });
    await expect(workflows).toHaveAttribute("aria-valuetext", "0 of 5");
    await runWorkflow(org);
    await page.reload();
    await expect(workflows).toHaveAttribute("aria-valuetext", "1 of 5");
    await expect(page.getByText("4 of 5 free workflows left this month.")).toBeVisible();
  });

  test("warns from 80 % of the workflow limit and says so at the limit", async ({ page }) => {
    const org = newOrg();
    for (let i = 0; i < 4; i += 1) await runWorkflow(org);
    await signIn(page, org, "owner");
    await expect(page.getByText("Workflows is nearly at its limit.")).toBeVisible();
    await runWorkflow(org);
    await page.reload();
    await expect(page.getByRole("progressbar", { name: "Workflows" })).toHaveAttribute("aria-valuetext", "5 of 5");
    await expect(page.getByText(/Workflows has reached its limit/)).toBeVisible();
    // The quota engine agrees: the sixth run is refused.
    const refused = await call(tokens.service(), "POST", `/api/billing/internal/quota/${org}/reservations`, { run_id: "sixth", kind: "standard" });
    expect(refused.status).toBe(402);
  });

  test("shows skeletons while the account loads", async ({ page }) => {
    const org = newOrg();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`**/api/billing/account/${org}/subscription`, async (route) => {
      await held;
      await route.continue();
    });
    await signIn(page, org, "owner");
    await expect(page.getByRole("status").filter({ hasText: "Loading your plan…" })).toBeAttached();
    release();
    await expect(page.getByTestId("current-tier")).toHaveText("Free");
  });

  test("works in a 390 px wide viewport", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    const org = newOrg();
    await signIn(page, org, "owner");
    await expect(page.getByTestId("current-tier")).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, "no sideways scrolling at 390 px").toBeLessThanOrEqual(0);
    await page.getByRole("navigation", { name: "Billing sections" }).getByRole("link", { name: "Invoices" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Invoices" })).toBeVisible();
  });
});

test.describe("who may do what", () => {
  test("a member sees everything read-only: no buying, no plan changes", async ({ page }) => {
    const org = newOrg();
    await signIn(page, org, "member");
    await expect(page.getByTestId("current-tier")).toHaveText("Free");
    await expect(page.getByRole("button", { name: "Buy credits" })).toHaveCount(0);
    await expect(page.getByRole("link", { name: "Upgrade" })).toHaveCount(0);
    await expect(page.getByText(/Only an owner or a billing admin/).first()).toBeVisible();
    await page.getByRole("link", { name: "Plan", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Plans" })).toBeVisible();
    await expect(page.getByRole("button", { name: /Choose/ })).toHaveCount(0);
    // And the API refuses the member whatever the page shows.
    const refused = await call(tokens.user(org, "member"), "POST", `/api/billing/account/${org}/credits/checkout`, { amount_usd: 10 }, { "Idempotency-Key": "m-1" });
    expect(refused.status).toBe(403);
  });

  test("a user of one organization sees the 403 page on another's billing", async ({ page }) => {
    const mine = newOrg();
    const theirs = newOrg();
    await signIn(page, mine, "owner", `/billing?org=${theirs}`);
    await expect(page.getByRole("heading", { name: "You don't have access" })).toBeVisible();
    await expect(page.getByText(`You are not a member of the organization “${theirs}”`)).toBeVisible();
    await page.goto(`/billing/invoices?org=${theirs}`);
    await expect(page.getByRole("heading", { name: "You don't have access" })).toBeVisible();
  });

  test("nobody signed in is asked to sign in", async ({ page }) => {
    await page.goto("/billing");
    await expect(page.getByRole("heading", { name: "Sign in to see your billing" })).toBeVisible();
  });
});
