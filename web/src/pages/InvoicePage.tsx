import { Link, useParams } from "react-router";
import { t } from "@/i18n";
import { usePageTitle } from "@/lib/usePageTitle";
import { useOrg, useOrgHref } from "@/app/org";
import { useInvoice } from "@/hooks/billing/useInvoices";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { InvoiceDetails } from "@/components/billing/InvoiceDetails";

export default function InvoicePage() {
  const { invoiceId = "" } = useParams();
  const { org } = useOrg();
  const href = useOrgHref();
  const invoice = useInvoice(org, invoiceId);
  usePageTitle(invoice.data ? t("invoice.title", { number: invoice.data.invoice_number }) : t("nav.invoices"));
  return (
    <>
      <p>
        <Link className="text-sm font-medium text-brand-700 underline dark:text-brand-300" to={href("/billing/invoices")}>
          {t("invoice.back")}
        </Link>
      </p>
      <h1 className="text-2xl font-semibold">{invoice.data ? t("invoice.title", { number: invoice.data.invoice_number }) : t("invoice.heading")}</h1>
      {invoice.isPending ? (
        <LoadingCard lines={6} label={t("invoice.loading")} />
      ) : invoice.error ? (
        <QueryError error={invoice.error} onRetry={() => void invoice.refetch()} />
      ) : (
        <InvoiceDetails invoice={invoice.data} />
      )}
    </>
  );
}
