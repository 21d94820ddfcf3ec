import { useMemo, useState } from "react";
import { toast } from "sonner";
import { t, locale } from "@/i18n";
import { formatDate, formatMoney } from "@/lib/format";
import { newIdempotencyKey } from "@/api/client";
import { useOrg } from "@/app/org";
import { useChangePlan, useChangePreview } from "@/hooks/billing/useSubscription";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { Dialog, DialogClose } from "@/components/ui/Dialog";
import { QueryError, errorDetail } from "@/components/ui/QueryError";
import { Skeleton } from "@/components/ui/Skeleton";
import type { Tier } from "./tiers";

/** A change between paid plans: the price preview first, then the change (upgrades now, downgrades at period end). */
export function UpgradeDialog({ tier, kind }: { tier: Tier; kind: "upgrade" | "downgrade" }) {
  const { org } = useOrg();
  const [open, setOpen] = useState(false);
  const preview = useChangePreview(org, open ? tier.id : null);
  const change = useChangePlan(org);
  const key = useMemo(() => (open ? newIdempotencyKey() : ""), [open]);
  const label = kind === "upgrade" ? t("plan.upgradeTo", { tier: tier.name }) : t("plan.downgradeTo", { tier: tier.name });
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        change.reset();
      }}
      trigger={
        <Button variant={kind === "upgrade" ? "primary" : "secondary"} className="w-full">
          {kind === "upgrade" ? t("plan.upgradeButton") : t("plan.downgradeButton")}
        </Button>
      }
      title={label}
      description={kind === "upgrade" ? t("plan.upgradeBody") : t("plan.downgradeBody")}
    >
      {preview.isPending ? (
        <div role="status" aria-live="polite">
          <span className="sr-only">{t("plan.previewLoading")}</span>
          <Skeleton className="h-16 w-full" />
        </div>
      ) : preview.error ? (
        <QueryError error={preview.error} onRetry={() => void preview.refetch()} />
      ) : (
        <dl className="flex flex-col gap-2 text-sm" data-testid="change-preview">
          <div className="flex justify-between">
            <dt>{t("plan.dueNow")}</dt>
            <dd className="font-semibold tabular-nums">{formatMoney(preview.data.amount_due_now, preview.data.currency, locale)}</dd>
          </div>
          <div className="flex justify-between">
            <dt>{t("plan.nextPeriod")}</dt>
            <dd className="font-semibold tabular-nums">{formatMoney(preview.data.next_period_amount, preview.data.currency, locale)}</dd>
          </div>
          <div className="flex justify-between">
            <dt>{t("plan.effective")}</dt>
            <dd>{preview.data.effective_at ? formatDate(preview.data.effective_at, locale) : t("plan.effectiveNow")}</dd>
          </div>
        </dl>
      )}
      {change.error && (
        <div className="mt-4">
          <Banner tone="danger" title={t("plan.changeFailed")}>
            {errorDetail(change.error)}
          </Banner>
        </div>
      )}
      <div className="mt-6 flex justify-end gap-2">
        <DialogClose asChild>
          <Button variant="secondary">{t("common.cancel")}</Button>
        </DialogClose>
        <Button
          variant={kind === "upgrade" ? "primary" : "secondary"}
          disabled={!preview.data}
          busy={change.isPending}
          onClick={() =>
            change.mutate(
              { tier: tier.id, key },
              {
                onSuccess: () => {
                  toast.success(kind === "upgrade" ? t("plan.upgraded", { tier: tier.name }) : t("plan.downgradeScheduled", { tier: tier.name }));
                  setOpen(false);
                },
              },
            )
          }
        >
          {t("plan.confirmChange")}
        </Button>
      </div>
    </Dialog>
  );
}
