import { lazy, Suspense } from "react";
import { t, locale } from "@/i18n";
import { formatCost, formatDay, formatNumber } from "@/lib/format";
import { dailyRows, totals } from "@/lib/series";
import { useOrg } from "@/app/org";
import { useDailyUsage } from "@/hooks/billing/useDailyUsage";
import { Card, CardHeader } from "@/components/ui/Card";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard, Skeleton } from "@/components/ui/Skeleton";

const DailyCharts = lazy(() => import("@/components/charts/DailyCharts"));

/** Usage graphs and trends over the chosen range: runs by bucket and billable cost per day. */
export function UsageTrends({ days }: { days: number }) {
  const { org } = useOrg();
  const daily = useDailyUsage(org, days);
  if (daily.isPending) return <LoadingCard lines={6} label={t("usagePage.loading")} />;
  if (daily.error) return <QueryError error={daily.error} onRetry={() => void daily.refetch()} />;
  const rows = dailyRows(daily.data.days);
  const sum = totals(rows);
  return (
    <Card aria-labelledby="trends-title">
      <CardHeader
        id="trends-title"
        title={t("usagePage.trends", { days })}
        action={
          <p className="text-sm text-slate-700 dark:text-slate-300" data-testid="range-totals">
            {t("usagePage.totals", { runs: formatNumber(sum.runs, locale), cost: formatCost(sum.billable, "USD", locale) })}
          </p>
        }
      />
      {sum.runs === 0 && sum.billable === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">{t("usagePage.noRuns")}</p>
      ) : (
        <Suspense fallback={<Skeleton className="h-64 w-full" />}>
          <DailyCharts rows={rows} />
        </Suspense>
      )}
      <details className="mt-4 text-sm">
        <summary className="cursor-pointer font-medium">{t("usagePage.asTable")}</summary>
        <div className="mt-2 max-h-72 overflow-auto">
          <table className="w-full text-left">
            <caption className="sr-only">{t("usagePage.trends", { days })}</caption>
            <thead className="text-slate-600 dark:text-slate-400">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">{t("records.when")}</th>
                <th scope="col" className="py-1 pr-3 text-right font-medium">{t("usagePage.runsColumn")}</th>
                <th scope="col" className="py-1 text-right font-medium">{t("costs.billable")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.date}>
                  <td className="py-1 pr-3">{formatDay(row.date, locale)}</td>
                  <td className="py-1 pr-3 text-right tabular-nums">{formatNumber(row.runs, locale)}</td>
                  <td className="py-1 text-right tabular-nums">{formatCost(row.billable, "USD", locale)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </Card>
  );
}
