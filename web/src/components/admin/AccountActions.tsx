// What an operator can do to one account. Every form names a reason; destructive actions ask
// first; each opened form carries its own Idempotency-Key where the API takes one (a double
// click or a second send of the same form applies once); after success the audit entry the
// action wrote is shown in place.
import { useState, type MouseEvent, type ReactNode } from "react";
import { newIdempotencyKey, type Schemas } from "@/api/client";
import { t, locale } from "@/i18n";
import { isoToLocalInput, localInputToIso, parseSignedUsd, reasonError } from "@/lib/admin";
import { formatMoney } from "@/lib/format";
import { useAccountAction, type AccountAction, type ActionOutcome } from "@/hooks/admin/useAdmin";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/Dialog";
import { SelectField, TextField } from "@/components/ui/Field";
import { errorDetail } from "@/components/ui/QueryError";
import { ActionDone } from "./Audit";
import { ReasonField } from "./ReasonField";

type Detail = Schemas["AccountDetailResponse"];

function Section({ title, id, children }: { title: string; id: string; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="border-t border-slate-200 pt-4 first:border-0 first:pt-0 dark:border-slate-800">
      <h3 id={id} className="mb-3 font-semibold">
        {title}
      </h3>
      {children}
    </section>
  );
}

/** One action's state: its mutation, whether the form was tried, and what it answered. */
function useActionForm(org: string) {
  const mutation = useAccountAction(org);
  const [touched, setTouched] = useState(false);
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);
  const run = (action: AccountAction, after?: () => void) => {
    setOutcome(null);
    mutation.mutate(action, {
      onSuccess: (outcome) => {
        setOutcome(outcome);
        after?.();
      },
    });
  };
  return { mutation, touched, setTouched, outcome, setOutcome, run };
}

function Failure({ error }: { error: unknown }) {
  return (
    <Banner tone="danger" title={t("admin.action.failed")}>
      {errorDetail(error)}
    </Banner>
  );
}

/** A ConfirmDialog trigger that opens only when the form is valid (else shows its errors). */
function guard(valid: boolean, setTouched: (v: boolean) => void) {
  return (event: MouseEvent<HTMLButtonElement>) => {
    setTouched(true);
    if (!valid) event.preventDefault();
  };
}

function Standing({ org, detail }: { org: string; detail: Detail }) {
  const form = useActionForm(org);
  const [reason, setReason] = useState("");
  const suspended = detail.account.status === "suspended";
  const valid = reasonError(reason) === null;
  const done = form.outcome?.result.kind === "standing" ? form.outcome : null;
  const reset = () => {
    setReason("");
    form.setTouched(false);
  };
  return (
    <Section id="action-standing" title={suspended ? t("admin.action.unsuspend.title") : t("admin.action.suspend.title")}>
      <form
        className="flex flex-col gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          form.setTouched(true);
          if (valid && suspended) form.run({ kind: "unsuspend", reason: reason.trim() }, reset);
        }}
      >
        <ReasonField value={reason} onChange={setReason} touched={form.touched} />
        <div>
          {suspended ? (
            <Button type="submit" busy={form.mutation.isPending}>
              {t("admin.action.unsuspend.button")}
            </Button>
          ) : (
            <ConfirmDialog
              trigger={
                <Button variant="danger" busy={form.mutation.isPending} onClick={guard(valid, form.setTouched)}>
                  {t("admin.action.suspend.button")}
                </Button>
              }
              title={t("admin.action.suspend.confirmTitle", { org })}
              description={t("admin.action.suspend.confirmBody", { reason: reason.trim() })}
              confirmLabel={t("admin.action.suspend.button")}
              busy={form.mutation.isPending}
              onConfirm={() => form.run({ kind: "suspend", reason: reason.trim() }, reset)}
            />
          )}
        </div>
        {form.mutation.isError && <Failure error={form.mutation.error} />}
        {done && done.result.kind === "standing" && (
          <ActionDone title={t(done.result.body.status === "suspended" ? "admin.action.suspend.done" : "admin.action.unsuspend.done")} audit={done.audit} />
        )}
      </form>
    </Section>
  );
}

function Credits({ org, detail }: { org: string; detail: Detail }) {
  const form = useActionForm(org);
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  // One key per form as filled in: sending it again unchanged applies once.
  const [key, setKey] = useState(newIdempotencyKey);
  const parsed = parseSignedUsd(amount);
  const valid = parsed.ok && reasonError(reason) === null;
  const removal = parsed.ok && parsed.value < 0;
  const change = (setter: (v: string) => void) => (value: string) => {
    setter(value);
    setKey(newIdempotencyKey());
    form.setOutcome(null);
  };
  const send = () => {
    if (parsed.ok) form.run({ kind: "credits", amountUsd: parsed.value, reason: reason.trim(), key });
  };
  const done = form.outcome?.result.kind === "credits" ? form.outcome : null;
  return (
    <Section id="action-credits" title={t("admin.action.credits.title")}>
      <form
        className="flex flex-col gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          form.setTouched(true);
          if (valid && !removal) send();
        }}
      >
        <p className="text-sm text-slate-700 dark:text-slate-300">
          {t("admin.action.credits.balance", { available: formatMoney(detail.account.credits_available_usd, "USD", locale), held: formatMoney(detail.account.credits_held_usd, "USD", locale) })}
        </p>
        <TextField
          label={t("admin.action.credits.amount")}
          hint={t("admin.action.credits.amountHint")}
          inputMode="decimal"
          value={amount}
          onChange={(event) => change(setAmount)(event.target.value)}
          error={form.touched && !parsed.ok ? t(`admin.amount.${parsed.error}`) : null}
        />
        <ReasonField value={reason} onChange={change(setReason)} touched={form.touched} />
        <div>
          {removal ? (
            <ConfirmDialog
              trigger={
                <Button variant="danger" busy={form.mutation.isPending} onClick={guard(valid, form.setTouched)}>
                  {t("admin.action.credits.remove")}
                </Button>
              }
              title={t("admin.action.credits.confirmTitle")}
              description={t("admin.action.credits.confirmBody", { amount: parsed.ok ? formatMoney(-parsed.value, "USD", locale) : "", org })}
              confirmLabel={t("admin.action.credits.remove")}
              busy={form.mutation.isPending}
              onConfirm={send}
            />
          ) : (
            <Button type="submit" busy={form.mutation.isPending}>
              {t("admin.action.credits.grant")}
            </Button>
          )}
        </div>
        <p className="text-xs text-slate-600 dark:text-slate-400">{t("admin.action.credits.once")}</p>
        {form.mutation.isError && <Failure error={form.mutation.error} />}
        {done && done.result.kind === "credits" && (
          <ActionDone
            title={t("admin.action.credits.done", {
              amount: formatMoney(done.result.body.amount_usd, "USD", locale),
              available: formatMoney(done.result.body.available_usd, "USD", locale),
            })}
            audit={done.audit}
          />
        )}
      </form>
    </Section>
  );
}

const LIMITS = ["workflows_per_month", "concurrent_agents", "storage_gb"] as const;
type LimitName = (typeof LIMITS)[number];
type LimitDraft = Record<LimitName, { value: string; expires: string }>;

function draftOf(overrides: Schemas["LimitOverrides"]): LimitDraft {
  const one = (o: Schemas["LimitOverride"] | null | undefined) => ({ value: o ? String(o.value) : "", expires: isoToLocalInput(o?.expires_at) });
  return { workflows_per_month: one(overrides.workflows_per_month), concurrent_agents: one(overrides.concurrent_agents), storage_gb: one(overrides.storage_gb) };
}

function Limits({ org, detail }: { org: string; detail: Detail }) {
  const form = useActionForm(org);
  const [draft, setDraft] = useState<LimitDraft>(() => draftOf(detail.overrides));
  const [reason, setReason] = useState("");
  const invalid = LIMITS.filter((name) => draft[name].value !== "" && !/^\d+$/.test(draft[name].value.trim()));
  const valid = invalid.length === 0 && reasonError(reason) === null;
  const body = (clear: boolean): Schemas["LimitsRequest"] => {
    const out: Schemas["LimitsRequest"] = { reason: reason.trim() };
    if (clear) return out;
    for (const name of LIMITS) {
      const d = draft[name];
      if (d.value.trim() !== "") out[name] = { value: Number(d.value.trim()), expires_at: localInputToIso(d.expires) };
    }
    return out;
  };
  const set = (name: LimitName, part: "value" | "expires", value: string) => setDraft((d) => ({ ...d, [name]: { ...d[name], [part]: value } }));
  const done = form.outcome?.result.kind === "limits" ? form.outcome : null;
  return (
    <Section id="action-limits" title={t("admin.action.limits.title")}>
      <form
        className="flex flex-col gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          form.setTouched(true);
          if (valid) form.run({ kind: "limits", body: body(false) });
        }}
      >
        <p className="text-sm text-slate-700 dark:text-slate-300">{t("admin.action.limits.hint")}</p>
        {LIMITS.map((name) => (
          <fieldset key={name} className="grid gap-3 sm:grid-cols-2">
            <legend className="mb-1 text-sm font-semibold">{t(`admin.limit.${name}`)}</legend>
            <TextField
              label={t("admin.action.limits.value", { limit: t(`admin.limit.${name}`) })}
              inputMode="numeric"
              value={draft[name].value}
              placeholder={t("admin.action.limits.planValue")}
              onChange={(event) => set(name, "value", event.target.value)}
              error={form.touched && invalid.includes(name) ? t("admin.action.limits.whole") : null}
            />
            <TextField
              label={t("admin.action.limits.expires", { limit: t(`admin.limit.${name}`) })}
              type="datetime-local"
              step={1}
              value={draft[name].expires}
              onChange={(event) => set(name, "expires", event.target.value)}
            />
          </fieldset>
        ))}
        <ReasonField value={reason} onChange={setReason} touched={form.touched} />
        <div className="flex flex-wrap gap-2">
          <Button type="submit" busy={form.mutation.isPending}>
            {t("admin.action.limits.save")}
          </Button>
          <ConfirmDialog
            trigger={
              <Button variant="secondary" busy={form.mutation.isPending} onClick={guard(reasonError(reason) === null, form.setTouched)}>
                {t("admin.action.limits.clear")}
              </Button>
            }
            title={t("admin.action.limits.clearTitle")}
            description={t("admin.action.limits.clearBody", { org })}
            confirmLabel={t("admin.action.limits.clear")}
            busy={form.mutation.isPending}
            onConfirm={() =>
              form.run({ kind: "limits", body: body(true) })
            }
          />
        </div>
        {form.mutation.isError && <Failure error={form.mutation.error} />}
        {done && <ActionDone title={t("admin.action.limits.done")} audit={done.audit} />}
      </form>
    </Section>
  );
}

function FlagOverride({ org, detail }: { org: string; detail: Detail }) {
  const form = useActionForm(org);
  const names = Object.keys(detail.flags);
  const [flag, setFlag] = useState(names[0] ?? "");
  const [value, setValue] = useState<"on" | "off" | "inherit">("on");
  const [reason, setReason] = useState("");
  const valid = flag !== "" && reasonError(reason) === null;
  const done = form.outcome?.result.kind === "flag" ? form.outcome : null;
  if (names.length === 0) {
    return (
      <Section id="action-flag" title={t("admin.action.flag.title")}>
        <p className="text-sm text-slate-600 dark:text-slate-400">{t("admin.flags.none")}</p>
      </Section>
    );
  }
  return (
    <Section id="action-flag" title={t("admin.action.flag.title")}>
      <form
        className="flex flex-col gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          form.setTouched(true);
          if (valid) form.run({ kind: "flag", flag, enabled: value === "inherit" ? null : value === "on", reason: reason.trim() });
        }}
      >
        <div className="grid gap-3 sm:grid-cols-2">
          <SelectField label={t("admin.action.flag.flag")} value={flag} onChange={(event) => setFlag(event.target.value)}>
            {names.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </SelectField>
          <SelectField label={t("admin.action.flag.value")} value={value} onChange={(event) => setValue(event.target.value as typeof value)}>
            <option value="on">{t("admin.action.flag.on")}</option>
            <option value="off">{t("admin.action.flag.off")}</option>
            <option value="inherit">{t("admin.action.flag.inherit")}</option>
          </SelectField>
        </div>
        <ReasonField value={reason} onChange={setReason} touched={form.touched} />
        <div>
          <Button type="submit" busy={form.mutation.isPending}>
            {t("admin.action.flag.apply")}
          </Button>
        </div>
        {form.mutation.isError && <Failure error={form.mutation.error} />}
        {done && done.result.kind === "flag" && (
          <ActionDone
            title={t("admin.action.flag.done", {
              flag: done.result.body.flag,
              value: t(done.result.body.enabled ? "admin.flags.on" : "admin.flags.off"),
              source: t(`admin.flags.source.${done.result.body.source}`),
            })}
            audit={done.audit}
          />
        )}
      </form>
    </Section>
  );
}

function InvoiceClose({ org, detail }: { org: string; detail: Detail }) {
  const form = useActionForm(org);
  const closable = detail.recent_invoices.filter((i) => (i.status === "open" || i.status === "past_due") && i.amount_paid === 0);
  const [invoiceId, setInvoiceId] = useState(closable[0]?.id ?? "");
  const [action, setAction] = useState<"void" | "uncollectible">("void");
  const [rebill, setRebill] = useState(true);
  const [reason, setReason] = useState("");
  const chosen = closable.find((i) => i.id === invoiceId) ?? closable[0];
  const valid = Boolean(chosen) && reasonError(reason) === null;
  const done = form.outcome?.result.kind === "invoice" ? form.outcome : null;
  return (
    <Section id="action-invoice" title={t("admin.action.invoice.title")}>
      {closable.length === 0 && !done ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">{t("admin.action.invoice.none")}</p>
      ) : (
        <form className="flex flex-col gap-3" onSubmit={(event) => event.preventDefault()}>
          {closable.length > 0 && (
            <>
              <div className="grid gap-3 sm:grid-cols-2">
                <SelectField label={t("admin.action.invoice.invoice")} value={chosen?.id ?? ""} onChange={(event) => setInvoiceId(event.target.value)}>
                  {closable.map((i) => (
                    <option key={i.id} value={i.id}>
                      {t("admin.action.invoice.option", { number: i.invoice_number || i.id, total: formatMoney(i.total, i.currency, locale), status: i.status })}
                    </option>
                  ))}
                </SelectField>
                <SelectField label={t("admin.action.invoice.action")} value={action} onChange={(event) => setAction(event.target.value as typeof action)}>
                  <option value="void">{t("admin.action.invoice.void")}</option>
                  <option value="uncollectible">{t("admin.action.invoice.uncollectible")}</option>
                </SelectField>
              </div>
              {action === "void" && (
                <label className="flex items-start gap-2 text-sm">
                  <input type="checkbox" className="mt-1 size-4" checked={rebill} onChange={(event) => setRebill(event.target.checked)} />
                  <span>
                    <span className="font-medium">{t("admin.action.invoice.rebill")}</span>
                    <span className="block text-slate-600 dark:text-slate-400">{t("admin.action.invoice.rebillHint")}</span>
                  </span>
                </label>
              )}
              <ReasonField value={reason} onChange={setReason} touched={form.touched} />
              <div>
                <ConfirmDialog
                  trigger={
                    <Button variant="danger" busy={form.mutation.isPending} onClick={guard(valid, form.setTouched)}>
                      {t(action === "void" ? "admin.action.invoice.voidButton" : "admin.action.invoice.uncollectibleButton")}
                    </Button>
                  }
                  title={t(action === "void" ? "admin.action.invoice.voidTitle" : "admin.action.invoice.uncollectibleTitle", { number: chosen?.invoice_number ?? "" })}
                  description={t(action === "void" ? (rebill ? "admin.action.invoice.voidRebillBody" : "admin.action.invoice.voidWriteOffBody") : "admin.action.invoice.uncollectibleBody")}
                  confirmLabel={t(action === "void" ? "admin.action.invoice.voidButton" : "admin.action.invoice.uncollectibleButton")}
                  busy={form.mutation.isPending}
                  onConfirm={() => {
                    if (!chosen) return;
                    form.run(action === "void" ? { kind: "void", invoiceId: chosen.id, rebill, reason: reason.trim() } : { kind: "uncollectible", invoiceId: chosen.id, reason: reason.trim() });
                  }}
                />
              </div>
            </>
          )}
          {form.mutation.isError && <Failure error={form.mutation.error} />}
          {done && done.result.kind === "invoice" && (
            <ActionDone
              title={t(done.result.body.action === "void" ? "admin.action.invoice.voided" : "admin.action.invoice.writtenOff", { number: done.result.body.invoice.invoice_number })}
              audit={done.audit}
            >
              <ul className="list-disc pl-5">
                {done.result.body.usage_returned && <li>{t("admin.action.invoice.returned", { count: done.result.body.usage_records_returned })}</li>}
                <li>
                  {done.result.body.credit_note_usd != null
                    ? t("admin.action.invoice.creditNote", { amount: formatMoney(done.result.body.credit_note_usd, "USD", locale) })
                    : t("admin.action.invoice.noCreditNote")}
                </li>
                {done.result.body.refunded_credits_usd > 0 && (
                  <li>{t("admin.action.invoice.refunded", { amount: formatMoney(done.result.body.refunded_credits_usd, "USD", locale) })}</li>
                )}
              </ul>
            </ActionDone>
          )}
        </form>
      )}
    </Section>
  );
}

export function AccountActions({ org, detail }: { org: string; detail: Detail }) {
  return (
    <div className="flex flex-col gap-4">
      <Standing org={org} detail={detail} />
      <Credits org={org} detail={detail} />
      <Limits org={org} detail={detail} />
      <FlagOverride org={org} detail={detail} />
      <InvoiceClose org={org} detail={detail} />
    </div>
  );
}
