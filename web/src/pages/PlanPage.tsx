import { t, locale } from "@/i18n";
import { formatDateTime } from "@/lib/format";
import { usePageTitle } from "@/lib/usePageTitle";
import { useOrg } from "@/app/org";
import { usePlans } from "@/hooks/billing/useStripeConfig";
import { usePlanHistory, useSubscription } from "@/hooks/billing/useSubscription";
import { Card, CardHeader } from "@/components/ui/Card";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { AccountBanners } from "@/components/billing/AccountBanners";
import { LifetimePurchaseCard } from "@/components/billing/LifetimePurchaseCard";
import { PricingTable } from "@/components/billing/PricingTable";
import { RoleNote } from "@/components/billing/RoleNote";
import { SubscriptionCard } from "@/components/billing/SubscriptionCard";
import { tierById } from "@/components/billing/tiers";

function PlanHistory() {
  const { org } = useOrg();
  const history = usePlanHistory(org);
  const plans = usePlans();
  const name = (id: string) => tierById(plans.data, id)?.name ?? id;
  if (history.isPending) return <LoadingCard label={t("history.loading")} />;
  return (
    <Card aria-labelledby="plan-history">
      <CardHeader id="plan-history" title={t("history.title")} />
      {history.error ? (
        <QueryError error={history.error} onRetry={() => void history.refetch()} />
      ) : history.data.changes.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">{t("history.none")}</p>
      ) : (
        <ol className="flex flex-col gap-3 text-sm">
          {history.data.changes.map((change, index) => (
            <li key={`${change.changed_at}-${index}`} className="border-l-2 border-brand-600 pl-3">
              <p className="font-medium">{t("history.change", { from: name(change.from_tier), to: name(change.to_tier) })}</p>
              <p className="text-slate-600 dark:text-slate-400">
                {formatDateTime(change.changed_at, locale)}
                {change.cause && ` · ${t(`history.cause.${change.cause}`)}`}
                {/* Operators and customers give reasons in words; other causes explain themselves. */}
                {(change.cause === "admin" || change.cause === "cancellation" || !change.cause) && change.reason && ` · ${change.reason}`}
              </p>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

export default function PlanPage() {
  usePageTitle(t("nav.plan"));
  const { org } = useOrg();
  const plans = usePlans();
  const subscription = useSubscription(org);
  return (
    <>
      <h1 className="text-2xl font-semibold">{t("plan.pageTitle")}</h1>
      <AccountBanners />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <SubscriptionCard linkToPlans={false} />
        <div className="lg:col-span-2">
          <PlanHistory />
        </div>
      </div>
      <section aria-labelledby="plans-title" className="flex flex-col gap-3">
        <h2 id="plans-title" className="text-lg font-semibold">
          {t("pricing.title")}
        </h2>
        <RoleNote />
        {plans.isPending || subscription.isPending ? (
          <LoadingCard lines={5} label={t("pricing.loading")} />
        ) : plans.error || subscription.error ? (
          <QueryError error={plans.error ?? subscription.error} onRetry={() => void Promise.all([plans.refetch(), subscription.refetch()])} />
        ) : (
          <PricingTable
            catalog={plans.data}
            currentTier={subscription.data.tier}
            hasPaidPlan={tierById(plans.data, subscription.data.tier)?.billing === "monthly" && subscription.data.status !== "canceled"}
          />
        )}
      </section>
      {plans.data && subscription.data && <LifetimePurchaseCard catalog={plans.data} currentTier={subscription.data.tier} />}
    </>
  );
}
