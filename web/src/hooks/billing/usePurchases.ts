import { useMutation } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";

/** Where Checkout sends the customer back: this app's own success and cancel pages. */
export function returnUrls(org: string, purpose: string, tier?: string) {
  const origin = window.location.origin;
  const suffix = `purpose=${purpose}&org=${encodeURIComponent(org)}${tier ? `&tier=${encodeURIComponent(tier)}` : ""}`;
  return {
    success_url: `${origin}/billing/success?session_id={CHECKOUT_SESSION_ID}&${suffix}`,
    cancel_url: `${origin}/billing/cancel?${suffix}`,
  };
}

export type Purchase =
  | { kind: "credits"; amountUsd: number }
  | { kind: "pack"; pack: number }
  | { kind: "lifetime" }
  | { kind: "subscription"; tier: string; promoCode?: string };

/** Opens a Stripe Checkout session and sends the browser to it. */
export function useCheckout(org: string) {
  return useMutation({
    mutationFn: async ({ purchase, key }: { purchase: Purchase; key: string }) => {
      const params = { path: { organization_id: org }, header: { "Idempotency-Key": key } };
      switch (purchase.kind) {
        case "credits":
          return unwrap(
            api.POST("/api/billing/account/{organization_id}/credits/checkout", {
              params,
              body: { amount_usd: purchase.amountUsd, ...returnUrls(org, "credits") },
            }),
          );
        case "pack":
          return unwrap(
            api.POST("/api/billing/account/{organization_id}/workflow-packs/checkout", {
              params,
              body: { pack: purchase.pack, ...returnUrls(org, "pack") },
            }),
          );
        case "lifetime":
          return unwrap(
            api.POST("/api/billing/account/{organization_id}/lifetime/checkout", { params, body: returnUrls(org, "lifetime") }),
          );
        case "subscription":
          return unwrap(
            api.POST("/api/billing/account/{organization_id}/subscription/checkout", {
              params,
              body: { tier: purchase.tier, promo_code: purchase.promoCode || null, ...returnUrls(org, "subscription", purchase.tier) },
            }),
          );
      }
    },
    onSuccess: (session) => {
      window.location.assign(session.checkout_url);
    },
  });
}

/** Stripe's customer portal (invoices, cards, cancel), opened in place. */
export function usePortal(org: string) {
  return useMutation({
    mutationFn: (key: string) =>
      unwrap(
        api.POST("/api/billing/account/{organization_id}/portal", {
          params: { path: { organization_id: org }, header: { "Idempotency-Key": key } },
          body: { return_url: `${window.location.origin}/billing?org=${encodeURIComponent(org)}` },
        }),
      ),
    onSuccess: (portal) => {
      window.location.assign(portal.portal_url);
    },
  });
}
