// Query keys: one tree per organization, so a mutation can refresh exactly what it changed.
export const billingKeys = {
  all: (org: string) => ["billing", org] as const,
  account: (org: string) => ["billing", org, "account"] as const,
  subscription: (org: string) => ["billing", org, "subscription"] as const,
  history: (org: string) => ["billing", org, "subscription", "history"] as const,
  preview: (org: string, tier: string) => ["billing", org, "subscription", "preview", tier] as const,
  quota: (org: string) => ["billing", org, "quota"] as const,
  paymentMethods: (org: string) => ["billing", org, "paymentMethods"] as const,
  invoices: (org: string, status?: string, cursor?: string) => ["billing", org, "invoices", status ?? "all", cursor ?? ""] as const,
  invoice: (org: string, id: string) => ["billing", org, "invoice", id] as const,
  usage: (org: string, billed?: string, cursor?: string) => ["billing", org, "usage", billed ?? "all", cursor ?? ""] as const,
  daily: (org: string, days: number) => ["billing", org, "daily", days] as const,
  costs: (org: string, from: string, to: string) => ["billing", org, "costs", "summary", from, to] as const,
  costRecords: (org: string, from: string, to: string, cursor?: string) => ["billing", org, "costs", "records", from, to, cursor ?? ""] as const,
  credits: (org: string) => ["billing", org, "credits"] as const,
  budget: (org: string) => ["billing", org, "budget"] as const,
  byoKeys: (org: string) => ["billing", org, "byoKeys"] as const,
  features: (org: string) => ["billing", org, "features"] as const,
};

export const MINUTE = 60 * 1000;
