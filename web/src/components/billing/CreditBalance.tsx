import { t, locale } from "@/i18n";
import { formatMoney } from "@/lib/format";
import { useOrg } from "@/app/org";
import { useBillingAccount, useQuota } from "@/hooks/billing/useBillingAccount";
import { Card, CardHeader } from "@/components/ui/Card";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { BuyCreditsDialog } from "./BuyCreditsDialog";

/** Prepaid credits: what is available, what running workflows hold, and a way to buy more. */
export function CreditBalance() {
  const { org } = useOrg();
  const account = useBillingAccount(org);
  const quota = useQuota(org);
  if (account.isPending) return <LoadingCard label={t("credits.loading")} />;
  if (account.error) return <QueryError error={account.error} onRetry={() => void account.refetch()} />;
  const held = quota.data?.credits.held ?? 0;
  return (
    <Card aria-labelledby="credits-title">
      <CardHeader id="credits-title" title={t("credits.title")} action={<BuyCreditsDialog />} />
      <p className="text-3xl font-semibold" data-testid="credit-balance">
        {formatMoney(account.data.credit_balance, "USD", locale)}
      </p>
      {held > 0 && <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">{t("credits.held", { amount: formatMoney(held, "USD", locale) })}</p>}
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
        {t("credits.spent", { amount: formatMoney(account.data.total_amount_spent, "USD", locale) })}
      </p>
    </Card>
  );
}
