//! The local stand-in for Stripe's hosted Checkout page and customer portal under `make dev`.
//!
//! stripe-mock cannot take a payment, so the sessions billing opens (recorded by
//! [`crate::stripe_proxy`]) point here instead:
//!
//! - `GET /_local/checkout/{id}`: what is being bought, with buttons to pay, pay with a
//!   delayed method (payment mode), let that payment fail, or cancel;
//! - `POST /_local/checkout/{id}/{pay|pay-later|fail|cancel}`: sends the events Stripe would
//!   send for that outcome ([`crate::checkout_events`]), signed with the server's webhook
//!   secret, to the server's own webhook route over HTTP (the path Stripe's deliveries take),
//!   waits until billing's processor has applied each (the events travel through the FIFO
//!   queue the server pumps), then `303`s to the session's `success_url` (`cancel_url` for
//!   cancel). A repeated POST (a double click) sends the same event ids, which the webhook
//!   takes as duplicates, so nothing is applied twice;
//! - `GET /_local/portal?return_url=`: where Stripe's customer portal would open.

use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use billing::App;
use billing::money::exact_cents;
use serde_json::Value;

use crate::checkout_events::{self, Context};
use crate::stripe_proxy::{CompleteError, Outcome, RecordedSession, StripeProxy};
use crate::web::html_escape;

/// How long a POST waits for billing to apply its events before saying so.
const APPLY_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone)]
pub struct CheckoutStandIn {
    app: App,
    proxy: StripeProxy,
    webhook_secret: String,
    webhook_url: String,
    http: reqwest::Client,
}

impl CheckoutStandIn {
    /// Sessions recorded by `proxy`, completed through the webhook of the server at
    /// `billing_url`, signed with `webhook_secret`; `app` is read to see the events applied.
    pub fn new(app: App, proxy: StripeProxy, webhook_secret: &str, billing_url: &str) -> Self {
        Self {
            app,
            proxy,
            // During a secret roll the setting lists several; Stripe signs with the newest.
            webhook_secret: webhook_secret.split(',').map(str::trim).find(|s| !s.is_empty()).unwrap_or("").to_owned(),
            webhook_url: format!("{}/api/billing/webhook", billing_url.trim_end_matches('/')),
            http: reqwest::Client::new(),
        }
    }

    /// Delivers `events` in order as Stripe would, then waits until each was processed.
    async fn deliver(&self, events: &[Value]) -> anyhow::Result<()> {
        for event in events {
            let payload = event.to_string();
            let signature =
                billing::payments::webhook::sign(&payload, &self.webhook_secret, self.app.now().timestamp());
            let answer = self
                .http
                .post(&self.webhook_url)
                .header("stripe-signature", signature)
                .header("content-type", "application/json")
                .body(payload)
                .send()
                .await
                .with_context(|| format!("posting {} to {}", event["id"], self.webhook_url))?;
            let status = answer.status();
            anyhow::ensure!(
                status.is_success(),
                "the webhook answered {status} to {}: {}",
                event["id"],
                answer.text().await.unwrap_or_default()
            );
        }
        let deadline = tokio::time::Instant::now() + APPLY_TIMEOUT;
        for event in events {
            let id = event["id"].as_str().unwrap_or_default();
            loop {
                let status = self.app.store.stripe_event_status(id).await.context("reading the event's marker")?;
                if status.as_deref() == Some("processed") {
                    break;
                }
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "{} ({}) was not applied within {} s (status {status:?}); see the server log",
                    id,
                    event["type"].as_str().unwrap_or_default(),
                    APPLY_TIMEOUT.as_secs()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// The price, name and amount due of what the session sells, from billing's catalog.
    fn context(&self, session: &RecordedSession) -> Result<Context, String> {
        let (unit_amount, item_name) = match (session.unit_amount, session.price.as_deref()) {
            (Some(cents), _) => (cents, describe(&self.app, session)),
            (None, Some(price)) => priced(&self.app, price)?,
            (None, None) => (0, describe(&self.app, session)),
        };
        let amount_total = if session.trial_days.is_some() || session.mode == "setup" { 0 } else { unit_amount };
        Ok(Context { now: self.app.now(), amount_total, item_name, unit_amount })
    }
}

/// A configured price's amount and name: a tier's (subscriptions, lifetime) or a pack's.
fn priced(app: &App, price: &str) -> Result<(i64, String), String> {
    let stripe = &app.config.stripe;
    let catalog = app.catalog();
    let (usd, name) = if let Some(tier) = stripe.tier_for_price(price).and_then(|t| catalog.tier(t)) {
        (tier.price_usd.unwrap_or_default(), tier.name.clone())
    } else if let Some(pack) =
        stripe.pack_prices.iter().find(|(_, p)| p.as_str() == price).and_then(|(id, _)| catalog.pack(id))
    {
        (pack.price_usd, format!("Workflow pack of {} runs", pack.workflows))
    } else {
        return Err(format!("price {price} is not one of the configured prices"));
    };
    Ok((exact_cents(usd).map_err(|e| e.to_string())?, name))
}

/// What the session sells, in words.
fn describe(app: &App, session: &RecordedSession) -> String {
    let meta = |key: &str| session.metadata.get(key).map(String::as_str);
    let tier_name = |id: &str| app.catalog().tier(id).map_or_else(|| id.to_owned(), |tier| tier.name.clone());
    match (session.mode.as_str(), meta("purpose")) {
        ("setup", _) => "A card saved for later payments".to_owned(),
        ("subscription", _) => {
            let tier = meta("tier").map_or_else(|| "a plan".to_owned(), tier_name);
            let offer = meta("launch_offer").map(|o| format!(", launch offer {o}")).unwrap_or_default();
            format!("{tier} plan, monthly subscription{offer}")
        }
        (_, Some("credits")) => session.product_name.clone().unwrap_or_else(|| "Prepaid credits".to_owned()),
        (_, Some("pack")) => format!("Workflow pack of {} runs", meta("pack").unwrap_or("?")),
        (_, Some("lifetime")) => format!("{} plan, one payment", tier_name("lifetime")),
        (_, other) => session.product_name.clone().unwrap_or_else(|| other.unwrap_or("A purchase").to_owned()),
    }
}

/// `/_local/checkout/...` and `/_local/portal`.
pub fn routes(stand_in: CheckoutStandIn) -> Router {
    Router::new()
        .route("/_local/checkout/{id}", axum::routing::get(show))
        .route("/_local/checkout/{id}/{outcome}", axum::routing::post(complete))
        .route("/_local/portal", axum::routing::get(portal))
        .with_state(stand_in)
}

async fn show(State(stand_in): State<CheckoutStandIn>, Path(id): Path<String>) -> Response {
    let Some(session) = stand_in.proxy.session(&id) else { return unknown_session(&id) };
    let ctx = match stand_in.context(&session) {
        Ok(ctx) => ctx,
        Err(why) => return message_page(StatusCode::BAD_REQUEST, "This session cannot be completed locally", &why),
    };
    let done = stand_in.proxy.completion(&id).map(|c| c.outcome);
    page(StatusCode::OK, "Checkout (local stand-in)", &checkout_body(&stand_in.app, &session, &ctx, done))
}

fn checkout_body(app: &App, session: &RecordedSession, ctx: &Context, done: Option<Outcome>) -> String {
    let e = |text: &str| html_escape(text);
    let org = session.metadata.get("organization_id").map_or("(none)", String::as_str);
    let mut rows = vec![
        ("Organization", e(org)),
        ("What", e(&describe(app, session))),
        ("Purpose", e(session.metadata.get("purpose").map_or(session.mode.as_str(), String::as_str))),
        ("Due now", usd(ctx.amount_total)),
    ];
    if session.mode == "subscription" {
        rows.push(("Then", format!("{} per month", usd(ctx.unit_amount))));
    }
    if let Some(days) = session.trial_days {
        rows.push(("Free trial", format!("{days} days, then billed monthly")));
    }
    if session.promotion_code.is_some() {
        rows.push(("Promotion code", "applied by Stripe (the stand-in shows the undiscounted price)".to_owned()));
    }
    rows.push(("Session", format!("<code>{}</code>", e(&session.id))));
    let details: String = rows.iter().map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>\n")).collect();
    let action = |outcome: &str, label: &str, class: &str, help: &str| {
        format!(
            "<form method=\"post\" action=\"/_local/checkout/{id}/{outcome}\">\
             <button type=\"submit\" class=\"{class}\" aria-describedby=\"help-{outcome}\">{label}</button>\
             <span id=\"help-{outcome}\" class=\"help\">{help}</span></form>\n",
            id = e(&session.id)
        )
    };
    let mut actions = String::new();
    let pay_label = if session.mode == "setup" { "Save card" } else { "Pay" };
    let pay_help = match session.mode.as_str() {
        "setup" => "Saves a test Visa card (4242) to the organization's customer.",
        "subscription" => "Starts the subscription as a card payment would.",
        _ => "Pays at once, as with a card.",
    };
    actions.push_str(&action("pay", pay_label, "primary", pay_help));
    if session.mode == "payment" {
        actions.push_str(&action(
            "pay-later",
            "Pay later",
            "secondary",
            "A delayed method (bank debit): completes unpaid, then the payment arrives.",
        ));
        actions.push_str(&action(
            "fail",
            "Fail",
            "danger",
            "A delayed method whose payment fails: nothing is granted.",
        ));
    }
    actions.push_str(&action("cancel", "Cancel", "plain", "Back to the app without paying."));
    let done = done
        .map(|outcome| {
            format!(
                "<p class=\"done\" role=\"status\">Already completed here ({}). Repeating it applies nothing twice.</p>",
                outcome.as_str()
            )
        })
        .unwrap_or_default();
    format!("<h1>Checkout</h1>\n{done}<dl>\n{details}</dl>\n<div class=\"actions\">\n{actions}</div>\n")
}

async fn complete(State(stand_in): State<CheckoutStandIn>, Path((id, outcome)): Path<(String, String)>) -> Response {
    let Some(session) = stand_in.proxy.session(&id) else { return unknown_session(&id) };
    if outcome == "cancel" {
        return redirect(&session.cancel_url, &id);
    }
    let Some(outcome) = Outcome::parse(&outcome) else {
        return message_page(StatusCode::NOT_FOUND, "Unknown outcome", "Use pay, pay-later, fail or cancel.");
    };
    let ctx = match stand_in.context(&session) {
        Ok(ctx) => ctx,
        Err(why) => return message_page(StatusCode::BAD_REQUEST, "This session cannot be completed locally", &why),
    };
    let completion = match stand_in.proxy.complete(&id, outcome, |s| checkout_events::build(s, outcome, &ctx)) {
        Ok(completion) => completion,
        Err(CompleteError::UnknownSession(_)) => return unknown_session(&id),
        Err(err @ CompleteError::AlreadyCompleted(_)) => {
            return message_page(StatusCode::CONFLICT, "Session already completed", &err.to_string());
        }
        Err(CompleteError::Invalid(why)) => {
            return message_page(StatusCode::BAD_REQUEST, "This session cannot be completed locally", &why);
        }
    };
    if let Err(err) = stand_in.deliver(&completion.events).await {
        tracing::warn!(error = format!("{err:#}"), session = %id, "local checkout events not applied");
        return message_page(StatusCode::BAD_GATEWAY, "Billing did not apply the payment", &format!("{err:#}"));
    }
    tracing::info!(session = %id, outcome = outcome.as_str(), events = completion.events.len(), "local checkout completed");
    redirect(&session.success_url, &id)
}

/// `303` to a return URL, with Stripe's `{CHECKOUT_SESSION_ID}` template filled in.
fn redirect(url: &str, session_id: &str) -> Response {
    let url = url.replace("{CHECKOUT_SESSION_ID}", session_id);
    match HeaderValue::from_str(&url) {
        Ok(location) if !url.is_empty() => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response
        }
        _ => message_page(StatusCode::OK, "Done", "The session has no return URL; close this page."),
    }
}

async fn portal(State(stand_in): State<CheckoutStandIn>, RawQuery(query): RawQuery) -> Response {
    let query: std::collections::BTreeMap<String, String> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    // Only back to the app: the link is on this page for anyone who opens it.
    let base = stand_in.app.config.frontend_url.trim_end_matches('/').to_owned();
    let back = query.get("return_url").filter(|u| *u == &base || u.starts_with(&format!("{base}/")));
    let link = back.map_or_else(
        || "<p>No return URL on this server's origin was given.</p>".to_owned(),
        |url| format!("<p><a class=\"button primary\" href=\"{}\">Back to billing</a></p>", html_escape(url)),
    );
    let body = format!(
        "<h1>Customer portal</h1>\n<p>This is where Stripe's customer portal would open: invoices, payment \
         methods and plan changes, managed by Stripe. Locally there is no portal; use the billing pages \
         instead.</p>\n{link}\n"
    );
    page(StatusCode::OK, "Customer portal (local stand-in)", &body)
}

fn unknown_session(id: &str) -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "No such Checkout session",
        &format!(
            "No Checkout session {id} was opened in this server run. Sessions are kept in memory: start a new \
             checkout from the app."
        ),
    )
}

fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    page(status, title, &format!("<h1>{}</h1>\n<p>{}</p>\n", html_escape(title), html_escape(message)))
}

/// An HTML page with the stand-in banner; plain, high-contrast, no script.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n\
         <p class=\"banner\" role=\"note\">Local stand-in for Stripe Checkout — no money moves</p>\n\
         <main>\n{body}</main>\n</body>\n</html>\n",
        title = html_escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Colours chosen for at least 4.5:1 contrast (WCAG AA) on their backgrounds.
const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#111;background:#fff;margin:0;line-height:1.5}\
main{max-width:36rem;margin:2rem auto;padding:0 1rem}\
.banner{margin:0;padding:.75rem 1rem;background:#fff3bf;color:#111;border-bottom:2px solid #8a6d00;font-weight:700;text-align:center}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:700}dd{margin:0}\
.actions form{margin:.75rem 0}.help{display:block;color:#374151;font-size:.9rem}\
button,.button{font:inherit;font-weight:700;padding:.6rem 1.2rem;border-radius:.375rem;border:2px solid transparent;cursor:pointer;text-decoration:none;display:inline-block}\
.primary{background:#1d4ed8;color:#fff}.secondary{background:#374151;color:#fff}.danger{background:#b91c1c;color:#fff}\
.plain{background:#fff;color:#1d4ed8;border-color:#1d4ed8}\
button:focus-visible,.button:focus-visible{outline:3px solid #111;outline-offset:2px}\
.done{background:#e7f5ec;border:1px solid #1e6b3a;padding:.5rem .75rem}";

/// Cents as dollars (`$1234.50`), in integers: no floating point near money.
fn usd(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}${}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_are_shown_as_dollars_without_floating_point() {
        assert_eq!(usd(2500), "$25.00");
        assert_eq!(usd(59), "$0.59");
        assert_eq!(usd(-1205), "-$12.05");
    }
}
