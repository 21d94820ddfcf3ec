// Form rules the API also enforces; checking them in the form first saves a round trip and
// says what is wrong next to the field.
import { t, locale } from "@/i18n";
import { formatMoney } from "./format";

/** A credit purchase: dollars and cents, above zero, at most the catalog's maximum. */
export function creditAmountError(raw: string, maxUsd: number): string | null {
  const text = raw.trim();
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return t("credits.amountInvalid");
  const value = Number(text);
  if (value <= 0) return t("credits.amountPositive");
  if (value > maxUsd) return t("credits.amountMax", { max: formatMoney(maxUsd, "USD", locale) });
  return null;
}

/** A monthly budget: dollars and cents, at least one cent. */
export function budgetAmountError(raw: string): string | null {
  const text = raw.trim();
  if (!/^\d+(\.\d{1,2})?$/.test(text) || Number(text) < 0.01) return t("budget.amountInvalid");
  return null;
}

/** A warning threshold in whole percent, 1–100. */
export function percentError(raw: string): string | null {
  const value = Number(raw);
  if (!/^\d{1,3}$/.test(raw.trim()) || value < 1 || value > 100) return t("budget.percentInvalid");
  return null;
}
