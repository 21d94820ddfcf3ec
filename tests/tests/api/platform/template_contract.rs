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

/// The routes anyone may call: the frontend's `getStripe()` reads `/config` before sign-in,
/// `/plans` is a price list, the OpenAPI document is a reference, and Stripe signs its
/// webhook calls instead of sending a token.
const OPEN_PATHS: [&str; 4] = [WEBHOOK_PATH, "/api/billing/config", "/api/billing/plans", "/api/billing/openapi.json"];

#[test]
fn every_route_requires_the_jwt_authorizer_or_iam_except_the_public_ones_and_the_stripe_webhook() {
    assert_eq!(template().default_authorizer().as_deref(), Some("JwtAuthorizer"));
    for (route, binary) in template().routes().unwrap() {
        match route.auth {
            RouteAuth::Jwt(name) => assert_eq!(name, "JwtAuthorizer", "{binary}"),
            RouteAuth::Iam => assert!(route.path.contains("/internal/"), "{binary}: IAM is for internal routes"),
            RouteAuth::None => assert!(OPEN_PATHS.contains(&route.path.as_str()), "{binary} must not be open"),
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

#[test]
fn every_schedule_names_its_function_as_its_job_and_the_local_server_can_run_it() {
    let runnable = registry::schedule_handlers();
    let mut scheduled = Vec::new();
    for function in template().functions().unwrap() {
        for schedule in &function.schedules {
            // The job name keys the last-run record; locally the server sends the binary name.
            assert_eq!(
                schedule.input["job"],
                function.binary.as_str(),
                "{}: job named by its binary",
                function.logical_id
            );
            assert!(runnable.contains_key(function.binary.as_str()), "{} is not in the registry", function.binary);
            scheduled.push((function.binary.clone(), schedule.expression.clone()));
        }
    }
    scheduled.sort();
    let expected = [
        ("cron-expire-holds", "rate(5 minutes)"),
        ("cron-monthly-close", "cron(0 2 1 * ? *)"),
        ("cron-overdue-invoices", "cron(0 6 * * ? *)"),
    ]
    .map(|(b, e)| (b.to_owned(), e.to_owned()));
    assert_eq!(scheduled, expected);
}

#[test]
fn every_domain_event_type_has_a_subscriber_in_the_template() {
    let patterns: Vec<serde_json::Value> =
        template().functions().unwrap().into_iter().flat_map(|f| f.event_patterns).collect();
    for name in billing::events::DomainEvent::NAMES {
        let subscribed = patterns.iter().any(|p| {
            p["source"].as_array().is_some_and(|s| s.iter().any(|v| v == "billing"))
                && p["detail-type"].as_array().is_some_and(|d| d.iter().any(|v| v == name))
        });
        assert!(subscribed, "no EventBridge rule in template.yaml delivers {name}");
    }
}

#[test]
fn every_queue_has_a_dead_letter_queue_and_a_visibility_timeout_of_at_least_six_consumer_timeouts() {
    let queues = template().queues();
    let on_failure: Vec<String> =
        template().functions().unwrap().into_iter().flat_map(|f| f.streams).filter_map(|s| s.on_failure).collect();
    let async_failures: Vec<String> = async_failure_destinations().into_values().collect();
    let dead_letter: Vec<&str> = queues
        .iter()
        .filter_map(|q| q.redrive.as_ref().map(|(d, _)| d.as_str()))
        .chain(on_failure.iter().map(String::as_str))
        .chain(async_failures.iter().map(String::as_str))
        .collect();
    for queue in queues.iter().filter(|q| !dead_letter.contains(&q.logical_id.as_str())) {
        assert!(queue.redrive.is_some(), "{} has no dead-letter queue", queue.logical_id);
        // Consumers run with a 30 s timeout.
        assert!(
            queue.visibility_timeout.unwrap_or(30) >= 180,
            "{} visibility timeout below 6 × 30 s",
            queue.logical_id
        );
    }
}

#[test]
fn the_outbox_consumer_reads_only_outbox_inserts_retries_failed_records_and_has_a_dead_letter_queue() {
    let (table_id, table) = template().table().unwrap();
    assert_eq!(table.stream_specification.map(|s| s.stream_view_type).as_deref(), Some("NEW_IMAGE"));
    let functions = template().functions().unwrap();
    let consumers: Vec<_> = functions.iter().filter(|f| !f.streams.is_empty()).collect();
    assert_eq!(consumers.iter().map(|f| f.binary.as_str()).collect::<Vec<_>>(), ["stream-outbox"]);
    let source = &consumers[0].streams[0];
    assert_eq!(source.table, table_id, "it reads the billing table's stream");
    assert!(source.reports_batch_item_failures, "a failed PutEvents must be retried, not dropped");
    let dlq = source.on_failure.as_deref().expect("an OnFailure destination");
    assert!(template().queues().iter().any(|q| q.logical_id == dlq), "{dlq} is a queue of the template");
    let record =
        |name: &str, sk: &str| serde_json::json!({ "eventName": name, "dynamodb": { "Keys": { "SK": { "S": sk } } } });
    let passes = |r: &serde_json::Value| source.filters.iter().any(|f| local_server::stream::matches_pattern(f, r));
    assert!(passes(&record("INSERT", "OUTBOX#suspended-in_1-3")));
    assert!(!passes(&record("MODIFY", "OUTBOX#suspended-in_1-3")), "a rewrite is not a new event");
    assert!(!passes(&record("REMOVE", "OUTBOX#suspended-in_1-3")), "TTL expiry publishes nothing");
    assert!(!passes(&record("INSERT", "ACCOUNT")));
}

#[test]
fn stripe_secrets_live_in_secrets_manager_and_only_the_functions_that_use_them_may_read_them() {
    const PLAIN: [&str; 2] = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"];
    let globals = template().global_environment();
    assert!(PLAIN.iter().all(|name| !globals.iter().any(|g| g == name)), "globals: {globals:?}");
    let mut readers = Vec::new();
    for function in template().functions().unwrap() {
        let name = &function.binary;
        assert!(PLAIN.iter().all(|p| !function.environment.iter().any(|e| e == p)), "{name} has a plain secret");
        let has_arn = function.environment.iter().any(|e| e == "STRIPE_SECRETS_ARN");
        let may_read = function.policies.iter().any(|p| p == "AWSSecretsManagerGetSecretValuePolicy");
        assert_eq!(has_arn, may_read, "{name}: the secret's ARN and the right to read it go together");
        if may_read {
            readers.push(name.clone());
        }
    }
    // Those who call Stripe or verify its webhooks, and no one else.
    for reader in &readers {
        let calls_stripe = reader.contains("checkout")
            || reader.contains("payment-method")
            || reader.contains("portal")
            || reader.starts_with("http-post-invoice")
            || reader == "sqs-account-close"
            || reader.contains("stripe")
            || reader.starts_with("http-post-subscription-")
            || reader == "http-get-subscription-preview"
            || reader == "http-get-admin-health"
            || reader.starts_with("http-post-admin-invoice-")
            || reader.starts_with("http-post-admin-promo-code");
        assert!(calls_stripe, "{reader} may read the Stripe secrets without calling Stripe");
    }
    assert!(readers.contains(&"webhook-stripe".to_owned()) && readers.contains(&"sqs-stripe-events".to_owned()));
}

/// `sam build` runs `cargo lambda build --bin <binary>` in the function's `CodeUri`. From its
/// own package directory cargo builds that package alone, so the shared crate gets only the
/// function's features; from the workspace root it would unify every function's.
#[test]
fn each_function_is_built_from_its_own_package_with_its_own_features() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for function in template().functions().unwrap() {
        let expected = format!("functions/{}", function.binary);
        assert_eq!(function.code_uri.as_deref(), Some(expected.as_str()), "{}", function.logical_id);
        assert!(root.join(&expected).join("Cargo.toml").exists(), "{expected} is a package");
    }
}

#[test]
fn only_the_functions_given_the_stripe_secrets_link_the_secrets_manager_client() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for function in template().functions().unwrap() {
        let manifest = root.join("functions").join(&function.binary).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        let linked = text.lines().any(|l| l.starts_with("billing ") && l.contains("\"stripe-secrets\""));
        let given = function.environment.iter().any(|e| e == "STRIPE_SECRETS_ARN");
        assert_eq!(
            linked, given,
            "{}: the `stripe-secrets` feature and STRIPE_SECRETS_ARN go together",
            function.binary
        );
    }
}

/// template.yaml as plain YAML, for the properties the local server has no use for.
fn raw_template() -> serde_yaml::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("template.yaml")).expect("valid YAML")
}

/// `!GetAtt Name.Attribute` → `("Name", "Attribute")`; `!Ref Name` → `("Name", "Ref")`.
fn reference(value: &serde_yaml::Value) -> Option<(String, String)> {
    let serde_yaml::Value::Tagged(tagged) = value else { return None };
    let text = tagged.value.as_str()?;
    match tagged.tag.to_string().as_str() {
        "!GetAtt" => text.split_once('.').map(|(n, a)| (n.to_owned(), a.to_owned())),
        "!Ref" => Some((text.to_owned(), "Ref".to_owned())),
        _ => None,
    }
}

fn resources_of(raw: &serde_yaml::Value, kind: &str) -> Vec<(String, serde_yaml::Value)> {
    raw["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

/// Each asynchronously invoked function (a schedule or an event rule invokes it) and the
/// queue its failed invocations go to.
fn async_failure_destinations() -> std::collections::BTreeMap<String, String> {
    const ASYNC_EVENTS: &[&str] = &["Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent", "SNS", "S3"];
    let raw = raw_template();
    let mut destinations = std::collections::BTreeMap::new();
    for (id, function) in resources_of(&raw, "AWS::Serverless::Function") {
        let events = function["Properties"]["Events"].as_mapping().cloned().unwrap_or_default();
        let invoked_async = events.values().any(|e| e["Type"].as_str().is_some_and(|t| ASYNC_EVENTS.contains(&t)));
        if !invoked_async {
            continue;
        }
        let on_failure = &function["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
        assert_eq!(
            on_failure["Type"].as_str(),
            Some("SQS"),
            "{id} is invoked asynchronously: where do its failures go?"
        );
        let (queue, attribute) = reference(&on_failure["Destination"]).expect("a queue of the template");
        assert_eq!(attribute, "Arn", "{id}");
        destinations.insert(id, queue);
    }
    destinations
}

#[test]
fn every_asynchronously_invoked_function_sends_its_failed_invocations_to_an_alarmed_queue() {
    let destinations = async_failure_destinations();
    let jobs: Vec<&str> = destinations.keys().map(String::as_str).collect();
    assert_eq!(
        jobs,
        ["CronExpireHoldsFunction", "CronMonthlyCloseFunction", "CronOverdueInvoicesFunction", "EventNotifierFunction"]
    );
    let raw = raw_template();
    let queues: Vec<String> = resources_of(&raw, "AWS::SQS::Queue").into_iter().map(|(id, _)| id).collect();
    let alarmed: Vec<String> = resources_of(&raw, "AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, alarm)| alarm["Properties"]["AlarmActions"].as_sequence().is_some_and(|a| !a.is_empty()))
        .filter_map(|(_, alarm)| {
            let dimensions = alarm["Properties"]["Dimensions"].as_sequence()?.clone();
            dimensions.iter().find_map(|d| reference(&d["Value"]).filter(|(_, a)| a == "QueueName").map(|(q, _)| q))
        })
        .collect();
    for (function, queue) in &destinations {
        assert!(queues.contains(queue), "{function} sends its failures to {queue}, not a queue of the template");
        assert!(alarmed.contains(queue), "nobody is paged when {queue} receives {function}'s failures");
        let watched = billing::operators::rules::queues::find(queue).expect("the health view watches it");
        assert_eq!(
            watched.dead_letters,
            Some(billing::operators::rules::queues::DeadLetters::AsyncFailures),
            "{queue} holds records to read, not messages to redeliver"
        );
    }
}

#[test]
fn every_queue_and_topic_states_its_encryption_and_alarms_may_use_the_topics_key() {
    let raw = raw_template();
    for (id, queue) in resources_of(&raw, "AWS::SQS::Queue") {
        let properties = &queue["Properties"];
        let stated =
            properties["SqsManagedSseEnabled"].as_bool() == Some(true) || !properties["KmsMasterKeyId"].is_null();
        assert!(stated, "{id} does not state its encryption");
    }
    for (id, topic) in resources_of(&raw, "AWS::SNS::Topic") {
        let (key, _) =
            reference(&topic["Properties"]["KmsMasterKeyId"]).unwrap_or_else(|| panic!("{id} is not encrypted"));
        let policy = &raw["Resources"][key.as_str()]["Properties"]["KeyPolicy"]["Statement"];
        let alarms_may_publish = policy.as_sequence().unwrap().iter().any(|s| {
            s["Principal"]["Service"].as_str() == Some("cloudwatch.amazonaws.com")
                && s["Action"]
                    .as_sequence()
                    .is_some_and(|a| a.iter().any(|a| a.as_str() == Some("kms:GenerateDataKey*")))
        });
        assert!(alarms_may_publish, "CloudWatch alarms could not publish to {id} through {key}");
    }
}

#[test]
fn the_api_writes_an_access_log_and_every_log_group_keeps_a_retention() {
    let raw = raw_template();
    let groups: Vec<(String, serde_yaml::Value)> = resources_of(&raw, "AWS::Logs::LogGroup");
    for (id, group) in &groups {
        assert!(!group["Properties"]["RetentionInDays"].is_null(), "{id} keeps its logs forever");
    }
    let group_ids: Vec<&str> = groups.iter().map(|(id, _)| id.as_str()).collect();
    let (api_id, api) = resources_of(&raw, "AWS::Serverless::HttpApi").into_iter().next().expect("the HTTP API");
    let settings = &api["Properties"]["AccessLogSettings"];
    let (destination, _) =
        reference(&settings["DestinationArn"]).unwrap_or_else(|| panic!("{api_id} logs no requests"));
    assert!(group_ids.contains(&destination.as_str()), "{api_id} logs to {destination}");
    let format: serde_json::Value = serde_json::from_str(settings["Format"].as_str().unwrap()).expect("JSON lines");
    for field in ["requestId", "route", "status", "latencyMs", "integrationError"] {
        assert!(format.get(field).is_some(), "the access log has no {field}");
    }
    // Functions log into a group of the template (with its retention), not an unbounded default.
    let (group, _) = reference(&raw["Globals"]["Function"]["LoggingConfig"]["LogGroup"]).expect("a log group");
    assert!(group_ids.contains(&group.as_str()), "functions log to {group}");
    for (id, function) in resources_of(&raw, "AWS::Serverless::Function") {
        assert!(function["Properties"]["LoggingConfig"].is_null(), "{id} overrides the functions' log group");
    }
}
