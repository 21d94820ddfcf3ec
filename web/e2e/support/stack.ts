// The local stack as the browser tests see it: its URL and secrets (from the local server's
// dev.env), tokens minted the way the dev sign-in mints them, and the API for setting up data.
// Data goes in through the API; the UI is driven only for the behaviour under test.
import { createHmac, randomUUID } from "node:crypto";
import { expect, type Page } from "@playwright/test";
import type { components } from "../../src/api/schema";

/** The API's shapes, generated from the served OpenAPI document, for the tests too. */
export type Schemas = components["schemas"];

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (source the local server's dev.env)`);
  return value;
}

export const BASE = () => env("BILLING_URL");

const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64url");

/** An HS256 token as `DevTokens` mints it: issuer, audience, a 12-hour expiry, extra claims. */
export function mint(subject: string, claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64(JSON.stringify({ sub: subject, iss: env("DEV_JWT_ISSUER"), aud: env("DEV_JWT_AUDIENCE"), iat: now, exp: now + 12 * 3600, ...claims }));
  const signature = createHmac("sha256", env("DEV_JWT_SECRET")).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

export type Role = "owner" | "billing_admin" | "member";

export const tokens = {
  user: (org: string, role: Role) => mint(`${role}-${org}`, role === "member" ? { org_id: org } : { org_id: org, org_role: role }),
  admin: () => mint("operator", { groups: ["billing-admin"] }),
  service: () => mint("workflow-engine", { groups: ["billing-service"] }),
};

/** A fresh organization per test, so tests run in parallel and never see each other's data. */
export function newOrg(prefix = "e2e"): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = unknown>(token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const response = await fetch(`${BASE()}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** Like `call`, but the answer must be a success. */
export async function ok<T = unknown>(token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const answer = await call<T>(token, method, path, body, headers);
  expect(answer.status, `${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`).toBeLessThan(300);
  return answer.body;
}

/** A workflow run through the internal quota API, as the workflow engine makes one. */
export async function runWorkflow(org: string, kind: "standard" | "complex" = "standard"): Promise<string> {
  const run = `run-${randomUUID()}`;
  await ok(tokens.service(), "POST", `/api/billing/internal/quota/${org}/reservations`, { run_id: run, kind });
  await ok(tokens.service(), "POST", `/api/billing/internal/quota/${org}/reservations/${run}/commit`, {});
  return run;
}

/** Signs the browser in through the local dev sign-in and lands on `next`. */
export async function signIn(page: Page, org: string, role: Role, next = "/billing", admin = false): Promise<void> {
  const query = new URLSearchParams({ org, role, next });
  if (admin) query.set("admin", "1");
  await page.goto(`/_local/sign-in?${query}`);
  await expect(page).not.toHaveURL(/access_token/);
}
