// Loaded lazily: recharts is the heaviest thing on the page and the overview shows without it.
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { t, locale } from "@/i18n";
import { formatCost } from "@/lib/format";
import type { ProviderCost } from "@/lib/series";

export default function CostBarChart({ data }: { data: ProviderCost[] }) {
  return (
    <figure aria-label={t("costs.chartLabel")} className="h-52 w-full text-slate-600 dark:text-slate-300">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} />
          <XAxis dataKey="provider" stroke="currentColor" tick={{ fill: "currentColor", fontSize: 12 }} />
          <YAxis stroke="currentColor" tick={{ fill: "currentColor", fontSize: 12 }} tickFormatter={(v: number) => formatCost(v, "USD", locale)} width={72} />
          <Tooltip formatter={(v) => formatCost(Number(v), "USD", locale)} contentStyle={{ color: "#0f172a" }} />
          <Bar dataKey="billable" name={t("costs.billable")} fill="#6366f1" radius={[4, 4, 0, 0]} />
        </BarChart>
      </ResponsiveContainer>
      <figcaption className="sr-only">
        {data.map((d) => `${d.provider}: ${formatCost(d.billable, "USD", locale)}`).join(", ")}
      </figcaption>
    </figure>
  );
}
