import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { t, locale } from "@/i18n";
import { formatDateTime } from "@/lib/format";
import { useOrg } from "@/app/org";
import { useByoKeys, useDeleteByoKey, usePutByoKey } from "@/hooks/billing/useSettings";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { ConfirmDialog, Dialog } from "@/components/ui/Dialog";
import { TextField } from "@/components/ui/Field";
import { QueryError, errorDetail } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";
import type { Schemas } from "@/api/client";
import { RoleNote } from "./RoleNote";

function KeyForm({ provider, replacing, onDone }: { provider: Schemas["ByoProvider"]; replacing: boolean; onDone: () => void }) {
  const { org } = useOrg();
  const put = usePutByoKey(org);
  const [key, setKey] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const error = key.trim().length < 8 ? t("byo.keyTooShort") : null;
  const [submitted, setSubmitted] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (error) return;
    put.mutate(
      { provider: provider.id, key: { api_key: key.trim(), base_url: baseUrl.trim() || null } },
      {
        onSuccess: () => {
          // The key is sealed server-side and never shown again; drop it from memory too.
          setKey("");
          toast.success(t("byo.saved", { provider: provider.name }));
          onDone();
        },
        onError: (e) => toast.error(errorDetail(e)),
      },
    );
  };
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4">
      <TextField label={t("byo.key")} type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} error={submitted ? error : null} hint={replacing ? t("byo.replaceHint") : t("byo.keyHint")} />
      <TextField label={t("byo.baseUrl")} type="url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} hint={t("byo.baseUrlHint")} />
      <Button type="submit" busy={put.isPending}>
        {t("byo.save")}
      </Button>
    </form>
  );
}

/** Provider keys on plans that bring their own: add, replace, remove; a key is never shown back. */
export function ByoKeys({ providers, enabled }: { providers: Schemas["ByoProvider"][]; enabled: boolean }) {
  const { org, canManage } = useOrg();
  const keys = useByoKeys(org, enabled);
  const remove = useDeleteByoKey(org);
  const [editing, setEditing] = useState<string | null>(null);
  if (!enabled) {
    return (
      <Card aria-labelledby="byo-title">
        <CardHeader id="byo-title" title={t("byo.title")} />
        <p className="text-sm text-slate-600 dark:text-slate-400">{t("byo.notOnPlan")}</p>
      </Card>
    );
  }
  if (keys.isPending) return <LoadingCard label={t("byo.loading")} />;
  if (keys.error) return <QueryError error={keys.error} onRetry={() => void keys.refetch()} />;
  const byProvider = new Map(keys.data.map((k) => [k.provider, k]));
  return (
    <Card aria-labelledby="byo-title">
      <CardHeader id="byo-title" title={t("byo.title")} />
      <ul className="flex flex-col divide-y divide-slate-100 dark:divide-slate-800">
        {providers.map((provider) => {
          const stored = byProvider.get(provider.id);
          return (
            <li key={provider.id} className="flex flex-wrap items-center justify-between gap-2 py-3">
              <div>
                <p className="font-medium">{provider.name}</p>
                <p className="text-sm text-slate-600 dark:text-slate-400">
                  {stored
                    ? t("byo.stored", { last4: stored.last_four, date: formatDateTime(stored.updated_at, locale) })
                    : t("byo.none")}
                </p>
              </div>
              {canManage && (
                <span className="flex gap-2">
                  <Dialog
                    open={editing === provider.id}
                    onOpenChange={(open) => setEditing(open ? provider.id : null)}
                    trigger={
                      <Button variant="secondary" size="sm" aria-label={t(stored ? "byo.replaceNamed" : "byo.addNamed", { provider: provider.name })}>
                        {stored ? t("byo.replace") : t("byo.add")}
                      </Button>
                    }
                    title={t(stored ? "byo.replaceNamed" : "byo.addNamed", { provider: provider.name })}
                    description={t("byo.never")}
                  >
                    <KeyForm provider={provider} replacing={Boolean(stored)} onDone={() => setEditing(null)} />
                  </Dialog>
                  {stored && (
                    <ConfirmDialog
                      trigger={
                        <Button variant="secondary" size="sm" aria-label={t("byo.removeNamed", { provider: provider.name })}>
                          {t("byo.remove")}
                        </Button>
                      }
                      title={t("byo.removeNamed", { provider: provider.name })}
                      description={t("byo.removeBody")}
                      confirmLabel={t("byo.remove")}
                      busy={remove.isPending}
                      onConfirm={() => remove.mutate(provider.id, { onSuccess: () => toast.success(t("byo.removed")), onError: (e) => toast.error(errorDetail(e)) })}
                    />
                  )}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      <RoleNote />
    </Card>
  );
}
