import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { billingKeys, MINUTE } from "./keys";

/** The billing account, created on first visit by the API (`GET` gets or creates). */
export function useBillingAccount(org: string) {
  return useQuery({
    queryKey: billingKeys.account(org),
    queryFn: () => unwrap(api.GET("/api/billing/account/{organization_id}", { params: { path: { organization_id: org } } })),
    staleTime: 5 * MINUTE,
  });
}

/** Runs in flight against the concurrency limit, free quota and credits held right now. */
export function useQuota(org: string) {
  return useQuery({
    queryKey: billingKeys.quota(org),
    queryFn: () => unwrap(api.GET("/api/billing/account/{organization_id}/quota", { params: { path: { organization_id: org } } })),
    staleTime: 1 * MINUTE,
  });
}

export function useCredits(org: string) {
  return useQuery({
    queryKey: billingKeys.credits(org),
    queryFn: () => unwrap(api.GET("/api/billing/account/{organization_id}/credits", { params: { path: { organization_id: org } } })),
    staleTime: 5 * MINUTE,
  });
}

export function useFeatures(org: string) {
  return useQuery({
    queryKey: billingKeys.features(org),
    queryFn: () => unwrap(api.GET("/api/billing/account/{organization_id}/features", { params: { path: { organization_id: org } } })),
    staleTime: 5 * MINUTE,
  });
}
