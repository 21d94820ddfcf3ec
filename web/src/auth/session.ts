// Who is signed in. The pages never verify a token (API Gateway's JWT authorizer does, on
// every call); they only read its claims to know the organization and what to offer.
//
// A token reaches the pages in one of two ways:
// - in the URL fragment `#access_token=…`: the local dev sign-in (`/_local/sign-in`) and a host
//   app that embeds or links to these pages hand it over like this. The fragment never
//   reaches a server, and it is removed from the address bar at once;
// - from the OIDC provider (authorization code with PKCE, `./oidc.ts`) when `/config.json`
//   names one.
// It is kept in `sessionStorage`: gone when the tab closes, never shared across tabs.

const STORAGE_KEY = "billing.access_token";
export const ADMIN_GROUP = "billing-admin";

export type OrgRole = "owner" | "billing_admin" | "member";

export interface Claims {
  sub?: string;
  exp?: number;
  org_id?: string;
  org_ids?: string[] | string;
  org_role?: string;
  groups?: string[] | string;
  "cognito:groups"?: string[] | string;
  email?: string;
  name?: string;
}

export interface Session {
  token: string;
  claims: Claims;
  subject: string;
  /** The organization the token belongs to (or the first of several). */
  homeOrg: string | null;
  role: OrgRole;
  isPlatformAdmin: boolean;
}

function base64UrlDecode(part: string): string {
  const padded = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export function decodeClaims(token: string): Claims | null {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const value: unknown = JSON.parse(base64UrlDecode(parts[1]));
    return value && typeof value === "object" ? (value as Claims) : null;
  } catch {
    return null;
  }
}

/** A list claim as a JWT carries it (an array) or as a string (`a b`, `[a b]`, `a,b`). */
export function listClaim(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  return value.replace(/^\[|\]$/g, "").split(/[\s,]+/).filter(Boolean);
}

export function roleOf(claims: Claims): OrgRole {
  return claims.org_role === "owner" || claims.org_role === "billing_admin" ? claims.org_role : "member";
}

export function sessionFromToken(token: string, now = Date.now()): Session | null {
  const claims = decodeClaims(token);
  if (!claims) return null;
  if (typeof claims.exp === "number" && claims.exp * 1000 <= now) return null;
  const orgs = listClaim(claims.org_ids);
  const groups = [...listClaim(claims.groups), ...listClaim(claims["cognito:groups"])];
  return {
    token,
    claims,
    subject: claims.name ?? claims.email ?? claims.sub ?? "",
    homeOrg: claims.org_id ?? orgs[0] ?? null,
    role: roleOf(claims),
    isPlatformAdmin: groups.includes(ADMIN_GROUP),
  };
}

/** Takes a token handed over in the URL fragment, stores it and cleans the address bar. */
export function captureTokenFromUrl(): void {
  const hash = window.location.hash.startsWith("#") ? window.location.hash.slice(1) : "";
  if (!hash.includes("access_token=")) return;
  const params = new URLSearchParams(hash);
  const token = params.get("access_token");
  if (token) storeToken(token);
  params.delete("access_token");
  const rest = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ""}`);
}

export function storeToken(token: string): void {
  window.sessionStorage.setItem(STORAGE_KEY, token);
}

export function clearToken(): void {
  window.sessionStorage.removeItem(STORAGE_KEY);
}

export function currentSession(): Session | null {
  const token = window.sessionStorage.getItem(STORAGE_KEY);
  return token ? sessionFromToken(token) : null;
}

/** May this role move money and change the plan? (Owners and billing admins; the API decides.) */
export function canManageBilling(session: Session | null): boolean {
  return session !== null && (session.role === "owner" || session.role === "billing_admin");
}
