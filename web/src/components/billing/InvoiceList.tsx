import { Link } from "react-router";
import { ScrollRegion } from "@/components/ui/ScrollRegion";
import { t, locale } from "@/i18n";
import { formatDate, formatMoney } from "@/lib/format";
import { useOrgHref } from "@/app/org";
import type { Schemas } from "@/api/client";
import { InvoiceStatusBadge } from "./InvoiceStatusBadge";

/** Invoice history: number, date, amount, status; each row opens the invoice. */
export function InvoiceList({ invoices, caption }: { invoices: Schemas["InvoiceResponse"][]; caption: string }) {
  const href = useOrgHref();
  if (invoices.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-400">{t("invoices.none")}</p>;
  return (
    <ScrollRegion label={caption}>
      <table className="w-full text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400">
          <tr>
            <th scope="col" className="py-2 pr-3 font-medium">{t("invoices.number")}</th>
            <th scope="col" className="py-2 pr-3 font-medium">{t("invoices.date")}</th>
            <th scope="col" className="py-2 pr-3 text-right font-medium">{t("invoices.total")}</th>
            <th scope="col" className="hidden py-2 pr-3 text-right font-medium sm:table-cell">{t("invoices.due")}</th>
            <th scope="col" className="py-2 font-medium">{t("invoices.status")}</th>
          </tr>
        </thead>
        <tbody>
          {invoices.map((invoice) => (
            <tr key={invoice.id} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
              <td className="py-2 pr-3">
                <Link className="font-medium text-brand-700 underline dark:text-brand-300" to={href(`/billing/invoices/${encodeURIComponent(invoice.id)}`)}>
                  {invoice.invoice_number}
                </Link>
              </td>
              <td className="py-2 pr-3 whitespace-nowrap">{formatDate(invoice.finalized_at ?? invoice.created_at, locale)}</td>
              <td className="py-2 pr-3 text-right tabular-nums">{formatMoney(invoice.total, invoice.currency, locale)}</td>
              <td className="hidden py-2 pr-3 text-right tabular-nums sm:table-cell">{formatMoney(invoice.amount_due, invoice.currency, locale)}</td>
              <td className="py-2">
                <InvoiceStatusBadge status={invoice.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
