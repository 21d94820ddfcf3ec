import { Link } from "react-router";
import { t, locale } from "@/i18n";
import { formatDate } from "@/lib/format";
import { useOrg, useOrgHref } from "@/app/org";
import { useBillingAccount } from "@/hooks/billing/useBillingAccount";
import { useSubscription } from "@/hooks/billing/useSubscription";
import { ReactivateButton } from "./ReactivateButton";
import { usePlans } from "@/hooks/billing/useStripeConfig";
import { tierById } from "./tiers";
import { Banner } from "@/components/ui/Banner";

/** What needs the customer's attention, each with what to do about it. */
export function AccountBanners() {
  const { org } = useOrg();
  const href = useOrgHref();
  const account = useBillingAccount(org).data;
  const subscription = useSubscription(org).data;
  const plans = usePlans();
  if (!account) return null;
  const banners = [];
  if (account.status === "suspended") {
    banners.push(
      <Banner
        key="suspended"
        tone="danger"
        title={t("banner.suspended.title")}
        action={
          <Link className="font-medium underline" to={href("/billing/invoices?status=past_due")}>
            {t("banner.suspended.action")}
          </Link>
        }
      >
        {t("banner.suspended.body")}
      </Banner>,
    );
  }
  if (subscription?.status === "past_due") {
    banners.push(
      <Banner
        key="past_due"
        tone="danger"
        title={t("banner.pastDue.title")}
        action={
          <Link className="font-medium underline" to={href("/billing/invoices?status=open")}>
            {t("banner.pastDue.action")}
          </Link>
        }
      >
        {t("banner.pastDue.body")}
      </Banner>,
    );
  }
  if (subscription?.status === "trialing" && subscription.trial_end) {
    banners.push(
      <Banner key="trial" tone="info" title={t("banner.trial.title", { date: formatDate(subscription.trial_end, locale) })}>
        {account.has_payment_method ? t("banner.trial.withCard") : t("banner.trial.noCard")}
      </Banner>,
    );
  }
  if (subscription?.cancel_at_period_end) {
    banners.push(
      <Banner
        key="cancel"
        tone="warning"
        title={t("banner.canceling.title", { date: formatDate(subscription.current_period_end, locale) })}
        action={<ReactivateButton />}
      >
        {t("banner.canceling.body")}
      </Banner>,
    );
  }
  const pending = subscription?.pending_change;
  if (pending && !pending.awaiting_payment && pending.effective_at) {
    banners.push(
      <Banner key="pending" tone="info" title={t("banner.pending.title", { tier: tierById(plans.data, pending.tier)?.name ?? pending.tier, date: formatDate(pending.effective_at, locale) })}>
        {t("banner.pending.body")}
      </Banner>,
    );
  }
  if (banners.length === 0) return null;
  return <div className="flex flex-col gap-3">{banners}</div>;
}
