import { useMemo } from "react";
import { ScrollRegion } from "@/components/ui/ScrollRegion";
import { toast } from "sonner";
import { t, locale } from "@/i18n";
import { formatDate, formatMoney, formatNumber } from "@/lib/format";
import { ApiError, newIdempotencyKey, type Schemas } from "@/api/client";
import { useOrg } from "@/app/org";
import { usePayInvoice } from "@/hooks/billing/useInvoices";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { errorDetail } from "@/components/ui/QueryError";
import { InvoiceStatusBadge } from "./InvoiceStatusBadge";
import { RoleNote } from "./RoleNote";

/** Stripe's hosted page for an invoice the card could not pay, from a `402` refusal. */
export function hostedInvoiceUrl(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 402) return null;
  const body = error.body as { hosted_invoice_url?: unknown } | undefined;
  return typeof body?.hosted_invoice_url === "string" ? body.hosted_invoice_url : null;
}

function Amount({ label, value, currency, strong }: { label: string; value: number; currency: string; strong?: boolean }) {
  return (
    <div className={strong ? "flex justify-between font-semibold" : "flex justify-between"}>
      <dt>{label}</dt>
      <dd className="tabular-nums">{formatMoney(value, currency, locale)}</dd>
    </div>
  );
}

/** One invoice: its lines (and the usage records each bills), totals, the PDF and paying it. */
export function InvoiceDetails({ invoice }: { invoice: Schemas["InvoiceResponse"] }) {
  const { org, canManage } = useOrg();
  const pay = usePayInvoice(org);
  const key = useMemo(() => newIdempotencyKey(), []);
  const payable = invoice.status === "open" || invoice.status === "past_due";
  const currency = invoice.currency;
  return (
    <div className="flex flex-col gap-6">
      <Card aria-labelledby="invoice-title">
        <CardHeader id="invoice-title" title={t("invoice.summary")} action={<InvoiceStatusBadge status={invoice.status} />} />
        <dl className="grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-2">
          <div className="flex justify-between gap-2">
            <dt className="text-slate-600 dark:text-slate-400">{t("invoice.period")}</dt>
            <dd>{t("invoice.periodValue", { start: formatDate(invoice.period_start, locale), end: formatDate(invoice.period_end, locale) })}</dd>
          </div>
          <div className="flex justify-between gap-2">
            <dt className="text-slate-600 dark:text-slate-400">{t("invoice.issued")}</dt>
            <dd>{formatDate(invoice.finalized_at ?? invoice.created_at, locale)}</dd>
          </div>
          <div className="flex justify-between gap-2">
            <dt className="text-slate-600 dark:text-slate-400">{t("invoice.dueDate")}</dt>
            <dd>{formatDate(invoice.due_date, locale)}</dd>
          </div>
          <div className="flex justify-between gap-2">
            <dt className="text-slate-600 dark:text-slate-400">{t("invoice.paidAt")}</dt>
            <dd>{formatDate(invoice.paid_at, locale)}</dd>
          </div>
        </dl>
        {invoice.description && <p className="mt-3 text-sm">{invoice.description}</p>}
        <div className="mt-4 flex flex-wrap gap-2">
          {invoice.invoice_pdf && (
            <a className="inline-flex items-center rounded-md border border-slate-300 px-4 py-2 text-sm font-medium dark:border-slate-600" href={invoice.invoice_pdf} target="_blank" rel="noreferrer">
              {t("invoice.pdf")}
            </a>
          )}
          {invoice.hosted_invoice_url && (
            <a className="inline-flex items-center rounded-md border border-slate-300 px-4 py-2 text-sm font-medium dark:border-slate-600" href={invoice.hosted_invoice_url} target="_blank" rel="noreferrer">
              {t("invoice.hosted")}
            </a>
          )}
          {payable && canManage && (
            <Button
              busy={pay.isPending}
              onClick={() =>
                pay.mutate(
                  { invoiceId: invoice.id, key },
                  {
                    onSuccess: () => toast.success(t("invoice.paid")),
                    onError: (error) => {
                      const hosted = hostedInvoiceUrl(error);
                      if (hosted) {
                        toast.info(errorDetail(error));
                        window.open(hosted, "_blank", "noopener");
                      } else toast.error(errorDetail(error));
                    },
                  },
                )
              }
            >
              {t("invoice.pay", { amount: formatMoney(invoice.amount_due, currency, locale) })}
            </Button>
          )}
        </div>
        {payable && <div className="mt-2"><RoleNote /></div>}
      </Card>
      <Card aria-labelledby="lines-title">
        <CardHeader id="lines-title" title={t("invoice.lines")} />
        <ScrollRegion label={t("invoice.lines")}>
          <table className="w-full text-left text-sm">
            <caption className="sr-only">{t("invoice.lines")}</caption>
            <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400">
              <tr>
                <th scope="col" className="py-2 pr-3 font-medium">{t("invoice.line")}</th>
                <th scope="col" className="py-2 pr-3 text-right font-medium">{t("invoice.quantity")}</th>
                <th scope="col" className="py-2 pr-3 text-right font-medium">{t("invoice.unitPrice")}</th>
                <th scope="col" className="py-2 text-right font-medium">{t("invoice.amount")}</th>
              </tr>
            </thead>
            <tbody>
              {invoice.line_items.map((line, index) => (
                <tr key={index} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
                  <td className="py-2 pr-3">
                    <p>{line.description}</p>
                    {line.usage_record_ids.length > 0 && (
                      <details className="mt-1 text-xs text-slate-600 dark:text-slate-400">
                        <summary className="cursor-pointer">{t("invoice.records", { count: formatNumber(line.usage_record_ids.length, locale) })}</summary>
                        <ul className="mt-1 max-h-40 overflow-y-auto font-mono">
                          {line.usage_record_ids.map((id) => (
                            <li key={id}>{id}</li>
                          ))}
                        </ul>
                      </details>
                    )}
                  </td>
                  <td className="py-2 pr-3 text-right tabular-nums">{formatNumber(line.quantity, locale)}</td>
                  <td className="py-2 pr-3 text-right tabular-nums">{formatMoney(line.unit_price, currency, locale)}</td>
                  <td className="py-2 text-right tabular-nums">{formatMoney(line.amount, currency, locale)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
        <dl className="ml-auto mt-4 flex max-w-xs flex-col gap-1 text-sm">
          <Amount label={t("invoice.subtotal")} value={invoice.subtotal} currency={currency} />
          {invoice.discount_amount > 0 && <Amount label={t("invoice.discount")} value={-invoice.discount_amount} currency={currency} />}
          {invoice.tax_amount > 0 && <Amount label={t("invoice.tax")} value={invoice.tax_amount} currency={currency} />}
          <Amount label={t("invoice.total")} value={invoice.total} currency={currency} strong />
          {invoice.credits_applied > 0 && <Amount label={t("invoice.credits")} value={-invoice.credits_applied} currency={currency} />}
          {invoice.amount_paid > 0 && <Amount label={t("invoice.amountPaid")} value={-invoice.amount_paid} currency={currency} />}
          <Amount label={t("invoice.amountDue")} value={invoice.amount_due} currency={currency} strong />
        </dl>
      </Card>
    </div>
  );
}
