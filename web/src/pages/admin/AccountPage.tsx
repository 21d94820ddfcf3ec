import { Link, useParams } from "react-router";
import type { Schemas } from "@/api/client";
import { ApiError } from "@/api/client";
import { t, locale } from "@/i18n";
import { ageSeconds } from "@/lib/admin";
import { formatDate, formatDateTime, formatDuration, formatMoney, formatNumber } from "@/lib/format";
import { usePageTitle } from "@/lib/usePageTitle";
import { useAdminAccount } from "@/hooks/admin/useAdmin";
import { AccountActions } from "@/components/admin/AccountActions";
import { AuditTable } from "@/components/admin/Audit";
import { Badge, type Tone } from "@/components/ui/Badge";
import { Banner } from "@/components/ui/Banner";
import { Card, CardHeader } from "@/components/ui/Card";
import { ErrorBoundary } from "@/components/ui/ErrorBoundary";
import { QueryError } from "@/components/ui/QueryError";
import { ScrollRegion } from "@/components/ui/ScrollRegion";
import { LoadingCard } from "@/components/ui/Skeleton";
import { InvoiceStatusBadge } from "@/components/billing/InvoiceStatusBadge";

type Detail = Schemas["AccountDetailResponse"];

const link = "font-medium text-brand-700 underline dark:text-brand-300";
const th = "py-2 pr-3 font-medium";
const thead = "border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400";
const row = "border-b border-slate-100 align-top last:border-0 dark:border-slate-800";

const STATUS_KEYS = { active: "admin.status.active", suspended: "admin.status.suspended", pending: "admin.status.pending" } as const;

/** An account status in words; an unknown one as the API says it. */
export function statusLabel(status: string): string {
  return status in STATUS_KEYS ? t(STATUS_KEYS[status as keyof typeof STATUS_KEYS]) : status;
}

export function statusTone(status: string): Tone {
  return status === "active" ? "success" : status === "suspended" ? "danger" : "neutral";
}

function Facts({ items }: { items: Array<[string, React.ReactNode]> }) {
  return (
    <dl className="grid grid-cols-1 gap-x-6 gap-y-1 text-sm">
      {items.map(([term, value]) => (
        <div key={term} className="flex justify-between gap-3 border-b border-slate-100 py-1 dark:border-slate-800">
          <dt className="text-slate-600 dark:text-slate-400">{term}</dt>
          <dd className="text-right font-medium [overflow-wrap:anywhere]">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Empty({ children }: { children: React.ReactNode }) {
  return <p className="text-sm text-slate-600 dark:text-slate-400">{children}</p>;
}

const money = (n: number) => formatMoney(n, "USD", locale);
const limitValue = (n: number | null | undefined) => (n == null ? t("admin.limit.unlimited") : formatNumber(n, locale));

function Summary({ d }: { d: Detail }) {
  const a = d.account;
  return (
    <Card aria-labelledby="account-summary">
      <CardHeader id="account-summary" title={t("admin.account.summary")} />
      <Facts
        items={[
          [t("admin.field.status"), <Badge tone={statusTone(a.status)}>{statusLabel(a.status)}</Badge>],
          [t("admin.field.tier"), a.tier],
          [t("admin.field.created"), formatDateTime(a.created_at, locale)],
          [t("admin.field.email"), a.billing_email ?? "—"],
          [t("admin.field.stripeCustomer"), a.stripe_customer_id ?? "—"],
          [t("admin.field.paymentMethod"), t(a.has_payment_method ? "admin.yes" : "admin.no")],
          [t("admin.field.creditsAvailable"), money(a.credits_available_usd)],
          [t("admin.field.creditsHeld"), money(a.credits_held_usd)],
          [t("admin.field.freeRemaining"), t("admin.field.freeRemainingValue", { count: formatNumber(a.free_remaining, locale), period: a.free_period })],
          [t("admin.field.periodUsed"), t("admin.field.periodUsedValue", { count: formatNumber(a.period_used, locale), period: /^\d{4}-\d{2}-\d{2}T/.test(a.usage_period) ? t("admin.field.since", { date: formatDate(a.usage_period, locale) }) : a.usage_period })],
          [t("admin.field.totalSpent"), money(a.total_spent_usd)],
          [t("admin.field.workflows"), formatNumber(a.total_workflows_completed, locale)],
          [t("admin.field.budgetBlocked"), a.budget_blocked_period ?? "—"],
          [t("admin.field.version"), String(a.version)],
        ]}
      />
    </Card>
  );
}

function Subscription({ d }: { d: Detail }) {
  const s = d.subscription;
  return (
    <Card aria-labelledby="account-subscription">
      <CardHeader id="account-subscription" title={t("admin.account.subscription")} />
      <Facts
        items={[
          [t("admin.field.tier"), s.tier],
          [t("admin.field.subscriptionStatus"), s.status],
          [t("admin.field.period"), t("admin.field.periodValue", { start: formatDate(s.current_period_start, locale), end: formatDate(s.current_period_end, locale) })],
          [t("admin.field.price"), s.current_price != null ? money(s.current_price) : "—"],
          [t("admin.field.cancelAtEnd"), t(s.cancel_at_period_end ? "admin.yes" : "admin.no")],
          [t("admin.field.pending"), s.pending_change ? t("admin.field.pendingValue", { tier: s.pending_change.tier, at: formatDate(s.pending_change.effective_at, locale) }) : "—"],
          [t("admin.field.trialEnd"), formatDate(s.trial_end, locale)],
          [t("admin.field.workflowsUsed"), t("admin.field.ofLimit", { used: formatNumber(s.workflows_used, locale), limit: limitValue(s.workflows_limit) })],
        ]}
      />
    </Card>
  );
}

const LIMIT_NAMES = ["workflows_per_month", "concurrent_agents", "storage_gb"] as const;

function Limits({ d }: { d: Detail }) {
  const caption = t("admin.account.limits");
  return (
    <Card aria-labelledby="account-limits">
      <CardHeader id="account-limits" title={caption} />
      <ScrollRegion label={caption}>
        <table className="w-full text-left text-sm">
          <caption className="sr-only">{caption}</caption>
          <thead className={thead}>
            <tr>
              <th scope="col" className={th}>{t("admin.limit.name")}</th>
              <th scope="col" className={`${th} text-right`}>{t("admin.limit.inForce")}</th>
              <th scope="col" className={`${th} text-right`}>{t("admin.limit.override")}</th>
              <th scope="col" className={th}>{t("admin.limit.expires")}</th>
            </tr>
          </thead>
          <tbody>
            {LIMIT_NAMES.map((name) => {
              const override = d.overrides[name];
              return (
                <tr key={name} className={row}>
                  <th scope="row" className="py-2 pr-3 font-medium">{t(`admin.limit.${name}`)}</th>
                  <td className="py-2 pr-3 text-right tabular-nums">{limitValue(d.limits[name])}</td>
                  <td className="py-2 pr-3 text-right tabular-nums">{override ? formatNumber(override.value, locale) : "—"}</td>
                  <td className="py-2 pr-3">{override ? (override.expires_at ? formatDateTime(override.expires_at, locale) : t("admin.limit.noExpiry")) : "—"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollRegion>
    </Card>
  );
}

function Holds({ d }: { d: Detail }) {
  const caption = t("admin.account.holds");
  return (
    <Card aria-labelledby="account-holds">
      <CardHeader id="account-holds" title={t("admin.account.holdsCount", { count: d.open_holds.length })} />
      {!d.open_holds_complete && <p className="mb-2 text-sm text-amber-800 dark:text-amber-200">{t("admin.account.holdsIncomplete")}</p>}
      {d.open_holds.length === 0 ? (
        <Empty>{t("admin.account.noHolds")}</Empty>
      ) : (
        <ScrollRegion label={caption}>
          <table className="w-full text-left text-sm">
            <caption className="sr-only">{caption}</caption>
            <thead className={thead}>
              <tr>
                <th scope="col" className={th}>{t("admin.hold.run")}</th>
                <th scope="col" className={th}>{t("admin.hold.kind")}</th>
                <th scope="col" className={th}>{t("admin.hold.bucket")}</th>
                <th scope="col" className={`${th} text-right`}>{t("admin.hold.amount")}</th>
                <th scope="col" className={th}>{t("admin.hold.age")}</th>
                <th scope="col" className={th}>{t("admin.hold.expires")}</th>
              </tr>
            </thead>
            <tbody>
              {d.open_holds.map((h) => (
                <tr key={h.run_id} className={row}>
                  <td className="py-2 pr-3 font-mono text-xs break-all">{h.run_id}</td>
                  <td className="py-2 pr-3">{h.kind}</td>
                  <td className="py-2 pr-3">{h.bucket}</td>
                  <td className="py-2 pr-3 text-right tabular-nums">{money(h.amount_usd)}</td>
                  <td className="py-2 pr-3 whitespace-nowrap">{formatDuration(ageSeconds(h.created_at) ?? 0, locale)}</td>
                  <td className="py-2 pr-3 whitespace-nowrap">{formatDateTime(h.expires_at, locale)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </Card>
  );
}

function Ledger({ d }: { d: Detail }) {
  const caption = t("admin.account.ledger");
  return (
    <Card aria-labelledby="account-ledger">
      <CardHeader id="account-ledger" title={caption} />
      {d.recent_ledger.length === 0 ? (
        <Empty>{t("admin.account.noLedger")}</Empty>
      ) : (
        <ScrollRegion label={caption}>
          <table className="w-full text-left text-sm">
            <caption className="sr-only">{caption}</caption>
            <thead className={thead}>
              <tr>
                <th scope="col" className={th}>{t("admin.ledger.when")}</th>
                <th scope="col" className={th}>{t("admin.ledger.kind")}</th>
                <th scope="col" className={`${th} text-right`}>{t("admin.ledger.amount")}</th>
                <th scope="col" className={th}>{t("admin.ledger.reason")}</th>
              </tr>
            </thead>
            <tbody>
              {d.recent_ledger.map((l) => (
                <tr key={l.id} className={row}>
                  <td className="py-2 pr-3 whitespace-nowrap">{formatDateTime(l.created_at, locale)}</td>
                  <td className="py-2 pr-3">{l.kind}</td>
                  <td className="py-2 pr-3 text-right tabular-nums">{money(l.amount)}</td>
                  <td className="py-2 pr-3 break-words">{l.reason || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </Card>
  );
}

function Invoices({ d, org }: { d: Detail; org: string }) {
  const caption = t("admin.account.invoices");
  const notesCaption = t("admin.account.creditNotes");
  return (
    <Card aria-labelledby="account-invoices">
      <CardHeader id="account-invoices" title={caption} />
      {d.recent_invoices.length === 0 ? (
        <Empty>{t("admin.account.noInvoices")}</Empty>
      ) : (
        <ScrollRegion label={caption}>
          <table className="w-full text-left text-sm">
            <caption className="sr-only">{caption}</caption>
            <thead className={thead}>
              <tr>
                <th scope="col" className={th}>{t("admin.invoice.number")}</th>
                <th scope="col" className={th}>{t("admin.invoice.date")}</th>
                <th scope="col" className={`${th} text-right`}>{t("admin.invoice.total")}</th>
                <th scope="col" className={`${th} text-right`}>{t("admin.invoice.paid")}</th>
                <th scope="col" className={th}>{t("admin.invoice.status")}</th>
              </tr>
            </thead>
            <tbody>
              {d.recent_invoices.map((i) => (
                <tr key={i.id} className={row}>
                  <td className="py-2 pr-3">
                    <Link className={link} to={`/billing/invoices/${encodeURIComponent(i.id)}?org=${encodeURIComponent(org)}`}>
                      {i.invoice_number || i.id}
                    </Link>
                  </td>
                  <td className="py-2 pr-3 whitespace-nowrap">{formatDate(i.finalized_at ?? i.created_at, locale)}</td>
                  <td className="py-2 pr-3 text-right tabular-nums">{formatMoney(i.total, i.currency, locale)}</td>
                  <td className="py-2 pr-3 text-right tabular-nums">{formatMoney(i.amount_paid, i.currency, locale)}</td>
                  <td className="py-2 pr-3">
                    <InvoiceStatusBadge status={i.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <h3 className="mt-5 mb-2 font-semibold">{notesCaption}</h3>
      {d.credit_notes.length === 0 ? (
        <Empty>{t("admin.account.noCreditNotes")}</Empty>
      ) : (
        <ScrollRegion label={notesCaption}>
          <table className="w-full text-left text-sm">
            <caption className="sr-only">{notesCaption}</caption>
            <thead className={thead}>
              <tr>
                <th scope="col" className={th}>{t("admin.creditNote.invoice")}</th>
                <th scope="col" className={th}>{t("admin.creditNote.when")}</th>
                <th scope="col" className={`${th} text-right`}>{t("admin.creditNote.amount")}</th>
                <th scope="col" className={th}>{t("admin.creditNote.lines")}</th>
                <th scope="col" className={th}>{t("admin.creditNote.why")}</th>
              </tr>
            </thead>
            <tbody>
              {d.credit_notes.map((n) => {
                const invoice = d.recent_invoices.find((i) => i.id === n.invoice_id);
                return (
                  <tr key={n.invoice_id} className={row}>
                    <td className="py-2 pr-3">{invoice?.invoice_number || n.invoice_id}</td>
                    <td className="py-2 pr-3 whitespace-nowrap">{formatDateTime(n.created_at, locale)}</td>
                    <td className="py-2 pr-3 text-right tabular-nums">{money(n.amount_usd)}</td>
                    <td className="py-2 pr-3">
                      <ul>
                        {n.lines.map((line, index) => (
                          <li key={index}>{t("admin.creditNote.line", { description: line.description, amount: money(line.amount) })}</li>
                        ))}
                      </ul>
                    </td>
                    <td className="py-2 pr-3 break-words">{t("admin.creditNote.byWhy", { reason: n.reason, who: n.created_by })}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </Card>
  );
}

function Budget({ d }: { d: Detail }) {
  const b = d.budget;
  return (
    <Card aria-labelledby="account-budget">
      <CardHeader id="account-budget" title={t("admin.account.budget")} />
      <Facts
        items={[
          [t("admin.budget.limit"), b.monthly_limit_usd != null ? money(b.monthly_limit_usd) : t("admin.budget.none")],
          [t("admin.budget.spent"), money(b.month_to_date_usd)],
          [t("admin.budget.warnAt"), `${b.warn_at_percent} %`],
          [t("admin.budget.hardCap"), t(b.hard_cap ? "admin.yes" : "admin.no")],
          [t("admin.budget.blocked"), b.blocked ? <Badge tone="danger">{t("admin.budget.blockedYes")}</Badge> : t("admin.no")],
        ]}
      />
    </Card>
  );
}

function Flags({ d }: { d: Detail }) {
  const caption = t("admin.account.flags");
  const names = Object.keys(d.flags);
  return (
    <Card aria-labelledby="account-flags">
      <CardHeader id="account-flags" title={caption} />
      {names.length === 0 ? (
        <Empty>{t("admin.flags.none")}</Empty>
      ) : (
        <ScrollRegion label={caption}>
          <table className="w-full text-left text-sm">
            <caption className="sr-only">{caption}</caption>
            <thead className={thead}>
              <tr>
                <th scope="col" className={th}>{t("admin.flags.flag")}</th>
                <th scope="col" className={th}>{t("admin.flags.value")}</th>
                <th scope="col" className={th}>{t("admin.flags.decidedBy")}</th>
                <th scope="col" className={th}>{t("admin.flags.override")}</th>
              </tr>
            </thead>
            <tbody>
              {names.map((name) => {
                const value = d.flags[name];
                const override = d.flag_overrides[name];
                return (
                  <tr key={name} className={row}>
                    <th scope="row" className="py-2 pr-3 font-mono text-xs font-medium">{name}</th>
                    <td className="py-2 pr-3">
                      <Badge tone={value?.enabled ? "success" : "neutral"}>{t(value?.enabled ? "admin.flags.on" : "admin.flags.off")}</Badge>
                    </td>
                    <td className="py-2 pr-3">{value ? t(`admin.flags.source.${value.source}`) : "—"}</td>
                    <td className="py-2 pr-3">{override === undefined ? "—" : t(override ? "admin.flags.on" : "admin.flags.off")}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </Card>
  );
}

export default function AccountPage() {
  const { org = "" } = useParams();
  usePageTitle(t("admin.account.title", { org }));
  const detail = useAdminAccount(org);
  if (detail.isPending) return <LoadingCard lines={8} label={t("admin.account.loading")} />;
  if (detail.error) {
    return (
      <>
        <h1 className="text-2xl font-semibold">{t("admin.account.title", { org })}</h1>
        {detail.error instanceof ApiError && detail.error.status === 404 ? (
          <Banner tone="warning" title={t("admin.account.notFound")}>
            {detail.error.detail}
          </Banner>
        ) : (
          <QueryError error={detail.error} onRetry={() => void detail.refetch()} />
        )}
      </>
    );
  }
  const d = detail.data;
  return (
    <>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="min-w-0">
          <p className="text-sm">
            <Link className={link} to="/admin">
              {t("admin.account.back")}
            </Link>
          </p>
          <h1 className="text-2xl font-semibold break-all">{t("admin.account.title", { org })}</h1>
          <div className="mt-1 flex flex-wrap gap-2">
            <Badge tone={statusTone(d.account.status)}>{statusLabel(d.account.status)}</Badge>
            <Badge tone="info">{t("admin.tier.label", { tier: d.account.tier })}</Badge>
          </div>
        </div>
        <a className={link} href={`/billing?org=${encodeURIComponent(org)}`}>
          {t("admin.account.customerPages")}
        </a>
      </div>
      {d.account.status === "suspended" && (
        <Banner tone="danger" title={t("admin.account.suspended", { reason: d.suspension_reason ?? t("admin.account.unknownReason") })}>
          {d.suspension_note ? t("admin.account.suspensionNote", { note: d.suspension_note }) : null}
        </Banner>
      )}
      <div className="grid gap-6 lg:grid-cols-2">
        <ErrorBoundary label={t("admin.account.summary")}>
          <Summary d={d} />
        </ErrorBoundary>
        <ErrorBoundary label={t("admin.account.subscription")}>
          <Subscription d={d} />
        </ErrorBoundary>
      </div>
      <Card aria-labelledby="account-actions">
        <CardHeader id="account-actions" title={t("admin.account.actions")} />
        <ErrorBoundary label={t("admin.account.actions")}>
          <AccountActions org={org} detail={d} />
        </ErrorBoundary>
      </Card>
      <Limits d={d} />
      <Holds d={d} />
      <div className="grid gap-6 lg:grid-cols-2">
        <Budget d={d} />
        <Flags d={d} />
      </div>
      <Invoices d={d} org={org} />
      <Ledger d={d} />
      <Card aria-labelledby="account-audit">
        <CardHeader
          id="account-audit"
          title={t("admin.account.audit")}
          action={
            <Link className={link} to={`/admin/audit?organization_id=${encodeURIComponent(org)}`}>
              {t("admin.account.fullTrail")}
            </Link>
          }
        />
        <AuditTable entries={d.recent_audit} caption={t("admin.account.audit")} />
      </Card>
    </>
  );
}
