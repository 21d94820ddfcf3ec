//! The last run of each scheduled job, for an operator's health view.
//!
//! | Item | PK | SK |
//! |---|---|---|
//! | Last run | `SCHEDULE#<job>` | `LASTRUN` |
//!
//! One small item per job, rewritten by every run: when it started and finished, whether it
//! succeeded, its summary or its error (both bounded), and when it last succeeded, which a
//! failed run leaves as it was.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::store::{Store, StoreError, key_item, keys, retrying, timestamp};

/// Longest summary kept (JSON text); a longer one is cut.
pub const MAX_SUMMARY_BYTES: usize = 4_096;
/// Longest error text kept.
pub const MAX_ERROR_BYTES: usize = 1_024;

pub fn last_run_key(job: &str) -> keys::Key {
    keys::Key { pk: format!("SCHEDULE#{job}"), sk: "LASTRUN".to_owned() }
}

/// How a run ended: its summary, or its error.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Ok(serde_json::Value),
    Error(String),
}

/// `SCHEDULE#<job>` / `LASTRUN`, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LastRun {
    pub job: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// `ok` or `error`.
    pub outcome: String,
    /// The job's JSON summary (text, at most [`MAX_SUMMARY_BYTES`]) when it succeeded.
    #[serde(default)]
    pub summary: Option<String>,
    /// Why it failed (at most [`MAX_ERROR_BYTES`]).
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub last_ok_at: Option<DateTime<Utc>>,
}

/// `text` cut to at most `max` bytes on a character boundary, marked when cut.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let marker = "…";
    let mut end = max.saturating_sub(marker.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{marker}", &text[..end])
}

impl Store {
    /// Records how `job`'s run went, replacing the previous record.
    pub async fn record_schedule_run(
        &self,
        job: &str,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        outcome: &RunOutcome,
    ) -> Result<(), StoreError> {
        let key = last_run_key(job);
        let s = |v: String| AttributeValue::S(v);
        let (expression, detail) = match outcome {
            RunOutcome::Ok(summary) => (
                "SET #job = :job, #start = :start, #end = :end, #outcome = :outcome, #summary = :detail, \
                 #ok = :end REMOVE #error",
                bounded(&summary.to_string(), MAX_SUMMARY_BYTES),
            ),
            RunOutcome::Error(error) => (
                "SET #job = :job, #start = :start, #end = :end, #outcome = :outcome, #error = :detail \
                 REMOVE #summary",
                bounded(error, MAX_ERROR_BYTES),
            ),
        };
        let outcome = if matches!(outcome, RunOutcome::Ok(_)) { "ok" } else { "error" };
        // Every name through a placeholder: some are DynamoDB reserved words.
        let names = [
            ("#job", "job"),
            ("#start", "started_at"),
            ("#end", "finished_at"),
            ("#outcome", "outcome"),
            ("#summary", "summary"),
            ("#error", "error"),
            ("#ok", "last_ok_at"),
        ];
        let names = names.iter().filter(|(p, _)| expression.contains(p)).map(|(p, n)| (p.to_string(), n.to_string()));
        let names: std::collections::HashMap<String, String> = names.collect();
        retrying(|| async {
            self.client()
                .update_item()
                .table_name(self.table())
                .set_key(Some(key_item(&key)))
                .update_expression(expression)
                .set_expression_attribute_names(Some(names.clone()))
                .expression_attribute_values(":job", s(job.to_owned()))
                .expression_attribute_values(":start", s(timestamp(started_at)))
                .expression_attribute_values(":end", s(timestamp(finished_at)))
                .expression_attribute_values(":outcome", s(outcome.to_owned()))
                .expression_attribute_values(":detail", s(detail.clone()))
                .send()
                .await
                .map_err(|e| StoreError::from_sdk("UpdateItem", e))
        })
        .await?;
        Ok(())
    }

    pub async fn last_schedule_run(&self, job: &str) -> Result<Option<LastRun>, StoreError> {
        self.get_item(last_run_key(job)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_on_a_character_boundary_and_marked() {
        assert_eq!(bounded("short", 10), "short");
        let cut = bounded(&"é".repeat(100), 11);
        assert!(cut.len() <= 11 && cut.ends_with('…'), "{cut:?}");
        assert!(cut.trim_end_matches('…').chars().all(|c| c == 'é'));
    }
}
