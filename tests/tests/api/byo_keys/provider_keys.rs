//! Bring-your-own provider keys: sealed under the organization's own KMS-wrapped data key,
//! never answered to a customer or operator, never logged, never stored in clear; read back
//! decrypted only by the workflow engine; a tampered ciphertext is refused plainly. Runs on
//! the customer's key count toward quota and are never charged.

use std::io::Write;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::AttributeValue;
use billing_tests::values::s;
use billing_tests::{Reply, TestContext, TestServer};
use futures::future::join_all;
use serde_json::{Value, json};

const KEY: &str = "sk-ant-api03-SECRETVALUE-7f3a9c";
const OTHER_KEY: &str = "sk-proj-ANOTHERSECRET-41d2";

/// Every log line written on this thread (the test's runtime, the local server included).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The process's global subscriber in this test binary: enables nothing, and answers every
/// callsite "sometimes", so each event asks the subscriber of the thread it runs on. tracing
/// caches a callsite's interest when the callsite is first hit, and while only one subscriber
/// exists it asks the hitting thread's: a sibling test without one that logs "BYO provider key
/// saved" first would otherwise cache "never" and blind the capture below (tokio-rs/tracing
/// issue 3611; it failed that way under load).
struct AskEachThread;

impl tracing::Subscriber for AskEachThread {
    fn register_callsite(&self, _: &'static tracing::Metadata<'static>) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn capture_logs(logs: &Captured) -> tracing::subscriber::DefaultGuard {
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        tracing::subscriber::set_global_default(AskEachThread).expect("nothing else in the API tests sets one");
    });
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    tracing::subscriber::set_default(subscriber)
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

async fn put_key(server: &TestServer, org: &str, provider: &str, body: Value) -> Reply {
    let path = format!("/api/billing/account/{org}/byo-keys/{provider}");
    server.request("PUT", &path, Some(&server.tokens.owner(org)), Some(body)).await
}

async fn engine_reads(server: &TestServer, org: &str, provider: &str) -> Reply {
    server.get(&format!("/api/billing/internal/byo-keys/{org}/{provider}"), Some(&server.service_token())).await
}

async fn byo_account(ctx: &TestContext, org: &str) {
    ctx.account(org).await;
    ctx.update_account(org, "SET tier = :t", &[(":t", s("byo"))]).await;
}

/// Every string in every item of the table, as stored.
async fn stored_text(ctx: &TestContext) -> String {
    ctx.items_with_prefix("").await.iter().map(|item| format!("{item:?}")).collect::<Vec<_>>().join("\n")
}

#[tokio::test(flavor = "current_thread")]
async fn a_key_is_sealed_never_answered_logged_or_stored_in_clear_and_only_the_engine_reads_it() {
    let logs = Captured::default();
    let _guard = capture_logs(&logs);
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    byo_account(&ctx, "byo-a").await;

    let saved =
        put_key(&server, "byo-a", "z_ai", json!({ "api_key": KEY, "base_url": "https://api.z.ai/api/anthropic" }))
            .await;
    assert_eq!(saved.status, 200, "{saved:?}");
    assert_eq!(
        (&saved.json["provider"], &saved.json["last_four"], &saved.json["base_url"], &saved.json["last_used_at"]),
        (&json!("z_ai"), &json!("3a9c"), &json!("https://api.z.ai/api/anthropic"), &Value::Null)
    );
    let saved = put_key(&server, "byo-a", "openai", json!({ "api_key": OTHER_KEY })).await;
    assert_eq!((saved.status, &saved.json["last_four"]), (200, &json!("41d2")));

    // The owners see providers and last four characters; the subscription lists the providers.
    let member = server.tokens.member("byo-a");
    let listed = server.get("/api/billing/account/byo-a/byo-keys", Some(&member)).await;
    let providers: Vec<_> = listed.json.as_array().unwrap().iter().map(|k| k["provider"].clone()).collect();
    assert_eq!(providers, [json!("openai"), json!("z_ai")]);
    let subscription = server.get("/api/billing/account/byo-a/subscription", Some(&member)).await;
    assert_eq!(
        (&subscription.json["is_byo"], &subscription.json["byo_providers_configured"]),
        (&json!(true), &json!(["openai", "z_ai"]))
    );

    // Only the workflow engine gets the key back, and its use is recorded.
    let read = engine_reads(&server, "byo-a", "z_ai").await;
    assert_eq!(read.status, 200, "{read:?}");
    assert_eq!(
        (&read.json["api_key"], &read.json["base_url"]),
        (&json!(KEY), &json!("https://api.z.ai/api/anthropic"))
    );
    assert_eq!(engine_reads(&server, "byo-a", "openai").await.json["api_key"], OTHER_KEY);
    let listed = server.get("/api/billing/account/byo-a/byo-keys", Some(&member)).await;
    assert!(listed.json.as_array().unwrap().iter().all(|k| !k["last_used_at"].is_null()), "{listed:?}");
    let as_owner = server.get("/api/billing/internal/byo-keys/byo-a/z_ai", Some(&server.tokens.owner("byo-a"))).await;
    assert_eq!(as_owner.status, 403);

    // Nowhere else in clear: no customer or operator answer, no item, no log line.
    let admin = server.get("/api/billing/admin/accounts/byo-a", Some(&server.tokens.admin())).await;
    for reply in [&listed, &subscription, &admin] {
        let text = reply.json.to_string();
        assert!(!text.contains(KEY) && !text.contains(OTHER_KEY), "{text}");
    }
    let table = stored_text(&ctx).await;
    assert!(table.contains("BYOKEY#z_ai") && table.contains("BYOKEYRING"), "the keys are stored");
    assert!(!table.contains(KEY) && !table.contains(OTHER_KEY) && !table.contains("SECRETVALUE"), "{table}");
    let logged = logs.text();
    assert!(logged.contains("BYO provider key saved"), "the capture works: {}", logged.len());
    assert!(!logged.contains(KEY) && !logged.contains("SECRETVALUE") && !logged.contains(OTHER_KEY));

    // Removed: gone for the engine too.
    let owner = server.tokens.owner("byo-a");
    let removed = server.request("DELETE", "/api/billing/account/byo-a/byo-keys/openai", Some(&owner), None).await;
    assert_eq!(removed.status, 200, "{removed:?}");
    let gone = engine_reads(&server, "byo-a", "openai").await;
    assert_eq!((gone.status, gone.json["code"].as_str()), (404, Some("byo_key_not_found")));
    let again = server.request("DELETE", "/api/billing/account/byo-a/byo-keys/openai", Some(&owner), None).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn a_tampered_or_moved_ciphertext_is_refused_plainly_never_read_as_another_key() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    byo_account(&ctx, "byo-t").await;
    byo_account(&ctx, "byo-u").await;
    assert_eq!(put_key(&server, "byo-t", "anthropic", json!({ "api_key": KEY })).await.status, 200);
    assert_eq!(put_key(&server, "byo-u", "anthropic", json!({ "api_key": OTHER_KEY })).await.status, 200);
    let item = |org: &str| {
        let (dynamo, table) = (ctx.dynamo.clone(), ctx.app.store.table().to_owned());
        let key = (format!("ORG#{org}"), "BYOKEY#anthropic".to_owned());
        async move {
            dynamo
                .get_item()
                .table_name(table)
                .key("PK", AttributeValue::S(key.0))
                .key("SK", AttributeValue::S(key.1))
                .send()
                .await
                .unwrap()
                .item
                .unwrap()
        }
    };
    let set = |org: &str, name: &'static str, value: String| {
        let (dynamo, table, pk) = (ctx.dynamo.clone(), ctx.app.store.table().to_owned(), format!("ORG#{org}"));
        async move {
            dynamo
                .update_item()
                .table_name(table)
                .key("PK", AttributeValue::S(pk))
                .key("SK", AttributeValue::S("BYOKEY#anthropic".into()))
                .update_expression("SET #f = :v")
                .expression_attribute_names("#f", name)
                .expression_attribute_values(":v", AttributeValue::S(value))
                .send()
                .await
                .unwrap();
        }
    };
    // u's sealed key copied into t's item: t's data key and place do not open it.
    let theirs = item("byo-u").await;
    let text = |i: &std::collections::HashMap<String, AttributeValue>, f: &str| i[f].as_s().unwrap().clone();
    let ours = item("byo-t").await;
    set("byo-t", "ciphertext", text(&theirs, "ciphertext")).await;
    set("byo-t", "nonce", text(&theirs, "nonce")).await;
    let moved = engine_reads(&server, "byo-t", "anthropic").await;
    assert_eq!((moved.status, moved.json["code"].as_str()), (409, Some("byo_key_unreadable")), "{moved:?}");
    assert!(!moved.json.to_string().contains(OTHER_KEY));

    // One character of the ciphertext changed: refused the same way.
    let mut flipped = text(&ours, "ciphertext").into_bytes();
    flipped[4] = if flipped[4] == b'A' { b'B' } else { b'A' };
    set("byo-t", "ciphertext", String::from_utf8(flipped).unwrap()).await;
    set("byo-t", "nonce", text(&ours, "nonce")).await;
    let tampered = engine_reads(&server, "byo-t", "anthropic").await;
    assert_eq!((tampered.status, tampered.json["code"].as_str()), (409, Some("byo_key_unreadable")), "{tampered:?}");
    // Put back, it opens again; the other organization was never affected.
    set("byo-t", "ciphertext", text(&ours, "ciphertext")).await;
    assert_eq!(engine_reads(&server, "byo-t", "anthropic").await.json["api_key"], KEY);
    assert_eq!(engine_reads(&server, "byo-u", "anthropic").await.json["api_key"], OTHER_KEY);
}

#[tokio::test]
async fn refusals_change_nothing_and_racing_first_saves_share_one_data_key() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    byo_account(&ctx, "byo-r").await;
    ctx.account("byo-pro").await;
    ctx.update_account("byo-pro", "SET tier = :t", &[(":t", s("pro"))]).await;
    let cases = [
        ("byo-r", "github", json!({ "api_key": KEY }), 400, "unknown_provider"),
        ("byo-r", "openai", json!({ "api_key": "short" }), 400, "invalid_api_key"),
        ("byo-r", "openai", json!({ "api_key": KEY, "base_url": "http://plain.example" }), 400, "invalid_base_url"),
        ("byo-r", "openai", json!({ "api_key": KEY, "extra": 1 }), 400, "invalid_body"),
        ("byo-pro", "openai", json!({ "api_key": KEY }), 409, "byo_keys_not_in_plan"),
    ];
    for (org, provider, body, status, code) in cases {
        let reply = put_key(&server, org, provider, body.clone()).await;
        assert_eq!((reply.status, reply.json["code"].as_str()), (status, Some(code)), "{body}: {reply:?}");
    }
    let member = server.tokens.member("byo-r");
    let path = "/api/billing/account/byo-r/byo-keys/openai";
    let refused = server.request("PUT", path, Some(&member), Some(json!({ "api_key": KEY }))).await;
    assert_eq!(refused.status, 403);
    assert!(ctx.items_with_prefix("BYOKEY").await.is_empty(), "nothing stored by a refusal");

    // Five first saves at once: one data key, and every key opens with it.
    let providers = ["minimax", "z_ai", "openai", "anthropic", "fireworks"];
    let saves =
        join_all(providers.iter().map(|p| put_key(&server, "byo-r", p, json!({ "api_key": format!("{KEY}-{p}") }))))
            .await;
    assert!(saves.iter().all(|r| r.status == 200), "{saves:?}");
    assert_eq!(ctx.items_with_prefix("BYOKEYRING").await.len(), 1);
    for p in providers {
        assert_eq!(engine_reads(&server, "byo-r", p).await.json["api_key"], format!("{KEY}-{p}"));
    }
    // A plan without BYO keys cannot have them read either.
    ctx.update_account("byo-r", "SET tier = :t", &[(":t", s("pro"))]).await;
    let downgraded = engine_reads(&server, "byo-r", "openai").await;
    assert_eq!((downgraded.status, downgraded.json["code"].as_str()), (409, Some("byo_keys_not_in_plan")));
}

#[tokio::test]
async fn runs_on_the_customers_key_count_toward_quota_and_are_never_charged() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    byo_account(&ctx, "byo-run").await;
    let engine = server.service_token();
    let reserve = "/api/billing/internal/quota/byo-run/reservations";
    let reply =
        server.request("POST", reserve, Some(&engine), Some(json!({ "run_id": "r1", "kind": "standard" }))).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let call = json!({
        "type": "llm_call", "event_id": "byo-call-1", "organization_id": "byo-run", "run_id": "r1",
        "provider": "anthropic", "model": "claude-sonnet-4", "prompt_tokens": 100000, "completion_tokens": 5000,
        "prompt_cost_usd": 3, "completion_cost_usd": 0.75, "payer": "customer_key", "recorded_at": "2026-11-23T09:30:00Z"
    });
    let message: billing::costs::http::UsageMessage = serde_json::from_value(call).unwrap();
    billing::usage::flow::apply(&ctx.app, message).await.unwrap();
    let commit = "/api/billing/internal/quota/byo-run/reservations/r1/commit";
    let reply = server.request("POST", commit, Some(&engine), Some(json!({}))).await;
    assert_eq!((reply.status, &reply.json["usage"]["total_price"]), (201, &json!(0.0)), "{reply:?}");

    let member = server.tokens.member("byo-run");
    // Recorded as a run of the plan (unlimited on this tier), at no charge.
    let usage = server.get("/api/billing/account/byo-run/usage", Some(&member)).await;
    let runs = usage.json.as_array().cloned().unwrap_or_default();
    assert_eq!(runs.len(), 1, "{usage:?}");
    assert_eq!((&runs[0]["quantity"], &runs[0]["total_price"]), (&json!(1), &json!(0.0)));
    let summary =
        server.get("/api/billing/account/byo-run/costs/summary?from=2026-11-01&to=2026-11-30", Some(&member)).await;
    assert_eq!(
        (&summary.json["total_cost"], &summary.json["billable_cost"]),
        (&json!(3.75), &json!(0.0)),
        "{summary:?}"
    );
    let budget = server.get("/api/billing/account/byo-run/budget", Some(&member)).await;
    assert_eq!(budget.json["month_to_date_usd"], json!(0.0), "{budget:?}");
    match billing::invoicing::flow::generate(&ctx.app, &billing::ids::OrganizationId::parse("byo-run").unwrap()).await {
        Ok(generated) => assert_eq!(generated.invoice.amount_due_cents, 0, "{generated:?}"),
        Err(billing::invoicing::flow::InvoicingError::NothingToInvoice) => {}
        Err(other) => panic!("{other:?}"),
    }
}
