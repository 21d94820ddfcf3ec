import { Progress } from "radix-ui";
import { cn } from "./cn";
import type { Meter } from "@/lib/meters";

const fill = {
  ok: "bg-brand-600",
  warning: "bg-amber-500",
  exhausted: "bg-red-600",
  unlimited: "bg-emerald-600",
} as const;

/** A labelled progress bar; the label names what is measured, the value text says how much. */
export function MeterBar({ label, valueText, meter }: { label: string; valueText: string; meter: Meter }) {
  const percent = Math.round(meter.fraction * 100);
  return (
    <Progress.Root
      value={meter.level === "unlimited" ? null : percent}
      max={100}
      aria-label={label}
      aria-valuetext={valueText}
      className="relative h-2.5 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
    >
      <Progress.Indicator
        className={cn("h-full rounded-full transition-[width]", fill[meter.level])}
        style={{ width: `${meter.level === "unlimited" ? 0 : percent}%` }}
      />
    </Progress.Root>
  );
}
