import { t, locale } from "@/i18n";
import { formatGigabytes, formatNumber } from "@/lib/format";
import { meter, type Meter } from "@/lib/meters";
import { useOrg } from "@/app/org";
import { useQuota } from "@/hooks/billing/useBillingAccount";
import { useSubscription } from "@/hooks/billing/useSubscription";
import { Card, CardHeader } from "@/components/ui/Card";
import { MeterBar } from "@/components/ui/MeterBar";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { cn } from "@/components/ui/cn";

function Row({ label, valueText, meter: m, overage = false }: { label: string; valueText: string; meter: Meter; overage?: boolean }) {
  return (
    <div>
      <div className="mb-1 flex items-baseline justify-between gap-2 text-sm">
        <span className="font-medium">{label}</span>
        <span className={cn(m.level === "exhausted" && "font-semibold text-red-700 dark:text-red-300", m.level === "warning" && "font-semibold text-amber-800 dark:text-amber-300")}>
          {valueText}
        </span>
      </div>
      <MeterBar label={label} valueText={valueText} meter={m} />
      {m.level === "warning" && <p className="mt-1 text-xs text-amber-800 dark:text-amber-300">{t("usage.nearLimit", { label })}</p>}
      {m.level === "exhausted" && (
        <p className="mt-1 text-xs font-medium text-red-700 dark:text-red-300">{overage ? t("usage.atLimitOverage", { label }) : t("usage.atLimit", { label })}</p>
      )}
    </div>
  );
}

function amount(m: Meter, format: (n: number) => string): string {
  return m.limit === null ? t("usage.ofUnlimited", { used: format(m.used) }) : t("usage.ofLimit", { used: format(m.used), limit: format(m.limit) });
}

/** Meters for this period's workflows, storage and concurrent agents. */
export function UsageCard() {
  const { org } = useOrg();
  const subscription = useSubscription(org);
  const quota = useQuota(org);
  if (subscription.isPending) return <LoadingCard label={t("usage.loading")} />;
  if (subscription.error) return <QueryError error={subscription.error} onRetry={() => void subscription.refetch()} />;
  const sub = subscription.data;
  const num = (n: number) => formatNumber(n, locale);
  const gb = (n: number) => formatGigabytes(n, locale);
  const workflows = meter(sub.workflows_used, sub.workflows_limit);
  const storage = meter(sub.storage_used_gb, sub.storage_limit_gb);
  const agents = meter(quota.data?.runs.active ?? 0, sub.agents_limit);
  return (
    <Card aria-labelledby="usage-title">
      <CardHeader id="usage-title" title={t("usage.title")} />
      <div className="flex flex-col gap-4">
        <Row label={t("usage.workflows")} valueText={amount(workflows, num)} meter={workflows} overage={quota.data?.overage_allowed ?? false} />
        <Row label={t("usage.storage")} valueText={amount(storage, gb)} meter={storage} />
        <Row label={t("usage.agents")} valueText={amount(agents, num)} meter={agents} />
      </div>
      {quota.data && (
        <p className="mt-4 text-sm text-slate-600 dark:text-slate-400">
          {t("usage.freeLeft", { remaining: num(quota.data.free.remaining), limit: num(quota.data.free.limit) })}
        </p>
      )}
    </Card>
  );
}
