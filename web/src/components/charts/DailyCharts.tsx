// Loaded lazily with recharts: runs per day stacked by the bucket that paid, and what each
// day cost. Colours stay distinguishable in both themes; a table carries the same numbers.
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { t, locale } from "@/i18n";
import { formatCost, formatDay, formatNumber } from "@/lib/format";
import { bucketsUsed, type Bucket, type DayRow } from "@/lib/series";

const colours: Record<Bucket, string> = {
  free: "#10b981",
  credits: "#6366f1",
  subscription: "#0ea5e9",
  overage: "#f59e0b",
  unlimited: "#a855f7",
};

const axis = { stroke: "currentColor", tick: { fill: "currentColor", fontSize: 12 } } as const;

export default function DailyCharts({ rows }: { rows: DayRow[] }) {
  const used = bucketsUsed(rows);
  const day = (value: string) => formatDay(value, locale);
  return (
    <div className="grid grid-cols-1 gap-6 text-slate-600 lg:grid-cols-2 dark:text-slate-300">
      <figure>
        <figcaption className="mb-2 text-sm font-medium text-slate-900 dark:text-slate-100">{t("usagePage.runs")}</figcaption>
        <div className="h-64" role="img" aria-label={t("usagePage.runs")}>
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={rows} margin={{ top: 4, right: 8, bottom: 4, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} vertical={false} />
              <XAxis dataKey="date" tickFormatter={day} minTickGap={16} {...axis} />
              <YAxis allowDecimals={false} width={36} {...axis} />
              <Tooltip labelFormatter={(value) => day(String(value))} formatter={(value) => formatNumber(Number(value), locale)} contentStyle={{ color: "#0f172a" }} />
              <Legend />
              {used.map((bucket) => (
                <Bar key={bucket} dataKey={bucket} name={t(`bucket.${bucket}`)} stackId="runs" fill={colours[bucket]} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      </figure>
      <figure>
        <figcaption className="mb-2 text-sm font-medium text-slate-900 dark:text-slate-100">{t("usagePage.cost")}</figcaption>
        <div className="h-64" role="img" aria-label={t("usagePage.cost")}>
          <ResponsiveContainer width="100%" height="100%">
            <AreaChart data={rows} margin={{ top: 4, right: 8, bottom: 4, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="currentColor" strokeOpacity={0.15} vertical={false} />
              <XAxis dataKey="date" tickFormatter={day} minTickGap={16} {...axis} />
              <YAxis width={64} tickFormatter={(v: number) => formatCost(v, "USD", locale)} {...axis} />
              <Tooltip labelFormatter={(value) => day(String(value))} formatter={(value) => formatCost(Number(value), "USD", locale)} contentStyle={{ color: "#0f172a" }} />
              <Legend />
              <Area type="monotone" dataKey="charges" name={t("series.runCharges")} stackId="cost" stroke="#6366f1" fill="#6366f1" fillOpacity={0.35} isAnimationActive={false} />
              <Area type="monotone" dataKey="llm" name={t("series.llm")} stackId="cost" stroke="#f59e0b" fill="#f59e0b" fillOpacity={0.35} isAnimationActive={false} />
            </AreaChart>
          </ResponsiveContainer>
        </div>
      </figure>
    </div>
  );
}
