import { useMemo } from "react";
import { t } from "@/i18n";
import { usePageTitle } from "@/lib/usePageTitle";
import { newIdempotencyKey } from "@/api/client";
import { useOrg } from "@/app/org";
import { usePaymentMethods } from "@/hooks/billing/usePaymentMethods";
import { usePortal } from "@/hooks/billing/usePurchases";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { QueryError, errorDetail } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { AddPaymentMethodForm } from "@/components/billing/AddPaymentMethodForm";
import { PaymentMethodList } from "@/components/billing/PaymentMethodList";
import { RoleNote } from "@/components/billing/RoleNote";

export default function PaymentMethodsPage() {
  usePageTitle(t("nav.paymentMethods"));
  const { org, canManage } = useOrg();
  const methods = usePaymentMethods(org);
  const portal = usePortal(org);
  const portalKey = useMemo(() => newIdempotencyKey(), []);
  return (
    <>
      <h1 className="text-2xl font-semibold">{t("payment.title")}</h1>
      <Card aria-labelledby="methods-title">
        <CardHeader id="methods-title" title={t("payment.onFile")} action={<AddPaymentMethodForm />} />
        {methods.isPending ? (
          <LoadingCard label={t("payment.loading")} />
        ) : methods.error ? (
          <QueryError error={methods.error} onRetry={() => void methods.refetch()} />
        ) : (
          <PaymentMethodList methods={methods.data} />
        )}
        <RoleNote />
      </Card>
      {canManage && (
        <Card aria-labelledby="portal-title">
          <CardHeader id="portal-title" title={t("portal.title")} />
          <p className="text-sm">{t("portal.body")}</p>
          {portal.error && (
            <div className="mt-3">
              <Banner tone="danger" title={t("portal.failed")}>
                {errorDetail(portal.error)}
              </Banner>
            </div>
          )}
          <Button className="mt-4" variant="secondary" busy={portal.isPending || portal.isSuccess} onClick={() => portal.mutate(portalKey)}>
            {t("portal.open")}
          </Button>
        </Card>
      )}
    </>
  );
}
