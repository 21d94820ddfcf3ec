//! Delivery that AWS does for deployed functions and the emulators do not: SQS event source
//! mappings (poll a queue, hand batches to the consumer, delete what succeeded) and
//! EventBridge rules targeting functions (the rule's pattern, from the template, routes the
//! bus's events into a queue that is then pumped into the subscriber).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_lambda_events::sqs::SqsEvent;
use billing::App;
use billing::lambda::{ScheduleHandler, SqsHandler};
use serde_json::json;

/// Feeds `queue_url` into an SQS consumer until the process ends, like an event source
/// mapping with `ReportBatchItemFailures`.
pub async fn pump_queue(app: App, queue_url: String, queue_arn: String, handler: Arc<dyn SqsHandler>) {
    loop {
        if let Err(err) = pump_once(&app, &queue_url, &queue_arn, handler.as_ref()).await {
            tracing::warn!(error = format!("{err:#}"), queue = %queue_url, "local queue pump failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Receives one batch (waiting up to a second) and delivers it; returns how many arrived.
pub async fn pump_once(app: &App, queue_url: &str, queue_arn: &str, handler: &dyn SqsHandler) -> anyhow::Result<usize> {
    let received = app
        .sqs()
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .context("ReceiveMessage")?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(0);
    }
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
                "attributes": {},
                "messageAttributes": {},
            })
        })
        .collect();
    let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).context("building the SQS event")?;
    let response = billing::lambda::sqs::handle_batch(handler, app.clone(), event).await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    for message in &messages {
        if !failed.contains(&message.message_id.as_deref().unwrap_or_default()) {
            app.sqs()
                .delete_message()
                .queue_url(queue_url)
                .set_receipt_handle(message.receipt_handle.clone())
                .send()
                .await
                .context("DeleteMessage")?;
        }
    }
    Ok(messages.len())
}

/// Creates a rule on `bus` with `pattern` that sends matching events to a new queue; returns
/// the queue's URL. The queue is then pumped into the subscriber with [`pump_events`].
pub async fn route_rule_to_queue(
    aws: &aws_config::SdkConfig,
    bus: &str,
    name: &str,
    pattern: &serde_json::Value,
) -> anyhow::Result<String> {
    let sqs = aws_sdk_sqs::Client::new(aws);
    let events = aws_sdk_eventbridge::Client::new(aws);
    let url =
        sqs.create_queue().queue_name(name).send().await.context("creating rule queue")?.queue_url.unwrap_or_default();
    let arn = crate::provision::queue_arn(&sqs, &url).await?;
    events
        .put_rule()
        .name(name)
        .event_bus_name(bus)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .context("PutRule")?;
    let target = aws_sdk_eventbridge::types::Target::builder().id("local").arn(arn).build()?;
    events.put_targets().rule(name).event_bus_name(bus).targets(target).send().await.context("PutTargets")?;
    Ok(url)
}

/// Delivers routed events (one EventBridge event per message) to a subscriber.
pub async fn pump_events(app: App, queue_url: String, handler: Arc<dyn ScheduleHandler>) {
    loop {
        let delivered = deliver_events_once(&app, &queue_url, handler.as_ref()).await;
        if let Err(err) = delivered {
            tracing::warn!(error = format!("{err:#}"), "local event delivery failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

pub async fn deliver_events_once(app: &App, queue_url: &str, handler: &dyn ScheduleHandler) -> anyhow::Result<usize> {
    let received =
        app.sqs().receive_message().queue_url(queue_url).max_number_of_messages(10).wait_time_seconds(1).send().await?;
    let messages = received.messages.unwrap_or_default();
    for message in &messages {
        let event: serde_json::Value = serde_json::from_str(message.body.as_deref().unwrap_or("null"))?;
        // As with Lambda's async invocation, a failing subscriber is retried by redelivery.
        if billing::lambda::schedule::handle_schedule(handler, app.clone(), event).await.is_ok() {
            app.sqs()
                .delete_message()
                .queue_url(queue_url)
                .set_receipt_handle(message.receipt_handle.clone())
                .send()
                .await?;
        }
    }
    Ok(messages.len())
}

/// Starts every delivery the template asks for: a pump per SQS-triggered function, a rule
/// (with a queue and a pump) per EventBridge rule target and a reader per table stream.
pub async fn start_all(
    app: &App,
    aws: &aws_config::SdkConfig,
    template: &crate::template::Template,
    resources: &crate::provision::Provisioned,
    prefix: &str,
) -> anyhow::Result<()> {
    let consumers = crate::registry::sqs_handlers();
    let subscribers = crate::registry::event_handlers();
    let stream_consumers = crate::registry::stream_handlers();
    for function in template.functions()? {
        for queue in &function.queues {
            let handler = consumers
                .get(function.binary.as_str())
                .with_context(|| format!("no SQS handler for {}", function.binary))?;
            let url = resources.queue_urls.get(queue).with_context(|| format!("queue {queue} was not created"))?;
            let arn = resources.queue_arns.get(queue).cloned().unwrap_or_default();
            // Each consumer sets rejects aside in the dead-letter queue its template names.
            let dlq = function.env_refs.get("DEAD_LETTER_QUEUE_URL").and_then(|q| resources.queue_urls.get(q)).cloned();
            let app = app.with_dead_letter_queue(dlq);
            tokio::spawn(pump_queue(app, url.clone(), arn, handler.clone()));
        }
        for (i, pattern) in function.event_patterns.iter().enumerate() {
            let handler = subscribers
                .get(function.binary.as_str())
                .with_context(|| format!("no event handler for {}", function.binary))?;
            let bus = resources.bus_names.values().next().context("the template has no event bus")?;
            let url = route_rule_to_queue(aws, bus, &format!("{prefix}-rule-{}-{i}", function.binary), pattern).await?;
            tokio::spawn(pump_events(app.clone(), url, handler.clone()));
        }
        for source in &function.streams {
            let handler = stream_consumers
                .get(function.binary.as_str())
                .with_context(|| format!("no stream handler for {}", function.binary))?;
            let pump = crate::stream::StreamPump::new(aws, &resources.table_name, source, handler.clone()).await?;
            tokio::spawn(crate::stream::pump_stream(app.clone(), pump));
        }
    }
    Ok(())
}
