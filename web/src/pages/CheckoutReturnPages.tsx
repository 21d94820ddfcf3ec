import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { t, locale } from "@/i18n";
import { formatMoney } from "@/lib/format";
import { POLL_INTERVAL_MS, pollState } from "@/lib/poll";
import { usePageTitle } from "@/lib/usePageTitle";
import { api, unwrap } from "@/api/client";
import { useOrg, useOrgHref } from "@/app/org";
import { Banner } from "@/components/ui/Banner";
import { Card } from "@/components/ui/Card";
import { tierById } from "@/components/billing/tiers";
import { usePlans } from "@/hooks/billing/useStripeConfig";
import { useQueryClient } from "@tanstack/react-query";
import { billingKeys } from "@/hooks/billing/keys";

type Purpose = "credits" | "pack" | "lifetime" | "subscription" | "setup";

interface Applied {
  seen: boolean;
  message: string;
}

/** Asks the API whether the purchase this session made has been applied yet. */
function useApplied(org: string, purpose: Purpose, sessionId: string, tier: string | null, enabled: boolean) {
  const plans = usePlans();
  return useQuery({
    queryKey: ["billing", org, "checkout", sessionId, purpose],
    enabled,
    refetchInterval: (query) => (query.state.data?.seen ? false : POLL_INTERVAL_MS),
    queryFn: async (): Promise<Applied> => {
      const path = { params: { path: { organization_id: org } } };
      if (purpose === "credits" || purpose === "pack") {
        const credits = await unwrap(api.GET("/api/billing/account/{organization_id}/credits", path));
        const entry = credits.entries.find((e) => e.checkout_session_id === sessionId);
        return {
          seen: Boolean(entry),
          message: entry
            ? t("success.credits", { amount: formatMoney(entry.amount, "USD", locale), balance: formatMoney(credits.available, "USD", locale) })
            : "",
        };
      }
      if (purpose === "setup") {
        const methods = await unwrap(api.GET("/api/billing/account/{organization_id}/payment-methods", path));
        return { seen: methods.length > 0, message: t("success.card") };
      }
      const sub = await unwrap(api.GET("/api/billing/account/{organization_id}/subscription", path));
      if (purpose === "lifetime") return { seen: sub.is_lifetime, message: t("success.lifetime") };
      const name = tierById(plans.data, sub.tier)?.name ?? sub.tier;
      return { seen: tier ? sub.tier === tier : sub.tier !== "free", message: t("success.subscription", { tier: name }) };
    },
  });
}

export function CheckoutSuccessPage() {
  usePageTitle(t("success.title"));
  const { org } = useOrg();
  const href = useOrgHref();
  const client = useQueryClient();
  const [params] = useSearchParams();
  const sessionId = params.get("session_id") ?? "";
  const asked = params.get("purpose");
  const purpose: Purpose = (["credits", "pack", "lifetime", "subscription", "setup"] as const).find((p) => p === asked) ?? "credits";
  const [started] = useState(() => Date.now());
  const [now, setNow] = useState(() => Date.now());
  const applied = useApplied(org, purpose, sessionId, params.get("tier"), sessionId !== "");
  const state = pollState(Boolean(applied.data?.seen), now - started);
  useEffect(() => {
    if (state !== "waiting") return;
    const timer = setInterval(() => setNow(Date.now()), POLL_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [state]);
  useEffect(() => {
    // Everything on the other pages may have moved with the purchase.
    if (state === "done") void client.invalidateQueries({ queryKey: billingKeys.all(org) });
  }, [state, client, org]);
  return (
    <>
      <h1 className="text-2xl font-semibold">{t("success.title")}</h1>
      <Card>
        {sessionId === "" ? (
          <Banner tone="warning" title={t("success.noSession")} />
        ) : state === "done" ? (
          <Banner tone="success" title={t("success.applied")}>
            <span data-testid="purchase-applied">{applied.data?.message}</span>
          </Banner>
        ) : state === "timed_out" ? (
          <Banner tone="warning" title={t("success.slowTitle")}>
            {t("success.slowBody")}
          </Banner>
        ) : (
          <div role="status" aria-live="polite" className="flex items-center gap-3">
            <span aria-hidden="true" className="size-4 animate-spin rounded-full border-2 border-brand-600 border-t-transparent" />
            <span>{t("success.waiting")}</span>
          </div>
        )}
        <p className="mt-4">
          <Link className="font-medium text-brand-700 underline dark:text-brand-300" to={href("/billing")}>
            {t("success.back")}
          </Link>
        </p>
      </Card>
    </>
  );
}

export function CheckoutCancelPage() {
  usePageTitle(t("cancel.title"));
  const href = useOrgHref();
  return (
    <>
      <h1 className="text-2xl font-semibold">{t("cancel.title")}</h1>
      <Card>
        <p>{t("cancel.body")}</p>
        <p className="mt-4">
          <Link className="font-medium text-brand-700 underline dark:text-brand-300" to={href("/billing")}>
            {t("success.back")}
          </Link>
        </p>
      </Card>
    </>
  );
}
