// The local stand-in for Stripe's hosted Checkout (`/_local/checkout/<session>`): the page a
// customer would pay on. The stand-in sends the signed events Stripe would send to the
// webhook, waits until they are applied, then returns to the success URL.
import { expect, type Page } from "@playwright/test";
import { BASE, ok, tokens, type Schemas } from "./stack";

/** On the stand-in page: pays, and lands back on our success page. */
export async function payOnCheckout(page: Page, outcome: "Pay" | "Pay later" = "Pay"): Promise<void> {
  await expect(page).toHaveURL(/\/_local\/checkout\//);
  await page.getByRole("button", { name: outcome, exact: true }).click();
  await expect(page).toHaveURL(/\/billing\/success/);
}

/** Data set-up without the browser: a checkout opened through the API and paid on the stand-in. */
export async function subscribeThroughApi(org: string, tier: string): Promise<void> {
  const session = await ok<Schemas["CheckoutResponse"]>(
    tokens.user(org, "owner"),
    "POST",
    `/api/billing/account/${org}/subscription/checkout`,
    { tier },
    { "Idempotency-Key": `setup-${org}-${tier}` },
  );
  const paid = await fetch(`${BASE()}/_local/checkout/${session.session_id}/pay`, { method: "POST", redirect: "manual" });
  expect(paid.status, "the stand-in applies the payment and redirects").toBe(303);
  await expect
    .poll(async () => (await ok<Schemas["SubscriptionResponse"]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/subscription`)).tier, {
      message: `${org} moves to ${tier}`,
    })
    .toBe(tier);
}
