import { describe, expect, it } from "vitest";
import type { Schemas } from "@/api/client";
import {
  ageSeconds,
  auditChanges,
  dlqDepth,
  findAuditEntry,
  isoToLocalInput,
  localInputToIso,
  parseSignedUsd,
  problemCount,
  queueSeverity,
  reasonError,
  scheduleSeverity,
  stripeSeverity,
  tableSeverity,
} from "./admin";

const queue = (over: Partial<Schemas["QueueHealth"]>): Schemas["QueueHealth"] => ({
  name: "UsageQueue",
  alias: "usage",
  dead_letter_queue: false,
  redrives_to: null,
  visible: 0,
  in_flight: 0,
  delayed: 0,
  oldest_message_age_seconds: null,
  error: null,
  ...over,
});

const entry = (over: Partial<Schemas["AuditEntryResponse"]>): Schemas["AuditEntryResponse"] => ({
  id: "a1",
  action: "account_suspended",
  actor: "operator",
  reason: "fraud review",
  at: "2026-12-07T10:00:00Z",
  before: {},
  after: {},
  ...over,
});

describe("health", () => {
  it("a dead-letter queue with any message is a problem; an empty one is fine", () => {
    expect(queueSeverity(queue({ dead_letter_queue: true, visible: 1 }))).toBe("problem");
    expect(queueSeverity(queue({ dead_letter_queue: true, in_flight: 2 }))).toBe("problem");
    expect(queueSeverity(queue({ dead_letter_queue: true }))).toBe("ok");
    expect(dlqDepth(queue({ visible: 1, in_flight: 2, delayed: 3 }))).toBe(6);
  });
  it("a queue SQS cannot answer for is a problem; an old message a warning", () => {
    expect(queueSeverity(queue({ error: "timeout", visible: null }))).toBe("problem");
    expect(queueSeverity(queue({ oldest_message_age_seconds: 301 }))).toBe("warning");
    expect(queueSeverity(queue({ oldest_message_age_seconds: 30 }))).toBe("ok");
  });
  it("schedules, Stripe and the table", () => {
    const schedule = { job: "expire-holds", started_at: null, finished_at: null, last_ok_at: null, error: null };
    expect(scheduleSeverity({ ...schedule, outcome: "ok" })).toBe("ok");
    expect(scheduleSeverity({ ...schedule, outcome: "never" })).toBe("warning");
    expect(scheduleSeverity({ ...schedule, outcome: "error" })).toBe("problem");
    expect(stripeSeverity({ status: "unreachable" })).toBe("problem");
    expect(stripeSeverity({ status: "not_configured" })).toBe("warning");
    expect(tableSeverity({ status: "ACTIVE" })).toBe("ok");
    expect(tableSeverity({ status: "unreachable" })).toBe("problem");
    expect(
      problemCount({
        checked_at: "2026-12-07T10:00:00Z",
        queues: [queue({}), queue({ dead_letter_queue: true, visible: 3 })],
        schedules: [{ ...schedule, outcome: "error" }],
        stripe: { status: "ok" },
        table: { status: "ACTIVE" },
      }),
    ).toBe(2);
  });
});

describe("forms", () => {
  it("reads signed dollar amounts with cents at most", () => {
    expect(parseSignedUsd("25")).toEqual({ ok: true, value: 25 });
    expect(parseSignedUsd("-10.50")).toEqual({ ok: true, value: -10.5 });
    expect(parseSignedUsd("")).toEqual({ ok: false, error: "required" });
    expect(parseSignedUsd("0")).toEqual({ ok: false, error: "zero" });
    expect(parseSignedUsd("1.234")).toEqual({ ok: false, error: "precision" });
    expect(parseSignedUsd("ten")).toEqual({ ok: false, error: "invalid" });
  });
  it("needs a reason", () => {
    expect(reasonError("  ")).toBe("required");
    expect(reasonError("x".repeat(501))).toBe("tooLong");
    expect(reasonError("goodwill")).toBeNull();
  });
  it("turns a local date-time into an instant and back", () => {
    const iso = localInputToIso("2026-12-07T10:30");
    expect(iso).not.toBeNull();
    expect(isoToLocalInput(iso)).toBe("2026-12-07T10:30");
    expect(localInputToIso("")).toBeNull();
    expect(localInputToIso("nonsense")).toBeNull();
  });
  it("ages", () => {
    expect(ageSeconds("2026-12-07T10:00:00Z", Date.parse("2026-12-07T10:01:30Z"))).toBe(90);
    expect(ageSeconds(null)).toBeNull();
  });
});

describe("the audit trail", () => {
  it("finds the entry an action wrote: newest with that action and reason since the form was sent", () => {
    const since = Date.parse("2026-12-07T10:00:00Z");
    const entries = [
      entry({ id: "new", at: "2026-12-07T10:00:01Z" }),
      entry({ id: "other", action: "account_unsuspended", at: "2026-12-07T10:00:02Z" }),
      entry({ id: "old", at: "2026-12-07T09:00:00Z" }),
    ];
    expect(findAuditEntry(entries, { action: "account_suspended", reason: "fraud review ", since })?.id).toBe("new");
    expect(findAuditEntry(entries, { action: ["credits_granted", "credits_removed"], reason: "fraud review", since })).toBeNull();
    expect(findAuditEntry(entries.slice(2), { action: "account_suspended", reason: "fraud review", since })).toBeNull();
  });
  it("lists what changed, nested fields by path", () => {
    expect(
      auditChanges({ status: "active", suspension_note: null, limits: { a: 1 } }, { status: "suspended", suspension_note: "why", limits: { a: 1 } }),
    ).toEqual([
      { field: "status", before: "active", after: "suspended" },
      { field: "suspension_note", before: "—", after: "why" },
    ]);
    expect(auditChanges(null, { enabled: true })).toEqual([{ field: "enabled", before: "—", after: "true" }]);
    expect(auditChanges({ enabled: true }, { enabled: true })).toEqual([]);
  });
});
