// Every admin page, light and dark, at 1280 and 390 px: axe-core finds no serious or critical
// violation, and a full-page screenshot is written for a person to look at
// (.local/web/screenshots/admin-<page>-<width>-<theme>.png). The demo organization's seeded
// history fills the account page; these visits change nothing.
import { expect, test, type Page } from "@playwright/test";
import { expectAccessible, screenshot, useTheme, type Theme } from "./support/a11y";
import { signInAdmin } from "./support/admin";
import { ok, tokens } from "./support/stack";

const widths = [1280, 390] as const;
const themes: Theme[] = ["light", "dark"];

async function settled(page: Page) {
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.locator("[data-loading]")).toHaveCount(0);
}

test.beforeAll(async () => {
  // A flag, so the flags page and the account's flags have something to show.
  await ok(tokens.admin(), "PUT", "/api/billing/admin/flags/console-preview", { enabled: false, tiers: { pro: true }, description: "Shown on the admin pages' screenshots", reason: "screenshots" });
});

for (const theme of themes) {
  for (const width of widths) {
    test(`every admin page is accessible and screenshotted, ${theme}, ${width} px`, async ({ page }) => {
      test.setTimeout(120_000);
      await page.setViewportSize({ width, height: 900 });
      await useTheme(page, theme);
      const pages: Array<[string, string]> = [
        ["accounts", "/admin"],
        ["account", "/admin/accounts/demo"],
        ["health", "/admin/health"],
        ["flags", "/admin/flags"],
        ["promo-codes", "/admin/promo-codes"],
        ["audit", "/admin/audit?organization_id=demo"],
      ];
      await signInAdmin(page);
      for (const [name, path] of pages) {
        await page.goto(path);
        await settled(page);
        await expect(page.locator("html")).toHaveClass(theme === "dark" ? /dark/ : /^(?!.*dark)/);
        await expectAccessible(page, `admin ${name} (${theme}, ${width} px)`);
        await screenshot(page, `admin-${name}-${width}-${theme}`);
      }
      // A dialog open: the suspension's confirmation.
      await page.goto("/admin/accounts/demo");
      await settled(page);
      const standing = page.getByRole("region", { name: /Suspend the account|Lift the suspension/ });
      if (await standing.getByRole("button", { name: "Suspend account" }).count()) {
        await standing.getByLabel("Reason").fill("screenshot only");
        await standing.getByRole("button", { name: "Suspend account" }).click();
        await expect(page.getByRole("alertdialog")).toBeVisible();
        await expectAccessible(page, `admin suspend dialog (${theme}, ${width} px)`);
        await screenshot(page, `admin-suspend-dialog-${width}-${theme}`);
        await page.getByRole("button", { name: "Cancel" }).click();
      }
      // Not an admin: the 403 page.
      await page.evaluate(() => window.sessionStorage.clear());
      await page.goto("/_local/sign-in?org=demo&role=owner&next=/admin");
      await expect(page.getByRole("heading", { name: "You don't have access" })).toBeVisible();
      await expectAccessible(page, `admin forbidden (${theme}, ${width} px)`);
      await screenshot(page, `admin-forbidden-${width}-${theme}`);
    });
  }
}
