import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/api/client";
import { billingKeys, MINUTE } from "./keys";

export function useBudget(org: string) {
  return useQuery({
    queryKey: billingKeys.budget(org),
    queryFn: () => unwrap(api.GET("/api/billing/account/{organization_id}/budget", { params: { path: { organization_id: org } } })),
    staleTime: 1 * MINUTE,
  });
}

export function useSetBudget(org: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (budget: Schemas["BudgetRequest"]) =>
      unwrap(api.PUT("/api/billing/account/{organization_id}/budget", { params: { path: { organization_id: org } }, body: budget })),
    onSuccess: (saved) => client.setQueryData(billingKeys.budget(org), saved),
  });
}

export function useByoKeys(org: string, enabled: boolean) {
  return useQuery({
    queryKey: billingKeys.byoKeys(org),
    queryFn: () => unwrap(api.GET("/api/billing/account/{organization_id}/byo-keys", { params: { path: { organization_id: org } } })),
    enabled,
    staleTime: 5 * MINUTE,
  });
}

export function usePutByoKey(org: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ provider, key }: { provider: string; key: Schemas["ByoKeyRequest"] }) =>
      unwrap(
        api.PUT("/api/billing/account/{organization_id}/byo-keys/{provider}", {
          params: { path: { organization_id: org, provider } },
          body: key,
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: billingKeys.byoKeys(org) }),
  });
}

export function useDeleteByoKey(org: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (provider: string) =>
      unwrap(api.DELETE("/api/billing/account/{organization_id}/byo-keys/{provider}", { params: { path: { organization_id: org, provider } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: billingKeys.byoKeys(org) }),
  });
}
