import { t } from "@/i18n";
import { Button } from "./Button";

/** Older/newer paging over cursors (`x-next-cursor`): the cursors seen so far form a stack. */
export function Pager({
  page,
  hasNext,
  onNext,
  onPrevious,
  label,
}: {
  page: number;
  hasNext: boolean;
  onNext: () => void;
  onPrevious: () => void;
  label: string;
}) {
  return (
    <nav aria-label={label} className="mt-4 flex items-center justify-between gap-2">
      <Button variant="secondary" size="sm" onClick={onPrevious} disabled={page === 0}>
        {t("common.previous")}
      </Button>
      <span className="text-sm text-slate-600 dark:text-slate-400">{t("common.page", { page: page + 1 })}</span>
      <Button variant="secondary" size="sm" onClick={onNext} disabled={!hasNext}>
        {t("common.next")}
      </Button>
    </nav>
  );
}
