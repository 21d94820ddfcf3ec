import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/api/client";
import { billingKeys, MINUTE } from "./keys";
import type { Page } from "./useInvoices";

/** Cost by provider and model for a range of UTC days (`YYYY-MM-DD`, both included). */
export function useCosts(org: string, from: string, to: string, enabled = true) {
  return useQuery({
    queryKey: billingKeys.costs(org, from, to),
    queryFn: () =>
      unwrap(api.GET("/api/billing/account/{organization_id}/costs/summary", { params: { path: { organization_id: org }, query: { from, to } } })),
    enabled,
    staleTime: 1 * MINUTE,
  });
}

/** LLM calls of a range, newest first, one page at a time. */
export function useCostRecords(org: string, from: string, to: string, cursor?: string, limit = 20) {
  return useQuery({
    queryKey: billingKeys.costRecords(org, from, to, cursor),
    queryFn: async (): Promise<Page<Schemas["CostRecordResponse"]>> => {
      const { data, error, response } = await api.GET("/api/billing/account/{organization_id}/costs", {
        params: { path: { organization_id: org }, query: { from, to, order: "newest_first", cursor, limit } },
      });
      const items = await unwrap(Promise.resolve({ data, error, response }));
      return { items, nextCursor: response.headers.get("x-next-cursor") };
    },
    placeholderData: keepPreviousData,
    staleTime: 1 * MINUTE,
  });
}
