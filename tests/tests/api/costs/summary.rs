//! The cost summary: the sum of the cost records, and the same billable cost as the budget.

use std::collections::BTreeMap;

use billing_tests::TestContext;
use billing_tests::usage::{deliver, llm_call};
use serde_json::{Value, json};

#[tokio::test]
async fn the_cost_summary_equals_the_sum_of_the_records_for_random_data() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    let mut rng = fastrand::Rng::with_seed(7);
    let models = [("anthropic", "claude-sonnet-4"), ("openai", "gpt-4o"), ("openai", "gpt-4o-mini")];
    let mut bodies = Vec::new();
    for i in 0..40 {
        let (provider, model) = models[rng.usize(..models.len())];
        let day = rng.u32(1..=23);
        bodies.push(
            json!({
                "type": "llm_call", "event_id": format!("e{i}"), "organization_id": "sum",
                "provider": provider, "model": model,
                "prompt_tokens": rng.u64(0..20_000), "completion_tokens": rng.u64(0..5_000),
                "payer": if rng.bool() { "platform" } else { "customer_key" },
                "recorded_at": format!("2026-11-{day:02}T{:02}:00:00Z", rng.u32(0..24)),
            })
            .to_string(),
        );
    }
    for chunk in bodies.chunks(10) {
        assert!(deliver(&ctx, chunk).await.batch_item_failures.is_empty());
    }
    let token = server.tokens.member("sum");

    let summary =
        server.get("/api/billing/account/sum/costs/summary?from=2026-11-01&to=2026-11-30", Some(&token)).await;
    let list = server.get("/api/billing/account/sum/costs?limit=100", Some(&token)).await;

    assert_eq!((summary.status, list.status), (200, 200), "{summary:?}");
    let records = list.json.as_array().unwrap();
    assert_eq!(records.len(), 40);
    let micros =
        |v: &Value| billing::costs::rules::usd_to_micros(v.to_string().parse::<rust_decimal::Decimal>().unwrap());
    let total: i64 = records.iter().map(|r| micros(&r["total_cost"])).sum();
    let tokens: u64 = records.iter().map(|r| r["total_tokens"].as_u64().unwrap()).sum();
    assert_eq!(micros(&summary.json["total_cost"]), total);
    assert_eq!(summary.json["total_tokens"].as_u64().unwrap(), tokens);
    assert_eq!(summary.json["record_count"], 40);
    let mut by_model: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in records {
        *by_model.entry((r["provider"].as_str().unwrap().into(), r["model"].as_str().unwrap().into())).or_default() +=
            micros(&r["total_cost"]);
    }
    for item in summary.json["breakdown"].as_array().unwrap() {
        let key = (item["provider"].as_str().unwrap().to_owned(), item["model"].as_str().unwrap().to_owned());
        assert_eq!(micros(&item["cost"]), by_model[&key], "{key:?}");
    }
    // A narrower range only counts its days.
    let first_week =
        server.get("/api/billing/account/sum/costs/summary?from=2026-11-01&to=2026-11-07", Some(&token)).await;
    let in_week = records.iter().filter(|r| r["recorded_at"].as_str().unwrap() < "2026-11-08").count();
    assert_eq!(first_week.json["record_count"].as_u64().unwrap() as usize, in_week);
}

#[tokio::test]
async fn the_cost_summary_the_budget_and_the_cost_records_agree_on_billable_cost() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    let mut bodies = vec![
        llm_call("platform-1", "agree", "platform", "0.10"),
        llm_call("platform-2", "agree", "platform", "0.25"),
        llm_call("byo-1", "agree", "customer_key", "3.0"),
    ];
    bodies.push(
        json!({
            "type": "llm_call", "event_id": "platform-3", "organization_id": "agree",
            "provider": "openai", "model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 200,
            "payer": "platform", "recorded_at": "2026-11-02T12:00:00Z"
        })
        .to_string(),
    );
    assert!(deliver(&ctx, &bodies).await.batch_item_failures.is_empty());
    let token = server.tokens.member("agree");
    let base = "/api/billing/account/agree";

    let summary = server.get(&format!("{base}/costs/summary"), Some(&token)).await;
    let month = server.get(&format!("{base}/costs/summary?from=2026-11-01&to=2026-11-30"), Some(&token)).await;
    let budget = server.get(&format!("{base}/budget"), Some(&token)).await;
    let records = server.get(&format!("{base}/costs"), Some(&token)).await;

    assert_eq!((summary.status, month.status, budget.status, records.status), (200, 200, 200, 200));
    assert_eq!(summary.json, month.json, "the default range is this month");
    let micros =
        |v: &Value| billing::costs::rules::usd_to_micros(v.to_string().parse::<rust_decimal::Decimal>().unwrap());
    let records = records.json.as_array().unwrap();
    let billable_sum: i64 = records.iter().map(|r| micros(&r["billable_cost"])).sum();
    let cost_sum: i64 = records.iter().map(|r| micros(&r["total_cost"])).sum();
    // gpt-4o: 1000 × $2.50/M + 200 × $10/M = $0.0045; platform calls carry the 20% margin.
    assert_eq!(billable_sum, (100_000 + 250_000 + 4_500) * 12 / 10);
    assert_eq!(micros(&summary.json["billable_cost"]), billable_sum);
    assert_eq!(micros(&budget.json["month_to_date_usd"]), billable_sum);
    assert_eq!(micros(&summary.json["total_cost"]), cost_sum);
    assert_eq!(cost_sum, 100_000 + 250_000 + 3_000_000 + 4_500, "total_cost is what the providers charged");
    let byo = records.iter().find(|r| r["id"].as_str().unwrap().contains("byo-1")).unwrap();
    assert_eq!((&byo["total_cost"], &byo["billable_cost"]), (&json!(3.0), &json!(0.0)));
    for item in summary.json["breakdown"].as_array().unwrap() {
        let of_model = records.iter().filter(|r| r["provider"] == item["provider"] && r["model"] == item["model"]);
        let (cost, billable) =
            of_model.fold((0, 0), |(c, b), r| (c + micros(&r["total_cost"]), b + micros(&r["billable_cost"])));
        assert_eq!((micros(&item["cost"]), micros(&item["billable_cost"])), (cost, billable), "{item}");
    }
}
