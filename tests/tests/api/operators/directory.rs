//! The operators' account directory and one account in full: searches page through every
//! match exactly once in organization-id order, from a sharded index that reserves never
//! write to, without a scan.

use billing::ids::OrganizationId;
use billing_tests::values::s;
use billing_tests::{TestContext, TestServer};
use serde_json::{Value, json};

/// Every page of a search, following `x-next-cursor`.
async fn search_all(server: &TestServer, query: &str, limit: usize) -> Vec<String> {
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut path = format!("/api/billing/admin/accounts?limit={limit}&{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = server.get(&path, Some(&server.tokens.admin())).await;
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        let page = reply.json.as_array().cloned().unwrap_or_default();
        assert!(page.len() <= limit);
        found.extend(page.iter().map(|a| a["organization_id"].as_str().unwrap_or_default().to_owned()));
        cursor = reply.header(billing::lambda::http::NEXT_CURSOR_HEADER);
        if cursor.is_none() {
            return found;
        }
    }
    panic!("the search never ended");
}

#[tokio::test]
async fn searches_page_through_every_match_once_in_order_without_a_scan() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let mut all = Vec::new();
    for (i, name) in ["acme", "acme-eu", "acme-us", "beta", "globex", "initech", "umbrella", "zeta"].iter().enumerate()
    {
        for n in 0..3 {
            let org = format!("dir-{name}-{n}");
            ctx.account(&org).await;
            if i % 3 == 0 {
                ctx.update_account(&org, "SET tier = :t", &[(":t", s("pro"))]).await;
            }
            all.push(org);
        }
    }
    all.sort();
    ctx.update_account("dir-beta-1", "SET #status = :s", &[(":s", s("suspended"))]).await;
    ctx.update_account("dir-zeta-2", "SET #status = :s", &[(":s", s("suspended"))]).await;
    ctx.app
        .store
        .link_customer(&OrganizationId::parse("dir-globex-1").unwrap(), "cus_globex", Some(" Billing@Globex.example "))
        .await
        .unwrap();

    // Everything, in pages of 5: each account once, in organization-id order.
    ctx.calls.take();
    let listed = search_all(&server, "organization_id_prefix=dir-", 5).await;
    assert_eq!(listed, all);
    let calls = ctx.calls.take();
    assert_eq!(calls.get("Scan"), None, "{calls:?}");
    let pages = all.len().div_ceil(5) as u32;
    assert!(
        calls.get("Query").copied().unwrap_or_default() <= 16 * (pages + 1),
        "a query per shard and page: {calls:?}"
    );

    // A prefix is a key condition; the other filters combine with it.
    let acme_eu = ["dir-acme-eu-0", "dir-acme-eu-1", "dir-acme-eu-2"];
    assert_eq!(search_all(&server, "organization_id_prefix=dir-acme-e", 2).await, acme_eu);
    let acme: Vec<_> = all.iter().filter(|o| o.starts_with("dir-acme")).cloned().collect();
    assert_eq!(acme.len(), 9);
    assert_eq!(search_all(&server, "organization_id_prefix=dir-acme", 4).await, acme);
    assert_eq!(search_all(&server, "status=suspended", 1).await, ["dir-beta-1", "dir-zeta-2"]);
    let pro: Vec<_> = all
        .iter()
        .filter(|o| {
            ["dir-acme-0", "dir-acme-1", "dir-acme-2", "dir-beta-", "dir-umbrella-"].iter().any(|p| o.starts_with(p))
        })
        .cloned()
        .collect();
    assert_eq!(pro.len(), 9);
    assert_eq!(search_all(&server, "tier=pro&organization_id_prefix=dir-", 2).await, pro);
    assert_eq!(search_all(&server, "status=suspended&tier=pro", 10).await, ["dir-beta-1"]);
    assert_eq!(search_all(&server, "stripe_customer_id=cus_globex", 10).await, ["dir-globex-1"]);
    assert_eq!(search_all(&server, "billing_email=billing%40globex.example", 10).await, ["dir-globex-1"]);
    assert_eq!(search_all(&server, "billing_email=BILLING%40GLOBEX.EXAMPLE&status=active", 10).await, ["dir-globex-1"]);
    assert!(search_all(&server, "stripe_customer_id=cus_nobody", 10).await.is_empty());
    assert!(search_all(&server, "organization_id_prefix=nothing-here", 10).await.is_empty());

    // One page's fields.
    let page =
        server.get("/api/billing/admin/accounts?stripe_customer_id=cus_globex", Some(&server.tokens.admin())).await;
    let summary = &page.json[0];
    assert_eq!(
        (&summary["status"], &summary["tier"], &summary["billing_email"], &summary["stripe_customer_id"]),
        (&json!("active"), &json!("free"), &json!("billing@globex.example"), &json!("cus_globex"))
    );

    // Refusals: a cursor of another search, bad filters, not an operator.
    let first = server.get("/api/billing/admin/accounts?limit=2&status=active", Some(&server.tokens.admin())).await;
    let cursor = first.header(billing::lambda::http::NEXT_CURSOR_HEADER).expect("more than two active accounts");
    let other = server
        .get(
            &format!("/api/billing/admin/accounts?limit=2&status=suspended&cursor={cursor}"),
            Some(&server.tokens.admin()),
        )
        .await;
    assert_eq!((other.status, other.json["code"].as_str()), (400, Some("invalid_cursor")), "{other:?}");
    for query in ["status=closed", "tier=platinum", "organization_id_prefix=a%20b", "billing_email=nobody", "limit=0"] {
        let reply = server.get(&format!("/api/billing/admin/accounts?{query}"), Some(&server.tokens.admin())).await;
        assert_eq!(reply.status, 400, "{query}: {reply:?}");
    }
    let member = server.get("/api/billing/admin/accounts", Some(&server.tokens.owner("dir-acme-0"))).await;
    assert_eq!((member.status, member.json["code"].as_str()), (403, Some("admin_required")));
}

#[tokio::test]
async fn reserves_never_write_the_directory_index() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.account("dir-hot").await;
    ctx.capacity.take();
    // A reserve and its release both write the account.
    let path = "/api/billing/internal/quota/dir-hot/reservations";
    let body = json!({ "run_id": "r1", "kind": "standard" });
    let reply = server.request("POST", path, Some(&server.service_token()), Some(body)).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let release = "/api/billing/internal/quota/dir-hot/reservations/r1/release";
    let reply = server.request("POST", release, Some(&server.service_token()), Some(json!({}))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let consumed = ctx.capacity.take();
    assert!(consumed.write_units > 0.0, "{consumed:?}");
    assert_eq!(consumed.index_units.get("GSI4"), None, "{consumed:?}");
    // A status change writes its entry, so searches see it.
    ctx.capacity.take();
    let suspend = "/api/billing/admin/accounts/dir-hot/suspend";
    let reply = server.request("POST", suspend, Some(&server.tokens.admin()), Some(json!({ "reason": "test" }))).await;
    assert_eq!(reply.status, 200);
    assert!(ctx.capacity.take().index_units.get("GSI4").copied().unwrap_or_default() > 0.0);
    assert_eq!(search_all(&server, "status=suspended&organization_id_prefix=dir-hot", 5).await, ["dir-hot"]);
}

#[tokio::test]
async fn one_account_in_full_shows_holds_ledger_invoices_flags_and_audit() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let admin = server.tokens.admin();
    ctx.account("dir-full").await;
    ctx.update_account("dir-full", "SET credit_balance_cents = :c", &[(":c", billing_tests::values::n(5000))]).await;
    let reserve = "/api/billing/internal/quota/dir-full/reservations";
    let reply = server
        .request(
            "POST",
            reserve,
            Some(&server.service_token()),
            Some(json!({ "run_id": "open-1", "kind": "standard" })),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let grant = server
        .request_with_headers(
            "POST",
            "/api/billing/admin/accounts/dir-full/credits",
            Some(&admin),
            Some(json!({ "amount_usd": 5, "reason": "goodwill" })),
            &[("idempotency-key", "full-1")],
        )
        .await;
    assert_eq!(grant.status, 200, "{grant:?}");
    let flag = server
        .request("PUT", "/api/billing/admin/flags/beta", Some(&admin), Some(json!({ "enabled": false, "reason": "r" })))
        .await;
    assert_eq!(flag.status, 200);
    let over = server
        .request(
            "PUT",
            "/api/billing/admin/accounts/dir-full/flags/beta",
            Some(&admin),
            Some(json!({ "enabled": true, "reason": "pilot" })),
        )
        .await;
    assert_eq!(over.status, 200);

    let full = server.get("/api/billing/admin/accounts/dir-full", Some(&admin)).await;
    assert_eq!(full.status, 200, "{full:?}");
    let body: &Value = &full.json;
    assert_eq!(body["account"]["organization_id"], "dir-full");
    assert_eq!(body["account"]["credits_available_usd"], json!(55.0));
    assert_eq!(body["subscription"]["tier"], "free");
    let holds: Vec<_> = body["open_holds"].as_array().unwrap().iter().map(|h| h["run_id"].clone()).collect();
    assert_eq!(holds, [json!("open-1")]);
    assert_eq!(body["open_holds_complete"], true);
    assert_eq!(body["recent_ledger"][0]["kind"], "grant");
    assert_eq!(
        (&body["flags"]["beta"]["enabled"], &body["flags"]["beta"]["source"]),
        (&json!(true), &json!("organization"))
    );
    assert_eq!(body["flag_overrides"], json!({ "beta": true }));
    let actions: Vec<_> = body["recent_audit"].as_array().unwrap().iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions, [json!("flag_overridden"), json!("credits_granted")]);
    assert!(body["recent_invoices"].as_array().unwrap().is_empty());
    assert_eq!(body["budget"]["monthly_limit_usd"], Value::Null);

    let missing = server.get("/api/billing/admin/accounts/dir-nobody", Some(&admin)).await;
    assert_eq!((missing.status, missing.json["code"].as_str()), (404, Some("account_not_found")));
    let owner = server.get("/api/billing/admin/accounts/dir-full", Some(&server.tokens.owner("dir-full"))).await;
    assert_eq!(owner.status, 403);
}
