//! CSV exports: the list routes' records, filters and cursors as a well-formed attachment.

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use billing::costs::rules::{CostRecord, Payer};
use billing::exports::http::ExportKind;
use billing::ids::OrganizationId;
use billing::quota::rules::RunKind;
use billing_tests::invoicing::{paid_account, run};
use billing_tests::{Reply, TestContext, TestServer};
use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;

fn org(name: &str) -> OrganizationId {
    OrganizationId::parse(name).unwrap()
}

/// A cost record as stored, written straight to the table (the export must quote whatever a
/// record holds, including text the usage pipeline would refuse today).
fn cost(org_name: &str, i: i64, agent: &str) -> CostRecord {
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::seconds(i);
    let event = format!("e{i:05}");
    CostRecord {
        pk: format!("ORG#{org_name}"),
        sk: CostRecord::sort_key(at, &event),
        id: event,
        organization_id: org(org_name),
        billing_account_id: None,
        run_id: Some(format!("run-{i}")),
        agent_id: Some(agent.to_owned()),
        sandbox_id: None,
        provider: "openai".into(),
        model: "gpt-4o".into(),
        prompt_tokens: 1000,
        completion_tokens: 10,
        prompt_cost_micros: 250_000,
        completion_cost_micros: 1,
        billable_micros: 300_001,
        payer: Payer::Platform,
        priced_by: "reported".into(),
        recorded_at: at,
    }
}

async fn store_costs(ctx: &TestContext, records: Vec<CostRecord>) {
    for chunk in records.chunks(25) {
        let writes = chunk
            .iter()
            .map(|r| {
                let item = serde_dynamo::to_item(r).unwrap();
                WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build()
            })
            .collect();
        let out = ctx
            .dynamo
            .batch_write_item()
            .request_items(ctx.app.config.table_name.as_str(), writes)
            .send()
            .await
            .unwrap();
        assert!(out.unprocessed_items.is_none_or(|u| u.is_empty()), "DynamoDB Local writes every item");
    }
}

/// The body as CSV rows, after checking it is an attachment; the header row apart.
fn rows(reply: &Reply, file: &str) -> (Vec<String>, Vec<Vec<String>>) {
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert_eq!(reply.header("content-disposition"), Some(format!("attachment; filename=\"{file}\"")));
    let text = reply.json.as_str().expect("a text body");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    (header, rows)
}

async fn export(server: &TestServer, org_name: &str, query: &str) -> Reply {
    let token = server.tokens.member(org_name);
    server.get(&format!("/api/billing/account/{org_name}/export/{query}"), Some(&token)).await
}

#[tokio::test]
async fn a_field_with_commas_quotes_and_a_line_break_round_trips_through_a_csv_parser() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let awkward = "agent \"A\", east\nline two";
    store_costs(&ctx, vec![cost("quoted", 1, awkward), cost("quoted", 2, "plain")]).await;

    let reply = export(&server, "quoted", "costs").await;

    let (header, rows) = rows(&reply, "quoted-costs.csv");
    assert_eq!(header, ExportKind::Costs.header());
    assert_eq!(rows.len(), 2);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows[0][column("agent_id")], awkward, "the parser gets the field back whole");
    assert_eq!(rows[1][column("agent_id")], "plain");
    // Money is decimal text, exactly the JSON list's amounts.
    let list = server.get("/api/billing/account/quoted/costs", Some(&server.tokens.member("quoted"))).await;
    for (row, record) in rows.iter().zip(list.json.as_array().unwrap()) {
        for field in ["total_cost", "billable_cost"] {
            let cell: Decimal = row[column(field)].parse().unwrap();
            assert_eq!(cell, record[field].to_string().parse::<Decimal>().unwrap(), "{field}");
        }
        assert_eq!(row[column("id")], record["id"].as_str().unwrap());
    }
    assert_eq!(rows[0][column("total_cost")], "0.250001");
}

#[tokio::test]
async fn an_export_stops_at_five_thousand_rows_and_the_cursor_brings_the_rest() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    store_costs(&ctx, (0..5_003).map(|i| cost("big", i, "a")).collect()).await;

    let first = export(&server, "big", "costs").await;
    let (_, page) = rows(&first, "big-costs.csv");
    assert_eq!(page.len(), 5_000);
    let cursor = first.header("x-next-cursor").expect("more to come");
    let rest = export(&server, "big", &format!("costs?cursor={cursor}")).await;
    let (_, last) = rows(&rest, "big-costs.csv");
    assert_eq!(last.len(), 3);
    assert_eq!(rest.header("x-next-cursor"), None, "the last page says so");
    let ids: std::collections::BTreeSet<&String> = page.iter().chain(&last).map(|r| &r[0]).collect();
    assert_eq!(ids.len(), 5_003, "every record once");

    // A smaller page size, as the list routes take one.
    let small = export(&server, "big", "costs?limit=2&from=2026-11-01T00:00:10Z&to=2026-11-01T00:00:13Z").await;
    assert_eq!(rows(&small, "big-costs.csv").1.len(), 2);
    assert!(small.header("x-next-cursor").is_some());
}

#[tokio::test]
async fn the_list_filters_apply_to_exports() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    paid_account(&ctx, "filters", 0, 0, 0).await;
    for i in 0..3 {
        run(&ctx, "filters", &format!("r{i}"), RunKind::Standard, None).await;
    }
    let generated = billing::invoicing::flow::generate(&ctx.app, &org("filters")).await.unwrap();
    ctx.clock.advance(Duration::minutes(1));
    run(&ctx, "filters", "later", RunKind::Standard, None).await;
    store_costs(&ctx, (0..4).map(|i| cost("filters", i * 86_400, "a")).collect()).await;

    let count = |reply: Reply, kind: &str| rows(&reply, &format!("filters-{kind}.csv")).1.len();
    assert_eq!(count(export(&server, "filters", "usage").await, "usage"), 4);
    assert_eq!(count(export(&server, "filters", "usage?billed=true").await, "usage"), 3);
    assert_eq!(count(export(&server, "filters", "usage?billed=false").await, "usage"), 1);
    assert_eq!(count(export(&server, "filters", "costs?from=2026-11-02&to=2026-11-03").await, "costs"), 2);
    let status = generated.invoice.status.as_str();
    let invoices = export(&server, "filters", &format!("invoices?status={status}")).await;
    let (header, found) = rows(&invoices, "filters-invoices.csv");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0][header.iter().position(|h| h == "id").unwrap()], generated.invoice.id);
    let other = if status == "void" { "paid" } else { "void" };
    assert_eq!(count(export(&server, "filters", &format!("invoices?status={other}")).await, "invoices"), 0);
}

#[tokio::test]
async fn an_unknown_kind_or_another_kinds_filter_is_refused_with_detail_and_code() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    for (query, status, code) in [
        ("ledger", 404, "unknown_export"),
        ("costs?billed=true", 400, "invalid_query"),
        ("usage?status=paid", 400, "invalid_query"),
        ("usage?billed=maybe", 400, "invalid_query"),
        ("invoices?status=lost", 400, "invalid_query"),
        ("costs?limit=5001", 400, "invalid_query"),
        ("usage?cursor=not-a-cursor", 400, "invalid_cursor"),
        ("usage?from=2026-11-10&to=2026-11-01", 400, "invalid_range"),
    ] {
        let reply = export(&server, "refused", query).await;
        assert_eq!(reply.status, status, "{query}: {reply:?}");
        assert_eq!(reply.json["code"], code, "{query}");
        assert!(reply.json["detail"].as_str().is_some_and(|d| !d.is_empty()), "{query}");
    }
    let empty = export(&server, "refused", "invoices").await;
    let header: Vec<String> = ExportKind::Invoices.header().iter().map(|h| h.to_string()).collect();
    assert_eq!(rows(&empty, "refused-invoices.csv"), (header, vec![]), "a header row even when nothing matches");
}
