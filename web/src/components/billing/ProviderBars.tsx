import { t, locale } from "@/i18n";
import { formatCost, formatPercent } from "@/lib/format";
import type { ProviderCost } from "@/lib/series";

/**
 * Billable cost by provider as plain bars: a handful of providers needs no chart library,
 * so the overview loads none (recharts waits for the usage page), and every number is text.
 */
export function ProviderBars({ providers }: { providers: ProviderCost[] }) {
  const top = Math.max(...providers.map((p) => p.billable), 0);
  const total = providers.reduce((sum, p) => sum + p.billable, 0);
  return (
    <ul aria-label={t("costs.chartLabel")} className="flex flex-col gap-3">
      {providers.map((provider) => (
        <li key={provider.provider}>
          <div className="mb-1 flex justify-between gap-2 text-sm">
            <span className="font-medium">{provider.provider}</span>
            <span className="tabular-nums">
              {formatCost(provider.billable, "USD", locale)}
              <span className="ml-2 text-slate-600 dark:text-slate-400">{total > 0 ? formatPercent(provider.billable / total, locale) : ""}</span>
            </span>
          </div>
          <div aria-hidden="true" className="h-2 w-full rounded-full bg-slate-200 dark:bg-slate-800">
            <div className="h-2 rounded-full bg-brand-600 dark:bg-brand-300" style={{ width: `${top > 0 ? (provider.billable / top) * 100 : 0}%` }} />
          </div>
        </li>
      ))}
    </ul>
  );
}
