//! `local-server`: provisions the local stack from template.yaml and serves the billing API on
//! 127.0.0.1. Expects the emulator endpoints in the environment (see `infra/local/stack.sh`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use billing::App;
use billing::clock::SystemClock;
use billing::config::Config;
use local_server::checkout::{self, CheckoutStandIn};
use local_server::provision::{self, provision_all};
use local_server::stripe_proxy::StripeProxy;
use local_server::template::Template;
use local_server::tokens::DevTokens;
use local_server::web::WebApp;
use local_server::{demo, server, sign_in, tokens};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    billing::telemetry::init_tracing();
    anyhow::ensure!(
        std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some(),
        "AWS_ENDPOINT_URL_DYNAMODB is not set: start the emulators first (`make dev` does both)"
    );
    let template = Template::load_default()?;
    let aws = billing::app::load_aws_config().await;
    let prefix = std::env::var("LOCAL_PREFIX").unwrap_or_else(|_| "local".to_owned());
    let resources = provision_all(&aws, &template, &prefix).await.context("provisioning from template.yaml")?;
    // Bound first: the server's own URL is the web app's origin and the Checkout stand-in's.
    let port: u16 = std::env::var("LOCAL_API_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8787);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port} (set LOCAL_API_PORT to use another port)"))?;
    let url = format!("http://{}", listener.local_addr()?);

    // Locally Stripe is stripe-mock, so payments count as configured unless keys are given.
    let mut env: HashMap<String, String> = std::env::vars().collect();
    // The App talks to stripe-mock through the recording proxy that makes Checkout completable.
    let stripe_proxy = match env.get("STRIPE_API_BASE") {
        Some(upstream) => Some(StripeProxy::start(upstream, &url).await.context("starting the local Stripe proxy")?),
        None => None,
    };
    if let Some(proxy) = &stripe_proxy {
        env.insert("STRIPE_API_BASE".into(), proxy.url.clone());
    }
    env.insert(Config::TABLE.to_owned(), resources.table_name.clone());
    env.entry("STRIPE_SECRET_KEY".into()).or_insert_with(|| "sk_test_local".into());
    env.entry("STRIPE_PUBLISHABLE_KEY".into()).or_insert_with(|| "pk_test_local".into());
    env.entry("WORKFLOW_ENGINE_PRINCIPALS".into()).or_insert_with(|| server::LOCAL_ENGINE_ROLE.into());
    // The web app is served on this origin (see `web`), so checkout return URLs land on it.
    env.entry("FRONTEND_URL".into()).or_insert_with(|| url.clone());
    // stripe-mock accepts any price id; these let every subscription checkout run locally.
    for tier in ["starter", "pro", "team", "byo"] {
        env.entry(format!("STRIPE_PRICE_{}", tier.to_uppercase())).or_insert_with(|| format!("price_local_{tier}"));
    }
    if let Some(url) = resources.queue_urls.get("UsageQueue") {
        env.insert("USAGE_QUEUE_URL".into(), url.clone());
    }
    if let Some(url) = resources.queue_urls.get("StripeEventsQueue") {
        env.insert("STRIPE_EVENTS_QUEUE_URL".into(), url.clone());
    }
    // Every queue an operator sees (health, redrive), under the variable its function gets.
    for queue in billing::operators::rules::queues::QUEUES {
        if let Some(url) = resources.queue_urls.get(queue.name) {
            env.entry(queue.env.into()).or_insert_with(|| url.clone());
        }
    }
    // Anyone can sign test events with this secret, exactly as Stripe would.
    env.entry("STRIPE_WEBHOOK_SECRET".into())
        .or_insert_with(|| format!("whsec_local_{}", uuid::Uuid::new_v4().simple()));
    if let Some(arn) = resources.topic_arns.get("NotificationTopic") {
        env.insert("NOTIFICATION_TOPIC_ARN".into(), arn.clone());
    }
    if let Some(key) = resources.kms_key_ids.get("ByoKeysKmsKey") {
        env.insert("BYO_KEYS_KMS_KEY_ID".into(), key.clone());
    }
    if let Some(url) = resources.queue_urls.get("UsageDeadLetterQueue") {
        env.insert("DEAD_LETTER_QUEUE_URL".into(), url.clone());
    }
    if let Some(bus) = resources.bus_names.values().next() {
        env.insert("EVENT_BUS_NAME".into(), bus.clone());
    }
    // As in AWS, the Stripe secrets live in Secrets Manager (moto), not in the environment.
    let secret_key = env.remove("STRIPE_SECRET_KEY").unwrap_or_default();
    let webhook_secret = env.remove("STRIPE_WEBHOOK_SECRET").unwrap_or_default();
    let arn = provision::fill_stripe_secrets(&aws, &resources, &secret_key, &webhook_secret).await?;
    env.insert("STRIPE_SECRETS_ARN".into(), arn);
    env.insert("STRIPE_PAYMENTS_ENABLED".into(), (!secret_key.is_empty()).to_string());
    let mut config = Config::from_lookup(|k| env.get(k).cloned())?;
    billing::secrets::load_stripe_secrets(&mut config, &aws).await?;
    let app = App::new(config, &aws, Arc::new(SystemClock));

    // Before serving, so the dashboard never shows half a story; and before the deliveries
    // start, so two months of history do not replay as today's notifications.
    let seeding = std::time::Instant::now();
    match demo::seed(&app, &aws, stripe_proxy.as_ref(), chrono::Utc::now()).await {
        Ok(Some(seeded)) => tracing::info!(
            elapsed_ms = seeding.elapsed().as_millis() as u64,
            "demo data for org {}: {seeded}",
            demo::DEMO_ORG
        ),
        Ok(None) => tracing::info!("demo data for org {} already present; nothing written", demo::DEMO_ORG),
        Err(err) => tracing::warn!(error = format!("{err:#}"), "demo data not written"),
    }
    local_server::pump::start_all(&app, &aws, &template, &resources, &prefix)
        .await
        .context("starting queue and event delivery")?;
    let tokens = std::env::var("DEV_JWT_SECRET").map(DevTokens::new).unwrap_or_else(|_| DevTokens::random());
    let web = WebApp::from_env();
    let web_status = if web.is_built() { "serving" } else { "not built yet (`make web`), serving a hint for" };
    let web_line = format!("Web app: {web_status} {}", web.dist().display());
    let mut routes = sign_in::routes(tokens.clone());
    if let Some(proxy) = stripe_proxy {
        routes = routes.merge(checkout::routes(CheckoutStandIn::new(app.clone(), proxy, &webhook_secret, &url)));
    }
    let local = server::LocalSite { routes, web: Some(web) };
    let router = server::site(app, tokens.clone(), &template, local)?;

    let member = tokens.member("demo");
    let owner = tokens.owner("demo");
    let admin = tokens.admin();
    let service = tokens.mint("workflow-engine", serde_json::json!({ "groups": [server::SERVICE_GROUP] }));
    let mut lines = vec![
        ("BILLING_URL", url.clone()),
        ("DEV_JWT_SECRET", tokens.secret().to_owned()),
        ("DEV_JWT_ISSUER", tokens::ISSUER.to_owned()),
        ("DEV_JWT_AUDIENCE", tokens::AUDIENCE.to_owned()),
        ("DEV_TOKEN_MEMBER", member.clone()),
        ("DEV_TOKEN_OWNER", owner.clone()),
        ("DEV_TOKEN_ADMIN", admin.clone()),
        ("DEV_TOKEN_SERVICE", service.clone()),
        ("BILLING_TABLE", resources.table_name.clone()),
        ("STRIPE_WEBHOOK_SECRET", webhook_secret.clone()),
    ];
    let sign_in_links = sign_in::links(&url);
    lines.extend(sign_in_links.iter().cloned());
    for (logical, url) in &resources.queue_urls {
        if logical == "UsageQueue" {
            lines.push(("USAGE_QUEUE_URL", url.clone()));
        }
    }
    for name in [
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_EVENTBRIDGE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL_SNS",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_ENDPOINT_URL_CLOUDWATCH",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "STRIPE_API_BASE",
    ] {
        if let Ok(value) = std::env::var(name) {
            lines.push((name, value));
        }
    }
    let env_file = local_dir().join("dev.env");
    std::fs::create_dir_all(local_dir())?;
    let body: String = lines.iter().map(|(k, v)| format!("export {k}='{v}'\n")).collect();
    std::fs::write(&env_file, body).with_context(|| format!("writing {}", env_file.display()))?;

    let env_file = env_file.canonicalize().unwrap_or(env_file);
    println!("\nBilling API listening on {url}");
    println!("  DEV_TOKEN_MEMBER  (member of org demo, reads): {member}");
    println!("  DEV_TOKEN_OWNER   (owner of org demo, may buy and change the plan): {owner}");
    println!("  DEV_TOKEN_ADMIN   (billing-admin):      {admin}");
    println!("  DEV_TOKEN_SERVICE (workflow engine):    {service}");
    println!(
        "Try:  source {} && curl -H \"Authorization: Bearer $DEV_TOKEN_MEMBER\" $BILLING_URL/api/billing/account/demo",
        env_file.display()
    );
    println!("Tokens and endpoints are in {} (any token signed with DEV_JWT_SECRET works).", env_file.display());
    for ((_, link), who) in sign_in_links.iter().zip(["owner of demo", "member of demo", "platform admin"]) {
        println!("Open: {link}   ({who})");
    }
    println!("{web_line}\n");

    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn local_dir() -> PathBuf {
    std::env::var_os("BILLING_LOCAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.local"))
}
