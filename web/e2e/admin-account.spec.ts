// An operator finds an account, understands it and acts on it: each action with a reason, a
// confirmation where destructive, the audit entry shown in place, and the customer's side
// (their pages in a second browser context, the internal API) showing the effect.
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import { freshAccount, signInAdmin } from "./support/admin";
import { subscribeThroughApi } from "./support/checkout";
import { call, ok, runWorkflow, signIn, tokens, type Schemas } from "./support/stack";

type Detail = Schemas["AccountDetailResponse"];
type Invoice = Schemas["InvoiceResponse"];

const detail = (org: string) => ok<Detail>(tokens.admin(), "GET", `/api/billing/admin/accounts/${org}`);
const section = (page: Page, name: string | RegExp) => page.getByRole("region", { name });

async function openAccount(page: Page, org: string) {
  await signInAdmin(page, `/admin/accounts/${encodeURIComponent(org)}`);
  await expect(page.getByRole("heading", { level: 1, name: `Account ${org}` })).toBeVisible();
}

async function reserve(org: string) {
  return call(tokens.service(), "POST", `/api/billing/internal/quota/${org}/reservations`, { run_id: `run-${randomUUID()}`, kind: "standard" });
}

test("search, open, suspend with a reason: the customer is suspended; unsuspend: both recover; the audit shows both", async ({ page, browser }) => {
  const org = await freshAccount("suspend");
  await signInAdmin(page);
  await page.getByLabel("Organization id starts with").fill(org);
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("table", { name: "Matching accounts" }).getByRole("link", { name: org }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Account ${org}` })).toBeVisible();

  // A reason is required before the confirmation opens.
  const standing = section(page, "Suspend the account");
  await standing.getByRole("button", { name: "Suspend account" }).click();
  await expect(standing.getByText("Say why: every operator action needs a reason.")).toBeVisible();
  await expect(page.getByRole("alertdialog")).toHaveCount(0);
  await standing.getByLabel("Reason").fill("chargeback under review");
  await standing.getByRole("button", { name: "Suspend account" }).click();
  const confirm = page.getByRole("alertdialog", { name: `Suspend ${org}?` });
  await confirm.getByRole("button", { name: "Suspend account" }).click();
  const lifted = section(page, "Lift the suspension");
  await expect(lifted.getByText("Account suspended", { exact: true })).toBeVisible();
  await expect(lifted.getByText("Reason: chargeback under review")).toBeVisible();
  await expect(lifted.getByText(/Audit entry: Account suspended by/)).toBeVisible();
  await expect(page.getByText("Suspended (operator)")).toBeVisible();

  // The customer, in a browser of their own, and the workflow engine.
  const customer = await browser.newContext();
  const customerPage = await customer.newPage();
  await signIn(customerPage, org, "owner");
  await expect(customerPage.getByText("Your account is suspended")).toBeVisible();
  expect((await reserve(org)).status).toBe(403);

  await lifted.getByLabel("Reason").fill("chargeback won");
  await lifted.getByRole("button", { name: "Unsuspend account" }).click();
  const again = section(page, "Suspend the account");
  await expect(again.getByText("Suspension lifted: the account is active")).toBeVisible();
  await expect(again.getByText(/Audit entry: Account unsuspended by/)).toBeVisible();

  await customerPage.reload();
  await expect(customerPage.getByRole("progressbar", { name: "Workflows" })).toBeVisible();
  await expect(customerPage.getByText("Your account is suspended")).toHaveCount(0);
  expect((await reserve(org)).status).toBeLessThan(300);
  await customer.close();

  // The trail, newest first, with who, why, before and after.
  await page.getByRole("link", { name: "Full trail" }).click();
  const trail = page.getByRole("table", { name: new RegExp(`An organization: ${org}`) });
  const rows = trail.getByRole("row");
  await expect(rows.nth(1)).toContainText("Account unsuspended");
  await expect(rows.nth(1)).toContainText("chargeback won");
  await expect(rows.nth(2)).toContainText("Account suspended");
  await expect(rows.nth(2)).toContainText("chargeback under review");
  await expect(rows.nth(2)).toContainText("suspended");
});

test("granted credits reach the customer's balance, and the same form sent twice credits once", async ({ page }) => {
  const org = await freshAccount("grant");
  await openAccount(page, org);
  const credits = section(page, "Grant or remove credits");
  await credits.getByLabel("Amount (USD)").fill("25");
  await credits.getByLabel("Reason").fill("goodwill for the outage");
  const grant = credits.getByRole("button", { name: "Grant credits" });
  await grant.dblclick();
  await expect(credits.getByText("$25.00 applied: $25.00 available now")).toBeVisible();
  await expect(credits.getByText(/Audit entry: Credits granted by/)).toBeVisible();
  // The same form again, unchanged: the Idempotency-Key replays the first grant.
  await grant.click();
  await expect(credits.getByText("$25.00 applied: $25.00 available now")).toBeVisible();
  await expect.poll(async () => (await detail(org)).account.credits_available_usd).toBe(25);
  const grants = (await detail(org)).recent_ledger.filter((l) => l.kind === "grant");
  expect(grants).toHaveLength(1);

  await signIn(page, org, "owner");
  await expect(page.getByTestId("credit-balance")).toHaveText("$25.00");
});

test("a limit override shows in the customer's meters and lapses at its expiry", async ({ page }) => {
  test.setTimeout(120_000);
  const org = await freshAccount("limits");
  await subscribeThroughApi(org, "starter");
  const plan = (await detail(org)).limits.workflows_per_month;
  expect(plan).toBeTruthy();
  await openAccount(page, org);
  const limits = section(page, "Limit overrides");
  // Expires in 20 s, typed in the browser's time zone as the field takes it.
  const expiry = new Date(Date.now() + 20_000);
  const local = await page.evaluate((iso) => {
    const d = new Date(iso);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }, expiry.toISOString());
  await limits.getByLabel("Workflows per month override", { exact: true }).fill("777");
  await limits.getByLabel("Workflows per month override expires").fill(local);
  await limits.getByLabel("Reason").fill("launch week");
  await limits.getByRole("button", { name: "Save overrides" }).click();
  await expect(limits.getByText("Limit overrides saved")).toBeVisible();
  await expect(limits.getByText(/Audit entry: Limits overridden by/)).toBeVisible();
  await expect(page.getByRole("table", { name: "Limits" }).getByRole("row", { name: /Workflows per month/ })).toContainText("777");

  const customer = await page.context().browser()!.newContext();
  const customerPage = await customer.newPage();
  await signIn(customerPage, org, "member");
  await expect(customerPage.getByRole("progressbar", { name: "Workflows" })).toHaveAttribute("aria-valuetext", "0 of 777");

  // The override lapses on its own at the expiry: the API answers the plan's limit again.
  await expect
    .poll(async () => (await ok<Schemas["SubscriptionResponse"]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/subscription`)).workflows_limit, {
      timeout: 45_000,
      intervals: [1_000],
    })
    .toBe(plan);
  expect(Date.now()).toBeGreaterThanOrEqual(expiry.getTime() - 1_000);
  await customerPage.reload();
  await expect(customerPage.getByRole("progressbar", { name: "Workflows" })).toHaveAttribute("aria-valuetext", `0 of ${plan}`);
  await customer.close();
});

test("voiding an invoice with re-billing bills its usage again; a write-off shows its credit note", async ({ page }) => {
  test.setTimeout(150_000);
  const org = await freshAccount("void");
  await subscribeThroughApi(org, "starter");
  // A card on file, so runs beyond the plan go to overage.
  await ok(tokens.user(org, "owner"), "POST", `/api/billing/account/${org}/payment-method`, { payment_method_id: "pm_card_visa", set_as_default: true }, { "Idempotency-Key": `card-${org}` });
  // One subscription workflow a month, so runs after the free ones go to overage.
  await ok(tokens.admin(), "PUT", `/api/billing/admin/accounts/${org}/limits`, { workflows_per_month: { value: 1 }, reason: "test set-up" });
  const free = (await ok<Schemas["QuotaStandingResponse"]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/quota`)).free.remaining;
  for (let i = 0; i < free + 2; i += 1) await runWorkflow(org);
  const generate = (key: string) => ok<Invoice>(tokens.user(org, "owner"), "POST", `/api/billing/account/${org}/invoices/generate`, undefined, { "Idempotency-Key": key });
  const first = await generate(`gen-${org}-1`);
  expect(first.status).toBe("open");
  const overage = first.line_items.filter((l) => l.amount > 0).flatMap((l) => l.usage_record_ids);
  expect(overage.length).toBeGreaterThan(0);

  await openAccount(page, org);
  const close = section(page, "Close an unpaid invoice");
  await close.getByLabel("Invoice", { exact: true }).selectOption(first.id);
  await close.getByLabel("Reason").fill("billed twice by mistake");
  await expect(close.getByLabel("Bill the usage again")).toBeChecked();
  await close.getByRole("button", { name: "Void invoice" }).click();
  await page.getByRole("alertdialog", { name: `Void invoice ${first.invoice_number}?` }).getByRole("button", { name: "Void invoice" }).click();
  await expect(close.getByText(`Invoice ${first.invoice_number} voided`)).toBeVisible();
  await expect(close.getByText(/usage records returned to unbilled/)).toBeVisible();
  await expect(close.getByText(/Audit entry: Invoice voided by/)).toBeVisible();
  await expect(page.getByRole("table", { name: "Recent invoices" }).getByRole("row", { name: new RegExp(first.invoice_number) })).toContainText("Void");

  // The next invoice bills the same usage again.
  const second = await generate(`gen-${org}-2`);
  expect(second.id).not.toBe(first.id);
  const rebilled = second.line_items.flatMap((l) => l.usage_record_ids);
  for (const id of overage) expect(rebilled).toContain(id);

  // Voided without re-billing, everything owed is written off in a credit note the console shows.
  await page.reload();
  await close.getByLabel("Invoice", { exact: true }).selectOption(second.id);
  await close.getByLabel("Bill the usage again").uncheck();
  await close.getByLabel("Reason").fill("goodwill write-off");
  await close.getByRole("button", { name: "Void invoice" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Void invoice" }).click();
  await expect(close.getByText(/Credit note: \$[\d.,]+ written off/)).toBeVisible();
  const notes = page.getByRole("table", { name: "Credit notes" });
  await expect(notes.getByRole("row", { name: new RegExp(second.invoice_number) })).toContainText("goodwill write-off");
});

test("a flag override for an organization changes what its features route answers", async ({ page }) => {
  const flag = `e2e-${randomUUID().slice(0, 8)}`;
  await ok(tokens.admin(), "PUT", `/api/billing/admin/flags/${flag}`, { enabled: false, reason: "test flag" });
  const org = await freshAccount("flag");
  const features = async () => (await ok<Schemas["FeaturesResponse"]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/features`)).features[flag];
  expect(await features()).toBe(false);
  await openAccount(page, org);
  const override = section(page, "Override a flag for this organization");
  await override.getByLabel("Flag").selectOption(flag);
  await override.getByLabel("Override").selectOption({ label: "On for this organization" });
  await override.getByLabel("Reason").fill("pilot customer");
  await override.getByRole("button", { name: "Apply override" }).click();
  await expect(override.getByText(`${flag} is now On (decided by the organization's override)`)).toBeVisible();
  await expect(override.getByText(/Audit entry: Flag overridden by/)).toBeVisible();
  expect(await features()).toBe(true);
  await expect(page.getByRole("table", { name: "Feature flags" }).getByRole("row", { name: new RegExp(flag) })).toContainText("the organization's override");
});
