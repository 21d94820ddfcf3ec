import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { t } from "@/i18n";
import type { AuditSubject } from "@/lib/admin";
import { usePageTitle } from "@/lib/usePageTitle";
import { useCursorStack } from "@/lib/useCursorStack";
import { useAudit } from "@/hooks/admin/useAdmin";
import { AuditTable } from "@/components/admin/Audit";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { SelectField, TextField } from "@/components/ui/Field";
import { Pager } from "@/components/ui/Pager";
import { QueryError } from "@/components/ui/QueryError";
import { LoadingCard } from "@/components/ui/Skeleton";

const KINDS = ["organization_id", "flag", "queue"] as const;

function subjectOf(params: URLSearchParams): AuditSubject | null {
  for (const kind of KINDS) {
    const value = params.get(kind)?.trim();
    if (value) return { kind, value };
  }
  return null;
}

export default function AuditPage() {
  usePageTitle(t("admin.audit.title"));
  const [params, setParams] = useSearchParams();
  const subject = subjectOf(params);
  const [kind, setKind] = useState<AuditSubject["kind"]>(subject?.kind ?? "organization_id");
  const [value, setValue] = useState(subject?.value ?? "");
  const pages = useCursorStack();
  const trail = useAudit(subject, pages.cursor);
  const caption = subject ? t("admin.audit.trailOf", { kind: t(`admin.audit.kind.${subject.kind}`), value: subject.value }) : t("admin.audit.trail");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!value.trim()) return;
    setParams(new URLSearchParams({ [kind]: value.trim() }), { replace: true });
    pages.reset();
  };

  return (
    <>
      <h1 className="text-2xl font-semibold">{t("admin.audit.title")}</h1>
      <Card aria-labelledby="audit-pick">
        <CardHeader id="audit-pick" title={t("admin.audit.pick")} />
        <form role="search" aria-labelledby="audit-pick" className="grid gap-3 sm:grid-cols-[12rem_1fr_auto] sm:items-end" onSubmit={submit}>
          <SelectField label={t("admin.audit.of")} value={kind} onChange={(event) => setKind(event.target.value as AuditSubject["kind"])}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`admin.audit.kind.${k}`)}
              </option>
            ))}
          </SelectField>
          <TextField label={t("admin.audit.value")} hint={t(`admin.audit.hint.${kind}`)} value={value} required onChange={(event) => setValue(event.target.value)} autoComplete="off" />
          <div>
            <Button type="submit">{t("admin.audit.show")}</Button>
          </div>
        </form>
      </Card>
      <Card aria-labelledby="audit-trail">
        <CardHeader id="audit-trail" title={caption} />
        {!subject ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">{t("admin.audit.choose")}</p>
        ) : trail.isPending ? (
          <LoadingCard label={t("admin.audit.loading")} />
        ) : trail.error ? (
          <QueryError error={trail.error} onRetry={() => void trail.refetch()} />
        ) : (
          <>
            <AuditTable entries={trail.data.items} caption={caption} showSubject />
            <Pager
              label={t("admin.audit.pages")}
              page={pages.page}
              hasNext={Boolean(trail.data.nextCursor)}
              onNext={() => pages.next(trail.data.nextCursor)}
              onPrevious={pages.previous}
            />
          </>
        )}
      </Card>
    </>
  );
}
