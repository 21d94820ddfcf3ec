import { useEffect, useState, type FormEvent } from "react";
import { toast } from "sonner";
import { t, locale } from "@/i18n";
import { formatCost, formatMoney } from "@/lib/format";
import { budgetAmountError, percentError } from "@/lib/validation";
import { useOrg } from "@/app/org";
import { useBudget, useSetBudget } from "@/hooks/billing/useSettings";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { TextField } from "@/components/ui/Field";
import { QueryError, errorDetail } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { MeterBar } from "@/components/ui/MeterBar";
import { meter } from "@/lib/meters";
import { RoleNote } from "./RoleNote";

/** The monthly LLM budget: this month's spend against it, the warning threshold and the hard cap. */
export function BudgetForm() {
  const { org, canManage } = useOrg();
  const budget = useBudget(org);
  const save = useSetBudget(org);
  const [limit, setLimit] = useState("");
  const [warn, setWarn] = useState("80");
  const [hardCap, setHardCap] = useState(false);
  const [submitted, setSubmitted] = useState(false);
  useEffect(() => {
    if (!budget.data) return;
    setLimit(budget.data.monthly_limit_usd === null || budget.data.monthly_limit_usd === undefined ? "" : String(budget.data.monthly_limit_usd));
    setWarn(String(budget.data.warn_at_percent || 80));
    setHardCap(budget.data.hard_cap);
  }, [budget.data]);
  if (budget.isPending) return <LoadingCard label={t("budget.loading")} />;
  if (budget.error) return <QueryError error={budget.error} onRetry={() => void budget.refetch()} />;
  const limitError = budgetAmountError(limit);
  const warnError = percentError(warn);
  const spent = budget.data.month_to_date_usd;
  const cap = budget.data.monthly_limit_usd ?? null;
  const m = meter(spent, cap);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (limitError || warnError) return;
    save.mutate(
      { monthly_limit_usd: Number(limit), warn_at_percent: Number(warn), hard_cap: hardCap },
      { onSuccess: () => toast.success(t("budget.saved")), onError: (e) => toast.error(errorDetail(e)) },
    );
  };
  return (
    <Card aria-labelledby="budget-title">
      <CardHeader id="budget-title" title={t("budget.title")} />
      <p className="text-sm">
        {cap === null
          ? t("budget.spentNoLimit", { spent: formatCost(spent, "USD", locale) })
          : t("budget.spent", { spent: formatCost(spent, "USD", locale), limit: formatMoney(cap, "USD", locale) })}
      </p>
      {cap !== null && (
        <div className="mt-2">
          <MeterBar label={t("budget.title")} valueText={t("budget.spent", { spent: formatCost(spent, "USD", locale), limit: formatMoney(cap, "USD", locale) })} meter={m} />
        </div>
      )}
      {budget.data.blocked && (
        <div className="mt-3">
          <Banner tone="danger" title={t("budget.blocked")} />
        </div>
      )}
      {canManage ? (
        <form onSubmit={submit} noValidate className="mt-4 grid grid-cols-1 gap-4 sm:grid-cols-2">
          <TextField label={t("budget.limit")} inputMode="decimal" value={limit} onChange={(e) => setLimit(e.target.value)} error={submitted ? limitError : null} hint={t("budget.limitHint")} />
          <TextField label={t("budget.warnAt")} inputMode="numeric" value={warn} onChange={(e) => setWarn(e.target.value)} error={submitted ? warnError : null} hint={t("budget.warnHint")} />
          <label className="flex items-center gap-2 text-sm sm:col-span-2">
            <input type="checkbox" checked={hardCap} onChange={(e) => setHardCap(e.target.checked)} className="size-4" />
            {t("budget.hardCap")}
          </label>
          <div className="sm:col-span-2">
            <Button type="submit" busy={save.isPending}>
              {t("budget.save")}
            </Button>
          </div>
        </form>
      ) : (
        <div className="mt-3">
          <RoleNote />
        </div>
      )}
    </Card>
  );
}
