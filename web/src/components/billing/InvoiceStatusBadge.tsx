import { t } from "@/i18n";
import { Badge, type Tone } from "@/components/ui/Badge";

const tones: Record<string, Tone> = { draft: "neutral", open: "info", paid: "success", past_due: "danger", void: "neutral" };

export const INVOICE_STATUSES = ["draft", "open", "paid", "past_due", "void"] as const;

export function invoiceStatusLabel(status: string): string {
  return (INVOICE_STATUSES as readonly string[]).includes(status) ? t(`invoice.status.${status as (typeof INVOICE_STATUSES)[number]}`) : status;
}

export function InvoiceStatusBadge({ status }: { status: string }) {
  return <Badge tone={tones[status] ?? "neutral"}>{invoiceStatusLabel(status)}</Badge>;
}
