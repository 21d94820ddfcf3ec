// Every string a person reads comes from one catalog (`en.ts`); a second language is one more
// file of the same shape (`Catalog`), picked from the browser's languages. Placeholders are
// `{name}`; numbers and money are formatted by the caller (`lib/format.ts`) before they go in.
import { en, type MessageKey } from "./en";

export type { MessageKey };
export type Catalog = Record<MessageKey, string>;

const catalogs: Record<string, Catalog> = { en };

function pick(): Catalog {
  if (typeof navigator !== "undefined") {
    for (const language of navigator.languages ?? []) {
      const found = catalogs[language] ?? catalogs[language.split("-")[0] ?? ""];
      if (found) return found;
    }
  }
  return en;
}

const active = pick();

export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  const template = active[key];
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** The locale the formatters use: the browser's, which the catalog follows where it can. */
export const locale: string | undefined = typeof navigator !== "undefined" ? navigator.language : undefined;
