import { useSearchParams } from "react-router";
import { t } from "@/i18n";
import { usePageTitle } from "@/lib/usePageTitle";
import { useCursorStack } from "@/lib/useCursorStack";
import { useOrg } from "@/app/org";
import { useInvoices, type InvoiceStatus } from "@/hooks/billing/useInvoices";
import { Card, CardHeader } from "@/components/ui/Card";
import { SelectField } from "@/components/ui/Field";
import { Pager } from "@/components/ui/Pager";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import { InvoiceList } from "@/components/billing/InvoiceList";
import { INVOICE_STATUSES, invoiceStatusLabel } from "@/components/billing/InvoiceStatusBadge";
import { ExportButton } from "@/components/billing/ExportButton";

export default function InvoicesPage() {
  usePageTitle(t("nav.invoices"));
  const { org } = useOrg();
  const [params, setParams] = useSearchParams();
  const asked = params.get("status");
  const status = (INVOICE_STATUSES as readonly string[]).includes(asked ?? "") ? (asked as InvoiceStatus) : undefined;
  const pages = useCursorStack();
  const invoices = useInvoices(org, status, pages.cursor);
  return (
    <>
      <h1 className="text-2xl font-semibold">{t("invoices.title")}</h1>
      <Card aria-labelledby="invoice-history">
        <CardHeader id="invoice-history" title={t("invoices.history")} action={<ExportButton kind="invoices" query={{ status }} />} />
        <div className="mb-4 max-w-xs">
          <SelectField
            label={t("invoices.filter")}
            value={status ?? ""}
            onChange={(event) => {
              const next = new URLSearchParams(params);
              if (event.target.value) next.set("status", event.target.value);
              else next.delete("status");
              setParams(next, { replace: true });
              pages.reset();
            }}
          >
            <option value="">{t("invoices.filterAll")}</option>
            {INVOICE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {invoiceStatusLabel(s)}
              </option>
            ))}
          </SelectField>
        </div>
        {invoices.isPending ? (
          <LoadingCard label={t("invoices.loading")} />
        ) : invoices.error ? (
          <QueryError error={invoices.error} onRetry={() => void invoices.refetch()} />
        ) : (
          <>
            <InvoiceList invoices={invoices.data.items} caption={t("invoices.history")} />
            <Pager
              label={t("invoices.pages")}
              page={pages.page}
              hasNext={Boolean(invoices.data.nextCursor)}
              onNext={() => pages.next(invoices.data.nextCursor)}
              onPrevious={pages.previous}
            />
          </>
        )}
      </Card>
    </>
  );
}
