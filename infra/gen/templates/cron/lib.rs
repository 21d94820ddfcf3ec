//! `{{name}}` — TODO: what it does, and when. Safe to run twice: the scheduler retries a
//! failed run.

use billing::App;
use billing::lambda::schedule::ScheduleEvent;
use serde_json::json;

pub async fn handle(_app: App, _event: ScheduleEvent) -> anyhow::Result<serde_json::Value> {
    Ok(json!({ "done": 0 }))
}
