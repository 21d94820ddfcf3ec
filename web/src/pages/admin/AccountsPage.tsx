import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { t, locale } from "@/i18n";
import { formatDate } from "@/lib/format";
import { usePageTitle } from "@/lib/usePageTitle";
import { useCursorStack } from "@/lib/useCursorStack";
import { useAdminAccounts } from "@/hooks/admin/useAdmin";
import type { AccountSearch } from "@/hooks/admin/keys";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { SelectField, TextField } from "@/components/ui/Field";
import { Pager } from "@/components/ui/Pager";
import { QueryError } from "@/components/ui/QueryError";
import { ScrollRegion } from "@/components/ui/ScrollRegion";
import { LoadingCard } from "@/components/ui/Skeleton";
import { statusLabel, statusTone } from "./AccountPage";

const FIELDS = ["organization_id_prefix", "billing_email", "stripe_customer_id", "tier"] as const;
const STATUSES = ["active", "suspended", "pending"] as const;

/** The search as the address bar keeps it, so a search can be shared and survives a reload. */
function searchOf(params: URLSearchParams): AccountSearch {
  const search: AccountSearch = {};
  for (const field of FIELDS) {
    const value = params.get(field)?.trim();
    if (value) search[field] = value;
  }
  const status = params.get("status");
  if (status && (STATUSES as readonly string[]).includes(status)) search.status = status as AccountSearch["status"];
  return search;
}

export default function AccountsPage() {
  usePageTitle(t("admin.accounts.title"));
  const [params, setParams] = useSearchParams();
  const search = searchOf(params);
  const [draft, setDraft] = useState<Record<string, string>>(() => Object.fromEntries([...FIELDS, "status"].map((f) => [f, params.get(f) ?? ""])));
  const pages = useCursorStack();
  const accounts = useAdminAccounts(search, pages.cursor);
  const caption = t("admin.accounts.caption");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [key, value] of Object.entries(draft)) if (value.trim()) next.set(key, value.trim());
    setParams(next, { replace: true });
    pages.reset();
  };

  return (
    <>
      <h1 className="text-2xl font-semibold">{t("admin.accounts.title")}</h1>
      <Card aria-labelledby="account-search">
        <CardHeader id="account-search" title={t("admin.accounts.search")} />
        <form role="search" aria-labelledby="account-search" className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" onSubmit={submit}>
          <TextField
            label={t("admin.accounts.prefix")}
            value={draft.organization_id_prefix ?? ""}
            onChange={(e) => setDraft((d) => ({ ...d, organization_id_prefix: e.target.value }))}
            autoComplete="off"
          />
          <SelectField label={t("admin.accounts.status")} value={draft.status ?? ""} onChange={(e) => setDraft((d) => ({ ...d, status: e.target.value }))}>
            <option value="">{t("admin.accounts.any")}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </SelectField>
          <TextField label={t("admin.accounts.tier")} value={draft.tier ?? ""} onChange={(e) => setDraft((d) => ({ ...d, tier: e.target.value }))} autoComplete="off" />
          <TextField
            label={t("admin.accounts.email")}
            type="email"
            value={draft.billing_email ?? ""}
            onChange={(e) => setDraft((d) => ({ ...d, billing_email: e.target.value }))}
            autoComplete="off"
          />
          <TextField
            label={t("admin.accounts.stripe")}
            value={draft.stripe_customer_id ?? ""}
            onChange={(e) => setDraft((d) => ({ ...d, stripe_customer_id: e.target.value }))}
            autoComplete="off"
          />
          <div className="flex items-end gap-2">
            <Button type="submit">{t("admin.accounts.find")}</Button>
            <Button
              variant="secondary"
              onClick={() => {
                setDraft({});
                setParams(new URLSearchParams(), { replace: true });
                pages.reset();
              }}
            >
              {t("admin.accounts.clear")}
            </Button>
          </div>
        </form>
      </Card>
      <Card aria-labelledby="account-results">
        <CardHeader id="account-results" title={caption} />
        {accounts.isPending ? (
          <LoadingCard label={t("admin.accounts.loading")} />
        ) : accounts.error ? (
          <QueryError error={accounts.error} onRetry={() => void accounts.refetch()} />
        ) : accounts.data.items.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">{t("admin.accounts.none")}</p>
        ) : (
          <>
            <ScrollRegion label={caption}>
              <table className="w-full text-left text-sm">
                <caption className="sr-only">{caption}</caption>
                <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400">
                  <tr>
                    <th scope="col" className="py-2 pr-3 font-medium">{t("admin.field.organization")}</th>
                    <th scope="col" className="py-2 pr-3 font-medium">{t("admin.field.status")}</th>
                    <th scope="col" className="py-2 pr-3 font-medium">{t("admin.field.tier")}</th>
                    <th scope="col" className="hidden py-2 pr-3 font-medium md:table-cell">{t("admin.field.email")}</th>
                    <th scope="col" className="hidden py-2 pr-3 font-medium lg:table-cell">{t("admin.field.stripeCustomer")}</th>
                    <th scope="col" className="hidden py-2 pr-3 font-medium sm:table-cell">{t("admin.field.created")}</th>
                  </tr>
                </thead>
                <tbody>
                  {accounts.data.items.map((a) => (
                    <tr key={a.organization_id} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
                      <td className="py-2 pr-3">
                        <Link className="font-medium break-all text-brand-700 underline dark:text-brand-300" to={`/admin/accounts/${encodeURIComponent(a.organization_id)}`}>
                          {a.organization_id}
                        </Link>
                      </td>
                      <td className="py-2 pr-3">
                        <Badge tone={statusTone(a.status)}>{statusLabel(a.status)}</Badge>
                        {a.suspension_reason && <span className="block text-xs text-slate-600 dark:text-slate-400">{a.suspension_reason}</span>}
                      </td>
                      <td className="py-2 pr-3">{a.tier}</td>
                      <td className="hidden py-2 pr-3 break-all md:table-cell">{a.billing_email ?? "—"}</td>
                      <td className="hidden py-2 pr-3 font-mono text-xs lg:table-cell">{a.stripe_customer_id ?? "—"}</td>
                      <td className="hidden py-2 pr-3 whitespace-nowrap sm:table-cell">{formatDate(a.created_at, locale)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
            <Pager
              label={t("admin.accounts.pages")}
              page={pages.page}
              hasNext={Boolean(accounts.data.nextCursor)}
              onNext={() => pages.next(accounts.data.nextCursor)}
              onPrevious={pages.previous}
            />
          </>
        )}
      </Card>
    </>
  );
}
