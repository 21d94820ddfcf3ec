import { useMemo } from "react";
import { t, locale } from "@/i18n";
import { formatGigabytes, formatMoney, formatNumber } from "@/lib/format";
import { newIdempotencyKey } from "@/api/client";
import { useOrg } from "@/app/org";
import { useCheckout } from "@/hooks/billing/usePurchases";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { errorDetail } from "@/components/ui/QueryError";
import type { Catalog } from "./tiers";

/** The one-time lifetime plan, offered to anyone not already on it. */
export function LifetimePurchaseCard({ catalog, currentTier }: { catalog: Catalog; currentTier: string }) {
  const { org, canManage } = useOrg();
  const checkout = useCheckout(org);
  const key = useMemo(() => newIdempotencyKey(), []);
  const lifetime = catalog.tiers.find((tier) => tier.billing === "one_time");
  if (!lifetime || currentTier === lifetime.id) return null;
  return (
    <Card aria-labelledby="lifetime-title">
      <CardHeader id="lifetime-title" title={t("lifetime.title", { name: lifetime.name })} />
      <p className="text-sm">
        {t("lifetime.body", {
          price: formatMoney(lifetime.price_usd ?? 0, "USD", locale),
          workflows: formatNumber(lifetime.workflows_per_month ?? 0, locale),
          agents: formatNumber(lifetime.concurrent_agents ?? 0, locale),
          storage: formatGigabytes(lifetime.storage_gb ?? 0, locale),
        })}
      </p>
      {checkout.error && (
        <div className="mt-3">
          <Banner tone="danger" title={t("checkout.failed")}>
            {errorDetail(checkout.error)}
          </Banner>
        </div>
      )}
      {canManage && (
        <Button className="mt-4" variant="secondary" busy={checkout.isPending} onClick={() => checkout.mutate({ purchase: { kind: "lifetime" }, key })}>
          {t("lifetime.buy", { price: formatMoney(lifetime.price_usd ?? 0, "USD", locale) })}
        </Button>
      )}
    </Card>
  );
}
