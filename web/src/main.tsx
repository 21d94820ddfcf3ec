import { StrictMode, lazy, Suspense } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createBrowserRouter, Navigate, RouterProvider, Outlet } from "react-router";
import { Toaster } from "sonner";
import "./index.css";
import { ApiError } from "@/api/client";
import { captureTokenFromUrl, currentSession } from "@/auth/session";
import { applyTheme, preferredTheme } from "@/lib/theme";
import { OrgProvider } from "@/app/org";
import { BillingGate } from "@/app/BillingGate";
import { AdminGate, AdminNotFound } from "@/app/AdminGate";
import { LoadingCard } from "@/components/ui/Skeleton";
import { OverviewPage } from "@/pages/OverviewPage";
import { AuthCallbackPage, NotFoundPage, SignInPage } from "@/pages/StatusPages";
import { CheckoutSuccessPage, CheckoutCancelPage } from "@/pages/CheckoutReturnPages";

// Pages beyond the overview load on first visit; the charts are in their own chunk.
const UsagePage = lazy(() => import("@/pages/UsagePage"));
const PlanPage = lazy(() => import("@/pages/PlanPage"));
const InvoicesPage = lazy(() => import("@/pages/InvoicesPage"));
const InvoicePage = lazy(() => import("@/pages/InvoicePage"));
const PaymentMethodsPage = lazy(() => import("@/pages/PaymentMethodsPage"));
const SettingsPage = lazy(() => import("@/pages/SettingsPage"));
// The operators' console: platform admins only, every page its own chunk.
const AdminAccountsPage = lazy(() => import("@/pages/admin/AccountsPage"));
const AdminAccountPage = lazy(() => import("@/pages/admin/AccountPage"));
const AdminHealthPage = lazy(() => import("@/pages/admin/HealthPage"));
const AdminFlagsPage = lazy(() => import("@/pages/admin/FlagsPage"));
const AdminPromoCodesPage = lazy(() => import("@/pages/admin/PromoCodesPage"));
const AdminAuditPage = lazy(() => import("@/pages/admin/AuditPage"));

captureTokenFromUrl();
applyTheme(preferredTheme());

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal (4xx) will not change by asking again; a network blip or a 5xx may.
      retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      refetchOnWindowFocus: true,
    },
  },
});

/** Signed in, or the sign-in page; then the organization the pages are about. */
function Authenticated() {
  const session = currentSession();
  if (!session) return <SignInPage />;
  return (
    <OrgProvider session={session}>
      <Outlet />
    </OrgProvider>
  );
}

function Page({ children }: { children: React.ReactNode }) {
  return <Suspense fallback={<LoadingCard lines={6} />}>{children}</Suspense>;
}

const router = createBrowserRouter([
  { path: "/", element: <Navigate to="/billing" replace /> },
  { path: "/auth/callback", element: <AuthCallbackPage /> },
  {
    element: <Authenticated />,
    children: [
      {
        path: "/billing",
        element: <BillingGate />,
        children: [
          { index: true, element: <OverviewPage /> },
          { path: "usage", element: <Page><UsagePage /></Page> },
          { path: "plan", element: <Page><PlanPage /></Page> },
          { path: "invoices", element: <Page><InvoicesPage /></Page> },
          { path: "invoices/:invoiceId", element: <Page><InvoicePage /></Page> },
          { path: "payment-methods", element: <Page><PaymentMethodsPage /></Page> },
          { path: "settings", element: <Page><SettingsPage /></Page> },
          { path: "success", element: <CheckoutSuccessPage /> },
          { path: "cancel", element: <CheckoutCancelPage /> },
        ],
      },
    ],
  },
  {
    path: "/admin",
    element: <AdminGate />,
    children: [
      { index: true, element: <Page><AdminAccountsPage /></Page> },
      { path: "accounts/:org", element: <Page><AdminAccountPage /></Page> },
      { path: "health", element: <Page><AdminHealthPage /></Page> },
      { path: "flags", element: <Page><AdminFlagsPage /></Page> },
      { path: "promo-codes", element: <Page><AdminPromoCodesPage /></Page> },
      { path: "audit", element: <Page><AdminAuditPage /></Page> },
      { path: "*", element: <AdminNotFound /> },
    ],
  },
  { path: "*", element: <NotFoundPage /> },
]);

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
      <Toaster richColors closeButton position="top-right" />
    </QueryClientProvider>
  </StrictMode>,
);
