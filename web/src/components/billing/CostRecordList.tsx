import { ScrollRegion } from "@/components/ui/ScrollRegion";
import { t, locale } from "@/i18n";
import { formatCost, formatDateTime, formatNumber } from "@/lib/format";
import { useCursorStack } from "@/lib/useCursorStack";
import { useOrg } from "@/app/org";
import { useCostRecords } from "@/hooks/billing/useCosts";
import { Card, CardHeader } from "@/components/ui/Card";
import { Pager } from "@/components/ui/Pager";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { ExportButton } from "./ExportButton";

/** Every LLM call in the range: provider, model, tokens and what it costs. */
export function CostRecordList({ from, to }: { from: string; to: string }) {
  const { org } = useOrg();
  const pages = useCursorStack();
  const records = useCostRecords(org, from, to, pages.cursor);
  return (
    <Card aria-labelledby="cost-records">
      <CardHeader id="cost-records" title={t("records.costTitle")} action={<ExportButton kind="costs" query={{ from, to, order: "newest_first" }} />} />
      {records.isPending ? (
        <LoadingCard label={t("records.loading")} />
      ) : records.error ? (
        <QueryError error={records.error} onRetry={() => void records.refetch()} />
      ) : records.data.items.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">{t("costs.none")}</p>
      ) : (
        <>
          <ScrollRegion label={t("records.costTitle")}>
            <table className="w-full text-left text-sm">
              <caption className="sr-only">{t("records.costTitle")}</caption>
              <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("records.when")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("costs.provider")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("costs.model")}</th>
                  <th scope="col" className="py-2 pr-3 text-right font-medium">{t("costs.tokens")}</th>
                  <th scope="col" className="py-2 text-right font-medium">{t("costs.billable")}</th>
                </tr>
              </thead>
              <tbody>
                {records.data.items.map((record) => (
                  <tr key={record.id} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
                    <td className="py-2 pr-3 whitespace-nowrap">{formatDateTime(record.recorded_at, locale)}</td>
                    <td className="py-2 pr-3">{record.provider}</td>
                    <td className="py-2 pr-3">{record.model}</td>
                    <td className="py-2 pr-3 text-right tabular-nums">{formatNumber(record.total_tokens, locale)}</td>
                    <td className="py-2 text-right tabular-nums">{formatCost(record.billable_cost, "USD", locale)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
          <Pager label={t("records.costPages")} page={pages.page} hasNext={Boolean(records.data.nextCursor)} onNext={() => pages.next(records.data.nextCursor)} onPrevious={pages.previous} />
        </>
      )}
    </Card>
  );
}
