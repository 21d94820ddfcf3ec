import { describe, expect, it } from "vitest";
import { auditActionOf, reasonOf } from "./useAdmin";

describe("each account action and the audit entry it writes", () => {
  it("names the entry's action, credits by their sign", () => {
    expect(auditActionOf({ kind: "suspend", reason: "r" })).toBe("account_suspended");
    expect(auditActionOf({ kind: "unsuspend", reason: "r" })).toBe("account_unsuspended");
    expect(auditActionOf({ kind: "credits", amountUsd: 5, reason: "r", key: "k" })).toBe("credits_granted");
    expect(auditActionOf({ kind: "credits", amountUsd: -5, reason: "r", key: "k" })).toBe("credits_removed");
    expect(auditActionOf({ kind: "limits", body: { reason: "r" } })).toBe("limits_overridden");
    expect(auditActionOf({ kind: "flag", flag: "f", enabled: null, reason: "r" })).toBe("flag_overridden");
    expect(auditActionOf({ kind: "void", invoiceId: "i", rebill: true, reason: "r" })).toBe("invoice_voided");
    expect(auditActionOf({ kind: "uncollectible", invoiceId: "i", reason: "r" })).toBe("invoice_marked_uncollectible");
  });
  it("reads the reason wherever the action keeps it", () => {
    expect(reasonOf({ kind: "limits", body: { reason: "launch" } })).toBe("launch");
    expect(reasonOf({ kind: "limits", body: {} })).toBe("");
    expect(reasonOf({ kind: "suspend", reason: "fraud" })).toBe("fraud");
  });
});
