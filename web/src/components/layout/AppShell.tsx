import { useState, type ReactNode } from "react";
import { Outlet } from "react-router";
import { t } from "@/i18n";
import { clearToken } from "@/auth/session";
import { preferredTheme, saveTheme, type Theme } from "@/lib/theme";
import { useOrg, useOrgHref } from "@/app/org";
import { Badge } from "@/components/ui/Badge";
import { Banner } from "@/components/ui/Banner";
import { Button } from "@/components/ui/Button";
import { ErrorBoundary } from "@/components/ui/ErrorBoundary";
import { SectionNav, SkipLink, type Section } from "./SectionNav";

const sections: readonly Section[] = [
  { to: "/billing", label: "nav.overview", end: true },
  { to: "/billing/usage", label: "nav.usage", end: false },
  { to: "/billing/plan", label: "nav.plan", end: false },
  { to: "/billing/invoices", label: "nav.invoices", end: false },
  { to: "/billing/payment-methods", label: "nav.paymentMethods", end: false },
  { to: "/billing/settings", label: "nav.settings", end: false },
] as const;

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(preferredTheme);
  const next: Theme = theme === "dark" ? "light" : "dark";
  return (
    <Button
      variant="ghost"
      size="sm"
      aria-pressed={theme === "dark"}
      onClick={() => {
        saveTheme(next);
        setTheme(next);
      }}
    >
      {t("theme.dark")}
    </Button>
  );
}

export function Header({ children }: { children?: ReactNode }) {
  return (
    <header className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-2 px-4 py-3">
        <a href="/billing" className="text-lg font-semibold text-slate-900 dark:text-slate-100">
          {t("app.name")}
        </a>
        <div className="flex flex-wrap items-center gap-2">
          {children}
          <ThemeToggle />
        </div>
      </div>
    </header>
  );
}

/** The billing pages' frame: who and which organization, the sections, and the page. */
export function AppShell() {
  const { org, session, operatorView, canManage } = useOrg();
  const href = useOrgHref();
  return (
    <div className="min-h-screen">
      <SkipLink />
      <Header>
        <span className="text-sm text-slate-700 dark:text-slate-300">
          {t("app.organization")}: <strong>{org}</strong>
        </span>
        <Badge tone={canManage ? "info" : "neutral"}>{t(`role.${operatorView ? "operator" : session.role}`)}</Badge>
        {session.isPlatformAdmin && (
          <a className="text-sm font-medium text-brand-700 underline dark:text-brand-300" href="/admin">
            {t("nav.admin")}
          </a>
        )}
        <Button
          variant="ghost"
          size="sm"
          onClick={() => {
            clearToken();
            window.location.assign("/");
          }}
        >
          {t("app.signOut")}
        </Button>
      </Header>
      <SectionNav label={t("nav.label")} sections={sections} href={href} />
      <main id="main" className="mx-auto flex max-w-6xl flex-col gap-6 px-4 py-6">
        {operatorView && (
          <Banner tone="info" title={t("operator.title", { org })}>
            {t("operator.body")}
          </Banner>
        )}
        <ErrorBoundary>
          <Outlet />
        </ErrorBoundary>
      </main>
    </div>
  );
}
