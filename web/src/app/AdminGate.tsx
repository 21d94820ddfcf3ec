import { NavLink, Outlet } from "react-router";
import { t } from "@/i18n";
import { currentSession, clearToken } from "@/auth/session";
import { Header } from "@/components/layout/AppShell";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { cn } from "@/components/ui/cn";
import { ErrorBoundary } from "@/components/ui/ErrorBoundary";
import { ForbiddenPage, SignInPage } from "@/pages/StatusPages";

const sections = [
  { to: "/admin", label: "admin.nav.accounts", end: true },
  { to: "/admin/health", label: "admin.nav.health", end: true },
  { to: "/admin/flags", label: "admin.nav.flags", end: true },
  { to: "/admin/promo-codes", label: "admin.nav.promoCodes", end: true },
  { to: "/admin/audit", label: "admin.nav.audit", end: true },
] as const;

/**
 * The operators' console: platform admins only (the `billing-admin` group). Anyone else gets
 * the 403 page, on direct navigation too; the API refuses them as well (`403 admin_required`).
 */
export function AdminGate() {
  const session = currentSession();
  if (!session) return <SignInPage />;
  if (!session.isPlatformAdmin) return <ForbiddenPage detail={t("admin.forbidden")} />;
  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:p-2 dark:focus:bg-slate-900">
        {t("app.skip")}
      </a>
      <Header>
        <Badge tone="warning">{t("admin.badge")}</Badge>
        <span className="text-sm text-slate-700 dark:text-slate-300">{session.subject}</span>
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
      <nav aria-label={t("admin.nav.label")} className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
        <ul className="mx-auto flex max-w-6xl gap-1 overflow-x-auto px-4">
          {sections.map((section) => (
            <li key={section.to}>
              <NavLink
                to={section.to}
                end={section.end}
                className={({ isActive }) =>
                  cn(
                    "block whitespace-nowrap border-b-2 px-3 py-3 text-sm font-medium",
                    isActive
                      ? "border-brand-600 text-brand-700 dark:border-brand-300 dark:text-brand-300"
                      : "border-transparent text-slate-700 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white",
                  )
                }
              >
                {t(section.label)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="mx-auto flex max-w-6xl flex-col gap-6 px-4 py-6">
        <ErrorBoundary>
          <Outlet />
        </ErrorBoundary>
      </main>
    </div>
  );
}

/** An address under /admin that is no page: said inside the console's frame. */
export function AdminNotFound() {
  return (
    <>
      <h1 className="text-2xl font-semibold">{t("notFound.title")}</h1>
      <p className="text-sm text-slate-700 dark:text-slate-300">{t("notFound.body")}</p>
    </>
  );
}
