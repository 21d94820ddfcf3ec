// Every page, light and dark, at 1280 and 390 px: axe-core finds no serious or critical
// violation, and a full-page screenshot is written for a person to look at
// (.local/web/screenshots/<page>-<width>-<theme>.png). The demo organization's seeded
// history makes the pages look as they will in use; these visits change nothing.
import { expect, test, type Page } from "@playwright/test";
import { expectAccessible, screenshot, useTheme, type Theme } from "./support/a11y";
import { newOrg, ok, signIn, tokens, type Schemas } from "./support/stack";

const widths = [1280, 390] as const;
const themes: Theme[] = ["light", "dark"];

/** Everything loaded, the panels below the fold too (they load when scrolled to). */
async function settled(page: Page) {
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await expect(page.locator("[data-loading]")).toHaveCount(0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
}

for (const theme of themes) {
  for (const width of widths) {
    test(`every billing page is accessible and screenshotted, ${theme}, ${width} px`, async ({ page }) => {
      test.setTimeout(120_000);
      await page.setViewportSize({ width, height: 900 });
      await useTheme(page, theme);
      const invoices = await ok<Schemas["InvoiceResponse"][]>(tokens.user("demo", "member"), "GET", "/api/billing/account/demo/invoices?limit=1");
      const pages: Array<[string, string]> = [
        ["overview", "/billing"],
        ["usage", "/billing/usage"],
        ["plan", "/billing/plan"],
        ["invoices", "/billing/invoices"],
        ["payment-methods", "/billing/payment-methods"],
        ["settings", "/billing/settings"],
        ["checkout-cancel", "/billing/cancel"],
        ["checkout-success", "/billing/success"],
      ];
      if (invoices[0]) pages.push(["invoice", `/billing/invoices/${invoices[0].id}`]);
      await signIn(page, "demo", "owner");
      for (const [name, path] of pages) {
        await page.goto(path);
        await settled(page);
        await expect(page.locator("html")).toHaveClass(theme === "dark" ? /dark/ : /^(?!.*dark)/);
        await expectAccessible(page, `${name} (${theme}, ${width} px)`);
        await screenshot(page, `${name}-${width}-${theme}`);
      }
      // The pages a visitor meets before and around the dashboard.
      const stranger = newOrg();
      await page.goto(`/billing?org=${stranger}`);
      await expect(page.getByRole("heading", { name: "You don't have access" })).toBeVisible();
      await expectAccessible(page, `forbidden (${theme}, ${width} px)`);
      await screenshot(page, `forbidden-${width}-${theme}`);
      await page.goto("/no/such/page");
      await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
      await expectAccessible(page, `not found (${theme}, ${width} px)`);
      await screenshot(page, `not-found-${width}-${theme}`);
      await page.evaluate(() => window.sessionStorage.clear());
      await page.goto("/billing");
      await expect(page.getByRole("heading", { name: "Sign in to see your billing" })).toBeVisible();
      await expectAccessible(page, `sign-in (${theme}, ${width} px)`);
      await screenshot(page, `sign-in-${width}-${theme}`);
    });
  }
}
