use billing::catalog::rules::Catalog;
use billing_tests::TestContext;

#[tokio::test]
async fn config_reports_unconfigured_without_stripe_keys() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;

    let reply = server.get("/api/billing/config", None).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.json, serde_json::json!({ "publishable_key": null, "is_configured": false }));
}

#[tokio::test]
async fn config_reports_the_publishable_key_but_never_the_secret_when_configured() {
    let ctx = TestContext::with_env(&[
        ("STRIPE_SECRET_KEY", "sk_test_hidden"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_visible"),
    ])
    .await;
    let server = ctx.serve().await;

    let reply = server.get("/api/billing/config", None).await;

    assert_eq!(reply.json, serde_json::json!({ "publishable_key": "pk_test_visible", "is_configured": true }));
    assert!(!reply.json.to_string().contains("sk_test_hidden"));
}

#[tokio::test]
async fn plans_returns_the_whole_catalog() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;

    let reply = server.get("/api/billing/plans", None).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.json, serde_json::to_value(Catalog::builtin()).unwrap());
    let tiers: Vec<&str> = reply.json["tiers"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(tiers, ["free", "starter", "pro", "team", "enterprise", "lifetime", "byo"]);
    assert_eq!(reply.json["tiers"][2]["price_usd"], 79.0);
    assert_eq!(reply.json["tiers"][4]["concurrent_agents"], serde_json::Value::Null);
}

#[tokio::test]
async fn plans_serves_a_configured_catalog_override() {
    let mut catalog = serde_json::to_value(Catalog::builtin()).unwrap();
    catalog["tiers"][2]["price_usd"] = serde_json::json!(99);
    let ctx = TestContext::with_env(&[("PLAN_CATALOG_JSON", &catalog.to_string())]).await;
    let server = ctx.serve().await;

    let reply = server.get("/api/billing/plans", None).await;

    assert_eq!(reply.json["tiers"][2]["price_usd"], 99.0);
}

#[tokio::test]
async fn stripe_secrets_are_read_from_the_stacks_secret_at_start() {
    let ctx = TestContext::with_messaging(&[]).await;
    let resources = ctx.resources.as_ref().unwrap();
    let aws = &ctx.aws;
    let arn = local_server::provision::fill_stripe_secrets(aws, resources, "sk_test_from_secret", "whsec_from_secret")
        .await
        .unwrap();

    let mut config = (*ctx.app.config).clone();
    config.stripe.secrets_arn = Some(arn);
    billing::secrets::load_stripe_secrets(&mut config, aws).await.unwrap();
    assert_eq!(config.stripe.secret_key.as_ref().map(|s| s.expose()), Some("sk_test_from_secret"));
    assert_eq!(config.stripe.webhook_secret.as_ref().map(|s| s.expose()), Some("whsec_from_secret"));

    // A secret that cannot be read stops the function at start instead of running unpaid.
    config.stripe.secrets_arn = Some("arn:aws:secretsmanager:us-east-1:000000000000:secret:missing".into());
    let err = billing::secrets::load_stripe_secrets(&mut config, aws).await.unwrap_err();
    assert!(matches!(err, billing::config::ConfigError::Secret { .. }), "{err}");
}
