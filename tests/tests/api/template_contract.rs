//! The template, the function packages and the local server must describe the same system.

use std::collections::BTreeSet;
use std::path::Path;

use billing_tests::{TestContext, template};
use local_server::registry;
use local_server::template::RouteAuth;

/// The one route Stripe calls; it authenticates by signature instead of a JWT.
const WEBHOOK_PATH: &str = "/api/billing/webhook";

fn function_packages() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_function_package_has_a_template_resource_and_a_registered_handler() {
    let packages = function_packages();
    let in_template: BTreeSet<String> = template().functions().unwrap().into_iter().map(|f| f.binary).collect();
    let registered: BTreeSet<String> = registry::all_binaries().into_iter().map(str::to_owned).collect();
    assert_eq!(packages, in_template, "functions/ and template.yaml disagree");
    assert_eq!(packages, registered, "functions/ and the local server registry disagree");
}

#[test]
fn every_route_requires_the_jwt_authorizer_or_iam_except_the_stripe_webhook() {
    assert_eq!(template().default_authorizer().as_deref(), Some("JwtAuthorizer"));
    for (route, binary) in template().routes().unwrap() {
        match route.auth {
            RouteAuth::Jwt(name) => assert_eq!(name, "JwtAuthorizer", "{binary}"),
            RouteAuth::Iam => assert!(route.path.contains("/internal/"), "{binary}: IAM is for internal routes"),
            RouteAuth::None => assert_eq!(route.path, WEBHOOK_PATH, "{binary} must not be open"),
        }
        assert!(route.path.starts_with("/api/billing/"), "{binary}: {}", route.path);
    }
}

#[tokio::test]
async fn every_http_route_in_the_template_is_served_by_the_local_server() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    let admin = server.tokens.admin();
    for (route, binary) in template().routes().unwrap() {
        let path = route.path.replace("{organization_id}", "demo");
        let reply = server.request(&route.method, &path, Some(&admin), None).await;
        // The router's own 404 says {"message": "Not Found"}; handlers answer {"detail","code"}.
        assert_ne!(
            reply.json.get("message").and_then(|m| m.as_str()),
            Some("Not Found"),
            "{binary} route {path} is not served"
        );
        assert_ne!(reply.status, 405, "{binary}: {} {path} not routed", route.method);
    }
}
