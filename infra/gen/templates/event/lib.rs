//! `{{name}}` — TODO: what it does with the domain events its rule delivers (EventBridge
//! may deliver one twice).

use billing::App;

pub async fn handle(_app: App, event: serde_json::Value) -> anyhow::Result<serde_json::Value> {
    let kind = event.get("detail-type").and_then(|t| t.as_str()).unwrap_or_default();
    Ok(serde_json::json!({ "handled": kind }))
}
