//! The Checkout stand-in end to end, as `make dev` runs it: billing opens a session through
//! the recording proxy in front of stripe-mock, the page shows it, and its buttons send the
//! events Stripe would, through the webhook and the FIFO queue, until the credits or the plan
//! arrive. Needs the emulator stack (`infra/local/with-stack.sh`).

mod common;

use std::sync::Arc;

use billing::App;
use billing::clock::SystemClock;
use billing::config::Config;
use local_server::checkout::{self, CheckoutStandIn};
use local_server::server::LocalSite;
use local_server::stripe_proxy::StripeProxy;
use local_server::template::Template;
use local_server::tokens::DevTokens;
use serde_json::{Value, json};

const WEBHOOK_SECRET: &str = "whsec_stand_in_test";

struct World {
    url: String,
    tokens: DevTokens,
    http: reqwest::Client,
    proxy: StripeProxy,
}

/// A whole local server (own table, queues and pumps) with the proxy and the stand-in.
async fn world() -> World {
    let mock = std::env::var("STRIPE_API_BASE").expect("run with the emulator stack (stripe-mock)");
    let aws = billing::app::load_aws_config().await;
    let template = Template::load_default().unwrap();
    let prefix = format!("co{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let resources = local_server::provision::provision_all(&aws, &template, &prefix).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let proxy = StripeProxy::start(&mock, &url).await.unwrap();
    let env: std::collections::HashMap<String, String> = [
        (Config::TABLE, resources.table_name.clone()),
        ("STRIPE_SECRET_KEY", "sk_test_local".into()),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_local".into()),
        ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET.into()),
        ("STRIPE_API_BASE", proxy.url.clone()),
        ("STRIPE_PRICE_STARTER", "price_local_starter".into()),
        ("STRIPE_PRICE_PRO", "price_local_pro".into()),
        ("STRIPE_EVENTS_QUEUE_URL", resources.queue_urls["StripeEventsQueue"].clone()),
        ("FRONTEND_URL", url.clone()),
        ("WORKFLOW_ENGINE_PRINCIPALS", local_server::server::LOCAL_ENGINE_ROLE.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    let app = App::new(config, &aws, Arc::new(SystemClock));
    local_server::pump::start_all(&app, &aws, &template, &resources, &prefix).await.unwrap();
    let tokens = DevTokens::random();
    let routes = checkout::routes(CheckoutStandIn::new(app.clone(), proxy.clone(), WEBHOOK_SECRET, &url));
    let router = local_server::server::site(app, tokens.clone(), &template, LocalSite { routes, web: None }).unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    World { url, tokens, http: common::client(), proxy }
}

impl World {
    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let answer = self.http.post(format!("{}{path}", self.url)).bearer_auth(token).json(&body).send().await.unwrap();
        (answer.status().as_u16(), answer.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        let answer = self.http.get(format!("{}{path}", self.url)).bearer_auth(token).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        answer.json().await.unwrap()
    }

    /// Presses a button of the page: the form's POST, whose redirect is returned.
    async fn press(&self, checkout_url: &str, outcome: &str) -> (u16, String) {
        let answer = self.http.post(format!("{checkout_url}/{outcome}")).send().await.unwrap();
        let location = answer.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        (answer.status().as_u16(), location)
    }
}

#[tokio::test]
async fn a_credit_checkout_is_paid_on_the_local_page_and_the_credits_arrive_once() {
    let world = world().await;
    let owner = world.tokens.owner("stand-in");
    let (status, opened) =
        world.post("/api/billing/account/stand-in/credits/checkout", &owner, json!({ "amount_usd": 25 })).await;
    assert_eq!(status, 200, "{opened}");
    let session = opened["session_id"].as_str().unwrap();
    let checkout_url = opened["checkout_url"].as_str().unwrap();
    assert_eq!(checkout_url, format!("{}/_local/checkout/{session}", world.url));

    let page = world.http.get(checkout_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for expected in ["<html lang=\"en\">", "Local stand-in for Stripe Checkout — no money moves", "$25.00", "stand-in"]
    {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    for button in [">Pay<", ">Pay later<", ">Fail<", ">Cancel<"] {
        assert!(html.contains(button), "{button}");
    }

    let (status, location) = world.press(checkout_url, "pay").await;
    assert_eq!(status, 303);
    assert_eq!(location, format!("{}/billing/success?session_id={session}", world.url));
    let credits = world.get("/api/billing/account/stand-in/credits", &owner).await;
    assert_eq!(credits["available"], json!(25.0), "{credits}");

    // A double click: the same events again, taken as duplicates.
    assert_eq!(world.press(checkout_url, "pay").await.0, 303);
    let credits = world.get("/api/billing/account/stand-in/credits", &owner).await;
    assert_eq!(credits["available"], json!(25.0), "{credits}");
    assert_eq!(world.press(checkout_url, "fail").await.0, 409, "a completed session stays completed");

    let cancel = world.press(checkout_url, "cancel").await;
    assert_eq!(cancel, (303, format!("{}/billing/cancel", world.url)));
    let unknown = world.http.get(format!("{}/_local/checkout/cs_test_nope", world.url)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_delayed_payment_grants_only_when_it_succeeds() {
    let world = world().await;
    let owner = world.tokens.owner("delayed");
    let open = |amount: u32| {
        world.post("/api/billing/account/delayed/credits/checkout", &owner, json!({ "amount_usd": amount }))
    };
    let failing = open(10).await.1;
    assert_eq!(world.press(failing["checkout_url"].as_str().unwrap(), "fail").await.0, 303);
    let credits = world.get("/api/billing/account/delayed/credits", &owner).await;
    assert_eq!(credits["available"], json!(0.0), "{credits}");
    let later = open(40).await.1;
    assert_eq!(world.press(later["checkout_url"].as_str().unwrap(), "pay-later").await.0, 303);
    let credits = world.get("/api/billing/account/delayed/credits", &owner).await;
    assert_eq!(credits["available"], json!(40.0), "{credits}");
}

#[tokio::test]
async fn a_subscription_checkout_moves_free_to_the_tier_and_stripe_answers_its_subscription() {
    let world = world().await;
    let owner = world.tokens.owner("subscriber");
    let (status, opened) =
        world.post("/api/billing/account/subscriber/subscription/checkout", &owner, json!({ "tier": "starter" })).await;
    assert_eq!(status, 200, "{opened}");
    let checkout_url = opened["checkout_url"].as_str().unwrap();
    let html = world.http.get(checkout_url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Starter plan") && html.contains("$29.00"), "{html}");
    assert!(!html.contains(">Pay later<"), "delayed methods are for one-time payments");

    assert_eq!(world.press(checkout_url, "pay").await.0, 303);
    let subscription = world.get("/api/billing/account/subscriber/subscription", &owner).await;
    assert_eq!((subscription["tier"].as_str(), subscription["status"].as_str()), (Some("starter"), Some("active")));
    let quota = world.get("/api/billing/account/subscriber/quota", &owner).await;
    assert!(quota.to_string().contains("starter"), "{quota}");
    let sub_id = subscription["id"].as_str().unwrap();
    assert_eq!(world.proxy.subscription(sub_id).unwrap()["items"]["data"][0]["price"]["id"], "price_local_starter");

    // Cancelling at period end goes to Stripe (the proxy answers the recorded subscription).
    let (status, cancelled) = world
        .post("/api/billing/account/subscriber/subscription/cancel", &owner, json!({ "at_period_end": true }))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    let subscription = world.get("/api/billing/account/subscriber/subscription", &owner).await;
    assert_eq!(subscription["cancel_at_period_end"], json!(true), "{subscription}");
    assert_eq!(subscription["tier"], "starter");
}

#[tokio::test]
async fn a_trial_checkout_starts_the_trial_and_the_portal_page_leads_back() {
    let world = world().await;
    let owner = world.tokens.owner("trialist");
    let (_, opened) =
        world.post("/api/billing/account/trialist/subscription/checkout", &owner, json!({ "tier": "pro" })).await;
    let checkout_url = opened["checkout_url"].as_str().unwrap();
    assert_eq!(world.press(checkout_url, "pay").await.0, 303);
    let subscription = world.get("/api/billing/account/trialist/subscription", &owner).await;
    assert_eq!((subscription["tier"].as_str(), subscription["status"].as_str()), (Some("pro"), Some("trialing")));

    let (status, portal) = world.post("/api/billing/account/trialist/portal", &owner, json!({})).await;
    assert_eq!(status, 200, "{portal}");
    let portal_url = portal["portal_url"].as_str().unwrap();
    assert!(portal_url.starts_with(&format!("{}/_local/portal?return_url=", world.url)), "{portal_url}");
    let html = world.http.get(portal_url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("customer portal would open") && html.contains("Back to billing"), "{html}");
}

#[tokio::test]
async fn a_setup_checkout_saves_a_card_that_becomes_the_default() {
    let world = world().await;
    let owner = world.tokens.owner("carded");
    let (status, opened) = world.post("/api/billing/account/carded/payment-methods/checkout", &owner, json!({})).await;
    assert_eq!(status, 200, "{opened}");
    let checkout_url = opened["checkout_url"].as_str().unwrap();
    let html = world.http.get(checkout_url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(">Save card<") && !html.contains(">Pay later<"), "{html}");
    assert_eq!(world.press(checkout_url, "pay").await.0, 303);
    let methods = world.get("/api/billing/account/carded/payment-methods", &owner).await;
    let methods = methods.as_array().expect("a list");
    assert_eq!(methods.len(), 1, "{methods:?}");
    assert_eq!((methods[0]["card_last4"].as_str(), methods[0]["is_default"].as_bool()), (Some("4242"), Some(true)));
    let account = world.get("/api/billing/account/carded", &owner).await;
    assert_eq!(account["has_payment_method"], json!(true), "{account}");
}
