//! Feature flags: operators define a default and tier values and override per organization,
//! each change audited with who and why; members read their organization's flags, the
//! organization's override winning over its tier's value, winning over the default.

use billing_tests::values::s;
use billing_tests::{Reply, TestContext, TestServer};
use futures::future::join_all;
use serde_json::{Value, json};

async fn put(server: &TestServer, path: &str, body: Value) -> Reply {
    server.request("PUT", path, Some(&server.tokens.admin()), Some(body)).await
}

async fn features(server: &TestServer, org: &str) -> Value {
    let member = server.tokens.member(org);
    let reply = server.get(&format!("/api/billing/account/{org}/features"), Some(&member)).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json
}

async fn trail(server: &TestServer, query: &str) -> Vec<Value> {
    let reply = server.get(&format!("/api/billing/admin/audit?{query}"), Some(&server.tokens.admin())).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_organizations_override_wins_over_its_tiers_value_which_wins_over_the_default() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.account("flags-free").await;
    ctx.account("flags-pro").await;
    ctx.update_account("flags-pro", "SET tier = :t", &[(":t", s("pro"))]).await;

    let defined = put(
        &server,
        "/api/billing/admin/flags/new-editor",
        json!({ "enabled": false, "tiers": { "pro": true }, "description": "The new editor", "reason": "beta for pro" }),
    )
    .await;
    assert_eq!(defined.status, 200, "{defined:?}");
    assert_eq!(
        (&defined.json["flag"], &defined.json["enabled"], &defined.json["tiers"], &defined.json["version"]),
        (&json!("new-editor"), &json!(false), &json!({ "pro": true }), &json!(1))
    );
    assert_eq!(defined.json["updated_by"], "admin");
    put(&server, "/api/billing/admin/flags/dark-mode", json!({ "enabled": true, "reason": "everyone" })).await;

    // Global, then tier.
    assert_eq!(features(&server, "flags-free").await["features"], json!({ "dark-mode": true, "new-editor": false }));
    let pro = features(&server, "flags-pro").await;
    assert_eq!((&pro["tier"], &pro["features"]), (&json!("pro"), &json!({ "dark-mode": true, "new-editor": true })));
    // An organization without a billing account yet reads the free tier's values.
    assert_eq!(features(&server, "flags-none").await["features"], json!({ "dark-mode": true, "new-editor": false }));

    // The organization over the tier, both ways; removing the override restores the tier's.
    let path = "/api/billing/admin/accounts/flags-pro/flags/new-editor";
    let off = put(&server, path, json!({ "enabled": false, "reason": "customer asked" })).await;
    assert_eq!(
        off.json,
        json!({ "organization_id": "flags-pro", "flag": "new-editor", "override_enabled": false, "enabled": false,
                "source": "organization" }),
        "{off:?}"
    );
    assert_eq!(features(&server, "flags-pro").await["features"]["new-editor"], false);
    let on = put(
        &server,
        "/api/billing/admin/accounts/flags-free/flags/new-editor",
        json!({ "enabled": true, "reason": "pilot" }),
    )
    .await;
    assert_eq!((on.json["enabled"].as_bool(), on.json["source"].as_str()), (Some(true), Some("organization")));
    assert_eq!(features(&server, "flags-free").await["features"]["new-editor"], true);
    let removed = put(&server, path, json!({ "enabled": null, "reason": "back to the plan" })).await;
    assert_eq!(
        (&removed.json["override_enabled"], &removed.json["enabled"], &removed.json["source"]),
        (&Value::Null, &json!(true), &json!("tier"))
    );

    // Changing the default moves only those without a tier value or an override.
    put(
        &server,
        "/api/billing/admin/flags/new-editor",
        json!({ "enabled": true, "tiers": { "pro": false }, "reason": "ga" }),
    )
    .await;
    assert_eq!(features(&server, "flags-pro").await["features"]["new-editor"], false);
    assert_eq!(features(&server, "flags-free").await["features"]["new-editor"], true);
    assert_eq!(features(&server, "flags-none").await["features"]["new-editor"], true);
    let read = server.get("/api/billing/admin/flags/new-editor", Some(&server.tokens.admin())).await;
    assert_eq!((&read.json["version"], &read.json["tiers"]), (&json!(2), &json!({ "pro": false })));
}

#[tokio::test]
async fn each_flag_change_is_audited_with_who_and_why_and_bad_changes_change_nothing() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.account("flags-a").await;
    let flag = "/api/billing/admin/flags/exports";
    let org_flag = "/api/billing/admin/accounts/flags-a/flags/exports";

    // An override of a flag nobody defined is refused, so is every malformed change.
    let undefined = put(&server, org_flag, json!({ "enabled": true, "reason": "r" })).await;
    assert_eq!((undefined.status, undefined.json["code"].as_str()), (404, Some("flag_not_found")), "{undefined:?}");
    let cases = [
        (flag, json!({ "enabled": true }), 400, "reason_required"),
        (flag, json!({ "enabled": true, "reason": "  " }), 400, "reason_required"),
        (flag, json!({ "enabled": true, "tiers": { "platinum": true }, "reason": "r" }), 400, "unknown_tier"),
        (flag, json!({ "enabled": "yes", "reason": "r" }), 400, "invalid_body"),
        ("/api/billing/admin/flags/Exports", json!({ "enabled": true, "reason": "r" }), 400, "invalid_flag"),
    ];
    for (path, body, status, code) in cases {
        let reply = put(&server, path, body.clone()).await;
        assert_eq!((reply.status, reply.json["code"].as_str()), (status, Some(code)), "{body}: {reply:?}");
    }
    let missing = server.get(flag, Some(&server.tokens.admin())).await;
    assert_eq!((missing.status, missing.json["code"].as_str()), (404, Some("flag_not_found")));
    // Not an operator: refused, nothing written.
    let owner = server.tokens.owner("flags-a");
    let refused = server.request("PUT", flag, Some(&owner), Some(json!({ "enabled": true, "reason": "r" }))).await;
    assert_eq!((refused.status, refused.json["code"].as_str()), (403, Some("admin_required")));
    assert!(trail(&server, "flag=exports").await.is_empty());

    assert_eq!(put(&server, flag, json!({ "enabled": false, "reason": "dark launch" })).await.status, 200);
    assert_eq!(put(&server, flag, json!({ "enabled": true, "reason": "launch" })).await.status, 200);
    let refused = put(&server, org_flag, json!({ "enabled": false })).await;
    assert_eq!(refused.json["code"], "reason_required");
    assert_eq!(put(&server, org_flag, json!({ "enabled": false, "reason": "data residency" })).await.status, 200);

    let flag_trail = trail(&server, "flag=exports").await;
    let summary: Vec<_> = flag_trail
        .iter()
        .map(|e| (e["action"].as_str(), e["reason"].as_str(), e["actor"].as_str(), e["before"]["enabled"].clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (Some("flag_changed"), Some("launch"), Some("admin"), json!(false)),
            (Some("flag_defined"), Some("dark launch"), Some("admin"), Value::Null),
        ],
        "newest first"
    );
    assert_eq!((&flag_trail[0]["after"]["enabled"], &flag_trail[0]["organization_id"]), (&json!(true), &Value::Null));
    let org_trail = trail(&server, "organization_id=flags-a").await;
    assert_eq!(org_trail.len(), 1);
    assert_eq!(
        (
            &org_trail[0]["action"],
            &org_trail[0]["flag"],
            &org_trail[0]["reason"],
            &org_trail[0]["before"],
            &org_trail[0]["after"]
        ),
        (
            &json!("flag_overridden"),
            &json!("exports"),
            &json!("data residency"),
            &json!({ "enabled": null }),
            &json!({ "enabled": false })
        )
    );
    let both =
        server.get("/api/billing/admin/audit?organization_id=flags-a&flag=exports", Some(&server.tokens.admin())).await;
    assert_eq!((both.status, both.json["code"].as_str()), (400, Some("organization_required")));
}

#[tokio::test]
async fn concurrent_overrides_of_different_flags_for_one_organization_all_land() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let names: Vec<String> = (0..8).map(|i| format!("flag-{i}")).collect();
    for name in &names {
        let reply =
            put(&server, &format!("/api/billing/admin/flags/{name}"), json!({ "enabled": false, "reason": "r" })).await;
        assert_eq!(reply.status, 200);
    }
    let replies = join_all(names.iter().map(|name| {
        let path = format!("/api/billing/admin/accounts/flags-race/flags/{name}");
        let server = &server;
        async move { put(server, &path, json!({ "enabled": true, "reason": "race" })).await }
    }))
    .await;
    assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
    let all = features(&server, "flags-race").await["features"].clone();
    assert!(names.iter().all(|name| all[name.as_str()] == true), "{all}");
    assert_eq!(trail(&server, "organization_id=flags-race").await.len(), names.len());
}

#[tokio::test]
async fn operators_list_every_defined_flag_in_name_order() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let admin = server.tokens.admin();
    let empty = server.get("/api/billing/admin/flags", Some(&admin)).await;
    assert_eq!((empty.status, &empty.json), (200, &json!({ "flags": [] })), "{empty:?}");

    put(&server, "/api/billing/admin/flags/zeta", json!({ "enabled": true, "reason": "later" })).await;
    let alpha = put(
        &server,
        "/api/billing/admin/flags/alpha",
        json!({ "enabled": false, "tiers": { "pro": true }, "description": "First", "reason": "beta" }),
    )
    .await;
    assert_eq!(alpha.status, 200, "{alpha:?}");

    let listed = server.get("/api/billing/admin/flags", Some(&admin)).await;
    assert_eq!(listed.status, 200, "{listed:?}");
    let flags = listed.json["flags"].as_array().cloned().unwrap_or_default();
    assert_eq!(flags.iter().map(|f| f["flag"].as_str().unwrap_or("")).collect::<Vec<_>>(), ["alpha", "zeta"]);
    // Each entry is the single-flag route's answer.
    assert_eq!(flags[0], alpha.json);
    // Not for members.
    let member = server.get("/api/billing/admin/flags", Some(&server.tokens.member("acme"))).await;
    assert_eq!(member.status, 403, "{member:?}");
}
