import { ApiError } from "@/api/client";
import { useBillingAccount } from "@/hooks/billing/useBillingAccount";
import { ForbiddenPage } from "@/pages/StatusPages";
import { AppShell } from "@/components/layout/AppShell";
import { useOrg } from "./org";

/**
 * Every billing page needs the account first (the API creates it on the first visit). A 403
 * here means the viewer is not a member of this organization: one page says so, for every
 * billing route, instead of each panel failing on its own.
 */
export function BillingGate() {
  const { org } = useOrg();
  const account = useBillingAccount(org);
  if (account.error instanceof ApiError && account.error.status === 403) {
    return <ForbiddenPage org={org} detail={account.error.detail} />;
  }
  return <AppShell />;
}

