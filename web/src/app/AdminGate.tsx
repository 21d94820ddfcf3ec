import { Outlet } from "react-router";
import { t } from "@/i18n";
import { currentSession, clearToken } from "@/auth/session";
import { Header } from "@/components/layout/AppShell";
import { Badge } from "@/components/ui/Badge";
import { Button } from "@/components/ui/Button";
import { ErrorBoundary } from "@/components/ui/ErrorBoundary";
import { SectionNav, SkipLink, type Section } from "@/components/layout/SectionNav";
import { ForbiddenPage, SignInPage } from "@/pages/StatusPages";

const sections: readonly Section[] = [
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
      <SkipLink />
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
      <SectionNav label={t("admin.nav.label")} sections={sections} />
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
