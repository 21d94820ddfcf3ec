import { useMemo } from "react";
import { useMutation } from "@tanstack/react-query";
import { t } from "@/i18n";
import { api, newIdempotencyKey, unwrap } from "@/api/client";
import { useOrg } from "@/app/org";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { errorDetail } from "@/components/ui/QueryError";
import { returnUrls } from "@/hooks/billing/usePurchases";

/**
 * Adds a card through Stripe Checkout in setup mode rather than a card form on our page: the
 * card number is typed only on Stripe's page (no Stripe.js, no card field in our CSP or our
 * bundle), it works the same with the local stand-in, and Stripe runs 3-D Secure there. The
 * webhook attaches the card and makes it the default when there is none.
 */
export function AddPaymentMethodForm() {
  const { org, canManage } = useOrg();
  const key = useMemo(() => newIdempotencyKey(), []);
  const setup = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/billing/account/{organization_id}/payment-methods/checkout", {
          params: { path: { organization_id: org }, header: { "Idempotency-Key": key } },
          body: returnUrls(org, "setup"),
        }),
      ),
    onSuccess: (session) => window.location.assign(session.checkout_url),
  });
  if (!canManage) return null;
  return (
    <div className="flex flex-col gap-3">
      <Button onClick={() => setup.mutate()} busy={setup.isPending || setup.isSuccess}>
        {t("payment.add")}
      </Button>
      {setup.error && (
        <Banner tone="danger" title={t("checkout.failed")}>
          {errorDetail(setup.error)}
        </Banner>
      )}
    </div>
  );
}
