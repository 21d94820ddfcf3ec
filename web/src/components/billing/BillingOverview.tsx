import { Link } from "react-router";
import { t } from "@/i18n";
import { lastDays } from "@/lib/series";
import { useInView } from "@/lib/useInView";
import { useOrg, useOrgHref } from "@/app/org";
import { useInvoices } from "@/hooks/billing/useInvoices";
import { usePaymentMethods } from "@/hooks/billing/usePaymentMethods";
import { useCosts } from "@/hooks/billing/useCosts";
import { Card, CardHeader } from "@/components/ui/Card";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { ErrorBoundary } from "@/components/ui/ErrorBoundary";
import { AccountBanners } from "./AccountBanners";
import { CostBreakdown } from "./CostBreakdown";
import { CreditBalance } from "./CreditBalance";
import { InvoiceList } from "./InvoiceList";
import { PaymentMethodList } from "./PaymentMethodList";
import { SubscriptionCard } from "./SubscriptionCard";
import { UsageCard } from "./UsageCard";

function MoreLink({ to, children }: { to: string; children: string }) {
  return (
    <Link className="text-sm font-medium text-brand-700 underline dark:text-brand-300" to={to}>
      {children}
    </Link>
  );
}

function RecentInvoices() {
  const { org } = useOrg();
  const href = useOrgHref();
  const invoices = useInvoices(org, undefined, undefined, 5);
  if (invoices.isPending) return <LoadingCard label={t("invoices.loading")} />;
  return (
    <Card aria-labelledby="recent-invoices">
      <CardHeader id="recent-invoices" title={t("invoices.recent")} action={<MoreLink to={href("/billing/invoices")}>{t("invoices.all")}</MoreLink>} />
      {invoices.error ? <QueryError error={invoices.error} onRetry={() => void invoices.refetch()} /> : <InvoiceList invoices={invoices.data.items} caption={t("invoices.recent")} />}
    </Card>
  );
}

function DefaultPaymentMethod() {
  const { org } = useOrg();
  const href = useOrgHref();
  const methods = usePaymentMethods(org);
  if (methods.isPending) return <LoadingCard label={t("payment.loading")} />;
  return (
    <Card aria-labelledby="default-method">
      <CardHeader id="default-method" title={t("payment.defaultTitle")} action={<MoreLink to={href("/billing/payment-methods")}>{t("payment.manage")}</MoreLink>} />
      {methods.error ? <QueryError error={methods.error} onRetry={() => void methods.refetch()} /> : <PaymentMethodList methods={methods.data} compact />}
    </Card>
  );
}

/** Below the fold: asks for the costs only when it comes into view. */
function MonthCosts() {
  const { org } = useOrg();
  const href = useOrgHref();
  const range = lastDays(30);
  const { ref, seen } = useInView<HTMLDivElement>();
  const costs = useCosts(org, range.from, range.to, seen);
  if (costs.isPending) {
    return (
      <div ref={ref}>
        <LoadingCard label={t("costs.loading")} />
      </div>
    );
  }
  return (
    <Card aria-labelledby="cost-breakdown">
      <CardHeader id="cost-breakdown" title={t("costs.last30")} action={<MoreLink to={href("/billing/usage")}>{t("costs.details")}</MoreLink>} />
      {costs.error ? <QueryError error={costs.error} onRetry={() => void costs.refetch()} /> : <CostBreakdown summary={costs.data} />}
    </Card>
  );
}

/** The billing page at a glance: what needs attention, the plan, usage, credits, invoices, card and costs. */
export function BillingOverview() {
  return (
    <div className="flex flex-col gap-6">
      <AccountBanners />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <ErrorBoundary label={t("plan.title")}>
          <SubscriptionCard />
        </ErrorBoundary>
        <ErrorBoundary label={t("usage.title")}>
          <UsageCard />
        </ErrorBoundary>
        <ErrorBoundary label={t("credits.title")}>
          <CreditBalance />
        </ErrorBoundary>
      </div>
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <div className="lg:col-span-2">
          <ErrorBoundary label={t("invoices.recent")}>
            <RecentInvoices />
          </ErrorBoundary>
        </div>
        <ErrorBoundary label={t("payment.defaultTitle")}>
          <DefaultPaymentMethod />
        </ErrorBoundary>
      </div>
      <ErrorBoundary label={t("costs.last30")}>
        <MonthCosts />
      </ErrorBoundary>
    </div>
  );
}
