import type { Schemas } from "@/api/client";
import { t, locale } from "@/i18n";
import { auditChanges } from "@/lib/admin";
import { formatDateTime } from "@/lib/format";
import { Banner } from "@/components/ui/Banner";
import { ScrollRegion } from "@/components/ui/ScrollRegion";

/** An audit action's name for people ("account_suspended" → "Account suspended"). */
export function actionLabel(action: string): string {
  const words = action.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Before → after, field by field; only what changed. */
export function Changes({ before, after }: { before: unknown; after: unknown }) {
  const changes = auditChanges(before, after);
  if (changes.length === 0) return <span className="text-slate-600 dark:text-slate-400">{t("admin.audit.noChange")}</span>;
  return (
    <ul className="space-y-0.5">
      {changes.map((c) => (
        <li key={c.field} className="break-words">
          <code className="text-xs">{c.field}</code>: <span className="line-through decoration-slate-400">{c.before}</span>{" "}
          <span aria-hidden="true">→</span>
          <span className="sr-only">{t("admin.audit.becomes")}</span> <strong>{c.after}</strong>
        </li>
      ))}
    </ul>
  );
}

/** A trail of audit entries: when, who, what, why, and what changed. */
export function AuditTable({ entries, caption, showSubject = false }: { entries: Schemas["AuditEntryResponse"][]; caption: string; showSubject?: boolean }) {
  if (entries.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-400">{t("admin.audit.none")}</p>;
  return (
    <ScrollRegion label={caption}>
      <table className="w-full text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400">
          <tr>
            <th scope="col" className="py-2 pr-3 font-medium">{t("admin.audit.when")}</th>
            <th scope="col" className="py-2 pr-3 font-medium">{t("admin.audit.who")}</th>
            <th scope="col" className="py-2 pr-3 font-medium">{t("admin.audit.action")}</th>
            <th scope="col" className="py-2 pr-3 font-medium">{t("admin.audit.why")}</th>
            <th scope="col" className="py-2 font-medium">{t("admin.audit.change")}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
              <td className="py-2 pr-3 whitespace-nowrap">{formatDateTime(entry.at, locale)}</td>
              <td className="py-2 pr-3">{entry.actor}</td>
              <td className="py-2 pr-3">
                {actionLabel(entry.action)}
                {showSubject && (entry.flag || entry.queue) && <div className="text-xs text-slate-600 dark:text-slate-400">{entry.flag ?? entry.queue}</div>}
              </td>
              <td className="py-2 pr-3 break-words">{entry.reason || "—"}</td>
              <td className="py-2 min-w-48">
                <Changes before={entry.before} after={entry.after} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

/** After an action: that it worked, and the audit entry it wrote, shown where the action was. */
export function ActionDone({ title, children, audit }: { title: string; children?: React.ReactNode; audit: Schemas["AuditEntryResponse"] | null | undefined }) {
  return (
    <Banner tone="success" title={title}>
      {children}
      {audit ? (
        <div className="mt-2" aria-label={t("admin.audit.recorded")}>
          <p className="font-medium">
            {t("admin.audit.entry", { action: actionLabel(audit.action), who: audit.actor, when: formatDateTime(audit.at, locale) })}
          </p>
          <p>{t("admin.audit.reasonWas", { reason: audit.reason })}</p>
          <div className="mt-1">
            <Changes before={audit.before} after={audit.after} />
          </div>
        </div>
      ) : (
        audit === null && <p className="mt-2">{t("admin.audit.notFound")}</p>
      )}
    </Banner>
  );
}
