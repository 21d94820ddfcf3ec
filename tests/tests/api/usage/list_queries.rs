//! The usage and cost lists' queries: order and paging by cursor, and bad ranges, limits and
//! cursors refused with their code before DynamoDB is asked.

use aws_sdk_dynamodb::types::AttributeValue;
use billing::quota::rules::RunKind;
use billing_tests::TestContext;
use billing_tests::quota::reserve;
use billing_tests::usage::{deliver, llm_call};
use billing_tests::values::org;
use serde_json::json;

#[tokio::test]
async fn usage_reads_newest_first_on_request_and_a_cursor_keeps_its_order() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    ctx.account("newest").await;
    for i in 0..5 {
        reserve(&ctx, "newest", &format!("n{i}"), RunKind::Standard).await.unwrap();
        ctx.app.store.commit(&org("newest"), &format!("n{i}"), None, false, None, ctx.app.now()).await.unwrap();
        ctx.clock.advance(chrono::Duration::seconds(1));
    }
    let token = server.tokens.member("newest");
    let runs = |reply: &billing_tests::Reply| -> Vec<String> {
        reply
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["usage_details"]["run_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let base = "/api/billing/account/newest/usage";

    let oldest = server.get(&format!("{base}?limit=5"), Some(&token)).await;
    let first = server.get(&format!("{base}?order=newest_first&limit=3"), Some(&token)).await;
    let cursor = first.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let second = server.get(&format!("{base}?order=newest_first&limit=3&cursor={cursor}"), Some(&token)).await;

    assert_eq!(runs(&oldest), ["n0", "n1", "n2", "n3", "n4"]);
    assert_eq!(runs(&first), ["n4", "n3", "n2"]);
    assert_eq!(runs(&second), ["n1", "n0"]);
    // A newest-first cursor cannot continue the oldest-first list, nor the other way round.
    let mixed = server.get(&format!("{base}?limit=3&cursor={cursor}"), Some(&token)).await;
    assert_eq!((mixed.status, mixed.json["code"].as_str()), (400, Some("invalid_cursor")), "{mixed:?}");
    let bad = server.get(&format!("{base}?order=sideways"), Some(&token)).await;
    assert_eq!((bad.status, bad.json["code"].as_str()), (400, Some("invalid_query")), "{bad:?}");
}

#[tokio::test]
async fn usage_lists_page_with_a_cursor_and_filter_by_billed() {
    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    ctx.update_account(
        "lister",
        "SET tier = :t, has_payment_method = :y, free_remaining = :f",
        &[
            (":t", AttributeValue::S("starter".into())),
            (":y", AttributeValue::Bool(true)),
            (":f", AttributeValue::N("5".into())),
        ],
    )
    .await;
    for i in 0..7 {
        reserve(&ctx, "lister", &format!("r{i}"), RunKind::Standard).await.unwrap();
        ctx.app.store.commit(&org("lister"), &format!("r{i}"), None, false, None, ctx.app.now()).await.unwrap();
        ctx.clock.advance(chrono::Duration::seconds(1));
    }
    let token = server.tokens.member("lister");

    let first = server.get("/api/billing/account/lister/usage?limit=4", Some(&token)).await;
    let cursor = first.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let second = server.get(&format!("/api/billing/account/lister/usage?limit=4&cursor={cursor}"), Some(&token)).await;

    assert_eq!(first.json.as_array().unwrap().len(), 4);
    assert_eq!(second.json.as_array().unwrap().len(), 3);
    assert!(second.headers.get("x-next-cursor").is_none(), "the last page has no cursor");
    let ids: std::collections::BTreeSet<&str> = first
        .json
        .as_array()
        .unwrap()
        .iter()
        .chain(second.json.as_array().unwrap())
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 7, "no record twice, none skipped");
    // Five free runs then two subscription runs: paid for on the spot, but on no invoice yet
    // (`billed` means "on an invoice"); the invoice takes all seven, at $0.
    let unbilled = server.get("/api/billing/account/lister/usage?billed=false", Some(&token)).await;
    assert_eq!(unbilled.json.as_array().unwrap().len(), 7);
    let invoice = billing::invoicing::flow::generate(&ctx.app, &org("lister")).await.unwrap().invoice;
    assert_eq!((invoice.total_cents, invoice.line_items.len()), (0, 2));
    let billed = server.get("/api/billing/account/lister/usage?billed=true", Some(&token)).await;
    assert_eq!(billed.json.as_array().unwrap().len(), 7);
    assert!(billed.json.as_array().unwrap().iter().all(|u| u["invoice_id"] == invoice.id.as_str()));
    let unbilled = server.get("/api/billing/account/lister/usage?billed=false", Some(&token)).await;
    assert_eq!(unbilled.json.as_array().unwrap().len(), 0);

    for bad in ["limit=0", "limit=101", "billed=maybe", "from=yesterday", "cursor=zz", "from=2026-11-10&to=2026-11-01"]
    {
        let reply = server.get(&format!("/api/billing/account/lister/usage?{bad}"), Some(&token)).await;
        assert_eq!(reply.status, 400, "{bad}: {reply:?}");
    }
    assert_eq!(server.get("/api/billing/account/lister/usage", Some(&server.tokens.member("other"))).await.status, 403);
}

/// Asserts a refusal: the status, the code, and a body of exactly `detail` and `code`.
fn assert_refused(reply: &billing_tests::Reply, status: u16, code: &str, case: &str) {
    assert_eq!((reply.status, reply.json["code"].as_str()), (status, Some(code)), "{case}: {reply:?}");
    let body = reply.json.as_object().unwrap_or_else(|| panic!("{case}: not an object: {reply:?}"));
    assert!(body.len() == 2 && body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{case}: {reply:?}");
}

#[tokio::test]
async fn a_cost_summary_whose_from_is_after_its_to_is_refused_even_when_one_bound_is_the_default() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let token = server.tokens.member("ranged");
    let summary = |query: &str| {
        let path = format!("/api/billing/account/ranged/costs/summary?{query}");
        let (server, token) = (&server, &token);
        async move { server.get(&path, Some(token)).await }
    };

    // Now is 2026-11-23T09:30Z: `to` defaults to now, `from` to 2026-11-01.
    for bad in ["from=2026-11-10&to=2026-11-01", "from=2026-12-01", "from=2026-11-23T10:00:00Z", "to=2026-10-31"] {
        assert_refused(&summary(bad).await, 400, "invalid_range", bad);
    }
    for good in ["", "from=2026-10-01", "to=2026-11-30", "from=2026-11-23&to=2026-11-23"] {
        let reply = summary(good).await;
        assert_eq!((reply.status, &reply.json["record_count"]), (200, &json!(0)), "{good}: {reply:?}");
    }
}

#[tokio::test]
async fn every_list_route_answers_bad_query_input_with_a_400_and_its_code() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let token = server.tokens.member("queries");
    let base = "/api/billing/account/queries";
    let mut cases = Vec::new();
    for route in ["usage", "costs", "costs/summary"] {
        cases.push((route, "from=yesterday", "invalid_query"));
        cases.push((route, "to=2026-13-01", "invalid_query"));
        cases.push((route, "from=2026-11-10&to=2026-11-01", "invalid_range"));
        cases.push((route, "from=2026-11-10T10:00:00Z&to=2026-11-10T09:59:59Z", "invalid_range"));
    }
    for route in ["usage", "costs"] {
        for limit in ["limit=0", "limit=101", "limit=ten", "limit=-1", "limit=99999999999999999999999"] {
            cases.push((route, limit, "invalid_query"));
        }
        cases.push((route, "cursor=", "invalid_cursor"));
    }
    cases.push(("usage", "billed=maybe", "invalid_query"));

    for (route, query, code) in cases {
        let reply = server.get(&format!("{base}/{route}?{query}"), Some(&token)).await;
        assert_refused(&reply, 400, code, &format!("{route}?{query}"));
    }
}

#[tokio::test]
async fn a_cursor_that_is_empty_foreign_tampered_or_kept_after_changing_the_query_is_refused_as_invalid_cursor() {
    use billing::store::cursor::{ListKind, ListQuery, encode};
    use billing::store::keys::Key;

    let ctx = TestContext::with_messaging(&[]).await;
    let server = ctx.serve().await;
    let bodies: Vec<String> = (0..5).map(|i| llm_call(&format!("p{i}"), "pager", "platform", "0.01")).collect();
    assert!(deliver(&ctx, &bodies).await.batch_item_failures.is_empty());
    ctx.update_account("pager", "SET free_remaining = :f", &[(":f", AttributeValue::N("5".into()))]).await;
    for i in 0..3 {
        reserve(&ctx, "pager", &format!("r{i}"), RunKind::Standard).await.unwrap();
        ctx.app.store.commit(&org("pager"), &format!("r{i}"), None, false, None, ctx.app.now()).await.unwrap();
    }
    let token = server.tokens.member("pager");
    let base = "/api/billing/account/pager";
    let next = |reply: &billing_tests::Reply| reply.headers["x-next-cursor"].to_str().unwrap().to_owned();
    let costs_cursor = next(&server.get(&format!("{base}/costs?limit=2"), Some(&token)).await);
    let usage_cursor = next(&server.get(&format!("{base}/usage?limit=2"), Some(&token)).await);

    // The cursor works on its own query, whatever the page size.
    let second = server.get(&format!("{base}/costs?limit=2&cursor={costs_cursor}"), Some(&token)).await;
    assert_eq!((second.status, second.json.as_array().map(Vec::len)), (200, Some(2)), "{second:?}");
    let rest = server.get(&format!("{base}/costs?limit=10&cursor={costs_cursor}"), Some(&token)).await;
    assert_eq!((rest.status, rest.json.as_array().map(Vec::len)), (200, Some(3)), "{rest:?}");

    let costs_query = ListQuery::new(ListKind::Costs, &org("pager"), None, None, None);
    let forged = |pk: &str, sk: &str| encode(&costs_query, &Key { pk: pk.into(), sk: sk.into() });
    let truncated = &costs_cursor[..costs_cursor.len() - 3];
    let cases = [
        ("pager/costs?cursor=".to_owned(), "empty"),
        ("pager/costs?cursor=zz".to_owned(), "garbage"),
        (format!("pager/costs?cursor={truncated}"), "truncated"),
        (format!("pager/costs?cursor={usage_cursor}"), "a usage cursor on costs"),
        (format!("pager/usage?cursor={costs_cursor}"), "a costs cursor on usage"),
        (format!("pager/costs?cursor={costs_cursor}&from=2026-11-01"), "from added"),
        (format!("pager/costs?cursor={costs_cursor}&to=2026-11-30"), "to added"),
        (format!("pager/usage?cursor={usage_cursor}&billed=true"), "billed added"),
        (format!("pager/costs?cursor={}", forged("ORG#victim", "COST#2026-11-23")), "another partition"),
        (format!("pager/costs?cursor={}", forged("ORG#pager", "USAGE#2026-11-23")), "outside the range"),
        (format!("pager/costs?cursor={}", forged("ORG#pager", "")), "an empty sort key"),
    ];
    ctx.calls.take();
    for (path, case) in &cases {
        let reply = server.get(&format!("/api/billing/account/{path}"), Some(&token)).await;
        assert_refused(&reply, 400, "invalid_cursor", case);
    }
    // Another organization's member cannot use pager's cursor on their own list.
    let other = server
        .get(&format!("/api/billing/account/other/costs?cursor={costs_cursor}"), Some(&server.tokens.member("other")))
        .await;
    assert_refused(&other, 400, "invalid_cursor", "another organization");
    let calls = ctx.calls.take();
    assert_eq!(calls.get("Query"), None, "refused before DynamoDB is asked: {calls:?}");
}
