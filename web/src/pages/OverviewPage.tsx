import { t } from "@/i18n";
import { usePageTitle } from "@/lib/usePageTitle";
import { BillingOverview } from "@/components/billing/BillingOverview";

export function OverviewPage() {
  usePageTitle(t("nav.overview"));
  return (
    <>
      <h1 className="text-2xl font-semibold">{t("overview.title")}</h1>
      <BillingOverview />
    </>
  );
}
