import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, newIdempotencyKey, unwrap } from "@/api/client";
import { billingKeys, MINUTE } from "./keys";

const path = (org: string) => ({ params: { path: { organization_id: org } } });

export function useSubscription(org: string) {
  return useQuery({
    queryKey: billingKeys.subscription(org),
    queryFn: () => unwrap(api.GET("/api/billing/account/{organization_id}/subscription", path(org))),
    staleTime: 5 * MINUTE,
  });
}

export function usePlanHistory(org: string) {
  return useQuery({
    queryKey: billingKeys.history(org),
    queryFn: () => unwrap(api.GET("/api/billing/account/{organization_id}/subscription/history", path(org))),
    staleTime: 5 * MINUTE,
  });
}

/** What a change to `tier` would cost now and from the next period; changes nothing. */
export function useChangePreview(org: string, tier: string | null) {
  return useQuery({
    queryKey: billingKeys.preview(org, tier ?? ""),
    queryFn: () =>
      unwrap(
        api.GET("/api/billing/account/{organization_id}/subscription/preview", {
          params: { path: { organization_id: org }, query: { tier: tier ?? "" } },
        }),
      ),
    enabled: tier !== null,
    staleTime: 1 * MINUTE,
  });
}

/** After any plan action the account, limits and history all move. */
function useRefreshPlan(org: string) {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: billingKeys.all(org) });
}

export function useChangePlan(org: string) {
  const refresh = useRefreshPlan(org);
  return useMutation({
    mutationFn: ({ tier, key }: { tier: string; key: string }) =>
      unwrap(
        api.POST("/api/billing/account/{organization_id}/subscription/change", {
          params: { path: { organization_id: org }, header: { "Idempotency-Key": key } },
          body: { tier },
        }),
      ),
    onSuccess: refresh,
  });
}

export function useCancelSubscription(org: string) {
  const refresh = useRefreshPlan(org);
  return useMutation({
    mutationFn: ({ reason, key }: { reason: string; key: string }) =>
      unwrap(
        api.POST("/api/billing/account/{organization_id}/subscription/cancel", {
          params: { path: { organization_id: org }, header: { "Idempotency-Key": key } },
          body: { at_period_end: true, reason: reason.trim() === "" ? null : reason.trim() },
        }),
      ),
    onSuccess: refresh,
  });
}

export function useReactivateSubscription(org: string) {
  const refresh = useRefreshPlan(org);
  return useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/billing/account/{organization_id}/subscription/reactivate", {
          params: { path: { organization_id: org }, header: { "Idempotency-Key": newIdempotencyKey() } },
        }),
      ),
    onSuccess: refresh,
  });
}
