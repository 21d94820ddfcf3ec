import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/api/client";
import { billingKeys, MINUTE } from "./keys";
import type { Page } from "./useInvoices";

export type BilledFilter = "all" | "billed" | "unbilled";

/** Usage records of a range, newest first, one page at a time (`x-next-cursor`). */
export function useUsage(org: string, billed: BilledFilter, range: { from: string; to: string }, cursor?: string, limit = 20) {
  return useQuery({
    queryKey: [...billingKeys.usage(org, billed, cursor), range.from, range.to],
    queryFn: async (): Promise<Page<Schemas["UsageRecordResponse"]>> => {
      const { data, error, response } = await api.GET("/api/billing/account/{organization_id}/usage", {
        params: { path: { organization_id: org }, query: { billed: billed === "all" ? undefined : billed === "billed", from: range.from, to: range.to, order: "newest_first", cursor, limit } },
      });
      const items = await unwrap(Promise.resolve({ data, error, response }));
      return { items, nextCursor: response.headers.get("x-next-cursor") };
    },
    placeholderData: keepPreviousData,
    staleTime: 1 * MINUTE,
  });
}
