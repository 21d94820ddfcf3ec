// The operators' console in the browser tests: signing in as a platform admin, an account to
// act on, and what the template declares (queues, schedules) for the health page to list.
import { expect, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { newOrg, ok, tokens } from "./stack";

/** Signs in through the local dev sign-in as a platform admin without an organization. */
export async function signInAdmin(page: Page, next = "/admin"): Promise<void> {
  await page.goto(`/_local/sign-in?${new URLSearchParams({ admin: "1", next })}`);
  await expect(page).not.toHaveURL(/access_token/);
}

/** A fresh organization with its billing account (created by the owner's first visit). */
export async function freshAccount(prefix = "adm"): Promise<string> {
  const org = newOrg(prefix);
  await ok(tokens.user(org, "owner"), "GET", `/api/billing/account/${org}`);
  return org;
}

/** The template's SQS queues (logical ids) and the functions EventBridge Scheduler runs (binaries). */
export function templateResources(): { queues: string[]; schedules: string[] } {
  const text = readFileSync(path.resolve(process.cwd(), "../template.yaml"), "utf8");
  const queues: string[] = [];
  const schedules: string[] = [];
  let resource = "";
  let binary = "";
  for (const line of text.split("\n")) {
    const top = /^ {2}([A-Za-z0-9]+):\s*$/.exec(line);
    if (top?.[1]) {
      resource = top[1];
      binary = "";
      continue;
    }
    if (/^\s+Type: AWS::SQS::Queue\s*$/.test(line)) queues.push(resource);
    const bin = /^\s+Binary: (\S+)\s*$/.exec(line);
    if (bin?.[1]) binary = bin[1];
    if (/^\s+Type: ScheduleV2\s*$/.test(line) && binary && !schedules.includes(binary)) schedules.push(binary);
  }
  return { queues, schedules };
}

/**
 * Puts a message on a queue of the local stack (moto), as SQS's query protocol takes it. moto
 * routes by the service named in the authorization header and does not check the signature.
 */
export async function sendToQueue(queueUrl: string, body: string): Promise<void> {
  const response = await fetch(queueUrl, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: new URLSearchParams({ Action: "SendMessage", MessageBody: body }).toString(),
  });
  expect(response.status, await response.text()).toBe(200);
}

/** The usage dead-letter queue's URL, beside the usage queue's in the local server's dev.env. */
export function usageDeadLetterQueueUrl(): string {
  const url = process.env.USAGE_QUEUE_URL;
  if (!url) throw new Error("USAGE_QUEUE_URL is not set (source the local server's dev.env)");
  return url.replace(/UsageQueue$/, "UsageDeadLetterQueue");
}
