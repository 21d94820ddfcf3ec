import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import { billingKeys } from "./keys";

export function usePaymentMethods(org: string) {
  return useQuery({
    queryKey: billingKeys.paymentMethods(org),
    queryFn: () =>
      unwrap(api.GET("/api/billing/account/{organization_id}/payment-methods", { params: { path: { organization_id: org } } })),
  });
}

function useRefresh(org: string) {
  const client = useQueryClient();
  return async () => {
    await client.invalidateQueries({ queryKey: billingKeys.paymentMethods(org) });
    await client.invalidateQueries({ queryKey: billingKeys.account(org) });
  };
}

/** Attaches a payment method Stripe already knows (Stripe.js in a host app) or makes one the default. */
export function useAttachPaymentMethod(org: string) {
  const onSuccess = useRefresh(org);
  return useMutation({
    mutationFn: ({ paymentMethodId, setAsDefault, key }: { paymentMethodId: string; setAsDefault: boolean; key: string }) =>
      unwrap(
        api.POST("/api/billing/account/{organization_id}/payment-method", {
          params: { path: { organization_id: org }, header: { "Idempotency-Key": key } },
          body: { payment_method_id: paymentMethodId, set_as_default: setAsDefault },
        }),
      ),
    onSuccess,
  });
}

export function useRemovePaymentMethod(org: string) {
  const onSuccess = useRefresh(org);
  return useMutation({
    mutationFn: (paymentMethodId: string) =>
      unwrap(
        api.DELETE("/api/billing/account/{organization_id}/payment-methods/{payment_method_id}", {
          params: { path: { organization_id: org, payment_method_id: paymentMethodId } },
        }),
      ),
    onSuccess,
  });
}
