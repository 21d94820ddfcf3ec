//! What an invocation's metrics look like on the wire: CloudWatch embedded metric format
//! documents, one JSON line per dimension set, written when the runner flushes. Its own test
//! binary, because the recorder is process-wide and installed once.

use billing::quota::rules::{Outcome, Refusal};
use billing::telemetry::metrics::{self, Settings};
use serde_json::{Value, json};

fn flushed() -> Vec<Value> {
    let mut out = Vec::new();
    metrics::flush_into(&mut out).expect("flush");
    String::from_utf8(out).expect("utf-8").lines().map(|l| serde_json::from_str(l).expect("one JSON line")).collect()
}

/// The document whose dimensions are exactly `dimensions`.
fn document<'a>(docs: &'a [Value], dimensions: &[&str]) -> &'a Value {
    docs.iter()
        .find(|d| d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == json!([dimensions]))
        .unwrap_or_else(|| panic!("no document with dimensions {dimensions:?} in {docs:#?}"))
}

#[test]
fn an_invocation_s_metrics_are_emf_documents_under_the_namespace_and_the_function() {
    metrics::install(&Settings { namespace: "Billing/test".into(), function: "billing-Reserve-1A".into() })
        .expect("first install");
    assert!(metrics::install(&Settings { namespace: "x".into(), function: "y".into() }).is_err(), "once per process");

    // One invocation's worth.
    metrics::reservation_refused(&Refusal::Exhausted);
    metrics::reservation_refused(&Refusal::Exhausted);
    metrics::reservation_granted();
    metrics::hold_settled(Outcome::Expired);
    metrics::stripe_event_processed(chrono::Duration::milliseconds(2_500));
    metrics::stripe_event_processed(chrono::Duration::seconds(-3));

    let docs = flushed();
    for doc in &docs {
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Billing/test", "{doc}");
        assert_eq!(doc["FunctionName"], "billing-Reserve-1A", "{doc}");
        assert!(doc["_aws"]["Timestamp"].as_u64().is_some(), "{doc}");
        // Every metric named in the directive has its value at the top level.
        for metric in directive["Metrics"].as_array().expect("metrics") {
            assert!(!doc[metric["Name"].as_str().unwrap()].is_null(), "{doc}");
        }
    }
    let by_reason = document(&docs, &["FunctionName", "reason"]);
    assert_eq!((&by_reason["reason"], &by_reason["ReservationsRefused"]), (&json!("quota_exhausted"), &json!(2)));
    assert_eq!(
        by_reason["_aws"]["CloudWatchMetrics"][0]["Metrics"],
        json!([{ "Name": "ReservationsRefused", "Unit": "Count" }])
    );
    let plain = document(&docs, &["FunctionName"]);
    assert_eq!((&plain["ReservationsRefused"], &plain["ReservationsGranted"]), (&json!(2), &json!(1)));
    // Lag is a list of seconds (CloudWatch keeps the distribution); a negative lag is none.
    assert_eq!(plain["StripeEventLagSeconds"], json!([2.5, 0.0]));
    let lag_unit = plain["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Name"] == "StripeEventLagSeconds")
        .map(|m| m["Unit"].clone());
    assert_eq!(lag_unit, Some(json!("Seconds")));
    let settled = document(&docs, &["FunctionName", "outcome"]);
    assert_eq!((&settled["outcome"], &settled["HoldsSettled"]), (&json!("expired"), &json!(1)));

    // Flushed means sent: the next invocation starts from zero and an idle one writes nothing.
    assert!(flushed().is_empty(), "nothing counted since the last flush");
    metrics::dead_lettered();
    let next = flushed();
    assert_eq!(next.len(), 1, "{next:#?}");
    assert_eq!(next[0]["DeadLettered"], 1);
    assert!(next[0].get("ReservationsRefused").is_none(), "{next:#?}");
}
