import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { call, newOrg, ok, runWorkflow, signIn, tokens, type Schemas } from "./support/stack";

type Invoice = Schemas["InvoiceResponse"];

test.describe("invoices", () => {
  test("load, filter by status, and open one with its lines, records and PDF link", async ({ page }) => {
    // The demo organization's history has a paid and an open invoice.
    const all = await ok<Invoice[]>(tokens.user("demo", "member"), "GET", "/api/billing/account/demo/invoices?limit=100");
    const paid = all.filter((i) => i.status === "paid");
    expect(paid.length, "demo has a paid invoice").toBeGreaterThan(0);
    await signIn(page, "demo", "member", "/billing/invoices");
    const table = page.getByRole("table", { name: "Invoice history" });
    await expect(table.getByRole("row")).toHaveCount(all.length + 1);
    await page.getByLabel("Status").selectOption({ label: "Paid" });
    await expect(page).toHaveURL(/status=paid/);
    await expect(table.getByRole("row")).toHaveCount(paid.length + 1);
    await expect(table.getByText("Open", { exact: true })).toHaveCount(0);

    const withPdf = all.find((i) => i.invoice_pdf) ?? paid[0]!;
    const full = await ok<Invoice>(tokens.user("demo", "member"), "GET", `/api/billing/invoices/${withPdf.id}`);
    await page.goto(`/billing/invoices/${withPdf.id}`);
    await expect(page.getByRole("heading", { level: 1, name: `Invoice ${withPdf.invoice_number}` })).toBeVisible();
    const lines = page.getByRole("table", { name: "Lines" });
    for (const line of full.line_items) await expect(lines.getByText(line.description)).toBeVisible();
    const billed = full.line_items.find((l) => l.usage_record_ids.length > 0);
    if (billed) {
      await lines.getByText(`${billed.usage_record_ids.length} usage records`).first().click();
      await expect(lines.getByText(billed.usage_record_ids[0]!)).toBeVisible();
    }
    if (full.invoice_pdf) await expect(page.getByRole("link", { name: "Download PDF" })).toHaveAttribute("href", full.invoice_pdf);
  });

  test("an invoice generated for the month's usage appears with its lines", async ({ page }) => {
    const org = newOrg();
    await runWorkflow(org);
    await runWorkflow(org);
    const invoice = await ok<Invoice>(tokens.user(org, "owner"), "POST", `/api/billing/account/${org}/invoices/generate`, undefined, { "Idempotency-Key": `gen-${org}` });
    await signIn(page, org, "member", "/billing/invoices");
    await page.getByRole("link", { name: invoice.invoice_number }).click();
    await expect(page.getByRole("heading", { level: 1, name: `Invoice ${invoice.invoice_number}` })).toBeVisible();
    await expect(page.getByRole("table", { name: "Lines" }).getByText("2 usage records")).toBeVisible();
  });

  test("invoices download as CSV with the list's filter", async ({ page }) => {
    const all = await ok<Invoice[]>(tokens.user("demo", "member"), "GET", "/api/billing/account/demo/invoices?status=paid&limit=100");
    await signIn(page, "demo", "member", "/billing/invoices?status=paid");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download CSV" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe("demo-invoices.csv");
    const text = await readFile((await file.path())!, "utf8");
    const lines = text.trim().split(/\r?\n/);
    expect(lines[0]).toContain("invoice_number");
    expect(lines).toHaveLength(all.length + 1);
    for (const invoice of all) expect(text).toContain(invoice.invoice_number);
  });

  test("usage records filter billed and unbilled and page with the cursor", async ({ page }) => {
    const org = newOrg();
    for (let i = 0; i < 3; i += 1) await runWorkflow(org);
    await ok(tokens.user(org, "owner"), "POST", `/api/billing/account/${org}/invoices/generate`, undefined, { "Idempotency-Key": `gen-${org}` });
    await runWorkflow(org);
    await signIn(page, org, "member", "/billing/usage");
    const records = page.getByRole("table", { name: "Usage records" });
    await expect(records.getByRole("row")).toHaveCount(5);
    await page.getByLabel("Show").selectOption({ label: "Not yet invoiced" });
    await expect(records.getByRole("row")).toHaveCount(2);
    await page.getByLabel("Show").selectOption({ label: "Invoiced" });
    await expect(records.getByRole("row")).toHaveCount(4);
    const unbilled = await call<unknown[]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/usage?billed=false`);
    expect(unbilled.body).toHaveLength(1);
  });
});
