//! The authorization matrix: every route of the template, called as every kind of caller,
//! answers as the function's `Metadata.Access` says. Generated from template.yaml, so a new
//! route is in it the day it is added (and a route without an access class fails).

use billing_tests::{TestContext, TestServer, template};
use serde_json::json;

/// The callers of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    NoToken,
    OtherOrgMember,
    Member,
    BillingAdmin,
    Owner,
    PlatformAdmin,
    WorkflowEngine,
    /// A service token whose principal is not the workflow engine's role.
    OtherService,
}

const EVERYONE: [Who; 8] = [
    Who::NoToken,
    Who::OtherOrgMember,
    Who::Member,
    Who::BillingAdmin,
    Who::Owner,
    Who::PlatformAdmin,
    Who::WorkflowEngine,
    Who::OtherService,
];

/// What a route must answer a caller: refused with this status, or let through (any answer
/// that is neither a refusal nor a server error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Refused(u16),
    Through,
}

fn expected(access: &str, who: Who) -> Expect {
    use Expect::*;
    use Who::*;
    match (access, who) {
        ("public", _) => Through,
        // The webhook has no token check; without a Stripe signature it is a 400.
        ("stripe", _) => Refused(400),
        ("service", WorkflowEngine) => Through,
        ("service", OtherService) => Refused(403),
        // API Gateway's IAM authorization refuses anything not SigV4-signed, with a 403.
        ("service", _) => Refused(403),
        (_, NoToken) => Refused(401),
        // Addressed by invoice id alone: someone else's invoice is as missing as no invoice.
        ("invoice-member" | "invoice-billing", OtherOrgMember | WorkflowEngine | OtherService) => Refused(404),
        ("invoice-member", Member | BillingAdmin | Owner | PlatformAdmin) => Through,
        ("invoice-billing", BillingAdmin | Owner | PlatformAdmin) => Through,
        ("invoice-billing", Member) => Refused(403),
        ("member" | "billing" | "admin", OtherOrgMember | WorkflowEngine | OtherService) => Refused(403),
        ("member", Member | BillingAdmin | Owner | PlatformAdmin) => Through,
        ("billing", BillingAdmin | Owner | PlatformAdmin) => Through,
        ("billing", Member) => Refused(403),
        ("admin", PlatformAdmin) => Through,
        ("admin", _) => Refused(403),
        (other, _) => panic!("unknown access class {other:?}"),
    }
}

fn token(server: &TestServer, who: Who) -> Option<String> {
    let service = |sub: &str| server.tokens.mint(sub, json!({ "groups": [local_server::server::SERVICE_GROUP] }));
    match who {
        Who::NoToken => None,
        Who::OtherOrgMember => Some(server.tokens.owner("elsewhere")),
        Who::Member => Some(server.tokens.member("demo")),
        Who::BillingAdmin => Some(server.tokens.billing_admin("demo")),
        Who::Owner => Some(server.tokens.owner("demo")),
        Who::PlatformAdmin => Some(server.tokens.admin()),
        Who::WorkflowEngine => Some(service("workflow-engine")),
        Who::OtherService => Some(service("some-other-service")),
    }
}

/// The route's path with every parameter filled: the organization is `demo`, the invoice one
/// of demo's.
fn concrete(path: &str, invoice_id: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map(|c| open + c).expect("closed parameter");
        out.push_str(&rest[..open]);
        out.push_str(match &rest[open + 1..close] {
            "organization_id" => "demo",
            "invoice_id" => invoice_id,
            _ => "matrix-1",
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_route_answers_every_kind_of_caller_as_its_access_class_says() {
    let stripe_base = std::env::var("STRIPE_API_BASE").unwrap_or_default();
    let ctx = TestContext::with_env(&[
        ("STRIPE_SECRET_KEY", "sk_test_123"),
        ("STRIPE_API_BASE", &stripe_base),
        ("STRIPE_WEBHOOK_SECRET", "whsec_matrix"),
        ("STRIPE_PRICE_PRO", "price_pro"),
    ])
    .await;
    let server = ctx.serve().await;
    // An invoice of demo's, for the routes addressed by invoice id.
    ctx.account("demo").await;
    billing_tests::invoicing::paid_account(&ctx, "demo", 0, 20, 0).await;
    billing_tests::invoicing::run(&ctx, "demo", "matrix-run", billing::quota::rules::RunKind::Standard, None).await;
    let org = billing::ids::OrganizationId::parse("demo").unwrap();
    let invoice = billing::invoicing::flow::generate(&ctx.app, &org).await.unwrap().invoice.id;
    let functions = template().functions().unwrap();
    let mut checked = 0;
    // DynamoDB operations each function made while answering, to hold against its policy.
    let mut operations: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    ctx.calls.take();
    for function in functions.iter().filter(|f| !f.routes.is_empty()) {
        let access = function
            .access
            .as_deref()
            .unwrap_or_else(|| panic!("{} has routes but no Metadata.Access", function.logical_id));
        for route in &function.routes {
            let path = concrete(&route.path, &invoice);
            for who in EVERYONE {
                let body = (route.method != "GET" && route.method != "DELETE").then(|| json!({}));
                let reply = server.request(&route.method, &path, token(&server, who).as_deref(), body).await;
                let what = format!("{} {} as {who:?} ({access}): {reply:?}", route.method, route.path);
                match expected(access, who) {
                    Expect::Refused(status) => assert_eq!(reply.status, status, "{what}"),
                    Expect::Through => {
                        assert!(![401, 403].contains(&reply.status), "refused: {what}");
                        assert!(reply.status < 500, "server error: {what}");
                    }
                }
                operations.entry(function.binary.clone()).or_default().extend(ctx.calls.take().into_keys());
                checked += 1;
            }
        }
    }
    // Least privilege, as exercised: a function given read-only table access only read, and
    // one given no table access made no DynamoDB call at all.
    // SAM's DynamoDBReadPolicy also grants DescribeTable (the health view's table status).
    const READS: [&str; 4] = ["GetItem", "Query", "BatchGetItem", "DescribeTable"];
    for function in functions.iter().filter(|f| !f.routes.is_empty()) {
        let made = operations.get(&function.binary).cloned().unwrap_or_default();
        let policies = &function.policies;
        if policies.iter().any(|p| p == "DynamoDBCrudPolicy") {
            continue;
        }
        if policies.iter().any(|p| p == "DynamoDBReadPolicy") {
            assert!(
                made.iter().all(|op| READS.contains(&op.as_str())),
                "{} wrote with read access: {made:?}",
                function.binary
            );
        } else {
            assert!(made.is_empty(), "{} used the table without access: {made:?}", function.binary);
        }
    }
    // Every route, every caller.
    let routes: usize = functions.iter().map(|f| f.routes.len()).sum();
    assert_eq!(checked, routes * EVERYONE.len());
    assert!(routes >= 33, "the template's routes were all found ({routes})");
}

#[tokio::test]
async fn a_member_reads_but_only_owners_and_billing_admins_move_money_and_nothing_is_written_for_a_refusal() {
    let ctx = TestContext::new().await;
    let server = ctx.serve().await;
    ctx.account("demo").await;
    let before = ctx.all_items().await;
    let member = server.tokens.member("demo");
    let reply = server
        .request("PUT", "/api/billing/account/demo/budget", Some(&member), Some(json!({ "monthly_limit_usd": 5 })))
        .await;
    assert_eq!((reply.status, reply.json["code"].as_str()), (403, Some("billing_role_required")), "{reply:?}");
    assert_eq!(ctx.all_items().await, before, "a refused request writes nothing");
    assert_eq!(server.get("/api/billing/account/demo/budget", Some(&member)).await.status, 200);
}

#[tokio::test]
async fn every_scheduled_function_uses_the_table_only_as_its_policy_allows() {
    let ctx = billing_tests::invoicing::close_context().await;
    let server = ctx.serve().await;
    // Work for every job: a hold left to expire, a month to close, an invoice overdue long
    // enough for every dunning step.
    let holder = billing::ids::OrganizationId::parse("holder").unwrap();
    let request = billing::quota::rules::ReserveRequest {
        run_id: "abandoned".into(),
        kind: billing::quota::rules::RunKind::Standard,
        estimated_cost_cents: None,
    };
    let store = &ctx.app.store;
    store.reserve(&holder, &request, ctx.app.catalog(), ctx.app.now(), ctx.app.hold_ttl()).await.unwrap();
    billing_tests::invoicing::paid_account(&ctx, "owes", 0, 20, 0).await;
    billing_tests::invoicing::run(&ctx, "owes", "owed-run", billing::quota::rules::RunKind::Standard, None).await;
    let owes = billing::ids::OrganizationId::parse("owes").unwrap();
    billing::invoicing::flow::generate(&ctx.app, &owes).await.unwrap();
    ctx.clock.advance(chrono::Duration::days(22));

    let functions = template().functions().unwrap();
    let scheduled: Vec<_> = functions.iter().filter(|f| !f.schedules.is_empty()).collect();
    assert_eq!(scheduled.len(), 3, "every schedule is checked");
    for function in scheduled {
        ctx.actions.take();
        let reply = server.request("POST", &format!("/_local/schedules/{}", function.binary), None, None).await;
        assert_eq!(reply.status, 200, "{}: {reply:?}", function.binary);
        let worked = ["released", "accounts", "accounts_suspended"].iter().any(|k| reply.json[k].as_u64() > Some(0));
        assert!(worked, "{} had work to do: {}", function.binary, reply.json);
        let used = ctx.actions.take();
        let granted: std::collections::BTreeSet<&str> =
            function.policies.iter().flat_map(|p| billing_tests::iam::granted_by(p).iter().copied()).collect();
        let beyond: Vec<&String> = used.iter().filter(|a| !granted.contains(a.as_str())).collect();
        assert!(beyond.is_empty(), "{} needs {beyond:?} beyond its policies {:?}", function.binary, function.policies);
    }
}
