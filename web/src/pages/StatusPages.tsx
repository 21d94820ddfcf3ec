import { useEffect, useState } from "react";
import { t } from "@/i18n";
import { Header } from "@/components/layout/AppShell";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { runtimeConfig, type RuntimeConfig } from "@/lib/runtime-config";

function Centered({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <div className="min-h-screen">
      <Header />
      <main id="main" className="mx-auto max-w-xl px-4 py-12">
        <Card>
          <h1 className="text-xl font-semibold">{title}</h1>
          <div className="mt-3 space-y-3 text-sm text-slate-700 dark:text-slate-300">{children}</div>
        </Card>
      </main>
    </div>
  );
}

/** Another organization's pages, or an operator's page without the role. */
export function ForbiddenPage({ org, detail }: { org?: string; detail?: string }) {
  return (
    <Centered title={t("forbidden.title")}>
      <p>{org ? t("forbidden.org", { org }) : t("forbidden.generic")}</p>
      {detail && <p className="text-slate-600 dark:text-slate-400">{detail}</p>}
      <p>
        <a className="font-medium text-brand-700 underline dark:text-brand-300" href="/billing">
          {t("forbidden.back")}
        </a>
      </p>
    </Centered>
  );
}

export function NotFoundPage() {
  return (
    <Centered title={t("notFound.title")}>
      <p>{t("notFound.body")}</p>
      <p>
        <a className="font-medium text-brand-700 underline dark:text-brand-300" href="/billing">
          {t("forbidden.back")}
        </a>
      </p>
    </Centered>
  );
}

/** Nobody is signed in: the identity provider when one is configured, else how to sign in locally. */
export function SignInPage() {
  const [config, setConfig] = useState<RuntimeConfig | null>(null);
  useEffect(() => {
    void runtimeConfig().then(setConfig);
  }, []);
  const oidc = config?.oidc;
  return (
    <Centered title={t("signIn.title")}>
      {config === null ? (
        <p role="status">{t("common.loading")}</p>
      ) : oidc ? (
        <Button
          onClick={() => {
            void import("@/auth/oidc").then(({ signInWithOidc }) => signInWithOidc(oidc, window.location.pathname + window.location.search));
          }}
        >
          {t("signIn.button")}
        </Button>
      ) : (
        <>
          <p>{t("signIn.local")}</p>
          <ul className="list-disc space-y-1 pl-5">
            {(["owner", "billing_admin", "member"] as const).map((role) => (
              <li key={role}>
                <a className="font-medium text-brand-700 underline dark:text-brand-300" href={`/_local/sign-in?org=demo&role=${role}`}>
                  {t("signIn.as", { role: t(`role.${role}`) })}
                </a>
              </li>
            ))}
            <li>
              <a className="font-medium text-brand-700 underline dark:text-brand-300" href="/_local/sign-in?org=demo&role=owner&admin=1">
                {t("signIn.asAdmin")}
              </a>
            </li>
          </ul>
        </>
      )}
    </Centered>
  );
}

/** `/auth/callback`: the identity provider sends the browser back here with a code. */
export function AuthCallbackPage() {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void (async () => {
      const config = await runtimeConfig();
      if (!config.oidc) {
        setError(t("signIn.noProvider"));
        return;
      }
      try {
        const { completeOidcSignIn } = await import("@/auth/oidc");
        window.location.replace(await completeOidcSignIn(config.oidc));
      } catch (cause) {
        setError(cause instanceof Error ? cause.message : String(cause));
      }
    })();
  }, []);
  return (
    <Centered title={t("signIn.title")}>
      {error ? <p role="alert">{error}</p> : <p role="status">{t("signIn.completing")}</p>}
    </Centered>
  );
}
