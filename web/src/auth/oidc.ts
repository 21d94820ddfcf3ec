// Production sign-in: OpenID Connect authorization code with PKCE against the issuer the
// template's JWT authorizer trusts. Loaded only when `/config.json` names a provider, so the
// library never weighs on a page that does not use it.
import { storeToken } from "./session";

export interface OidcSettings {
  authority: string;
  client_id: string;
  scope?: string;
}

async function manager(settings: OidcSettings) {
  const { UserManager, WebStorageStateStore } = await import("oidc-client-ts");
  return new UserManager({
    authority: settings.authority,
    client_id: settings.client_id,
    redirect_uri: `${window.location.origin}/auth/callback`,
    post_logout_redirect_uri: `${window.location.origin}/`,
    response_type: "code",
    scope: settings.scope ?? "openid profile email",
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
  });
}

/** Sends the browser to the provider; it comes back to `/auth/callback`. */
export async function signInWithOidc(settings: OidcSettings, returnTo: string): Promise<void> {
  await (await manager(settings)).signinRedirect({ state: returnTo });
}

/** On `/auth/callback`: trades the code for tokens and answers where to go next. */
export async function completeOidcSignIn(settings: OidcSettings): Promise<string> {
  const user = await (await manager(settings)).signinRedirectCallback();
  // API Gateway's JWT authorizer accepts the ID or the access token, whichever carries the
  // audience it is configured with; Cognito's ID token does, with `aud` = the client id.
  storeToken(user.id_token ?? user.access_token);
  const next = typeof user.state === "string" && user.state.startsWith("/") && !user.state.startsWith("//") ? user.state : "/billing";
  return next;
}
