// Which organization the pages show, and what the viewer may do there. The organization is the
// token's own unless `?org=` names another: a platform admin reading a customer's pages (an
// operator's view, always read-only here), or anyone else, who then meets the API's 403.
import { createContext, useContext, type ReactNode } from "react";
import { useSearchParams } from "react-router";
import { canManageBilling, type Session } from "@/auth/session";

export interface OrgContext {
  org: string;
  session: Session;
  /** May buy, change the plan, budgets, keys and payment methods. */
  canManage: boolean;
  /** A platform admin looking at another organization's pages. */
  operatorView: boolean;
}

const Context = createContext<OrgContext | null>(null);

export function OrgProvider({ session, children }: { session: Session; children: ReactNode }) {
  const [params] = useSearchParams();
  const asked = params.get("org");
  const org = asked ?? session.homeOrg ?? "";
  const operatorView = session.isPlatformAdmin && org !== session.homeOrg;
  const value: OrgContext = { org, session, canManage: canManageBilling(session) && !operatorView, operatorView };
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useOrg(): OrgContext {
  const value = useContext(Context);
  if (!value) throw new Error("useOrg outside OrgProvider");
  return value;
}

/** A link target inside the billing pages that keeps `?org=` when the viewer chose one. */
export function useOrgHref(): (path: string) => string {
  const [params] = useSearchParams();
  const asked = params.get("org");
  return (path: string) => (asked ? `${path}${path.includes("?") ? "&" : "?"}org=${encodeURIComponent(asked)}` : path);
}
