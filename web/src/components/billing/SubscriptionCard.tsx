import { useState } from "react";
import { Link } from "react-router";
import { toast } from "sonner";
import { t, locale } from "@/i18n";
import { formatDate, formatMoney } from "@/lib/format";
import { useOrg, useOrgHref } from "@/app/org";
import { newIdempotencyKey } from "@/api/client";
import { usePlans } from "@/hooks/billing/useStripeConfig";
import { useCancelSubscription, useSubscription } from "@/hooks/billing/useSubscription";
import { Badge, type Tone } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { ConfirmDialog } from "@/components/ui/Dialog";
import { QueryError, errorDetail } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { ReactivateButton } from "./ReactivateButton";
import { RoleNote } from "./RoleNote";
import { tierById } from "./tiers";

const statusTone: Record<string, Tone> = {
  active: "success",
  trialing: "info",
  past_due: "danger",
  canceled: "neutral",
  paused: "warning",
  incomplete: "warning",
};

export function statusLabel(status: string): string {
  const known = ["active", "trialing", "past_due", "canceled", "paused", "incomplete", "suspended", "pending"] as const;
  return (known as readonly string[]).includes(status) ? t(`status.${status as (typeof known)[number]}`) : status;
}

/** The plan: tier, price, status, period and what the customer can do with it. */
export function SubscriptionCard({ linkToPlans = true }: { linkToPlans?: boolean }) {
  const { org, canManage } = useOrg();
  const href = useOrgHref();
  const subscription = useSubscription(org);
  const plans = usePlans();
  const cancel = useCancelSubscription(org);
  const [reason, setReason] = useState("");
  if (subscription.isPending) return <LoadingCard label={t("plan.loading")} />;
  if (subscription.error) return <QueryError error={subscription.error} onRetry={() => void subscription.refetch()} />;
  const sub = subscription.data;
  const tier = tierById(plans.data, sub.tier);
  const price = sub.current_price ?? tier?.price_usd ?? null;
  const paid = tier?.billing === "monthly";
  return (
    <Card aria-labelledby="subscription-title">
      <CardHeader id="subscription-title" title={t("plan.title")} action={<Badge tone={statusTone[sub.status] ?? "neutral"}>{statusLabel(sub.status)}</Badge>} />
      <p className="text-2xl font-semibold" data-testid="current-tier">
        {tier?.name ?? sub.tier}
      </p>
      <p className="mt-1 text-sm text-slate-700 dark:text-slate-300">
        {sub.is_lifetime
          ? t("plan.lifetimeSince", { date: formatDate(sub.lifetime_purchase_date, locale) })
          : price === null
            ? t("plan.customPrice")
            : paid
              ? t("plan.perMonth", { price: formatMoney(price, "USD", locale) })
              : t("plan.freePrice")}
        {sub.current_phase?.intro && ` · ${sub.current_phase.name}`}
      </p>
      {sub.current_period_start && sub.current_period_end && (
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
          {t("plan.period", { start: formatDate(sub.current_period_start, locale), end: formatDate(sub.current_period_end, locale) })}
        </p>
      )}
      <div className="mt-4 flex flex-wrap gap-2">
        {canManage && linkToPlans && (
          <Link
            to={href("/billing/plan")}
            className="inline-flex items-center rounded-md bg-brand-600 px-4 py-2 text-sm font-medium text-white hover:bg-brand-700"
          >
            {paid ? t("plan.change") : t("plan.upgrade")}
          </Link>
        )}
        {canManage && paid && !sub.cancel_at_period_end && sub.status !== "canceled" && (
          <ConfirmDialog
            trigger={<Button variant="secondary">{t("plan.cancel")}</Button>}
            title={t("plan.cancelTitle")}
            description={t("plan.cancelBody", { date: formatDate(sub.current_period_end, locale) })}
            confirmLabel={t("plan.cancelConfirm")}
            busy={cancel.isPending}
            onConfirm={() =>
              cancel.mutate(
                { reason, key: newIdempotencyKey() },
                {
                  onSuccess: () => toast.success(t("plan.canceled")),
                  onError: (error) => toast.error(errorDetail(error)),
                },
              )
            }
          >
            <label className="mt-4 block text-sm font-medium" htmlFor="cancel-reason">
              {t("plan.cancelReason")}
            </label>
            <textarea
              id="cancel-reason"
              maxLength={500}
              value={reason}
              onChange={(event) => setReason(event.target.value)}
              className="mt-1 w-full rounded-md border border-slate-300 bg-white p-2 text-sm dark:border-slate-600 dark:bg-slate-950"
              rows={3}
            />
          </ConfirmDialog>
        )}
        {sub.cancel_at_period_end && <ReactivateButton />}
      </div>
      <div className="mt-3">
        <RoleNote />
      </div>
    </Card>
  );
}
