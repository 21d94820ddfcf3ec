import { useState } from "react";
import { toast } from "sonner";
import { t } from "@/i18n";
import { downloadCsv } from "@/api/client";
import { useOrg } from "@/app/org";
import { Button } from "@/components/ui/Button";
import { errorDetail } from "@/components/ui/QueryError";

export type ExportKind = "usage" | "costs" | "invoices";

/** Downloads what the list shows (same filters) as CSV, all pages up to the export's cap. */
export function ExportButton({ kind, query }: { kind: ExportKind; query: Record<string, string | undefined> }) {
  const { org } = useOrg();
  const [busy, setBusy] = useState(false);
  return (
    <Button
      variant="secondary"
      size="sm"
      busy={busy}
      onClick={async () => {
        setBusy(true);
        try {
          await downloadCsv(`/api/billing/account/${encodeURIComponent(org)}/export/${kind}`, query, `${org}-${kind}.csv`);
        } catch (error) {
          toast.error(errorDetail(error));
        } finally {
          setBusy(false);
        }
      }}
    >
      {t(`export.${kind}`)}
    </Button>
  );
}
