// The one way the pages talk to the API: openapi-fetch over the types generated from the
// document the server serves (`schema.d.ts`, checked fresh by `make test`). Every answer is
// either the typed body or an `ApiError` carrying the API's own `{detail, code}`.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { currentSession } from "@/auth/session";

export type Schemas = components["schemas"];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    /** Response headers, e.g. a 402's hosted invoice URL or a 429's Retry-After. */
    readonly headers?: Headers,
    readonly body?: unknown,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const session = currentSession();
    if (session) request.headers.set("authorization", `Bearer ${session.token}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function describe(error: unknown, response: Response): ApiError {
  if (error && typeof error === "object") {
    const body = error as { detail?: unknown; code?: unknown; message?: unknown };
    if (typeof body.detail === "string") {
      return new ApiError(response.status, typeof body.code === "string" ? body.code : "error", body.detail, response.headers, error);
    }
    // API Gateway's own refusals (`{"message": "Unauthorized"}`) come before any function.
    if (typeof body.message === "string") {
      return new ApiError(response.status, response.status === 401 ? "unauthorized" : "gateway", body.message, response.headers, error);
    }
  }
  return new ApiError(response.status, "error", response.statusText || `HTTP ${response.status}`, response.headers, error);
}

/** The body of a successful answer, or the API's refusal as an `ApiError`. */
export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch (cause) {
    throw new ApiError(0, "network", cause instanceof Error ? cause.message : String(cause));
  }
  if (outcome.error !== undefined || !outcome.response.ok) throw describe(outcome.error, outcome.response);
  return outcome.data as T;
}

/** A fresh key per submitted form: a double click or a retry of the same submission applies once. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/**
 * Downloads a CSV export with the session's token (a plain link could not carry it), following
 * the `x-next-cursor` pages up to `maxPages`, and hands it to the browser as a file.
 */
export async function downloadCsv(path: string, query: Record<string, string | undefined>, filename: string, maxPages = 20): Promise<void> {
  const session = currentSession();
  const chunks: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...query, cursor })) if (v !== undefined && v !== "") params.set(k, v);
    const response = await fetch(`${path}?${params}`, { headers: session ? { authorization: `Bearer ${session.token}` } : {} });
    if (!response.ok) {
      let body: unknown = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      throw describe(body, response);
    }
    const text = await response.text();
    // Every page starts with the header row (field names, never a line break); keep it once.
    chunks.push(page === 0 ? text : text.slice(text.indexOf("\n") + 1));
    cursor = response.headers.get("x-next-cursor") ?? undefined;
    if (!cursor) break;
  }
  const blob = new Blob(chunks, { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
