import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";

/** Whether payments are configured (and Stripe's publishable key); public, rarely changes. */
export function useStripeConfig() {
  return useQuery({
    queryKey: ["billing", "config"],
    queryFn: () => unwrap(api.GET("/api/billing/config")),
    staleTime: Infinity,
  });
}

/** The plan catalog (tiers, packs, credit rules), public. */
export function usePlans() {
  return useQuery({
    queryKey: ["billing", "plans"],
    queryFn: () => unwrap(api.GET("/api/billing/plans")),
    staleTime: 60 * 60 * 1000,
  });
}
