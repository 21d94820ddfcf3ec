import { useEffect } from "react";
import { t } from "@/i18n";

/** Each page names itself in the tab and for screen readers' page announcements. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · ${t("app.name")}`;
  }, [title]);
}
