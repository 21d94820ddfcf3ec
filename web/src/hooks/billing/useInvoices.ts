import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/api/client";
import { billingKeys, MINUTE } from "./keys";

export type InvoiceStatus = Schemas["InvoiceResponse"]["status"];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function useInvoices(org: string, status?: InvoiceStatus, cursor?: string, limit = 20) {
  return useQuery({
    queryKey: billingKeys.invoices(org, status, cursor),
    queryFn: async (): Promise<Page<Schemas["InvoiceResponse"]>> => {
      const { data, error, response } = await api.GET("/api/billing/account/{organization_id}/invoices", {
        params: { path: { organization_id: org }, query: { status, cursor, limit } },
      });
      const items = await unwrap(Promise.resolve({ data, error, response }));
      return { items, nextCursor: response.headers.get("x-next-cursor") };
    },
    placeholderData: keepPreviousData,
    staleTime: 5 * MINUTE,
  });
}

export function useInvoice(org: string, invoiceId: string) {
  return useQuery({
    queryKey: billingKeys.invoice(org, invoiceId),
    queryFn: () => unwrap(api.GET("/api/billing/invoices/{invoice_id}", { params: { path: { invoice_id: invoiceId } } })),
    staleTime: 5 * MINUTE,
  });
}

/**
 * Pays an invoice with the default payment method. A `402` means the card needs the customer:
 * the refusal carries Stripe's hosted invoice page, which the caller opens.
 */
export function usePayInvoice(org: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ invoiceId, key }: { invoiceId: string; key: string }) =>
      unwrap(
        api.POST("/api/billing/invoices/{invoice_id}/pay", {
          params: { path: { invoice_id: invoiceId }, header: { "Idempotency-Key": key } },
        }),
      ),
    onSettled: () => client.invalidateQueries({ queryKey: billingKeys.all(org) }),
  });
}
