//! Operator helpers: the audit trail, the health view and messages on the context's queues.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::MessageAttributeValue;
use serde_json::Value;

use crate::{TestContext, TestServer};

/// The organization's audit trail as operators read it, newest first.
pub async fn audit(server: &TestServer, org: &str) -> Vec<Value> {
    let reply =
        server.get(&format!("/api/billing/admin/audit?organization_id={org}"), Some(&server.tokens.admin())).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json.as_array().cloned().unwrap_or_default()
}

/// The URL of one of the context's queues, by logical id.
pub fn queue_url(ctx: &TestContext, queue: &str) -> String {
    ctx.resources.as_ref().expect("with_messaging").queue_urls[queue].clone()
}

/// Sends `body` to one of the context's queues (by logical id) with an `origin` attribute,
/// in message group `group` on a FIFO queue.
pub async fn send_to_queue(ctx: &TestContext, queue: &str, body: &str, group: Option<&str>) {
    let mut request =
        ctx.app.sqs().send_message().queue_url(queue_url(ctx, queue)).message_body(body).message_attributes(
            "origin",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(format!("{body}-origin"))
                .build()
                .unwrap(),
        );
    if let Some(group) = group {
        request = request.message_group_id(group).message_deduplication_id(uuid::Uuid::new_v4().simple().to_string());
    }
    request.send().await.expect("send");
}

/// The operators' health view, which must answer 200.
pub async fn health(server: &TestServer) -> Value {
    let reply = server.get("/api/billing/admin/health", Some(&server.tokens.admin())).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json
}

/// The visible message count of each queue in a health view, by queue name.
pub fn visible_by_queue(health: &Value) -> BTreeMap<String, i64> {
    let queues = health["queues"].as_array().expect("queues");
    queues.iter().map(|q| (q["name"].as_str().unwrap().to_owned(), q["visible"].as_i64().expect("counted"))).collect()
}
