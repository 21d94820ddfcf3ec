// `make web-bench`, part one: what the billing page costs a browser on its first load, in
// Debian's Chromium against a running local server (BILLING_URL): the JavaScript and CSS it
// downloads (raw and gzip -9, as CloudFront's compression would serve them), the API requests
// it makes and how deep their chain is (a request started only after another answered).
// Prints a Markdown table. Signs in as the demo organization's owner through the dev sign-in.
import { chromium } from "@playwright/test";
import { gzipSync } from "node:zlib";

const base = process.env.BILLING_URL;
if (!base) throw new Error("BILLING_URL is not set: source the local server's dev.env");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
// Sign in once to get a token, then load the billing page in a fresh context (an empty cache).
const signIn = await browser.newPage();
await signIn.goto(`${base}/_local/sign-in?org=demo&role=owner`);
await signIn.waitForURL(/\/billing/);
const token = await signIn.evaluate(() => window.sessionStorage.getItem("billing.access_token"));
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
await context.addInitScript((value) => window.sessionStorage.setItem("billing.access_token", value), token);
const page = await context.newPage();
const assets = [];
const api = [];
const pending = [];
page.on("requestfinished", (request) => {
  pending.push((async () => {
    const url = new URL(request.url());
    const timing = request.timing();
    if (url.pathname.startsWith("/api/")) {
      api.push({ path: `${url.pathname}${url.search}`, start: timing.startTime, end: timing.startTime + timing.responseEnd });
    } else if (/\.(js|css)$/.test(url.pathname)) {
      const response = await request.response();
      const body = response ? await response.body() : Buffer.alloc(0);
      assets.push({ path: url.pathname, raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
    }
  })());
});
await page.goto(`${base}/billing`);
await page.getByTestId("current-tier").waitFor();
await page.waitForLoadState("networkidle");
await Promise.all(pending);
await browser.close();

// A request's depth: 1 if it started before any API answer came back, else one more than the
// deepest request that had answered when it started.
const sorted = [...api].sort((a, b) => a.start - b.start);
const depth = new Map();
for (const request of sorted) {
  const before = sorted.filter((other) => other.end <= request.start);
  depth.set(request, before.length === 0 ? 1 : 1 + Math.max(...before.map((other) => depth.get(other) ?? 1)));
}
const kb = (n) => (n / 1024).toFixed(1);
const js = assets.filter((a) => a.path.endsWith(".js"));
const css = assets.filter((a) => a.path.endsWith(".css"));
const sum = (list, key) => list.reduce((total, a) => total + a[key], 0);
console.log("| first load of /billing (demo, 1280 px) | value |\n|---|---|");
console.log(`| JavaScript files | ${js.length} |`);
console.log(`| JavaScript, raw / gzip | ${kb(sum(js, "raw"))} KB / ${kb(sum(js, "gzip"))} KB |`);
console.log(`| CSS, raw / gzip | ${kb(sum(css, "raw"))} KB / ${kb(sum(css, "gzip"))} KB |`);
console.log(`| API requests | ${api.length} |`);
console.log(`| deepest request chain | ${Math.max(0, ...depth.values())} |`);
for (const request of sorted) console.log(`| · ${request.path} | depth ${depth.get(request)} |`);
