import { NavLink } from "react-router";
import { t, type MessageKey } from "@/i18n";
import { cn } from "@/components/ui/cn";

export interface Section {
  to: string;
  label: MessageKey;
  end: boolean;
}

/** A row of section links under the header (the billing pages', the console's); scrolls sideways on a narrow screen. */
export function SectionNav({ label, sections, href = (path) => path }: { label: string; sections: readonly Section[]; href?: (path: string) => string }) {
  return (
    <nav aria-label={label} className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <ul className="mx-auto flex max-w-6xl gap-1 overflow-x-auto px-4">
        {sections.map((section) => (
          <li key={section.to}>
            <NavLink
              to={href(section.to)}
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
  );
}

/** The link that lets keyboard users jump past the header and the sections. */
export function SkipLink() {
  return (
    <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:p-2 dark:focus:bg-slate-900">
      {t("app.skip")}
    </a>
  );
}
