// The health page lists every queue and schedule the template declares, says when something
// is wrong in colour and words, refreshes on its own, and redrives a dead-letter queue with a
// reason and a confirmation: the message goes back and is processed, and the redrive is audited.
import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { freshAccount, sendToQueue, signInAdmin, templateResources, usageDeadLetterQueueUrl } from "./support/admin";
import { ok, tokens, type Schemas } from "./support/stack";

test("health lists every queue and schedule of the template", async ({ page }) => {
  const { queues, schedules } = templateResources();
  expect(queues.length).toBeGreaterThan(0);
  expect(schedules.length).toBeGreaterThan(0);
  await signInAdmin(page, "/admin/health");
  await expect(page.getByRole("heading", { level: 1, name: "System health" })).toBeVisible();
  const all = page.getByRole("table", { name: /^(Queues|Dead-letter queues)$/ });
  for (const queue of queues) await expect(all.getByRole("rowheader", { name: new RegExp(`^${queue}\\b`) })).toBeVisible();
  const jobs = page.getByRole("table", { name: "Schedules" });
  for (const job of schedules) await expect(jobs.getByRole("rowheader", { name: job, exact: true })).toBeVisible();
  await expect(page.getByText(/Stripe: (ok|not_configured|unreachable)/)).toBeVisible();
  await expect(page.getByText("Table: ACTIVE")).toBeVisible();
  // It asks again on its own while open.
  const first = await page.getByText(/^Checked /).textContent();
  await expect.poll(async () => page.getByText(/^Checked /).textContent(), { timeout: 25_000 }).not.toBe(first);
});

test("a dead-lettered message shows up as a problem and is redriven, with a reason, and audited", async ({ page }) => {
  test.setTimeout(120_000);
  // A run whose completion message was dead-lettered: redriving it commits the run.
  const org = await freshAccount("dlq");
  const run = `run-${randomUUID()}`;
  await ok(tokens.service(), "POST", `/api/billing/internal/quota/${org}/reservations`, { run_id: run, kind: "standard" });
  await sendToQueue(usageDeadLetterQueueUrl(), JSON.stringify({ type: "run_completed", event_id: `evt-${run}`, organization_id: org, run_id: run }));

  await signInAdmin(page, "/admin/health");
  const dlqs = page.getByRole("table", { name: "Dead-letter queues" });
  const row = dlqs.getByRole("row", { name: /UsageDeadLetterQueue/ });
  await expect(row).toContainText("Messages dead-lettered");
  await expect(page.getByText(/problem\(s\) need an operator/)).toBeVisible();

  const redrive = page.getByRole("region", { name: "Redrive a dead-letter queue" });
  await redrive.getByLabel("Dead-letter queue").selectOption("usage-dlq");
  await redrive.getByLabel("Reason").fill("consumer fixed");
  await redrive.getByRole("button", { name: "Redrive usage-dlq" }).click();
  const confirm = page.getByRole("alertdialog", { name: "Redrive usage-dlq?" });
  await expect(confirm).toContainText(/About \d+ message\(s\) go back from usage-dlq/);
  await confirm.getByRole("button", { name: "Redrive" }).click();
  await expect(redrive.getByText(/^\d+ moved back to UsageQueue, 0 failed$/)).toBeVisible();
  await expect(row).toContainText("OK");

  // The consumer applied it: the run is committed.
  await expect
    .poll(async () => (await ok<Schemas["AccountDetailResponse"]>(tokens.admin(), "GET", `/api/billing/admin/accounts/${org}`)).account.total_workflows_completed, {
      timeout: 30_000,
    })
    .toBe(1);

  // The queue's trail has the redrive with its reason.
  await redrive.getByRole("link", { name: /Audit entry .* in the queue's trail/ }).click();
  const trail = page.getByRole("table", { name: /A queue: UsageDeadLetterQueue/ });
  await expect(trail.getByRole("row").nth(1)).toContainText("Queue redriven");
  await expect(trail.getByRole("row").nth(1)).toContainText("consumer fixed");
});
