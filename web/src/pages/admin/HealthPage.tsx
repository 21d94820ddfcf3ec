import { useState } from "react";
import { Link } from "react-router";
import type { Schemas } from "@/api/client";
import { t, locale } from "@/i18n";
import { dlqDepth, HEALTH_REFRESH_MS, problemCount, queueSeverity, reasonError, scheduleSeverity, stripeSeverity, tableSeverity, type Severity } from "@/lib/admin";
import { formatDateTime, formatDuration, formatNumber, formatTime } from "@/lib/format";
import { usePageTitle } from "@/lib/usePageTitle";
import { useHealth, useRedrive } from "@/hooks/admin/useAdmin";
import { Badge, type Tone } from "@/components/ui/Badge";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { ConfirmDialog } from "@/components/ui/Dialog";
import { SelectField } from "@/components/ui/Field";
import { QueryError, errorDetail } from "@/components/ui/QueryError";
import { ScrollRegion } from "@/components/ui/ScrollRegion";
import { LoadingCard } from "@/components/ui/Skeleton";
import { ReasonField } from "@/components/admin/ReasonField";
import { cn } from "@/components/ui/cn";

const tones: Record<Severity, Tone> = { ok: "success", warning: "warning", problem: "danger" };

/** Colour AND words: a problem never relies on colour alone. */
function State({ severity, children }: { severity: Severity; children: React.ReactNode }) {
  return (
    <Badge tone={tones[severity]}>
      <span aria-hidden="true" className="mr-1">{severity === "ok" ? "✓" : severity === "warning" ? "!" : "✕"}</span>
      {children}
    </Badge>
  );
}

const rowTone: Record<Severity, string> = {
  ok: "",
  warning: "bg-amber-50 dark:bg-amber-950/40",
  problem: "bg-red-50 dark:bg-red-950/40",
};

const th = "py-2 pr-3 font-medium";
const thead = "border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400";
const count = (n: number | null | undefined) => (n == null ? "—" : formatNumber(n, locale));

/** Moves a dead-letter queue's messages back to their queue: a reason, a confirmation with the count, audited. */
function Redrive({ queues }: { queues: Schemas["QueueHealth"][] }) {
  const redrive = useRedrive();
  const redrivable = queues.filter((q) => q.redrives_to);
  const [alias, setAlias] = useState(redrivable.find((q) => dlqDepth(q) > 0)?.alias ?? redrivable[0]?.alias ?? "");
  const [reason, setReason] = useState("");
  const [touched, setTouched] = useState(false);
  const queue = redrivable.find((q) => q.alias === alias);
  const valid = reasonError(reason) === null && Boolean(queue);
  const depth = queue ? dlqDepth(queue) : 0;
  return (
    <section aria-labelledby="health-redrive" className="mt-5 border-t border-slate-200 pt-4 dark:border-slate-800">
      <h3 id="health-redrive" className="mb-3 font-semibold">
        {t("admin.health.redriveHeading")}
      </h3>
      <form className="flex flex-col gap-3" onSubmit={(event) => event.preventDefault()}>
        <SelectField label={t("admin.health.redriveQueue")} value={alias} onChange={(event) => setAlias(event.target.value)}>
          {redrivable.map((q) => (
            <option key={q.alias} value={q.alias}>
              {t("admin.health.redriveOption", { queue: q.alias, count: formatNumber(dlqDepth(q), locale) })}
            </option>
          ))}
        </SelectField>
        <ReasonField value={reason} onChange={setReason} touched={touched} />
        <p className="text-xs text-slate-600 dark:text-slate-400">{t("admin.health.notRedrivable")}</p>
        <div>
          <ConfirmDialog
            trigger={
              <Button
                variant="secondary"
                className="disabled:opacity-50"
                busy={redrive.isPending}
                disabled={depth === 0}
                onClick={(event) => {
                  setTouched(true);
                  if (!valid) event.preventDefault();
                }}
              >
                {t("admin.health.redrive", { queue: alias })}
              </Button>
            }
            title={t("admin.health.redriveTitle", { queue: alias })}
            description={t("admin.health.redriveBody", { count: formatNumber(depth, locale), queue: alias })}
            confirmLabel={t("admin.health.redriveConfirm")}
            tone="primary"
            busy={redrive.isPending}
            onConfirm={() =>
              redrive.mutate(
                { queue: alias, reason: reason.trim() },
                {
                  onSuccess: () => {
                    setReason("");
                    setTouched(false);
                  },
                },
              )
            }
          />
        </div>
        {redrive.isError && (
          <Banner tone="danger" title={t("admin.action.failed")}>
            {errorDetail(redrive.error)}
          </Banner>
        )}
        {redrive.data && (
          <Banner tone="success" title={t("admin.health.redriven", { moved: redrive.data.moved, failed: redrive.data.failed, source: redrive.data.source_queue })}>
            {redrive.data.capped && <p>{t("admin.health.capped")}</p>}
            <Link className="font-medium underline" to={`/admin/audit?queue=${encodeURIComponent(redrive.data.queue)}`}>
              {t("admin.health.redriveAudit", { audit: redrive.data.audit_id })}
            </Link>
          </Banner>
        )}
      </form>
    </section>
  );
}

function Queues({ queues, dead }: { queues: Schemas["QueueHealth"][]; dead: boolean }) {
  const caption = t(dead ? "admin.health.dlqs" : "admin.health.queues");
  return (
    <Card aria-labelledby={dead ? "health-dlqs" : "health-queues"}>
      <CardHeader id={dead ? "health-dlqs" : "health-queues"} title={caption} />
      <ScrollRegion label={caption}>
        <table className="w-full text-left text-sm">
          <caption className="sr-only">{caption}</caption>
          <thead className={thead}>
            <tr>
              <th scope="col" className={th}>{t("admin.health.queue")}</th>
              <th scope="col" className={th}>{t("admin.health.state")}</th>
              <th scope="col" className={`${th} text-right`}>{t("admin.health.visible")}</th>
              <th scope="col" className={`${th} text-right`}>{t("admin.health.inFlight")}</th>
              <th scope="col" className={`${th} text-right`}>{t("admin.health.delayed")}</th>
              <th scope="col" className={th}>{t("admin.health.oldest")}</th>
            </tr>
          </thead>
          <tbody>
            {queues.map((q) => {
              const severity = queueSeverity(q);
              return (
                <tr key={q.name} className={cn("border-b border-slate-100 align-top last:border-0 dark:border-slate-800", rowTone[severity])}>
                  <th scope="row" className="py-2 pr-3 text-left font-medium">
                    {q.name}
                    <span className="block font-mono text-xs font-normal text-slate-600 dark:text-slate-400">{q.alias}</span>
                  </th>
                  <td className="py-2 pr-3">
                    <State severity={severity}>
                      {q.error
                        ? t("admin.health.unanswered")
                        : severity === "problem"
                          ? t("admin.health.dlqHasMessages")
                          : severity === "warning"
                            ? t("admin.health.behind")
                            : t("admin.health.ok")}
                    </State>
                    {q.error && <span className="mt-1 block text-xs break-words">{q.error}</span>}
                  </td>
                  <td className="py-2 pr-3 text-right tabular-nums">{count(q.visible)}</td>
                  <td className="py-2 pr-3 text-right tabular-nums">{count(q.in_flight)}</td>
                  <td className="py-2 pr-3 text-right tabular-nums">{count(q.delayed)}</td>
                  <td className="py-2 pr-3 whitespace-nowrap">{q.oldest_message_age_seconds == null ? "—" : formatDuration(q.oldest_message_age_seconds, locale)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollRegion>
      {dead && <Redrive queues={queues} />}
    </Card>
  );
}

function Schedules({ schedules }: { schedules: Schemas["ScheduleHealth"][] }) {
  const caption = t("admin.health.schedules");
  return (
    <Card aria-labelledby="health-schedules">
      <CardHeader id="health-schedules" title={caption} />
      <ScrollRegion label={caption}>
        <table className="w-full text-left text-sm">
          <caption className="sr-only">{caption}</caption>
          <thead className={thead}>
            <tr>
              <th scope="col" className={th}>{t("admin.health.job")}</th>
              <th scope="col" className={th}>{t("admin.health.outcome")}</th>
              <th scope="col" className={th}>{t("admin.health.lastRun")}</th>
              <th scope="col" className={th}>{t("admin.health.lastOk")}</th>
            </tr>
          </thead>
          <tbody>
            {schedules.map((s) => {
              const severity = scheduleSeverity(s);
              return (
                <tr key={s.job} className={cn("border-b border-slate-100 align-top last:border-0 dark:border-slate-800", rowTone[severity])}>
                  <th scope="row" className="py-2 pr-3 text-left font-mono text-xs font-medium">{s.job}</th>
                  <td className="py-2 pr-3">
                    <State severity={severity}>{t("admin.health.outcomeLabel", { outcome: s.outcome })}</State>
                    {s.error && <span className="mt-1 block text-xs break-words">{s.error}</span>}
                  </td>
                  <td className="py-2 pr-3 whitespace-nowrap">{formatDateTime(s.finished_at ?? s.started_at, locale)}</td>
                  <td className="py-2 pr-3 whitespace-nowrap">{formatDateTime(s.last_ok_at, locale)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollRegion>
    </Card>
  );
}

export default function HealthPage() {
  usePageTitle(t("admin.health.title"));
  const health = useHealth();
  if (health.isPending) return <LoadingCard lines={8} label={t("admin.health.loading")} />;
  if (health.error) {
    return (
      <>
        <h1 className="text-2xl font-semibold">{t("admin.health.title")}</h1>
        <QueryError error={health.error} onRetry={() => void health.refetch()} />
      </>
    );
  }
  const h = health.data;
  const problems = problemCount(h);
  const stripe = stripeSeverity(h.stripe);
  const table = tableSeverity(h.table);
  return (
    <>
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h1 className="text-2xl font-semibold">{t("admin.health.title")}</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">
          {t("admin.health.checked", { at: formatTime(h.checked_at, locale), seconds: HEALTH_REFRESH_MS / 1000 })}
        </p>
      </div>
      {problems > 0 ? (
        <Banner tone="danger" title={t("admin.health.problems", { count: problems })}>
          {t("admin.health.problemsBody")}
        </Banner>
      ) : (
        <Banner tone="success" title={t("admin.health.allOk")} />
      )}
      <div className="grid gap-6 md:grid-cols-2">
        <Card aria-labelledby="health-stripe">
          <CardHeader id="health-stripe" title={t("admin.health.stripe")} />
          <p className="flex flex-wrap items-center gap-2 text-sm">
            <State severity={stripe}>{t("admin.health.stripeStatus", { status: h.stripe.status })}</State>
            {h.stripe.latency_ms != null && <span>{t("admin.health.latency", { ms: formatNumber(h.stripe.latency_ms, locale) })}</span>}
          </p>
          {h.stripe.error && <p className="mt-2 text-sm break-words">{h.stripe.error}</p>}
        </Card>
        <Card aria-labelledby="health-table">
          <CardHeader id="health-table" title={t("admin.health.table")} />
          <p className="flex flex-wrap items-center gap-2 text-sm">
            <State severity={table}>{t("admin.health.tableStatus", { status: h.table.status })}</State>
            {h.table.item_count != null && <span>{t("admin.health.items", { count: formatNumber(h.table.item_count, locale) })}</span>}
          </p>
        </Card>
      </div>
      <Queues queues={h.queues.filter((q) => q.dead_letter_queue)} dead />
      <Queues queues={h.queues.filter((q) => !q.dead_letter_queue)} dead={false} />
      <Schedules schedules={h.schedules} />
    </>
  );
}
