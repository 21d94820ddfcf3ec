import { toast } from "sonner";
import { t } from "@/i18n";
import { useOrg } from "@/app/org";
import { useReactivateSubscription } from "@/hooks/billing/useSubscription";
import { Button } from "@/components/ui/Button";
import { errorDetail } from "@/components/ui/QueryError";

/** Undoes a cancellation at period end: the plan simply continues. */
export function ReactivateButton() {
  const { org, canManage } = useOrg();
  const reactivate = useReactivateSubscription(org);
  if (!canManage) return null;
  return (
    <Button
      variant="secondary"
      busy={reactivate.isPending}
      onClick={() =>
        reactivate.mutate(undefined, {
          onSuccess: () => toast.success(t("plan.reactivated")),
          onError: (error) => toast.error(errorDetail(error)),
        })
      }
    >
      {t("plan.reactivate")}
    </Button>
  );
}
