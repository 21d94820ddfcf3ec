// The console is for platform admins only: an organization's member, owner and billing
// admin get the 403 page on every admin address (typed in directly) and see no admin link.
import { expect, test } from "@playwright/test";
import { newOrg, signIn, type Role } from "./support/stack";

const pages = ["/admin", "/admin/accounts/demo", "/admin/health", "/admin/flags", "/admin/promo-codes", "/admin/audit?organization_id=demo", "/admin/no-such-page"];
const roles: Role[] = ["member", "owner", "billing_admin"];

for (const role of roles) {
  test(`a ${role} of an organization cannot see or open the admin console`, async ({ page }) => {
    const org = newOrg("noadmin");
    await signIn(page, org, role);
    await expect(page.getByRole("heading", { level: 1, name: "Billing" })).toBeVisible();
    await expect(page.getByRole("link", { name: "Admin console" })).toHaveCount(0);
    for (const path of pages) {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1, name: "You don't have access" })).toBeVisible();
      await expect(page.getByText("The admin console is for platform operators")).toBeVisible();
      await expect(page.getByRole("navigation", { name: "Admin console sections" })).toHaveCount(0);
    }
  });
}

test("a platform admin sees the admin link on the billing pages and reaches the console", async ({ page }) => {
  await signIn(page, "demo", "owner", "/billing", true);
  await page.getByRole("link", { name: "Admin console" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Accounts" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Admin console sections" })).toBeVisible();
});
