// axe-core on a page as it stands: serious and critical violations fail the test, with each
// rule and the elements it found named in the message.
import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import path from "node:path";

export async function expectAccessible(page: Page, label: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  const blocking = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const described = blocking.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join("\n    ")}`);
  expect(described, `${label}: axe found ${blocking.length} serious or critical violations`).toEqual([]);
}

export type Theme = "light" | "dark";

/** Sets the theme the way the toggle stores it, before the page loads. */
export async function useTheme(page: Page, theme: Theme): Promise<void> {
  await page.addInitScript((value) => window.localStorage.setItem("billing.theme", value), theme);
}

const shots = path.resolve(process.cwd(), "../.local/web/screenshots");

/** Full-page screenshot, kept with the test output for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}
