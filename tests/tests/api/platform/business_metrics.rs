//! Business metrics counted by the real handlers and flows, read from an in-memory recorder
//! (the EMF output itself is covered by `shared/tests/emf.rs`).
//!
//! The recorder is local to the test's thread: `#[tokio::test]` runs the test, the served
//! routes and every task they spawn on that one thread.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use billing_tests::{TestContext, TestServer};
use chrono::Duration;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::{Value, json};

const BASE: &str = "/api/billing/internal/quota";

/// Counters as `"Name{k=v,…}" → value`, and histograms as `"Name{…}" → values`.
fn read(snapshotter: &Snapshotter) -> (BTreeMap<String, u64>, BTreeMap<String, Vec<f64>>) {
    let (mut counters, mut histograms) = (BTreeMap::new(), BTreeMap::new());
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<String> = key.key().labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        let name = format!("{}{{{}}}", key.key().name(), labels.join(","));
        match value {
            DebugValue::Counter(n) => {
                counters.insert(name, n);
            }
            DebugValue::Histogram(values) => {
                histograms.insert(name, values.into_iter().map(|v| v.into_inner()).collect());
            }
            DebugValue::Gauge(_) => {}
        }
    }
    (counters, histograms)
}

async fn reserve(server: &TestServer, org: &str, run_id: &str) -> billing_tests::Reply {
    let body = json!({ "run_id": run_id, "kind": "standard" });
    server.request("POST", &format!("{BASE}/{org}/reservations"), Some(&server.service_token()), Some(body)).await
}

async fn settle(server: &TestServer, org: &str, run_id: &str, how: &str) -> billing_tests::Reply {
    let path = format!("{BASE}/{org}/reservations/{run_id}/{how}");
    server.request("POST", &path, Some(&server.service_token()), None).await
}

fn counters(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[tokio::test]
async fn reserves_count_grants_and_refusals_by_reason_and_dry_runs_and_repeats_count_nothing() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;

    assert_eq!(reserve(&server, "demo", "a").await.status, 201);
    assert_eq!(reserve(&server, "demo", "a").await.status, 200, "the same hold again");
    assert_eq!(reserve(&server, "demo", "b").await.status, 429);
    ctx.update_account("broke", "SET free_remaining = :z", &[(":z", AttributeValue::N("0".into()))]).await;
    assert_eq!(reserve(&server, "broke", "a").await.status, 402);
    assert_eq!(reserve(&server, "broke", "b").await.status, 402);
    ctx.update_account("frozen", "SET #status = :s", &[(":s", AttributeValue::S("suspended".into()))]).await;
    assert_eq!(reserve(&server, "frozen", "a").await.status, 403);
    let dry = format!("{BASE}/broke/reservations?dry_run=true");
    let body = json!({ "run_id": "c", "kind": "standard" });
    assert_eq!(server.request("POST", &dry, Some(&server.service_token()), Some(body)).await.status, 200);

    let (seen, _) = read(&snapshotter);
    assert_eq!(
        seen,
        counters(&[
            ("ReservationsGranted{}", 1),
            ("ReservationsRefused{}", 4),
            ("ReservationsRefused{reason=account_suspended}", 1),
            ("ReservationsRefused{reason=concurrency_limit}", 1),
            ("ReservationsRefused{reason=quota_exhausted}", 2),
        ])
    );
}

#[tokio::test]
async fn each_hold_counts_once_by_how_it_was_settled_whoever_settles_it() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;

    // Three organizations, one run each (the free plan runs one at a time).
    for org in ["done", "stop", "lost"] {
        assert_eq!(reserve(&server, org, "r").await.status, 201);
    }
    assert_eq!(settle(&server, "done", "r", "commit").await.status, 201);
    assert_eq!(settle(&server, "done", "r", "commit").await.status, 200, "a repeat");
    assert_eq!(settle(&server, "stop", "r", "release").await.status, 200);
    assert_eq!(settle(&server, "stop", "r", "release").await.status, 200, "a repeat");
    ctx.clock.advance(Duration::minutes(31));
    let swept = cron_expire_holds::handle(ctx.app.clone(), json!({})).await.unwrap();
    assert_eq!(swept["released"], 1);
    // The late worker's release answers with the expiry; it decides nothing.
    assert_eq!(settle(&server, "lost", "r", "release").await.json["outcome"], "expired");

    let (seen, _) = read(&snapshotter);
    let settled: BTreeMap<String, u64> = seen.into_iter().filter(|(k, _)| k.starts_with("HoldsSettled")).collect();
    assert_eq!(
        settled,
        counters(&[
            ("HoldsSettled{outcome=committed}", 1),
            ("HoldsSettled{outcome=expired}", 1),
            ("HoldsSettled{outcome=released}", 1),
        ])
    );
}

#[tokio::test]
async fn a_stripe_event_s_lag_is_measured_from_its_created_time_once() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let ctx = TestContext::new().await;
    let created = ctx.app.now().timestamp() - 90;
    // A type billing does not use is still received, queued and processed: it has a lag too.
    let event: Value =
        json!({ "id": "evt_lag_1", "type": "customer.created", "created": created, "data": { "object": {} } });

    billing::stripe_events::flow::process(&ctx.app, &event.to_string()).await.unwrap();
    ctx.clock.advance(Duration::seconds(30));
    billing::stripe_events::flow::process(&ctx.app, &event.to_string()).await.unwrap();

    let (_, lags) = read(&snapshotter);
    assert_eq!(
        lags,
        BTreeMap::from([("StripeEventLagSeconds{}".to_owned(), vec![90.0])]),
        "a duplicate is not measured"
    );
}

/// The template as plain YAML (intrinsics such as `!Sub` kept as tagged values).
fn template_yaml() -> serde_yaml::Value {
    let path = local_server::template::default_path();
    serde_yaml::from_str(&std::fs::read_to_string(&path).expect("template.yaml")).expect("YAML")
}

fn resource<'a>(template: &'a serde_yaml::Value, id: &str) -> &'a serde_yaml::Value {
    template.get("Resources").and_then(|r| r.get(id)).unwrap_or_else(|| panic!("no resource {id}"))
}

/// The body of `!Sub` text with every `${…}` replaced: numeric parameters by `1`, the metrics
/// namespace by `NS`, anything else by `x`, so the JSON can be read.
fn substituted(template: &serde_yaml::Value, text: &str) -> String {
    let numeric = |name: &str| {
        template.get("Parameters").and_then(|p| p.get(name)).and_then(|p| p.get("Type")).and_then(|t| t.as_str())
            == Some("Number")
    };
    let (mut out, mut rest) = (String::new(), text);
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closed ${") + start;
        let name = &rest[start + 2..end];
        out.push_str(if name == "MetricsNamespace" {
            "NS"
        } else if numeric(name) {
            "1"
        } else {
            "x"
        });
        rest = &rest[end + 1..];
    }
    out + rest
}

/// Every metric name the dashboard reads from the business namespace: metric rows and the
/// `MetricName="…"` of SEARCH expressions.
fn dashboard_metric_names(body: &Value) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for widget in body["widgets"].as_array().expect("widgets") {
        for row in widget["properties"]["metrics"].as_array().into_iter().flatten() {
            let row = row.as_array().expect("a metric row is a list");
            if row.first() == Some(&json!("NS")) {
                names.insert(row[1].as_str().expect("metric name").to_owned());
            }
            if let Some(expression) = row.first().and_then(|r| r["expression"].as_str()) {
                let after = expression.split("MetricName=\"").skip(1);
                names.extend(after.map(|s| s.split('"').next().unwrap_or_default().to_owned()));
            }
        }
    }
    names
}

#[test]
fn the_dashboard_is_valid_json_and_shows_every_business_metric_by_the_names_the_code_emits() {
    use billing::telemetry::metrics as m;
    let template = template_yaml();
    let body = match resource(&template, "BillingDashboard")["Properties"]["DashboardBody"].clone() {
        serde_yaml::Value::Tagged(tagged) if tagged.tag == "Sub" => tagged.value.as_str().expect("text").to_owned(),
        other => panic!("DashboardBody should be !Sub text, not {other:?}"),
    };
    let body: Value = serde_json::from_str(&substituted(&template, &body)).expect("the dashboard body is JSON");
    let emitted = [
        m::RESERVATIONS_GRANTED,
        m::RESERVATIONS_REFUSED,
        m::HOLDS_SETTLED,
        m::STRIPE_EVENT_LAG,
        m::INVOICES_GENERATED,
        m::INVOICES_PAID,
        m::DEAD_LETTERED,
    ];
    assert_eq!(dashboard_metric_names(&body), emitted.iter().map(|n| n.to_string()).collect());
    // The by-reason widget lists every refusal code.
    use billing::quota::rules::Refusal;
    let reasons: std::collections::BTreeSet<String> = [
        Refusal::Suspended,
        Refusal::ConcurrencyFull { limit: 1, retry_after_secs: 1 },
        Refusal::Exhausted,
        Refusal::BudgetExceeded,
    ]
    .iter()
    .map(|r| r.code().to_owned())
    .collect();
    let shown: std::collections::BTreeSet<String> = body["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w["properties"]["metrics"].as_array().cloned().unwrap_or_default())
        .filter_map(|row| {
            let row = row.as_array()?.clone();
            (row.len() == 6 && row[4] == "reason").then(|| row[5].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    assert_eq!(shown, reasons);
    // Alarms on business metrics read the namespace parameter and a name the code emits.
    for alarm in ["ReservationRefusalsAlarm", "StripeEventLagAlarm"] {
        let props = &resource(&template, alarm)["Properties"];
        let name = props["MetricName"].as_str().expect("metric name");
        assert!(emitted.contains(&name), "{alarm}: {name}");
        assert!(
            matches!(&props["Namespace"], serde_yaml::Value::Tagged(t) if t.tag == "Ref" && t.value == "MetricsNamespace")
        );
        assert!(!props["AlarmActions"].is_null(), "{alarm} alerts someone");
    }
}

#[test]
fn every_queue_consumer_knows_its_queue_s_max_receive_count() {
    let template = template_yaml();
    let queues = billing_tests::template().queues();
    for function in billing_tests::template().functions().unwrap().into_iter().filter(|f| !f.queues.is_empty()) {
        for queue in &function.queues {
            let (_, max_receive) = queues
                .iter()
                .find(|q| &q.logical_id == queue)
                .and_then(|q| q.redrive.clone())
                .unwrap_or_else(|| panic!("{queue} has a redrive policy"));
            let env = &resource(&template, &function.logical_id)["Properties"]["Environment"]["Variables"];
            assert_eq!(
                env["MAX_RECEIVE_COUNT"].as_str(),
                Some(max_receive.to_string().as_str()),
                "{}: MAX_RECEIVE_COUNT must be {queue}'s maxReceiveCount",
                function.logical_id
            );
        }
    }
}
