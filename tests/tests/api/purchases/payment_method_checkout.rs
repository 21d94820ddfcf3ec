//! Adding a card through Stripe Checkout in setup mode: the session for the organization's
//! customer, then the completed session's card made the default when there is none.

use billing::ids::OrganizationId;
use billing_tests::fake_stripe::FakeStripe;
use billing_tests::stripe_events::{SECRET, deliver, event, now_ts, process_queue};
use billing_tests::{TestContext, TestServer};
use serde_json::{Value, json};

const PATH: &str = "/api/billing/account/cards/payment-methods/checkout";

async fn context() -> (TestContext, FakeStripe) {
    TestContext::with_recorded_stripe(SECRET, &[]).await
}

fn setup_session(id: &str, org: Option<&str>, customer: &str, setup_intent: Value) -> Value {
    let metadata = org.map_or(json!({}), |org| json!({ "organization_id": org, "purpose": "payment_method" }));
    json!({ "id": id, "object": "checkout.session", "mode": "setup", "status": "complete",
            "payment_status": "no_payment_required", "customer": customer, "setup_intent": setup_intent,
            "metadata": metadata })
}

/// The defaults our requests set on the customer, in order.
fn defaults_set(stripe: &FakeStripe, customer: &str) -> Vec<String> {
    stripe
        .forwarded(&format!("/v1/customers/{customer}"))
        .into_iter()
        .filter_map(|form| form.get("invoice_settings[default_payment_method]").cloned())
        .collect()
}

async fn stripe_customer_without_default(ctx: &TestContext, stripe: &FakeStripe, org: &str) -> String {
    let customer = format!("cus_{org}");
    ctx.account(org).await;
    ctx.app.store.link_customer(&OrganizationId::parse(org).unwrap(), &customer, None).await.unwrap();
    stripe.answer(
        &format!("/v1/customers/{customer}"),
        json!({ "id": customer, "object": "customer", "invoice_settings": { "default_payment_method": null } }),
    );
    customer
}

async fn start(server: &TestServer, token: &str, body: Option<Value>, key: Option<&str>) -> billing_tests::Reply {
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    server.request_with_headers("POST", PATH, Some(token), body, &headers).await
}

#[tokio::test]
async fn an_owner_gets_a_setup_mode_session_for_the_organizations_customer_and_a_member_is_refused() {
    let (ctx, stripe) = context().await;
    let server = ctx.serve().await;
    let owner = server.tokens.owner("cards");

    let first = start(&server, &owner, None, Some("add-card-1")).await;
    let again = start(&server, &owner, None, Some("add-card-1")).await;

    assert_eq!(first.status, 200, "{first:?}");
    let session = first.json["session_id"].as_str().unwrap();
    assert!(session.starts_with("cs_") && first.json["checkout_url"].is_string(), "{first:?}");
    assert_eq!(
        (again.json["session_id"].as_str(), again.header("idempotent-replayed").as_deref()),
        (Some(session), Some("true"))
    );
    let asked = stripe.forwarded("/v1/checkout/sessions");
    assert_eq!(asked.len(), 1, "the repeat opened no second session");
    let customer = ctx.stored_account("cards").await.stripe_customer_id.expect("customer created");
    let base = ctx.app.config.frontend_url.trim_end_matches('/').to_owned();
    assert_eq!(asked[0]["mode"], "setup");
    assert_eq!(asked[0]["customer"], customer);
    assert_eq!(asked[0]["success_url"], format!("{base}/billing/payment-methods?added=1"));
    assert_eq!(asked[0]["metadata[organization_id]"], "cards");
    assert_eq!(asked[0]["setup_intent_data[metadata][organization_id]"], "cards");

    let chosen = start(&server, &owner, Some(json!({ "success_url": format!("{base}/settings?card=1") })), None).await;
    assert_eq!(chosen.status, 200, "{chosen:?}");
    assert_eq!(stripe.forwarded("/v1/checkout/sessions")[1]["success_url"], format!("{base}/settings?card=1"));
    let billing_admin = start(&server, &server.tokens.billing_admin("cards"), None, None).await;
    assert_eq!(billing_admin.status, 200, "{billing_admin:?}");

    let member = start(&server, &server.tokens.member("cards"), None, None).await;
    assert_eq!((member.status, member.json["code"].as_str()), (403, Some("billing_role_required")));
    let elsewhere = start(&server, &owner, Some(json!({ "cancel_url": "https://evil.example/" })), None).await;
    assert_eq!((elsewhere.status, elsewhere.json["code"].as_str()), (400, Some("invalid_redirect_url")));
    let unknown = start(&server, &owner, Some(json!({ "mode": "payment" })), None).await;
    assert_eq!((unknown.status, unknown.json["code"].as_str()), (400, Some("invalid_body")));
    assert_eq!(stripe.forwarded("/v1/checkout/sessions").len(), 3, "refusals ask Stripe nothing");
}

#[tokio::test]
async fn a_completed_setup_session_makes_its_card_the_default_once_and_only_when_there_is_none() {
    let (ctx, stripe) = context().await;
    let server = ctx.serve().await;
    let customer = stripe_customer_without_default(&ctx, &stripe, "cards").await;
    stripe.answer(
        "/v1/setup_intents/seti_1",
        json!({ "id": "seti_1", "object": "setup_intent", "status": "succeeded", "customer": customer, "payment_method": "pm_new" }),
    );
    let session = setup_session("cs_setup_1", Some("cards"), &customer, json!("seti_1"));

    assert_eq!(
        deliver(&ctx, &server, &event("evt_setup_1", "checkout.session.completed", now_ts(&ctx), session.clone()))
            .await
            .status,
        200
    );
    // The same delivery again, and the same session in another event (Stripe retries with new ids).
    deliver(&ctx, &server, &event("evt_setup_1", "checkout.session.completed", now_ts(&ctx), session.clone())).await;
    assert_eq!(process_queue(&ctx).await, 1, "a duplicate delivery is not queued twice");
    assert_eq!(defaults_set(&stripe, &customer), ["pm_new"]);
    assert!(ctx.stored_account("cards").await.has_payment_method);

    // Stripe now has a default: a later event for the session leaves it.
    stripe.answer(
        &format!("/v1/customers/{customer}"),
        json!({ "id": customer, "object": "customer", "invoice_settings": { "default_payment_method": "pm_new" } }),
    );
    deliver(&ctx, &server, &event("evt_setup_2", "checkout.session.completed", now_ts(&ctx), session)).await;
    assert_eq!(process_queue(&ctx).await, 1);
    assert_eq!(defaults_set(&stripe, &customer), ["pm_new"], "no second default set");
    let status = ctx.app.store.stripe_event_status("evt_setup_2").await.unwrap();
    assert_eq!(status.as_deref(), Some("processed"));
}

#[tokio::test]
async fn an_expanded_setup_intent_is_read_from_the_event_and_unknown_or_empty_sessions_are_acknowledged() {
    let (ctx, stripe) = context().await;
    let server = ctx.serve().await;
    let customer = stripe_customer_without_default(&ctx, &stripe, "expanded").await;
    let expanded = json!({ "id": "seti_x", "object": "setup_intent", "payment_method": { "id": "pm_expanded", "object": "payment_method" } });
    let events = [
        event(
            "evt_exp",
            "checkout.session.completed",
            now_ts(&ctx),
            setup_session("cs_x", Some("expanded"), &customer, expanded),
        ),
        // An old session of a customer we never linked, without our metadata.
        event(
            "evt_old",
            "checkout.session.completed",
            now_ts(&ctx),
            setup_session("cs_old", None, "cus_gone", json!("seti_old")),
        ),
        // A session that saved nothing.
        event(
            "evt_empty",
            "checkout.session.completed",
            now_ts(&ctx),
            setup_session("cs_empty", Some("expanded"), &customer, json!({ "id": "seti_e", "payment_method": null })),
        ),
    ];
    for e in &events {
        assert_eq!(deliver(&ctx, &server, e).await.status, 200);
    }

    assert_eq!(process_queue(&ctx).await, 3);

    assert_eq!(defaults_set(&stripe, &customer), ["pm_expanded"]);
    assert!(stripe.forwarded("/v1/setup_intents/seti_x").is_empty(), "the expanded object was enough");
    for id in ["evt_exp", "evt_old", "evt_empty"] {
        let status = ctx.app.store.stripe_event_status(id).await.unwrap();
        assert_eq!(status.as_deref(), Some("processed"), "{id}");
    }
    assert!(ctx.drain_queue("StripeEventsDeadLetterQueue").await.is_empty(), "nothing failed the queue");
}
