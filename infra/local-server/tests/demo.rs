//! The demo history: written once through the system's own code, with every bucket, both
//! invoice states and the subscription in it. Needs the emulator stack.

use std::sync::Arc;

use billing::App;
use billing::clock::SystemClock;
use billing::config::Config;
use billing::ids::OrganizationId;
use billing::invoicing::rules::InvoiceStatus;
use local_server::demo;
use local_server::stripe_proxy::StripeProxy;
use local_server::template::Template;

#[tokio::test]
async fn the_demo_history_is_written_once_across_buckets_with_a_paid_and_an_open_invoice() {
    let mock = std::env::var("STRIPE_API_BASE").expect("run with the emulator stack (stripe-mock)");
    let aws = billing::app::load_aws_config().await;
    let template = Template::load_default().unwrap();
    let prefix = format!("demo{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let resources = local_server::provision::provision_all(&aws, &template, &prefix).await.unwrap();
    let proxy = StripeProxy::start(&mock, "http://127.0.0.1:9").await.unwrap();
    let env: std::collections::HashMap<String, String> = [
        (Config::TABLE, resources.table_name.clone()),
        ("STRIPE_SECRET_KEY", "sk_test_local".into()),
        ("STRIPE_API_BASE", proxy.url.clone()),
        ("STRIPE_PRICE_STARTER", "price_local_starter".into()),
        ("EVENT_BUS_NAME", resources.bus_names.values().next().unwrap().clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let app = App::new(Config::from_lookup(|k| env.get(k).cloned()).unwrap(), &aws, Arc::new(SystemClock));

    let started = std::time::Instant::now();
    let seeded = demo::seed(&app, &aws, Some(&proxy), chrono::Utc::now()).await.unwrap().expect("a first seeding");
    println!("seeded in {:?}: {seeded}", started.elapsed());
    assert!(seeded.runs >= 100, "{seeded}");
    assert!(seeded.llm_calls >= seeded.runs, "{seeded}");
    assert_eq!(seeded.invoices.len(), 2, "{seeded}");

    let org = OrganizationId::parse(demo::DEMO_ORG).unwrap();
    let account = app.store.get_account(&org).await.unwrap().unwrap();
    assert_eq!(account.tier.as_str(), "starter");
    assert!(account.has_payment_method);
    let sub = app.store.subscription(&org).await.unwrap().unwrap();
    assert_eq!(sub.status, "active");
    let stripe_id = sub.stripe_subscription_id.clone().unwrap();
    assert!(proxy.subscription(&stripe_id).is_some(), "the proxy answers for the demo's subscription");

    let listing = billing::costs::store::Listing { from: None, to: None, limit: 20, cursor: None };
    let invoices = app.store.list_invoices(&org, None, &listing).await.unwrap().items;
    let ours: Vec<_> =
        invoices.iter().filter(|i| i.source == billing::invoicing::rules::InvoiceSource::Usage).collect();
    assert!(ours.iter().any(|i| i.status == InvoiceStatus::Paid), "{ours:?}");
    assert!(ours.iter().any(|i| i.status == InvoiceStatus::Open && i.amount_due_cents > 0), "{ours:?}");

    // A restart on the same stack: nothing written again, and a fresh proxy learns the
    // subscription billing has stored.
    let restarted = StripeProxy::start(&mock, "http://127.0.0.1:9").await.unwrap();
    assert_eq!(demo::seed(&app, &aws, Some(&restarted), chrono::Utc::now()).await.unwrap(), None, "seeded once");
    let known = restarted.subscription(&stripe_id).expect("the stored subscription is recorded again");
    assert_eq!(known["items"]["data"][0]["price"]["id"], "price_local_starter");
    assert_eq!(known["current_period_end"], sub.current_period_end.unwrap().timestamp());
}
