import { defineConfig } from "@playwright/test";

// Runs against a local server started by `infra/local/web-test.sh` (a private emulator stack),
// in Debian's Chromium: Playwright never downloads a browser here.
const baseURL = process.env.BILLING_URL;
if (!baseURL) throw new Error("BILLING_URL is not set: run the browser tests through `make test` or `make web-test`");

export default defineConfig({
  testDir: "./e2e",
  outputDir: "../.local/web/test-results",
  fullyParallel: true,
  // Two cores run the server, DynamoDB Local and the browsers; more workers only queue.
  workers: process.env.CI ? 2 : 2,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"], ["html", { outputFolder: "../.local/web/report", open: "never" }]],
  use: {
    baseURL,
    viewport: { width: 1280, height: 800 },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // As root in CI; no network beyond loopback, so none of Chromium's background calls.
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
});
