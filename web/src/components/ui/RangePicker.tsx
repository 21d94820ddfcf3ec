import { useId } from "react";
import { t } from "@/i18n";
import { RANGES, type RangeDays } from "@/lib/series";
import { cn } from "./cn";

/** 7, 30 or 90 days: a radio group, so arrow keys move between the choices. */
export function RangePicker({ value, onChange }: { value: RangeDays; onChange: (days: RangeDays) => void }) {
  const name = useId();
  return (
    <fieldset className="flex items-center gap-2">
      <legend className="sr-only">{t("range.label")}</legend>
      {RANGES.map((days) => (
        <label
          key={days}
          className={cn(
            "cursor-pointer rounded-md border px-3 py-1.5 text-sm font-medium has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-brand-500",
            value === days
              ? "border-brand-600 bg-brand-600 text-white"
              : "border-slate-300 bg-white text-slate-800 hover:bg-slate-100 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-100 dark:hover:bg-slate-800",
          )}
        >
          <input type="radio" className="sr-only" name={name} value={days} checked={value === days} onChange={() => onChange(days)} />
          {t("range.days", { days })}
        </label>
      ))}
    </fieldset>
  );
}
