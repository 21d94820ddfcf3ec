import { useMemo, useState, type FormEvent } from "react";
import { t, locale } from "@/i18n";
import { formatMoney, formatNumber } from "@/lib/format";
import { newIdempotencyKey } from "@/api/client";
import { useOrg } from "@/app/org";
import { useCheckout } from "@/hooks/billing/usePurchases";
import { usePlans } from "@/hooks/billing/useStripeConfig";
import { Button } from "@/components/ui/Button";
import { Dialog } from "@/components/ui/Dialog";
import { TextField } from "@/components/ui/Field";
import { Banner } from "@/components/ui/Banner";
import { errorDetail } from "@/components/ui/QueryError";
import { creditAmountError } from "@/lib/validation";

/** Prepaid credits (any amount) or a workflow pack, paid through Stripe Checkout. */
export function BuyCreditsDialog() {
  const { org, canManage } = useOrg();
  const plans = usePlans();
  const checkout = useCheckout(org);
  const [open, setOpen] = useState(false);
  const [amount, setAmount] = useState("50");
  const [touched, setTouched] = useState(false);
  // One key per opened form: a double click, or Enter twice, opens one session.
  const key = useMemo(() => (open ? newIdempotencyKey() : ""), [open]);
  const maxUsd = plans.data?.credit_purchase.max_usd ?? 1000;
  const error = creditAmountError(amount, maxUsd);
  if (!canManage) return null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (error) return;
    checkout.mutate({ purchase: { kind: "credits", amountUsd: Number(amount) }, key });
  };
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        checkout.reset();
        setTouched(false);
      }}
      trigger={<Button>{t("credits.buy")}</Button>}
      title={t("credits.buyTitle")}
      description={t("credits.buyBody")}
    >
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        <TextField
          label={t("credits.amount")}
          inputMode="decimal"
          name="amount"
          value={amount}
          onChange={(event) => setAmount(event.target.value)}
          onBlur={() => setTouched(true)}
          hint={t("credits.amountHint", { max: formatMoney(maxUsd, "USD", locale) })}
          error={touched ? error : null}
        />
        {checkout.error && <Banner tone="danger" title={t("checkout.failed")}>{errorDetail(checkout.error)}</Banner>}
        <Button type="submit" busy={checkout.isPending || checkout.isSuccess}>
          {t("credits.continue")}
        </Button>
      </form>
      {plans.data && plans.data.workflow_packs.length > 0 && (
        <div className="mt-6 border-t border-slate-200 pt-4 dark:border-slate-700">
          <h3 className="text-sm font-semibold">{t("packs.title")}</h3>
          <ul className="mt-2 flex flex-col gap-2">
            {plans.data.workflow_packs.map((pack, index) => (
              <li key={pack.id} className="flex items-center justify-between gap-2 text-sm">
                <span>
                  {t("packs.item", { workflows: formatNumber(pack.workflows, locale), price: formatMoney(pack.price_usd, "USD", locale) })}
                </span>
                <Button
                  variant="secondary"
                  size="sm"
                  busy={checkout.isPending && checkout.variables?.purchase.kind === "pack"}
                  onClick={() => checkout.mutate({ purchase: { kind: "pack", pack: pack.workflows }, key: `${key}-pack-${index}` })}
                >
                  {t("packs.buy")}
                </Button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </Dialog>
  );
}
