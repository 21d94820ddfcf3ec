import { expect, test } from "@playwright/test";
import { newOrg, ok, signIn, tokens, type Schemas } from "./support/stack";

type Method = Schemas["PaymentMethodResponse"];

test.describe("payment methods", () => {
  test("a card added through Checkout in setup mode is listed as the default, and can be removed", async ({ page }) => {
    const org = newOrg();
    await signIn(page, org, "owner", "/billing/payment-methods");
    await expect(page.getByText("No payment method on file.")).toBeVisible();
    await page.getByRole("button", { name: "Add a card" }).click();
    await expect(page).toHaveURL(/\/_local\/checkout\//);
    await page.getByRole("button", { name: "Pay", exact: true }).or(page.getByRole("button", { name: "Save card" })).first().click();
    await expect(page.getByTestId("purchase-applied")).toHaveText("Your card is saved.");
    await page.goto("/billing/payment-methods");
    const list = page.getByRole("list", { name: "Payment methods on file" });
    await expect(list.getByRole("listitem")).toHaveCount(1);
    await expect(list.getByText("Default")).toBeVisible();
    const [card] = await ok<Method[]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/payment-methods`);
    expect(card?.is_default).toBe(true);

    await list.getByRole("button", { name: /^Remove / }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Remove" }).click();
    await expect(page.getByText("No payment method on file.")).toBeVisible();
    expect(await ok<Method[]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/payment-methods`)).toHaveLength(0);
  });

  test("another card becomes the default on request", async ({ page }) => {
    const org = newOrg();
    const owner = tokens.user(org, "owner");
    await ok(owner, "POST", `/api/billing/account/${org}/payment-method`, { payment_method_id: "pm_card_visa", set_as_default: true }, { "Idempotency-Key": `a-${org}` });
    await ok(owner, "POST", `/api/billing/account/${org}/payment-method`, { payment_method_id: "pm_card_mastercard", set_as_default: false }, { "Idempotency-Key": `b-${org}` });
    // Each test token attached is a card of its own, as in Stripe's test mode.
    const before = await ok<Method[]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/payment-methods`);
    const other = before.find((m) => !m.is_default);
    expect(before).toHaveLength(2);
    await signIn(page, org, "owner", "/billing/payment-methods");
    const list = page.getByRole("list", { name: "Payment methods on file" });
    await expect(list.getByRole("listitem")).toHaveCount(2);
    await list.getByRole("button", { name: /^Make .* the default$/ }).click();
    await expect(page.getByText("Default payment method updated.")).toBeVisible();
    const after = await ok<Method[]>(tokens.user(org, "member"), "GET", `/api/billing/account/${org}/payment-methods`);
    expect(after.find((m) => m.is_default)?.id).toBe(other?.id);
  });

  test("the customer portal opens", async ({ page }) => {
    const org = newOrg();
    await signIn(page, org, "owner", "/billing/payment-methods");
    await page.getByRole("button", { name: "Open the portal" }).click();
    await expect(page).toHaveURL(/\/_local\/portal/);
    await expect(page.getByText(/customer portal/i).first()).toBeVisible();
  });
});
