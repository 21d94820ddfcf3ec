import type { Schemas } from "@/api/client";

export type Tier = Schemas["Tier"];
export type Catalog = Schemas["Catalog"];

export function tierById(catalog: Catalog | undefined, id: string | undefined): Tier | undefined {
  return catalog?.tiers.find((tier) => tier.id === id);
}

/** Monthly tiers a customer can subscribe to, in catalog order (cheapest first). */
export function subscribableTiers(catalog: Catalog): Tier[] {
  return catalog.tiers.filter((tier) => tier.billing === "monthly");
}

/** Upgrade or downgrade, by monthly price; `null` when it is the same tier or not comparable. */
export function direction(from: Tier | undefined, to: Tier): "upgrade" | "downgrade" | null {
  if (!from || from.id === to.id) return null;
  const a = from.price_usd ?? 0;
  const b = to.price_usd ?? 0;
  return b >= a ? "upgrade" : "downgrade";
}
