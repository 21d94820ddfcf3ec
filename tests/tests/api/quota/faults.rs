//! The quota engine under the failures production DynamoDB produces and DynamoDB Local never
//! does: transaction conflicts, throttling, 500s and answers lost after the write applied,
//! injected into a fifth of all requests while many runs race on one account.

use std::collections::BTreeMap;

use billing_tests::faults::{Fault, FaultInjector};
use billing_tests::quota::Books;
use billing_tests::{Reply, TestContext, TestServer};
use chrono::Duration;
use futures::future::join_all;
use serde_json::{Value, json};

const BASE: &str = "/api/billing/internal/quota";

/// One HTTP call of the workflow engine, chosen at random.
async fn random_call(server: &TestServer, token: &str, org: &str, rng: &mut fastrand::Rng) -> (String, Reply) {
    let run = format!("run-{}", rng.u8(0..24));
    let (label, path, body) = match rng.u8(0..5) {
        0 | 1 => {
            let kind = if rng.bool() { "standard" } else { "complex" };
            ("reserve", format!("{BASE}/{org}/reservations"), Some(json!({ "run_id": run, "kind": kind })))
        }
        2 => ("heartbeat", format!("{BASE}/{org}/reservations/{run}/heartbeat"), None),
        3 => {
            let actual = rng.bool().then(|| format!("{}.{:02}", rng.u8(0..17), rng.u8(0..100)));
            let body = json!({ "actual_cost_usd": actual.map(|a| a.parse::<Value>().expect("a JSON number")), "overage_approved": rng.bool() });
            ("commit", format!("{BASE}/{org}/reservations/{run}/commit"), Some(body))
        }
        _ => ("release", format!("{BASE}/{org}/reservations/{run}/release"), None),
    };
    (format!("{label} {run}"), server.request("POST", &path, Some(token), body).await)
}

#[tokio::test]
async fn with_a_fifth_of_requests_failing_no_call_answers_5xx_and_the_books_reconcile() {
    let faults = FaultInjector::new(200, 7);
    let ctx = TestContext::with_faults(faults.clone()).await;
    faults.stop();
    let books = Books::open(&ctx, "faulty", "pro", 30_000, 5).await;
    let server = ctx.serve().await;
    let token = server.service_token();
    faults.resume(200);

    let mut statuses: BTreeMap<u16, u32> = BTreeMap::new();
    let mut unavailable_without_retry_after = 0;
    let mut calls = 0;
    for round in 0..12u64 {
        // Eight callers at once on one account item, then a clock step and a sweep.
        let batch = (0..8u64).map(|worker| {
            let (server, token) = (&server, &token);
            async move {
                let mut rng = fastrand::Rng::with_seed(round * 100 + worker);
                let mut answers = Vec::new();
                for _ in 0..4 {
                    answers.push(random_call(server, token, "faulty", &mut rng).await);
                }
                answers
            }
        });
        for (call, reply) in join_all(batch).await.into_iter().flatten() {
            calls += 1;
            *statuses.entry(reply.status).or_default() += 1;
            if reply.status == 503 && !reply.headers.contains_key("retry-after") {
                unavailable_without_retry_after += 1;
            }
            assert!(reply.status < 500 || reply.status == 503, "{call} answered {}: {}", reply.status, reply.json);
        }
        ctx.clock.advance(Duration::minutes(7));
        let swept = cron_expire_holds::handle(ctx.app.clone(), json!({})).await;
        // A sweep that met an outage is simply run again by the next schedule.
        assert!(
            swept.is_ok() || format!("{:#}", swept.as_ref().unwrap_err()).contains("could not be completed"),
            "{swept:?}"
        );
    }
    let injected = faults.injected();
    faults.stop();
    // The next scheduled sweep, without faults, finishes whatever an outage interrupted.
    ctx.clock.advance(Duration::minutes(40));
    let last = cron_expire_holds::handle(ctx.app.clone(), json!({})).await.unwrap();
    assert_eq!(last["failed"], 0, "{last}");

    println!(
        "fault injection: {calls} calls, {} DynamoDB requests, injected {injected:?}, answers {statuses:?}",
        faults.requests()
    );
    assert_eq!(unavailable_without_retry_after, 0);
    for fault in [Fault::Conflict, Fault::Throttled, Fault::ServerError, Fault::LostAfterApply] {
        assert!(injected.get(&fault).copied().unwrap_or(0) > 0, "{fault:?} was never injected: {injected:?}");
    }
    assert!(statuses.get(&201).copied().unwrap_or(0) > 0, "some runs were reserved or committed: {statuses:?}");
    books.quiesce_and_check(&ctx, "under faults").await;
}
