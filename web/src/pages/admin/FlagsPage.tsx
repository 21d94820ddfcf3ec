import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import type { Schemas } from "@/api/client";
import { t, locale } from "@/i18n";
import { reasonError } from "@/lib/admin";
import { formatDateTime } from "@/lib/format";
import { usePageTitle } from "@/lib/usePageTitle";
import { useFlags, useSetFlag } from "@/hooks/admin/useAdmin";
import { usePlans } from "@/hooks/billing/useStripeConfig";
import { ActionDone } from "@/components/admin/Audit";
import { ReasonField } from "@/components/admin/ReasonField";
import { Badge } from "@/components/ui/Badge";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { SelectField, TextField } from "@/components/ui/Field";
import { QueryError, errorDetail } from "@/components/ui/QueryError";
import { ScrollRegion } from "@/components/ui/ScrollRegion";
import { LoadingCard } from "@/components/ui/Skeleton";

const FLAG_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
type TierChoice = "default" | "on" | "off";

function OnOff({ on }: { on: boolean }) {
  return <Badge tone={on ? "success" : "neutral"}>{t(on ? "admin.flags.on" : "admin.flags.off")}</Badge>;
}

function FlagEditor({ flag, tiers, onDone }: { flag: Schemas["FlagResponse"] | null; tiers: string[]; onDone: () => void }) {
  const save = useSetFlag();
  const [name, setName] = useState(flag?.flag ?? "");
  const [enabled, setEnabled] = useState(flag?.enabled ?? false);
  const [tierValues, setTierValues] = useState<Record<string, TierChoice>>(() =>
    Object.fromEntries(tiers.map((tier) => [tier, flag?.tiers[tier] === undefined ? "default" : flag.tiers[tier] ? "on" : "off"])),
  );
  const [description, setDescription] = useState(flag?.description ?? "");
  const [reason, setReason] = useState("");
  const [touched, setTouched] = useState(false);
  const nameOk = FLAG_NAME.test(name);
  const valid = nameOk && reasonError(reason) === null;
  const heading = flag ? t("admin.flags.editTitle", { flag: flag.flag }) : t("admin.flags.newTitle");
  // Opened from a row further down: bring the form into view and put the keyboard in it.
  const region = useRef<HTMLDivElement>(null);
  useEffect(() => {
    region.current?.scrollIntoView({ block: "start" });
    region.current?.querySelector<HTMLElement>("input, select")?.focus();
  }, []);
  return (
    <div ref={region}>
    <Card aria-labelledby="flag-editor">
      <CardHeader id="flag-editor" title={heading} />
      <form
        className="flex flex-col gap-4"
        onSubmit={(event) => {
          event.preventDefault();
          setTouched(true);
          if (!valid) return;
          const chosen: Record<string, boolean> = {};
          for (const [tier, choice] of Object.entries(tierValues)) if (choice !== "default") chosen[tier] = choice === "on";
          save.mutate({ flag: name, body: { enabled, tiers: chosen, description: description.trim() || null, reason: reason.trim() } });
        }}
      >
        {!flag && (
          <TextField
            label={t("admin.flags.name")}
            hint={t("admin.flags.nameHint")}
            value={name}
            onChange={(event) => setName(event.target.value)}
            error={touched && !nameOk ? t("admin.flags.nameInvalid") : null}
            autoComplete="off"
          />
        )}
        <SelectField label={t("admin.flags.default")} value={enabled ? "on" : "off"} onChange={(event) => setEnabled(event.target.value === "on")}>
          <option value="on">{t("admin.flags.on")}</option>
          <option value="off">{t("admin.flags.off")}</option>
        </SelectField>
        <fieldset>
          <legend className="mb-2 text-sm font-semibold">{t("admin.flags.perTier")}</legend>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
            {tiers.map((tier) => (
              <SelectField
                key={tier}
                label={t("admin.flags.tierValue", { tier })}
                value={tierValues[tier] ?? "default"}
                onChange={(event) => setTierValues((v) => ({ ...v, [tier]: event.target.value as TierChoice }))}
              >
                <option value="default">{t("admin.flags.useDefault")}</option>
                <option value="on">{t("admin.flags.on")}</option>
                <option value="off">{t("admin.flags.off")}</option>
              </SelectField>
            ))}
          </div>
        </fieldset>
        <TextField label={t("admin.flags.description")} value={description} maxLength={500} onChange={(event) => setDescription(event.target.value)} />
        <ReasonField value={reason} onChange={setReason} touched={touched} />
        <div className="flex flex-wrap gap-2">
          <Button type="submit" busy={save.isPending}>
            {t("admin.flags.save")}
          </Button>
          <Button variant="secondary" onClick={onDone}>
            {t("admin.flags.close")}
          </Button>
        </div>
        {save.isError && (
          <Banner tone="danger" title={t("admin.action.failed")}>
            {errorDetail(save.error)}
          </Banner>
        )}
        {save.data && <ActionDone title={t("admin.flags.saved", { flag: save.data.saved.flag })} audit={save.data.audit} />}
      </form>
    </Card>
    </div>
  );
}

export default function FlagsPage() {
  usePageTitle(t("admin.flags.title"));
  const flags = useFlags();
  const plans = usePlans();
  const [editing, setEditing] = useState<string | null>(null);
  const tiers = plans.data?.tiers.map((tier) => tier.id) ?? [];
  const caption = t("admin.flags.caption");
  const current = editing && editing !== "" ? (flags.data?.flags.find((f) => f.flag === editing) ?? null) : null;
  return (
    <>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-2xl font-semibold">{t("admin.flags.title")}</h1>
        <Button variant="secondary" onClick={() => setEditing("")} disabled={plans.isPending}>
          {t("admin.flags.new")}
        </Button>
      </div>
      <p className="text-sm text-slate-700 dark:text-slate-300">{t("admin.flags.intro")}</p>
      {editing !== null && !plans.isPending && <FlagEditor key={editing || "new"} flag={current} tiers={tiers} onDone={() => setEditing(null)} />}
      <Card aria-labelledby="flags-list">
        <CardHeader id="flags-list" title={caption} />
        {flags.isPending ? (
          <LoadingCard label={t("admin.flags.loading")} />
        ) : flags.error ? (
          <QueryError error={flags.error} onRetry={() => void flags.refetch()} />
        ) : flags.data.flags.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">{t("admin.flags.none")}</p>
        ) : (
          <ScrollRegion label={caption}>
            <table className="w-full text-left text-sm">
              <caption className="sr-only">{caption}</caption>
              <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("admin.flags.flag")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("admin.flags.default")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("admin.flags.perTier")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("admin.flags.changed")}</th>
                  <th scope="col" className="py-2 font-medium">{t("admin.flags.actions")}</th>
                </tr>
              </thead>
              <tbody>
                {flags.data.flags.map((flag) => (
                  <tr key={flag.flag} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
                    <th scope="row" className="py-2 pr-3 text-left font-medium">
                      <span className="font-mono text-xs">{flag.flag}</span>
                      {flag.description && <span className="block font-normal text-slate-600 dark:text-slate-400">{flag.description}</span>}
                    </th>
                    <td className="py-2 pr-3">
                      <OnOff on={flag.enabled} />
                    </td>
                    <td className="py-2 pr-3">
                      {Object.keys(flag.tiers).length === 0 ? (
                        <span className="text-slate-600 dark:text-slate-400">{t("admin.flags.noTiers")}</span>
                      ) : (
                        <ul className="flex flex-wrap gap-1">
                          {Object.entries(flag.tiers).map(([tier, on]) => (
                            <li key={tier}>
                              <Badge tone={on ? "success" : "neutral"}>{t("admin.flags.tierIs", { tier, value: t(on ? "admin.flags.on" : "admin.flags.off") })}</Badge>
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                    <td className="py-2 pr-3">
                      {t("admin.flags.changedBy", { who: flag.updated_by, when: formatDateTime(flag.updated_at, locale), version: flag.version })}
                    </td>
                    <td className="py-2">
                      <div className="flex flex-wrap items-center gap-2">
                        <Button size="sm" variant="secondary" onClick={() => setEditing(flag.flag)} aria-label={t("admin.flags.editLabel", { flag: flag.flag })}>
                          {t("admin.flags.edit")}
                        </Button>
                        <Link className="text-sm font-medium text-brand-700 underline dark:text-brand-300" to={`/admin/audit?flag=${encodeURIComponent(flag.flag)}`}>
                          {t("admin.flags.trail")}
                          <span className="sr-only"> {flag.flag}</span>
                        </Link>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        )}
      </Card>
    </>
  );
}
