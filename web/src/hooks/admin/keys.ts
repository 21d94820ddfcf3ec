// Query keys of the operators' console: one tree, so an action refreshes what it changed.
export interface AccountSearch {
  organization_id_prefix?: string;
  status?: "pending" | "active" | "suspended";
  tier?: string;
  billing_email?: string;
  stripe_customer_id?: string;
}

export const adminKeys = {
  all: ["admin"] as const,
  accounts: (search: AccountSearch, cursor?: string) => ["admin", "accounts", search, cursor ?? ""] as const,
  account: (org: string) => ["admin", "account", org] as const,
  audit: (kind: string, value: string, cursor?: string) => ["admin", "audit", kind, value, cursor ?? ""] as const,
  auditOf: (kind: string, value: string) => ["admin", "audit", kind, value] as const,
  flags: ["admin", "flags"] as const,
  promoCodes: ["admin", "promo-codes"] as const,
  health: ["admin", "health"] as const,
};
