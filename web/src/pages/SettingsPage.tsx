import { t } from "@/i18n";
import { usePageTitle } from "@/lib/usePageTitle";
import { useOrg } from "@/app/org";
import { usePlans } from "@/hooks/billing/useStripeConfig";
import { useSubscription } from "@/hooks/billing/useSubscription";
import { BudgetForm } from "@/components/billing/BudgetForm";
import { ByoKeys } from "@/components/billing/ByoKeys";
import { tierById } from "@/components/billing/tiers";

export default function SettingsPage() {
  usePageTitle(t("nav.settings"));
  const { org } = useOrg();
  const plans = usePlans();
  const subscription = useSubscription(org);
  const tier = tierById(plans.data, subscription.data?.tier);
  return (
    <>
      <h1 className="text-2xl font-semibold">{t("settings.title")}</h1>
      <BudgetForm />
      {plans.data && subscription.data && <ByoKeys providers={plans.data.byo_providers ?? []} enabled={Boolean(tier?.byo_keys)} />}
    </>
  );
}
