//! Promotion codes: operators create them (mirrored to a Stripe coupon and promotion code),
//! list and deactivate them; checkouts redeem them under the code's rules, each refusal with
//! its own code and no session opened; a checkout holds its redemption until the session is
//! paid (counted) or expires (given back); 50 organizations racing for the last redemption
//! get exactly one checkout; invoices show the discount.

use std::collections::BTreeMap;

use billing::ids::OrganizationId;
use billing::promotions::flow::{self as promo_codes, PromoCodesError};
use billing::promotions::rules::PromoTarget;
use billing_tests::fake_stripe::FakeStripe;
use billing_tests::faults::FaultInjector;
use billing_tests::stripe_events::{SECRET, checkout as session, deliver, event, process_queue};
use billing_tests::{Reply, TestContext, TestServer};
use serde_json::{Value, json};

async fn stripe_context() -> (TestContext, FakeStripe) {
    let prices = [("STRIPE_PRICE_PRO", "price_pro"), ("STRIPE_PRICE_STARTER", "price_starter")];
    TestContext::with_recorded_stripe(SECRET, &prices).await
}

async fn create(server: &TestServer, body: Value) -> Reply {
    server.request("POST", "/api/billing/admin/promo-codes", Some(&server.tokens.admin()), Some(body)).await
}

async fn subscribe(server: &TestServer, org: &str, tier: &str, code: &str) -> Reply {
    let path = format!("/api/billing/account/{org}/subscription/checkout");
    let body = json!({ "tier": tier, "promo_code": code });
    server.request("POST", &path, Some(&server.tokens.owner(org)), Some(body)).await
}

async fn codes(server: &TestServer) -> BTreeMap<String, Value> {
    let list = server.get("/api/billing/admin/promo-codes", Some(&server.tokens.admin())).await;
    assert_eq!(list.status, 200, "{list:?}");
    let all = list.json["promo_codes"].as_array().cloned().unwrap_or_default();
    all.into_iter().map(|c| (c["code"].as_str().unwrap_or_default().to_owned(), c)).collect()
}

#[tokio::test]
async fn operators_create_list_and_deactivate_codes_mirrored_to_stripe() {
    let (ctx, stripe) = stripe_context().await;
    let server = ctx.serve().await;
    let body = json!({ "code": "newyear", "percent_off": 20, "duration": "repeating", "duration_in_months": 3,
                       "max_redemptions": 5, "applies_to": ["pro", "10"] });

    let member = server
        .request("POST", "/api/billing/admin/promo-codes", Some(&server.tokens.owner("acme")), Some(body.clone()))
        .await;
    assert_eq!(member.status, 403, "{member:?}");

    let created = create(&server, body.clone()).await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.json["code"], "NEWYEAR");
    assert_eq!(created.json["percent_off"], json!(20.0));
    assert_eq!(created.json["applies_to"], json!(["10", "pro"]));
    assert_eq!((created.json["times_redeemed"].clone(), created.json["active"].clone()), (json!(0), json!(true)));
    let coupons = stripe.forwarded("/v1/coupons");
    assert_eq!(coupons.len(), 1, "{coupons:?}");
    let coupon = &coupons[0];
    let field = |form: &std::collections::HashMap<String, String>, k: &str| form.get(k).cloned().unwrap_or_default();
    assert_eq!(
        (field(coupon, "percent_off"), field(coupon, "duration"), field(coupon, "duration_in_months")),
        ("20".into(), "repeating".into(), "3".into())
    );
    let promotion = &stripe.forwarded("/v1/promotion_codes")[0];
    assert_eq!((field(promotion, "code"), field(promotion, "max_redemptions")), ("NEWYEAR".into(), "5".into()));
    assert_eq!(field(promotion, "promotion[type]"), "coupon");
    assert_eq!(field(promotion, "promotion[coupon]"), created.json["stripe_coupon_id"].as_str().unwrap_or_default());

    assert_eq!(create(&server, body).await.json["code"], "promo_code_exists");
    let mistakes = [
        (json!({ "code": "BOTH", "percent_off": 10, "amount_off_usd": 5, "duration": "once" }), "invalid_discount"),
        (json!({ "code": "CENTS", "amount_off_usd": 0.001, "duration": "once" }), "invalid_discount"),
        (json!({ "code": "MONTHS", "percent_off": 10, "duration": "repeating" }), "invalid_duration"),
        (
            json!({ "code": "PAST", "percent_off": 10, "duration": "once", "expires_at": "2020-01-01T00:00:00Z" }),
            "invalid_expiry",
        ),
        (
            json!({ "code": "WHAT", "percent_off": 10, "duration": "once", "applies_to": ["enterprise"] }),
            "unknown_promo_target",
        ),
        (json!({ "code": "x", "percent_off": 10, "duration": "once" }), "invalid_promo_code"),
    ];
    for (body, code) in mistakes {
        let refused = create(&server, body.clone()).await;
        assert_eq!((refused.status, refused.json["code"].as_str()), (400, Some(code)), "{body}: {refused:?}");
    }
    assert_eq!(stripe.forwarded("/v1/coupons").len(), 1, "refused definitions reach no coupon");
    assert_eq!(codes(&server).await.keys().collect::<Vec<_>>(), vec!["NEWYEAR"]);

    let path = "/api/billing/admin/promo-codes/newyear/deactivate";
    let off = server.request("POST", path, Some(&server.tokens.admin()), None).await;
    assert_eq!((off.status, off.json["active"].clone()), (200, json!(false)), "{off:?}");
    let promotion_id = off.json["stripe_promotion_code_id"].as_str().unwrap_or_default().to_owned();
    let deactivated = stripe.forwarded(&format!("/v1/promotion_codes/{promotion_id}"));
    assert_eq!(deactivated.len(), 1);
    assert_eq!(field(&deactivated[0], "active"), "false");
    assert_eq!(server.request("POST", path, Some(&server.tokens.admin()), None).await.status, 200, "twice is fine");
    let missing = "/api/billing/admin/promo-codes/NOPE/deactivate";
    assert_eq!(
        server.request("POST", missing, Some(&server.tokens.admin()), None).await.json["code"],
        "promo_code_not_found"
    );
    let trail: Vec<String> = ctx
        .items_with_prefix("AUDIT#")
        .await
        .iter()
        .filter(|i| i.get("PK").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("PROMO#NEWYEAR"))
        .filter_map(|i| i.get("action").and_then(|v| v.as_s().ok()).cloned())
        .collect();
    assert_eq!(trail, vec!["promo_code_created", "promo_code_deactivated"], "each change audited once");

    ctx.account("acme").await;
    let refused = subscribe(&server, "acme", "pro", "NEWYEAR").await;
    assert_eq!(refused.json["code"], "promo_code_inactive", "{refused:?}");
}

#[tokio::test]
async fn each_refusal_has_its_own_code_opens_no_session_and_a_hold_lives_until_the_session_closes() {
    let (ctx, stripe) = stripe_context().await;
    let server = ctx.serve().await;
    let soon = (ctx.app.now() + chrono::Duration::hours(1)).to_rfc3339();
    for body in [
        json!({ "code": "ONLYONE", "amount_off_usd": 10, "duration": "once", "max_redemptions": 1, "applies_to": ["pro"] }),
        json!({ "code": "SOON", "percent_off": 50, "duration": "forever", "expires_at": soon }),
    ] {
        assert_eq!(create(&server, body).await.status, 201);
    }
    for org in ["first", "second"] {
        ctx.account(org).await;
    }
    let sessions = || stripe.forwarded("/v1/checkout/sessions").len();

    // The first organization holds the one redemption: its session carries the discount,
    // closes in 31 minutes and names the hold.
    let held = subscribe(&server, "first", "pro", "onlyone").await;
    assert_eq!(held.status, 200, "{held:?}");
    let opened = stripe.forwarded("/v1/checkout/sessions");
    let form = opened.last().cloned().unwrap_or_default();
    let promotion = codes(&server).await["ONLYONE"]["stripe_promotion_code_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(form.get("discounts[0][promotion_code]"), Some(&promotion), "{form:?}");
    assert_eq!(form.get("allow_promotion_codes"), None, "no code can be typed past our rules");
    let expires: i64 = form.get("expires_at").and_then(|v| v.parse().ok()).unwrap_or_default();
    assert_eq!(expires, ctx.app.now().timestamp() + 31 * 60);
    let hold = form.get("metadata[promo_hold]").cloned().unwrap_or_default();
    assert_eq!(form.get("metadata[promo_code]").map(String::as_str), Some("ONLYONE"));
    assert_eq!(codes(&server).await["ONLYONE"]["pending_redemptions"], 1);

    let before = sessions();
    let cases = [
        (subscribe(&server, "second", "pro", "NOSUCHCODE").await, "promo_code_invalid"),
        (subscribe(&server, "second", "pro", "ONLYONE").await, "promo_code_exhausted"),
        (subscribe(&server, "first", "pro", "ONLYONE").await, "promo_code_already_used"),
        (subscribe(&server, "second", "starter", "ONLYONE").await, "promo_code_inapplicable"),
    ];
    let pack = server
        .request(
            "POST",
            "/api/billing/account/second/workflow-packs/checkout",
            Some(&server.tokens.owner("second")),
            Some(json!({ "pack": 10, "promo_code": "onlyone" })),
        )
        .await;
    ctx.clock.advance(chrono::Duration::hours(2));
    let expired = subscribe(&server, "second", "pro", "SOON").await;
    for (reply, code) in cases.into_iter().chain([(pack, "promo_code_inapplicable"), (expired, "promo_code_expired")]) {
        assert_eq!((reply.status, reply.json["code"].as_str()), (400, Some(code)), "{reply:?}");
        assert!(reply.json["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    assert_eq!(sessions(), before, "a refused code opens no session: nothing is charged");

    // The first session expires (twice delivered): the redemption is free again.
    let metadata = json!({ "tier": "pro", "promo_code": "ONLYONE", "promo_hold": hold });
    let mut expired_session = session("cs_first", "first", "subscription", 0, metadata.clone());
    expired_session["payment_status"] = json!("unpaid");
    expired_session["status"] = json!("expired");
    for id in ["evt_expired", "evt_expired_again"] {
        let closed = event(id, "checkout.session.expired", ctx.app.now().timestamp(), expired_session.clone());
        assert_eq!(deliver(&ctx, &server, &closed).await.status, 200);
    }
    process_queue(&ctx).await;
    assert_eq!(codes(&server).await["ONLYONE"]["pending_redemptions"], 0);

    // Now the second organization gets it, pays, and it is counted once.
    let second = subscribe(&server, "second", "pro", "ONLYONE").await;
    assert_eq!(second.status, 200, "{second:?}");
    let form = stripe.forwarded("/v1/checkout/sessions").last().cloned().unwrap_or_default();
    let hold = form.get("metadata[promo_hold]").cloned().unwrap_or_default();
    let metadata = json!({ "tier": "pro", "promo_code": "ONLYONE", "promo_hold": hold });
    let paid = session("cs_second", "second", "subscription", 1_599, metadata);
    for id in ["evt_paid", "evt_paid_again"] {
        deliver(&ctx, &server, &event(id, "checkout.session.completed", ctx.app.now().timestamp(), paid.clone())).await;
    }
    process_queue(&ctx).await;
    let code = &codes(&server).await["ONLYONE"];
    assert_eq!((code["times_redeemed"].clone(), code["pending_redemptions"].clone()), (json!(1), json!(0)), "{code}");
    let refused = subscribe(&server, "first", "pro", "ONLYONE").await;
    assert_eq!(refused.json["code"], "promo_code_exhausted", "{refused:?}");

    // The subscription's first invoice shows what the code took off.
    let invoice = json!({ "id": "in_discounted", "object": "invoice", "customer": "cus_second", "status": "open",
        "number": "PRO-0001", "subtotal": 7_900, "total": 6_900, "amount_due": 6_900, "amount_paid": 0, "tax": 0,
        "total_discount_amounts": [{ "amount": 1_000, "discount": "di_1" }],
        "lines": { "data": [{ "amount": 7_900, "quantity": 1, "description": "Pro" }] },
        "metadata": { "organization_id": "second" } });
    let finalized = event("evt_inv_final", "invoice.finalized", ctx.app.now().timestamp(), invoice);
    assert_eq!(deliver(&ctx, &server, &finalized).await.status, 200);
    process_queue(&ctx).await;
    let shown = server.get("/api/billing/invoices/in_discounted", Some(&server.tokens.member("second"))).await;
    assert_eq!(
        (shown.json["subtotal"].clone(), shown.json["discount_amount"].clone(), shown.json["total"].clone()),
        (json!(79.0), json!(10.0), json!(69.0)),
        "{shown:?}"
    );
}

#[tokio::test]
async fn fifty_organizations_racing_for_the_last_redemption_get_exactly_one_checkout() {
    let (ctx, stripe) = stripe_context().await;
    let server = ctx.serve().await;
    let body = json!({ "code": "LASTONE", "percent_off": 100, "duration": "once", "max_redemptions": 1 });
    assert_eq!(create(&server, body).await.status, 201);
    let orgs: Vec<String> = (0..50).map(|i| format!("racer-{i:02}")).collect();
    for org in &orgs {
        ctx.account(org).await;
    }
    let replies = futures::future::join_all(orgs.iter().map(|org| subscribe(&server, org, "pro", "LASTONE"))).await;
    let won: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    let exhausted = replies.iter().filter(|r| r.status == 400 && r.json["code"] == "promo_code_exhausted").count();
    assert_eq!((won.len(), exhausted), (1, 49), "{replies:?}");
    assert_eq!(stripe.forwarded("/v1/checkout/sessions").len(), 1, "one session opened");
    let code = &codes(&server).await["LASTONE"];
    assert_eq!(code["pending_redemptions"], 1);
}

#[tokio::test]
async fn holds_stay_exact_when_dynamodb_conflicts_and_throttles_under_a_race() {
    let faults = FaultInjector::new(250, 20_261_202);
    let ctx = TestContext::with_faults(faults.clone()).await;
    let catalog = ctx.app.catalog();
    let request = billing::promotions::rules::PromoRequest {
        code: "FAULTY".into(),
        percent_off: Some(rust_decimal::Decimal::TEN),
        duration: Some(billing::promotions::rules::PromoDuration::Once),
        max_redemptions: Some(3),
        ..Default::default()
    };
    let definition = request.definition(catalog, ctx.app.now()).unwrap();
    let item = billing::promotions::store::PromoCodeItem::new(
        definition,
        ("co_1".into(), "promo_1".into()),
        "ops",
        ctx.app.now(),
    );
    let entry = billing::operators::rules::audit::AuditEntry::for_promo_code(
        &item.definition.code,
        "ops",
        "promo_code_created",
        "",
        (Value::Null, Value::Null),
        ctx.app.now(),
    );
    faults.stop();
    assert!(ctx.app.store.create_promo_code(&item, &entry).await.unwrap());
    faults.resume(250);

    let orgs: Vec<OrganizationId> = (0..20).map(|i| OrganizationId::parse(&format!("f-{i:02}")).unwrap()).collect();
    let outcomes = futures::future::join_all(orgs.iter().map(|org| {
        let app = ctx.app.clone();
        async move { promo_codes::hold(&app, org, "faulty", PromoTarget::Tier("pro"), &format!("hold-{org}")).await }
    }))
    .await;
    faults.stop();
    let held: Vec<&billing::promotions::flow::Held> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    let exhausted = outcomes
        .iter()
        .filter(|o| matches!(o, Err(PromoCodesError::Refused(r)) if r.code() == "promo_code_exhausted"))
        .count();
    assert!(faults.injected().values().sum::<u32>() > 0, "faults were injected");
    assert_eq!((held.len(), exhausted), (3, 17), "{outcomes:?}");
    let stored = ctx.app.store.promo_code(&item.definition.code).await.unwrap().unwrap();
    assert_eq!(stored.taken, 3, "the count matches the holds written");
    assert_eq!(ctx.items_with_prefix("ORG#f-").await.len(), 3);

    // Giving one back twice frees exactly one redemption.
    for _ in 0..2 {
        promo_codes::release(&ctx.app, &held[0].redemption).await.unwrap();
    }
    assert_eq!(ctx.app.store.promo_code(&item.definition.code).await.unwrap().unwrap().taken, 2);
}
