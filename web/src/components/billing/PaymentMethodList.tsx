import { toast } from "sonner";
import { t } from "@/i18n";
import { newIdempotencyKey, type Schemas } from "@/api/client";
import { useOrg } from "@/app/org";
import { useAttachPaymentMethod, useRemovePaymentMethod } from "@/hooks/billing/usePaymentMethods";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/Dialog";
import { errorDetail } from "@/components/ui/QueryError";

export function describeMethod(method: Schemas["PaymentMethodResponse"]): string {
  if (method.card_last4) {
    const brand = method.card_brand ? method.card_brand.charAt(0).toUpperCase() + method.card_brand.slice(1) : t("payment.card");
    return t("payment.cardEnding", { brand, last4: method.card_last4 });
  }
  return method.type;
}

/** Cards on file: which is the default, make another the default, remove one. */
export function PaymentMethodList({ methods, compact = false }: { methods: Schemas["PaymentMethodResponse"][]; compact?: boolean }) {
  const { org, canManage } = useOrg();
  const attach = useAttachPaymentMethod(org);
  const remove = useRemovePaymentMethod(org);
  if (methods.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-400">{t("payment.none")}</p>;
  const shown = compact ? methods.filter((m) => m.is_default).slice(0, 1) : methods;
  return (
    <ul className="flex flex-col divide-y divide-slate-100 dark:divide-slate-800" aria-label={t("payment.listLabel")}>
      {(shown.length > 0 ? shown : methods.slice(0, 1)).map((method) => (
        <li key={method.id} className="flex flex-wrap items-center justify-between gap-2 py-3">
          <span className="flex items-center gap-2">
            <span className="font-medium">{describeMethod(method)}</span>
            {method.is_default && <Badge tone="info">{t("payment.default")}</Badge>}
          </span>
          {!compact && canManage && (
            <span className="flex gap-2">
              {!method.is_default && (
                <Button
                  variant="secondary"
                  size="sm"
                  busy={attach.isPending && attach.variables?.paymentMethodId === method.id}
                  aria-label={t("payment.makeDefaultNamed", { name: describeMethod(method) })}
                  onClick={() =>
                    attach.mutate(
                      { paymentMethodId: method.id, setAsDefault: true, key: newIdempotencyKey() },
                      { onSuccess: () => toast.success(t("payment.defaultSet")), onError: (e) => toast.error(errorDetail(e)) },
                    )
                  }
                >
                  {t("payment.makeDefault")}
                </Button>
              )}
              <ConfirmDialog
                trigger={
                  <Button variant="secondary" size="sm" aria-label={t("payment.removeNamed", { name: describeMethod(method) })}>
                    {t("payment.remove")}
                  </Button>
                }
                title={t("payment.removeTitle")}
                description={t("payment.removeBody", { name: describeMethod(method) })}
                confirmLabel={t("payment.remove")}
                busy={remove.isPending}
                onConfirm={() =>
                  remove.mutate(method.id, {
                    onSuccess: () => toast.success(t("payment.removed")),
                    onError: (e) => toast.error(errorDetail(e)),
                  })
                }
              />
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
