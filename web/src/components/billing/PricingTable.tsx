import { useMemo, useState } from "react";
import { t, locale } from "@/i18n";
import { formatDate, formatGigabytes, formatMoney, formatNumber } from "@/lib/format";
import { newIdempotencyKey } from "@/api/client";
import { useOrg } from "@/app/org";
import { useCheckout } from "@/hooks/billing/usePurchases";
import { Badge } from "@/components/ui/Badge";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { errorDetail } from "@/components/ui/QueryError";
import { TextField } from "@/components/ui/Field";
import { cn } from "@/components/ui/cn";
import { UpgradeDialog } from "./UpgradeDialog";
import { direction, subscribableTiers, tierById, type Catalog, type Tier } from "./tiers";

function limit(value: number | null | undefined, format: (n: number) => string): string {
  return value === null || value === undefined ? t("pricing.unlimited") : format(value);
}

/** A launch offer that is open now: its first phase is what Checkout charges. */
export function openOffer(tier: Tier, now = new Date()) {
  const offer = tier.launch_offer;
  if (!offer) return null;
  const open = new Date(offer.starts_at) <= now && now < new Date(offer.ends_at);
  return open && offer.phases[0] ? { offer, first: offer.phases[0] } : null;
}

/** The monthly plans side by side, the current one marked, each with the way to move to it. */
export function PricingTable({ catalog, currentTier, hasPaidPlan }: { catalog: Catalog; currentTier: string; hasPaidPlan: boolean }) {
  const { org, canManage } = useOrg();
  const checkout = useCheckout(org);
  const key = useMemo(() => newIdempotencyKey(), []);
  const [promoCode, setPromoCode] = useState("");
  const current = tierById(catalog, currentTier);
  const tiers = subscribableTiers(catalog);
  return (
    <div className="flex flex-col gap-4">
      {canManage && !hasPaidPlan && (
        <TextField
          className="max-w-xs"
          label={t("pricing.promo")}
          hint={t("pricing.promoHint")}
          value={promoCode}
          maxLength={64}
          autoComplete="off"
          onChange={(event) => {
            setPromoCode(event.target.value);
            checkout.reset();
          }}
        />
      )}
      {checkout.error && (
        <Banner tone="danger" title={t("checkout.failed")}>
          {errorDetail(checkout.error)}
        </Banner>
      )}
      <ul className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-4" aria-label={t("pricing.label")}>
        {tiers.map((tier) => {
          const isCurrent = tier.id === currentTier;
          const offer = openOffer(tier);
          const move = direction(current, tier);
          return (
            <li
              key={tier.id}
              aria-current={isCurrent ? "true" : undefined}
              className={cn(
                "flex flex-col rounded-xl border bg-white p-5 dark:bg-slate-900",
                isCurrent ? "border-brand-600 ring-2 ring-brand-600/30" : "border-slate-200 dark:border-slate-800",
              )}
            >
              <div className="flex items-center justify-between gap-2">
                <h3 className="text-lg font-semibold">{tier.name}</h3>
                {isCurrent && <Badge tone="info">{t("pricing.current")}</Badge>}
              </div>
              <p className="mt-2">
                <span className="text-2xl font-semibold">{formatMoney(offer ? offer.first.price_usd : (tier.price_usd ?? 0), "USD", locale)}</span>
                <span className="text-sm text-slate-600 dark:text-slate-400"> {t("pricing.perMonth")}</span>
              </p>
              {offer && (
                <p className="mt-1 text-xs text-slate-700 dark:text-slate-300">
                  {t("pricing.offer", {
                    name: offer.offer.name,
                    months: formatNumber(offer.first.months, locale),
                    price: formatMoney(tier.price_usd ?? 0, "USD", locale),
                    until: formatDate(offer.offer.ends_at, locale),
                  })}
                </p>
              )}
              {tier.trial_days ? <p className="mt-1 text-xs text-slate-700 dark:text-slate-300">{t("pricing.trial", { days: formatNumber(tier.trial_days, locale) })}</p> : null}
              <ul className="mt-4 flex flex-1 flex-col gap-1 text-sm">
                <li>{t("pricing.workflows", { count: limit(tier.workflows_per_month, (n) => formatNumber(n, locale)) })}</li>
                <li>{t("pricing.agents", { count: limit(tier.concurrent_agents, (n) => formatNumber(n, locale)) })}</li>
                <li>{t("pricing.storage", { size: limit(tier.storage_gb, (n) => formatGigabytes(n, locale)) })}</li>
                {tier.byo_keys && <li>{t("pricing.byo")}</li>}
              </ul>
              <div className="mt-4">
                {isCurrent || !canManage ? null : hasPaidPlan && move ? (
                  <UpgradeDialog tier={tier} kind={move} />
                ) : (
                  <Button
                    className="w-full"
                    busy={checkout.isPending && checkout.variables?.purchase.kind === "subscription" && checkout.variables.purchase.tier === tier.id}
                    onClick={() =>
                      checkout.mutate({
                        purchase: { kind: "subscription", tier: tier.id, promoCode: promoCode.trim() || undefined },
                        key: `${key}-${tier.id}-${promoCode.trim()}`,
                      })
                    }
                  >
                    {t("pricing.subscribe", { tier: tier.name })}
                  </Button>
                )}
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
