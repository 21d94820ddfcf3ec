import { useState } from "react";
import { t } from "@/i18n";
import { usePageTitle } from "@/lib/usePageTitle";
import { lastDays, type RangeDays } from "@/lib/series";
import { useOrg } from "@/app/org";
import { useCosts } from "@/hooks/billing/useCosts";
import { Card, CardHeader } from "@/components/ui/Card";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { RangePicker } from "@/components/ui/RangePicker";
import { CostBreakdown } from "@/components/billing/CostBreakdown";
import { CostRecordList } from "@/components/billing/CostRecordList";
import { UsageRecordList } from "@/components/billing/UsageRecordList";
import { UsageTrends } from "@/components/billing/UsageTrends";

export default function UsagePage() {
  usePageTitle(t("nav.usage"));
  const { org } = useOrg();
  const [days, setDays] = useState<RangeDays>(30);
  const range = lastDays(days);
  const costs = useCosts(org, range.from, range.to);
  return (
    <>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-2xl font-semibold">{t("usagePage.title")}</h1>
        <RangePicker value={days} onChange={setDays} />
      </div>
      <UsageTrends days={days} />
      <Card aria-labelledby="range-costs">
        <CardHeader id="range-costs" title={t("usagePage.costsRange")} />
        {costs.isPending ? (
          <LoadingCard label={t("costs.loading")} />
        ) : costs.error ? (
          <QueryError error={costs.error} onRetry={() => void costs.refetch()} />
        ) : (
          <CostBreakdown summary={costs.data} />
        )}
      </Card>
      <UsageRecordList key={`usage-${days}`} from={range.from} to={range.to} />
      <CostRecordList key={`costs-${days}`} from={range.from} to={range.to} />
    </>
  );
}
