import { useState } from "react";
import { ScrollRegion } from "@/components/ui/ScrollRegion";
import { t, locale } from "@/i18n";
import { formatDateTime, formatMoney, formatNumber } from "@/lib/format";
import { useCursorStack } from "@/lib/useCursorStack";
import { useOrg } from "@/app/org";
import { useUsage, type BilledFilter } from "@/hooks/billing/useUsage";
import { Badge } from "@/components/ui/Badge";
import { Card, CardHeader } from "@/components/ui/Card";
import { SelectField } from "@/components/ui/Field";
import { Pager } from "@/components/ui/Pager";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { ExportButton } from "./ExportButton";

/** One record per committed run: what it was, what it cost, and whether an invoice has billed it. */
export function UsageRecordList({ from, to }: { from: string; to: string }) {
  const { org } = useOrg();
  const [billed, setBilled] = useState<BilledFilter>("all");
  const pages = useCursorStack();
  const usage = useUsage(org, billed, { from, to }, pages.cursor);
  return (
    <Card aria-labelledby="usage-records">
      <CardHeader
        id="usage-records"
        title={t("records.usageTitle")}
        action={<ExportButton kind="usage" query={{ billed: billed === "all" ? undefined : String(billed === "billed"), from, to, order: "newest_first" }} />}
      />
      <div className="mb-4 max-w-xs">
        <SelectField
          label={t("records.billedFilter")}
          value={billed}
          onChange={(event) => {
            setBilled(event.target.value as BilledFilter);
            pages.reset();
          }}
        >
          <option value="all">{t("records.all")}</option>
          <option value="unbilled">{t("records.unbilled")}</option>
          <option value="billed">{t("records.billed")}</option>
        </SelectField>
      </div>
      {usage.isPending ? (
        <LoadingCard label={t("records.loading")} />
      ) : usage.error ? (
        <QueryError error={usage.error} onRetry={() => void usage.refetch()} />
      ) : usage.data.items.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">{t("records.none")}</p>
      ) : (
        <>
          <ScrollRegion label={t("records.usageTitle")}>
            <table className="w-full text-left text-sm">
              <caption className="sr-only">{t("records.usageTitle")}</caption>
              <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("records.when")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("records.type")}</th>
                  <th scope="col" className="py-2 pr-3 text-right font-medium">{t("records.quantity")}</th>
                  <th scope="col" className="py-2 pr-3 text-right font-medium">{t("records.price")}</th>
                  <th scope="col" className="py-2 font-medium">{t("records.billing")}</th>
                </tr>
              </thead>
              <tbody>
                {usage.data.items.map((record) => (
                  <tr key={record.id} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
                    <td className="py-2 pr-3 whitespace-nowrap">{formatDateTime(record.recorded_at, locale)}</td>
                    <td className="py-2 pr-3">
                      {record.usage_type}
                      {record.free_tier_used && <span className="ml-2"><Badge tone="success">{t("records.free")}</Badge></span>}
                    </td>
                    <td className="py-2 pr-3 text-right tabular-nums">{formatNumber(record.quantity, locale)}</td>
                    <td className="py-2 pr-3 text-right tabular-nums">{formatMoney(record.total_price, "USD", locale)}</td>
                    <td className="py-2">{record.billed ? <Badge tone="neutral">{t("records.billedBadge")}</Badge> : <Badge tone="warning">{t("records.unbilledBadge")}</Badge>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
          <Pager label={t("records.usagePages")} page={pages.page} hasNext={Boolean(usage.data.nextCursor)} onNext={() => pages.next(usage.data.nextCursor)} onPrevious={pages.previous} />
        </>
      )}
    </Card>
  );
}
