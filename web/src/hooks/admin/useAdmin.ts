// The operators' console's API calls: TanStack Query over the generated client, like the
// billing hooks. Every action names its reason; after one succeeds, the account (and the
// customer's own pages' cache) is read again, and the caller finds the audit entry it wrote.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/api/client";
import { findAuditEntry, HEALTH_REFRESH_MS, type AuditSubject } from "@/lib/admin";
import { billingKeys } from "@/hooks/billing/keys";
import type { Page } from "@/hooks/billing/useInvoices";
import { adminKeys, type AccountSearch } from "./keys";

const SECONDS = 1000;

export function useAdminAccounts(search: AccountSearch, cursor?: string, limit = 25) {
  return useQuery({
    queryKey: adminKeys.accounts(search, cursor),
    queryFn: async (): Promise<Page<Schemas["AccountSummary"]>> => {
      const { data, error, response } = await api.GET("/api/billing/admin/accounts", { params: { query: { ...search, cursor, limit } } });
      const items = await unwrap(Promise.resolve({ data, error, response }));
      return { items, nextCursor: response.headers.get("x-next-cursor") };
    },
    placeholderData: keepPreviousData,
    staleTime: 30 * SECONDS,
  });
}

export function useAdminAccount(org: string) {
  return useQuery({
    queryKey: adminKeys.account(org),
    queryFn: () => unwrap(api.GET("/api/billing/admin/accounts/{organization_id}", { params: { path: { organization_id: org } } })),
    staleTime: 15 * SECONDS,
  });
}

/** One audit trail, newest first, a page at a time. */
export function useAudit(subject: AuditSubject | null, cursor?: string, limit = 25) {
  return useQuery({
    queryKey: adminKeys.audit(subject?.kind ?? "", subject?.value ?? "", cursor),
    enabled: subject !== null && subject.value !== "",
    queryFn: async (): Promise<Page<Schemas["AuditEntryResponse"]>> => {
      const query = subject ? { [subject.kind]: subject.value, cursor, limit } : { cursor, limit };
      const { data, error, response } = await api.GET("/api/billing/admin/audit", { params: { query } });
      const items = await unwrap(Promise.resolve({ data, error, response }));
      return { items, nextCursor: response.headers.get("x-next-cursor") };
    },
    placeholderData: keepPreviousData,
    staleTime: 10 * SECONDS,
  });
}

/** The newest entries of a trail, read right after an action to show the entry it wrote. */
export async function latestAudit(subject: AuditSubject, limit = 10): Promise<Schemas["AuditEntryResponse"][]> {
  return unwrap(api.GET("/api/billing/admin/audit", { params: { query: { [subject.kind]: subject.value, limit } } }));
}

export function useFlags() {
  return useQuery({
    queryKey: adminKeys.flags,
    queryFn: () => unwrap(api.GET("/api/billing/admin/flags")),
    staleTime: 30 * SECONDS,
  });
}

export function usePromoCodes() {
  return useQuery({
    queryKey: adminKeys.promoCodes,
    queryFn: () => unwrap(api.GET("/api/billing/admin/promo-codes")),
    staleTime: 30 * SECONDS,
  });
}

/** Asks again every ~10 s while the page is open (and not when the tab is hidden). */
export function useHealth() {
  return useQuery({
    queryKey: adminKeys.health,
    queryFn: () => unwrap(api.GET("/api/billing/admin/health")),
    refetchInterval: HEALTH_REFRESH_MS,
    staleTime: 0,
  });
}

/** Refreshes the operator's view of the account and the customer's pages' data for it. */
function useRefreshAccount() {
  const client = useQueryClient();
  return (org: string) =>
    Promise.all([
      client.invalidateQueries({ queryKey: adminKeys.account(org) }),
      client.invalidateQueries({ queryKey: ["admin", "audit", "organization_id", org] }),
      client.invalidateQueries({ queryKey: ["admin", "accounts"] }),
      client.invalidateQueries({ queryKey: billingKeys.all(org) }),
    ]);
}

export type AccountAction =
  | { kind: "suspend"; reason: string }
  | { kind: "unsuspend"; reason: string }
  | { kind: "credits"; amountUsd: number; reason: string; key: string }
  | { kind: "limits"; body: Schemas["LimitsRequest"] }
  | { kind: "flag"; flag: string; enabled: boolean | null; reason: string }
  | { kind: "void"; invoiceId: string; rebill: boolean; reason: string }
  | { kind: "uncollectible"; invoiceId: string; reason: string };

export type AccountActionResult =
  | { kind: "standing"; body: Schemas["AccountStandingResponse"] }
  | { kind: "credits"; body: Schemas["CreditGrantResponse"] }
  | { kind: "limits"; body: Schemas["LimitsResponse"] }
  | { kind: "flag"; body: Schemas["OrganizationFlagResponse"] }
  | { kind: "invoice"; body: Schemas["InvoiceActionResponse"] };

async function perform(org: string, action: AccountAction): Promise<AccountActionResult> {
  const path = { organization_id: org };
  switch (action.kind) {
    case "suspend":
      return { kind: "standing", body: await unwrap(api.POST("/api/billing/admin/accounts/{organization_id}/suspend", { params: { path }, body: { reason: action.reason } })) };
    case "unsuspend":
      return { kind: "standing", body: await unwrap(api.POST("/api/billing/admin/accounts/{organization_id}/unsuspend", { params: { path }, body: { reason: action.reason } })) };
    case "credits":
      return {
        kind: "credits",
        body: await unwrap(
          api.POST("/api/billing/admin/accounts/{organization_id}/credits", {
            params: { path, header: { "Idempotency-Key": action.key } },
            body: { amount_usd: action.amountUsd, reason: action.reason },
          }),
        ),
      };
    case "limits":
      return { kind: "limits", body: await unwrap(api.PUT("/api/billing/admin/accounts/{organization_id}/limits", { params: { path }, body: action.body })) };
    case "flag":
      return {
        kind: "flag",
        body: await unwrap(
          api.PUT("/api/billing/admin/accounts/{organization_id}/flags/{flag}", {
            params: { path: { organization_id: org, flag: action.flag } },
            body: { enabled: action.enabled, reason: action.reason },
          }),
        ),
      };
    case "void":
      return {
        kind: "invoice",
        body: await unwrap(
          api.POST("/api/billing/admin/invoices/{invoice_id}/void", {
            params: { path: { invoice_id: action.invoiceId } },
            body: { reason: action.reason, rebill_usage: action.rebill },
          }),
        ),
      };
    case "uncollectible":
      return {
        kind: "invoice",
        body: await unwrap(
          api.POST("/api/billing/admin/invoices/{invoice_id}/uncollectible", { params: { path: { invoice_id: action.invoiceId } }, body: { reason: action.reason } }),
        ),
      };
  }
}

/** The audit action each account action writes (credits: granted or removed by the sign). */
export function auditActionOf(action: AccountAction): string {
  switch (action.kind) {
    case "suspend":
      return "account_suspended";
    case "unsuspend":
      return "account_unsuspended";
    case "credits":
      return action.amountUsd > 0 ? "credits_granted" : "credits_removed";
    case "limits":
      return "limits_overridden";
    case "flag":
      return "flag_overridden";
    case "void":
      return "invoice_voided";
    case "uncollectible":
      return "invoice_marked_uncollectible";
  }
}

export function reasonOf(action: AccountAction): string {
  return action.kind === "limits" ? (action.body.reason ?? "") : action.reason;
}

export interface ActionOutcome {
  result: AccountActionResult;
  audit: Schemas["AuditEntryResponse"] | null;
}

/** Runs an action on the account, then finds the audit entry it wrote. */
export function useAccountAction(org: string) {
  const refresh = useRefreshAccount();
  return useMutation({
    mutationFn: async (action: AccountAction): Promise<ActionOutcome> => {
      const since = Date.now();
      const result = await perform(org, action);
      const entries = await latestAudit({ kind: "organization_id", value: org });
      const audit = findAuditEntry(entries, {
        action: auditActionOf(action),
        reason: reasonOf(action),
        since,
        flag: action.kind === "flag" ? action.flag : undefined,
      });
      return { result, audit };
    },
    onSettled: () => refresh(org),
  });
}

export function useSetFlag() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ flag, body }: { flag: string; body: Schemas["FlagRequest"] }) => {
      const since = Date.now();
      const saved = await unwrap(api.PUT("/api/billing/admin/flags/{flag}", { params: { path: { flag } }, body }));
      const entries = await latestAudit({ kind: "flag", value: flag });
      const audit = findAuditEntry(entries, { action: ["flag_defined", "flag_changed"], reason: body.reason ?? "", since });
      return { saved, audit };
    },
    onSettled: () => client.invalidateQueries({ queryKey: ["admin"] }),
  });
}

export function useCreatePromoCode() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas["PromoCodeRequest"]) => unwrap(api.POST("/api/billing/admin/promo-codes", { body })),
    onSettled: () => client.invalidateQueries({ queryKey: adminKeys.promoCodes }),
  });
}

export function useDeactivatePromoCode() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (code: string) => unwrap(api.POST("/api/billing/admin/promo-codes/{code}/deactivate", { params: { path: { code } } })),
    onSettled: () => client.invalidateQueries({ queryKey: adminKeys.promoCodes }),
  });
}

export function useRedrive() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ queue, reason }: { queue: string; reason: string }) =>
      unwrap(api.POST("/api/billing/admin/queues/{queue}/redrive", { params: { path: { queue } }, body: { reason } })),
    onSettled: () => Promise.all([client.invalidateQueries({ queryKey: adminKeys.health }), client.invalidateQueries({ queryKey: ["admin", "audit", "queue"] })]),
  });
}
