import { ScrollRegion } from "@/components/ui/ScrollRegion";
import { t, locale } from "@/i18n";
import { formatCost, formatNumber } from "@/lib/format";
import type { Schemas } from "@/api/client";
import { byProvider } from "@/lib/series";
import { ProviderBars } from "./ProviderBars";

/** LLM cost by provider (a chart) and by model (a table), for the range the caller chose. */
export function CostBreakdown({ summary }: { summary: Schemas["CostSummaryResponse"] }) {
  if (summary.record_count === 0) return <p className="text-sm text-slate-600 dark:text-slate-400">{t("costs.none")}</p>;
  const providers = byProvider(summary.breakdown);
  return (
    <div className="flex flex-col gap-4">
      <dl className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-3">
        <div>
          <dt className="text-slate-600 dark:text-slate-400">{t("costs.billable")}</dt>
          <dd className="text-xl font-semibold tabular-nums">{formatCost(summary.billable_cost, "USD", locale)}</dd>
        </div>
        <div>
          <dt className="text-slate-600 dark:text-slate-400">{t("costs.providerCost")}</dt>
          <dd className="text-xl font-semibold tabular-nums">{formatCost(summary.total_cost, "USD", locale)}</dd>
        </div>
        <div>
          <dt className="text-slate-600 dark:text-slate-400">{t("costs.tokens")}</dt>
          <dd className="text-xl font-semibold tabular-nums">{formatNumber(summary.total_tokens, locale)}</dd>
        </div>
      </dl>
      <ProviderBars providers={providers} />
      <ScrollRegion label={t("costs.byModel")}>
        <table className="w-full text-left text-sm">
          <caption className="sr-only">{t("costs.byModel")}</caption>
          <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400">
            <tr>
              <th scope="col" className="py-2 pr-3 font-medium">{t("costs.provider")}</th>
              <th scope="col" className="py-2 pr-3 font-medium">{t("costs.model")}</th>
              <th scope="col" className="py-2 pr-3 text-right font-medium">{t("costs.calls")}</th>
              <th scope="col" className="py-2 pr-3 text-right font-medium">{t("costs.tokens")}</th>
              <th scope="col" className="py-2 text-right font-medium">{t("costs.billable")}</th>
            </tr>
          </thead>
          <tbody>
            {summary.breakdown.map((item) => (
              <tr key={`${item.provider}/${item.model}`} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
                <td className="py-2 pr-3">{item.provider}</td>
                <td className="py-2 pr-3">{item.model}</td>
                <td className="py-2 pr-3 text-right tabular-nums">{formatNumber(item.records, locale)}</td>
                <td className="py-2 pr-3 text-right tabular-nums">{formatNumber(item.tokens, locale)}</td>
                <td className="py-2 text-right tabular-nums">{formatCost(item.billable_cost, "USD", locale)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
    </div>
  );
}
