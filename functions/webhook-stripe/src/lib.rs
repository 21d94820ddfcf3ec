//! `POST /api/billing/webhook` — Stripe calls it; no JWT. The signature is verified before
//! anything is parsed or stored (400 when missing, wrong or older than 300 s). The event id is
//! recorded with a conditional put (a duplicate answers 200 and stops there), the raw event
//! goes on the FIFO queue grouped by Stripe customer, and only then does Stripe get its 200.
//! If the hand-off fails the marker is removed and the answer is 503, so Stripe's retry is
//! processed rather than mistaken for a duplicate.

use billing::lambda::HttpResult;
use billing::lambda::http::ok_json;
use billing::payments::webhook::verify;
use billing::stripe_events::store::Receipt;
use billing::{ApiError, App};
use lambda_http::Request;
use serde_json::{Value, json};

pub async fn handle(app: App, req: Request) -> HttpResult {
    let secret = app
        .config
        .stripe
        .webhook_secret
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("STRIPE_WEBHOOK_SECRET is not set".into()))?;
    let payload = std::str::from_utf8(req.body().as_ref())
        .map_err(|_| ApiError::bad_request("invalid_payload", "The webhook payload is not UTF-8 text."))?;
    let header = req.headers().get("stripe-signature").and_then(|v| v.to_str().ok());
    verify(payload, header, secret.expose(), app.now().timestamp())
        .map_err(|e| ApiError::bad_request(e.code(), e.to_string()))?;

    let event: Value = serde_json::from_str(payload)
        .map_err(|_| ApiError::bad_request("invalid_payload", "The webhook payload is not JSON."))?;
    let id = event["id"].as_str().ok_or_else(|| ApiError::bad_request("invalid_payload", "The event has no id."))?;
    let kind = event["type"].as_str().unwrap_or_default();
    let created = event["created"].as_i64().unwrap_or_default();
    if app.store.receive_stripe_event(id, kind, created, app.now()).await? == Receipt::Duplicate {
        tracing::info!(event_id = id, "duplicate Stripe delivery acknowledged");
        return ok_json(&json!({ "received": true, "duplicate": true }));
    }

    let queue = app
        .config
        .stripe_events_queue_url
        .as_deref()
        .ok_or_else(|| ApiError::Unavailable("STRIPE_EVENTS_QUEUE_URL is not set".into()))?;
    let group = billing::stripe_events::flow::customer_of(&event).unwrap_or("no-customer");
    let sent = app
        .sqs()
        .send_message()
        .queue_url(queue)
        .message_body(payload)
        .message_group_id(group)
        .message_deduplication_id(id)
        .send()
        .await;
    if let Err(err) = sent {
        tracing::error!(event_id = id, error = %billing_error(&err), "could not queue the Stripe event; asking Stripe to retry");
        app.store.forget_stripe_event(id).await?;
        return Err(ApiError::Unavailable("the event could not be queued".into()));
    }
    app.store.set_stripe_event_status(id, "queued").await?;
    ok_json(&json!({ "received": true, "duplicate": false }))
}

fn billing_error(err: &impl std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
