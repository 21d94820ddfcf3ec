import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { lastDays } from "@/lib/series";
import { billingKeys, MINUTE } from "./keys";

/** Runs by bucket and billable cost per UTC day: one request, one DynamoDB query, per range. */
export function useDailyUsage(org: string, days: number) {
  return useQuery({
    queryKey: billingKeys.daily(org, days),
    queryFn: () => {
      const range = lastDays(days);
      return unwrap(
        api.GET("/api/billing/account/{organization_id}/usage/daily", {
          params: { path: { organization_id: org }, query: { from: range.from, to: range.to } },
        }),
      );
    },
    placeholderData: keepPreviousData,
    staleTime: 1 * MINUTE,
  });
}
