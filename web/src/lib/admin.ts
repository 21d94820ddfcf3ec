// The operators' console's rules, kept apart from the pages so they are tested alone:
// what counts as a problem on the health page, how a form's expiry and amount are read,
// which audit entry an action wrote, and what an audit entry changed.
import type { Schemas } from "@/api/client";

/** A queue whose oldest message has waited longer than this is falling behind. */
export const QUEUE_AGE_WARN_SECONDS = 300;
/** The health page asks again this often while it is open. */
export const HEALTH_REFRESH_MS = 10_000;

export type Severity = "ok" | "warning" | "problem";

export function queueSeverity(queue: Schemas["QueueHealth"]): Severity {
  if (queue.error) return "problem";
  if (queue.dead_letter_queue) return (queue.visible ?? 0) + (queue.in_flight ?? 0) + (queue.delayed ?? 0) > 0 ? "problem" : "ok";
  if ((queue.oldest_message_age_seconds ?? 0) > QUEUE_AGE_WARN_SECONDS) return "warning";
  return "ok";
}

export function scheduleSeverity(schedule: Schemas["ScheduleHealth"]): Severity {
  if (schedule.outcome === "ok") return "ok";
  if (schedule.outcome === "never") return "warning";
  return "problem";
}

export function stripeSeverity(stripe: Schemas["StripeHealth"]): Severity {
  if (stripe.status === "ok") return "ok";
  return stripe.status === "not_configured" ? "warning" : "problem";
}

export function tableSeverity(table: Schemas["TableHealth"]): Severity {
  return table.status === "ACTIVE" ? "ok" : "problem";
}

/** How many parts of the system need an operator now (problems, not warnings). */
export function problemCount(health: Schemas["HealthResponse"]): number {
  const all: Severity[] = [
    ...health.queues.map(queueSeverity),
    ...health.schedules.map(scheduleSeverity),
    stripeSeverity(health.stripe),
    tableSeverity(health.table),
  ];
  return all.filter((s) => s === "problem").length;
}

/** A dead-letter queue's messages, whatever state SQS counts them in. */
export function dlqDepth(queue: Schemas["QueueHealth"]): number {
  return (queue.visible ?? 0) + (queue.in_flight ?? 0) + (queue.delayed ?? 0);
}

/** Seconds from `iso` to `now` (never negative); `null` for a missing or bad date. */
export function ageSeconds(iso: string | null | undefined, now = Date.now()): number | null {
  if (!iso) return null;
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.floor((now - at) / 1000));
}

/** A `datetime-local` input's value (the viewer's time zone) as an ISO instant; `null` if empty or invalid. */
export function localInputToIso(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** An ISO instant as a `datetime-local` value in the viewer's time zone (minutes). */
export function isoToLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  const seconds = date.getSeconds() ? `:${pad(date.getSeconds())}` : "";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}${seconds}`;
}

export type AmountCheck = { ok: true; value: number } | { ok: false; error: "required" | "invalid" | "zero" | "precision" };

/** A signed USD amount typed by an operator: a grant (positive) or a removal (negative), cents at most. */
export function parseSignedUsd(text: string): AmountCheck {
  const trimmed = text.trim();
  if (!trimmed) return { ok: false, error: "required" };
  if (!/^[-+]?\d+(\.\d+)?$/.test(trimmed)) return { ok: false, error: "invalid" };
  if (/\.\d{3,}$/.test(trimmed)) return { ok: false, error: "precision" };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { ok: false, error: "invalid" };
  if (value === 0) return { ok: false, error: "zero" };
  return { ok: true, value };
}

/** A reason the API will take: something other than blanks, at most 500 characters. */
export function reasonError(reason: string): "required" | "tooLong" | null {
  const trimmed = reason.trim();
  if (!trimmed) return "required";
  return trimmed.length > 500 ? "tooLong" : null;
}

/**
 * The audit entry an action just wrote: the newest with that action and reason, at or after
 * the moment the form was sent (the trail is newest first). The answers of the action routes
 * do not name their entry, so the console reads the trail and finds it.
 */
export function findAuditEntry(
  entries: Schemas["AuditEntryResponse"][],
  match: { action: string | readonly string[]; reason: string; since: number; flag?: string },
): Schemas["AuditEntryResponse"] | null {
  const actions = typeof match.action === "string" ? [match.action] : match.action;
  // A little slack for a clock on the server a moment behind the browser's.
  const since = match.since - 5_000;
  return (
    entries.find(
      (e) =>
        actions.includes(e.action) &&
        e.reason === match.reason.trim() &&
        Date.parse(e.at) >= since &&
        (match.flag === undefined || e.flag === match.flag),
    ) ?? null
  );
}

export interface Change {
  field: string;
  before: string;
  after: string;
}

function flatten(value: unknown, prefix: string, into: Map<string, string>): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) into.set(prefix, "{}");
    for (const [key, inner] of entries) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
    return;
  }
  if (prefix || value !== null) into.set(prefix || "value", value === undefined || value === null ? "—" : typeof value === "string" ? value : JSON.stringify(value));
}

/** What an audit entry changed, field by field (nested objects as dotted paths); unchanged fields are left out. */
export function auditChanges(before: unknown, after: unknown): Change[] {
  const b = new Map<string, string>();
  const a = new Map<string, string>();
  flatten(before, "", b);
  flatten(after, "", a);
  const fields = [...new Set([...b.keys(), ...a.keys()])].sort();
  return fields
    .map((field) => ({ field, before: b.get(field) ?? "—", after: a.get(field) ?? "—" }))
    .filter((change) => change.before !== change.after);
}

/** Which of the three trails an audit query reads. */
export type AuditSubject = { kind: "organization_id" | "flag" | "queue"; value: string };
