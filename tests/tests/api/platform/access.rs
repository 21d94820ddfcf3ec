//! Authentication and object-level authorization, over HTTP as API Gateway would see it.

use billing_tests::{TestContext, template};
use local_server::template::RouteAuth;

/// Every JWT-protected route with its path parameters filled in for organization `org`.
fn jwt_routes(org: &str) -> Vec<(String, String)> {
    template()
        .routes()
        .unwrap()
        .into_iter()
        .filter(|(route, _)| matches!(route.auth, RouteAuth::Jwt(_)))
        .map(|(route, _)| (route.method, route.path.replace("{organization_id}", org)))
        .collect()
}

#[tokio::test]
async fn every_jwt_route_refuses_a_missing_or_forged_token_with_401() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let forged = local_server::tokens::DevTokens::random().member("demo");

    for (method, path) in jwt_routes("demo") {
        for token in [None, Some(forged.as_str()), Some("garbage")] {
            let reply = server.request(&method, &path, token, None).await;
            assert_eq!(reply.status, 401, "{method} {path} with {token:?}: {reply:?}");
        }
    }
    assert!(ctx.all_items().await.is_empty(), "refused requests write nothing");
}

#[tokio::test]
async fn a_member_of_another_organization_is_refused_with_403_on_every_org_route() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let outsider = server.tokens.member("other");

    let org_routes: Vec<_> = jwt_routes("demo").into_iter().filter(|(_, path)| path.contains("/demo")).collect();
    assert!(!org_routes.is_empty());
    for (method, path) in org_routes {
        let reply = server.request(&method, &path, Some(&outsider), None).await;
        assert_eq!(reply.status, 403, "{method} {path}: {reply:?}");
        // Operators' routes name the role they need; the others, the organization.
        let code = if path.starts_with("/api/billing/admin/") { "admin_required" } else { "organization_forbidden" };
        assert_eq!(reply.json["code"], code, "{method} {path}");
        assert!(reply.json["detail"].is_string());
    }
    assert!(ctx.all_items().await.is_empty(), "refused requests write nothing");
}

#[tokio::test]
async fn a_malformed_organization_id_is_a_400_that_writes_nothing() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let admin = server.tokens.admin();

    for bad in ["bad%20id", "x%23y", &"a".repeat(65)] {
        let reply = server.get(&format!("/api/billing/account/{bad}"), Some(&admin)).await;
        assert_eq!(reply.status, 400, "{bad}: {reply:?}");
        assert_eq!(reply.json["code"], "invalid_organization_id");
    }
    assert!(ctx.all_items().await.is_empty());
}

#[tokio::test]
async fn a_token_listing_several_organizations_reaches_each_of_them_and_admins_reach_all() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let multi = server.tokens.mint("u", serde_json::json!({ "org_ids": ["alpha", "beta"] }));

    assert_eq!(server.get("/api/billing/account/alpha", Some(&multi)).await.status, 200);
    assert_eq!(server.get("/api/billing/account/beta", Some(&multi)).await.status, 200);
    assert_eq!(server.get("/api/billing/account/gamma", Some(&multi)).await.status, 403);
    assert_eq!(server.get("/api/billing/account/gamma", Some(&server.tokens.admin())).await.status, 200);
}

#[tokio::test]
async fn unknown_paths_are_404_like_api_gateway() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let reply = server.get("/api/billing/nope", Some(&server.tokens.member("demo"))).await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn cors_preflights_from_the_frontend_origin_are_answered_like_api_gateway() {
    let ctx = TestContext::with_env(&[("FRONTEND_URL", "https://app.example.com")]).await;
    let server = ctx.serve().await;
    let preflight = |origin: &'static str| {
        server
            .http
            .request(reqwest::Method::OPTIONS, format!("{}/api/billing/account/demo", server.url))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };

    let ours = preflight("https://app.example.com").await.unwrap();
    assert_eq!(ours.status(), 204);
    assert_eq!(ours.headers()["access-control-allow-origin"], "https://app.example.com");
    let theirs = preflight("https://evil.example").await.unwrap();
    assert!(theirs.headers().get("access-control-allow-origin").is_none());

    let reply = server
        .http
        .get(format!("{}/api/billing/plans", server.url))
        .bearer_auth(server.tokens.member("demo"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.headers()["access-control-allow-origin"], "https://app.example.com");
}
