import { cn } from "./cn";
import { t } from "@/i18n";

/** A placeholder while data loads; announced once to screen readers by its container. */
export function Skeleton({ className }: { className?: string }) {
  return <div aria-hidden="true" className={cn("animate-pulse rounded-md bg-slate-200 dark:bg-slate-800", className)} />;
}

export function LoadingCard({ lines = 3, label }: { lines?: number; label?: string }) {
  return (
    <div role="status" aria-live="polite" data-loading="" className="rounded-xl border border-slate-200 bg-white p-5 dark:border-slate-800 dark:bg-slate-900">
      <span className="sr-only">{label ?? t("common.loading")}</span>
      <Skeleton className="mb-4 h-5 w-1/3" />
      {Array.from({ length: lines }, (_, i) => (
        <Skeleton key={i} className="mb-2 h-4 w-full" />
      ))}
    </div>
  );
}
