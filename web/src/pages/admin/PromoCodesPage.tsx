import { useState } from "react";
import type { Schemas } from "@/api/client";
import { t, locale } from "@/i18n";
import { localInputToIso } from "@/lib/admin";
import { formatDateTime, formatMoney, formatNumber } from "@/lib/format";
import { usePageTitle } from "@/lib/usePageTitle";
import { useCreatePromoCode, useDeactivatePromoCode, usePromoCodes } from "@/hooks/admin/useAdmin";
import { usePlans } from "@/hooks/billing/useStripeConfig";
import { Badge } from "@/components/ui/Badge";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { Card, CardHeader } from "@/components/ui/Card";
import { ConfirmDialog } from "@/components/ui/Dialog";
import { SelectField, TextField } from "@/components/ui/Field";
import { QueryError, errorDetail } from "@/components/ui/QueryError";
import { ScrollRegion } from "@/components/ui/ScrollRegion";
import { LoadingCard } from "@/components/ui/Skeleton";

type Duration = Schemas["PromoDuration"];
const CODE = /^[A-Z0-9_-]{3,40}$/;

export function discountText(p: Schemas["PromoCodeResponse"]): string {
  if (p.percent_off != null) return t("admin.promo.percentOff", { percent: formatNumber(p.percent_off, locale) });
  if (p.amount_off_usd != null) return t("admin.promo.amountOff", { amount: formatMoney(p.amount_off_usd, "USD", locale) });
  return "—";
}

function durationText(p: Schemas["PromoCodeResponse"]): string {
  return p.duration === "repeating" ? t("admin.promo.duration.months", { months: p.duration_in_months ?? 0 }) : t(`admin.promo.duration.${p.duration}`);
}

function CreateForm({ tiers }: { tiers: string[] }) {
  const create = useCreatePromoCode();
  const [code, setCode] = useState("");
  const [kind, setKind] = useState<"percent" | "amount">("percent");
  const [value, setValue] = useState("");
  const [duration, setDuration] = useState<Duration>("once");
  const [months, setMonths] = useState("3");
  const [max, setMax] = useState("");
  const [expires, setExpires] = useState("");
  const [appliesTo, setAppliesTo] = useState<string[]>([]);
  const [touched, setTouched] = useState(false);
  const upper = code.trim().toUpperCase();
  const number = Number(value);
  const valueOk = value.trim() !== "" && Number.isFinite(number) && number > 0 && (kind === "amount" || (number <= 100 && Number.isInteger(number)));
  const monthsOk = duration !== "repeating" || (/^\d+$/.test(months) && Number(months) >= 1);
  const maxOk = max.trim() === "" || (/^\d+$/.test(max.trim()) && Number(max) >= 1);
  const valid = CODE.test(upper) && valueOk && monthsOk && maxOk;
  return (
    <Card aria-labelledby="promo-create">
      <CardHeader id="promo-create" title={t("admin.promo.create")} />
      <form
        className="flex flex-col gap-4"
        onSubmit={(event) => {
          event.preventDefault();
          setTouched(true);
          if (!valid) return;
          create.mutate(
            {
              code: upper,
              percent_off: kind === "percent" ? number : null,
              amount_off_usd: kind === "amount" ? number : null,
              duration,
              duration_in_months: duration === "repeating" ? Number(months) : null,
              max_redemptions: max.trim() ? Number(max) : null,
              expires_at: localInputToIso(expires),
              applies_to: appliesTo.length ? appliesTo : null,
            },
            { onSuccess: () => setTouched(false) },
          );
        }}
      >
        <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
          <TextField
            label={t("admin.promo.code")}
            hint={t("admin.promo.codeHint")}
            value={code}
            onChange={(event) => setCode(event.target.value)}
            error={touched && !CODE.test(upper) ? t("admin.promo.codeInvalid") : null}
            autoComplete="off"
          />
          <SelectField label={t("admin.promo.kind")} value={kind} onChange={(event) => setKind(event.target.value as typeof kind)}>
            <option value="percent">{t("admin.promo.kind.percent")}</option>
            <option value="amount">{t("admin.promo.kind.amount")}</option>
          </SelectField>
          <TextField
            label={t(kind === "percent" ? "admin.promo.percent" : "admin.promo.amount")}
            inputMode="decimal"
            value={value}
            onChange={(event) => setValue(event.target.value)}
            error={touched && !valueOk ? t(kind === "percent" ? "admin.promo.percentInvalid" : "admin.promo.amountInvalid") : null}
          />
          <SelectField label={t("admin.promo.durationLabel")} value={duration} onChange={(event) => setDuration(event.target.value as Duration)}>
            <option value="once">{t("admin.promo.duration.once")}</option>
            <option value="repeating">{t("admin.promo.duration.repeating")}</option>
            <option value="forever">{t("admin.promo.duration.forever")}</option>
          </SelectField>
          {duration === "repeating" && (
            <TextField
              label={t("admin.promo.months")}
              inputMode="numeric"
              value={months}
              onChange={(event) => setMonths(event.target.value)}
              error={touched && !monthsOk ? t("admin.promo.monthsInvalid") : null}
            />
          )}
          <TextField
            label={t("admin.promo.max")}
            hint={t("admin.promo.maxHint")}
            inputMode="numeric"
            value={max}
            onChange={(event) => setMax(event.target.value)}
            error={touched && !maxOk ? t("admin.promo.maxInvalid") : null}
          />
          <TextField label={t("admin.promo.expires")} hint={t("admin.promo.expiresHint")} type="datetime-local" value={expires} onChange={(event) => setExpires(event.target.value)} />
        </div>
        <fieldset>
          <legend className="mb-2 text-sm font-semibold">{t("admin.promo.appliesTo")}</legend>
          <p className="mb-2 text-xs text-slate-600 dark:text-slate-400">{t("admin.promo.appliesHint")}</p>
          <div className="flex flex-wrap gap-3">
            {tiers.map((tier) => (
              <label key={tier} className="flex items-center gap-2 text-sm">
                <input
                  type="checkbox"
                  className="size-4"
                  checked={appliesTo.includes(tier)}
                  onChange={(event) => setAppliesTo((list) => (event.target.checked ? [...list, tier] : list.filter((x) => x !== tier)))}
                />
                {tier}
              </label>
            ))}
          </div>
        </fieldset>
        <div>
          <Button type="submit" busy={create.isPending}>
            {t("admin.promo.createButton")}
          </Button>
        </div>
        {create.isError && (
          <Banner tone="danger" title={t("admin.action.failed")}>
            {errorDetail(create.error)}
          </Banner>
        )}
        {create.data && <Banner tone="success" title={t("admin.promo.created", { code: create.data.code, discount: discountText(create.data) })} />}
      </form>
    </Card>
  );
}

function Deactivate({ promo }: { promo: Schemas["PromoCodeResponse"] }) {
  const deactivate = useDeactivatePromoCode();
  return (
    <>
      <ConfirmDialog
        trigger={
          <Button size="sm" variant="danger" busy={deactivate.isPending} aria-label={t("admin.promo.deactivateLabel", { code: promo.code })}>
            {t("admin.promo.deactivate")}
          </Button>
        }
        title={t("admin.promo.deactivateTitle", { code: promo.code })}
        description={t("admin.promo.deactivateBody")}
        confirmLabel={t("admin.promo.deactivate")}
        busy={deactivate.isPending}
        onConfirm={() => deactivate.mutate(promo.code)}
      />
      {deactivate.isError && <p className="mt-1 text-sm text-red-700 dark:text-red-300">{errorDetail(deactivate.error)}</p>}
    </>
  );
}

export default function PromoCodesPage() {
  usePageTitle(t("admin.promo.title"));
  const promos = usePromoCodes();
  const plans = usePlans();
  const caption = t("admin.promo.caption");
  return (
    <>
      <h1 className="text-2xl font-semibold">{t("admin.promo.title")}</h1>
      <CreateForm tiers={plans.data?.tiers.map((tier) => tier.id) ?? []} />
      <Card aria-labelledby="promo-list">
        <CardHeader id="promo-list" title={caption} />
        {promos.isPending ? (
          <LoadingCard label={t("admin.promo.loading")} />
        ) : promos.error ? (
          <QueryError error={promos.error} onRetry={() => void promos.refetch()} />
        ) : promos.data.promo_codes.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">{t("admin.promo.none")}</p>
        ) : (
          <ScrollRegion label={caption}>
            <table className="w-full text-left text-sm">
              <caption className="sr-only">{caption}</caption>
              <thead className="border-b border-slate-200 text-slate-600 dark:border-slate-700 dark:text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("admin.promo.code")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("admin.promo.discount")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("admin.promo.redemptions")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("admin.promo.expires")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("admin.promo.appliesTo")}</th>
                  <th scope="col" className="py-2 pr-3 font-medium">{t("admin.promo.state")}</th>
                  <th scope="col" className="py-2 font-medium">{t("admin.flags.actions")}</th>
                </tr>
              </thead>
              <tbody>
                {promos.data.promo_codes.map((p) => (
                  <tr key={p.code} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
                    <th scope="row" className="py-2 pr-3 text-left font-mono text-xs font-medium">
                      {p.code}
                      <span className="block font-sans font-normal text-slate-600 dark:text-slate-400">{t("admin.promo.by", { who: p.created_by, when: formatDateTime(p.created_at, locale) })}</span>
                    </th>
                    <td className="py-2 pr-3">
                      {discountText(p)}
                      <span className="block text-xs text-slate-600 dark:text-slate-400">{durationText(p)}</span>
                    </td>
                    <td className="py-2 pr-3">
                      {t("admin.promo.taken", {
                        taken: formatNumber(p.times_redeemed, locale),
                        held: formatNumber(p.pending_redemptions, locale),
                        max: p.max_redemptions != null ? formatNumber(p.max_redemptions, locale) : t("admin.promo.noMax"),
                      })}
                    </td>
                    <td className="py-2 pr-3 whitespace-nowrap">{p.expires_at ? formatDateTime(p.expires_at, locale) : t("admin.promo.never")}</td>
                    <td className="py-2 pr-3">{p.applies_to.length ? p.applies_to.join(", ") : t("admin.promo.allTiers")}</td>
                    <td className="py-2 pr-3">
                      {p.active ? (
                        <Badge tone="success">{t("admin.promo.active")}</Badge>
                      ) : (
                        <Badge tone="neutral">{t("admin.promo.inactive", { when: formatDateTime(p.deactivated_at, locale) })}</Badge>
                      )}
                    </td>
                    <td className="py-2">{p.active && <Deactivate promo={p} />}</td>
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
