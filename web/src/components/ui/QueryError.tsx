import { ApiError } from "@/api/client";
import { t } from "@/i18n";
import { Banner } from "./Banner";
import { Button } from "./Button";

/** Shows the API's own `detail` (never a made-up message) and a retry. */
export function QueryError({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const detail = error instanceof ApiError ? error.detail : error instanceof Error ? error.message : String(error);
  return (
    <Banner
      tone="danger"
      title={title ?? t("error.load")}
      action={
        onRetry && (
          <Button variant="secondary" size="sm" onClick={onRetry}>
            {t("common.retry")}
          </Button>
        )
      }
    >
      {detail}
    </Banner>
  );
}

export function errorDetail(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  if (error instanceof Error) return error.message;
  return String(error);
}
