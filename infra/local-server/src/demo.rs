//! Demo data for `make dev`: about 60 days of history for the organization `demo`, so the
//! dashboard has something to show on first start.
//!
//! Everything is written by the system's own code, never as hand-made items, on an App whose
//! clock is set to each moment of the story (the App takes any `Clock`):
//! - runs reserved and committed through the quota engine (`Store::reserve` / `commit`, as
//!   the internal routes call them), so usage records, ledger lines and the per-day
//!   aggregates come out as for real runs, across the free quota, credits, the subscription
//!   and overage;
//! - LLM calls on anthropic, openai and google models through the usage queue's flow
//!   (`flows::usage::apply`), priced by the price table;
//! - Stripe's side (a credit purchase, the subscription and its renewal, an invoice payment)
//!   as events handed to the Stripe event processor (`flows::stripe_events::process`), the
//!   customer and card through the Stripe client (stripe-mock behind the local proxy);
//! - two usage invoices through `flows::invoicing::generate`: the first paid by Stripe's
//!   `invoice.paid`, the second left open.
//!
//! Seeded once: if `demo` already has an account (a second start on the same stack), nothing
//! is written. The story is bounded (2–3 runs a day) so start-up stays a matter of seconds.

use std::sync::Arc;

use anyhow::Context;
use billing::App;
use billing::clock::ManualClock;
use billing::ids::OrganizationId;
use billing::quota::rules::{ReserveRequest, RunKind};
use billing::quota::store::QuotaError;
use chrono::{DateTime, Duration, Months, Utc};
use serde_json::{Value, json};

use crate::stripe_proxy::StripeProxy;

pub const DEMO_ORG: &str = "demo";
/// Days of history.
const DAYS: i64 = 60;
/// Run times of day (hour, minute): 2 or 3 runs a day.
const RUN_TIMES: [(i64, i64); 3] = [(10, 5), (14, 20), (17, 40)];
const MODELS: [(&str, &str); 6] = [
    ("anthropic", "claude-sonnet-4"),
    ("openai", "gpt-4o"),
    ("google", "gemini-2.5-pro"),
    ("anthropic", "claude-haiku-3.5"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-opus-4"),
];
/// The day the credits are bought, the day the subscription starts, the first invoice.
const CREDITS_DAY: i64 = 2;
const SUBSCRIBE_DAY: i64 = 12;
const FIRST_INVOICE_DAY: i64 = 30;
/// The tier the demo subscribes to (its Stripe price must be configured).
const DEMO_TIER: &str = "starter";

/// What the demo wrote, for the start-up log line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub runs: u32,
    pub refused: u32,
    pub llm_calls: u32,
    pub invoices: Vec<String>,
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} runs committed ({} refused by the quota), {} LLM calls, a credit purchase, a {DEMO_TIER} \
             subscription renewed once, a card, invoices {}",
            self.runs,
            self.refused,
            self.llm_calls,
            self.invoices.join(", ")
        )
    }
}

/// Writes the demo's history ending the day before `today`, unless `demo` has an account.
/// `app` gives configuration and clients; the story runs on its own clock. The subscription
/// made is recorded in `proxy`, so the dashboard can change or cancel it.
pub async fn seed(
    app: &App,
    aws: &aws_config::SdkConfig,
    proxy: Option<&StripeProxy>,
    today: DateTime<Utc>,
) -> anyhow::Result<Option<Seeded>> {
    let org = OrganizationId::parse(DEMO_ORG).context("the demo organization id")?;
    if let Some(account) = app.store.get_account(&org).await.context("reading the demo account")? {
        if let (Some(proxy), Some(customer)) = (proxy, account.stripe_customer_id.as_deref()) {
            remember_stored_subscription(app, &org, customer, proxy).await?;
        }
        return Ok(None);
    }
    let price = app
        .config
        .stripe
        .tier_prices
        .get(DEMO_TIER)
        .cloned()
        .with_context(|| format!("STRIPE_PRICE_{} is not set", DEMO_TIER.to_uppercase()))?;
    let start = today.date_naive().and_hms_opt(8, 0, 0).context("a start time")?.and_utc() - Duration::days(DAYS);
    let clock = ManualClock::starting_at(start);
    let demo = Story {
        app: App::new((*app.config).clone(), aws, Arc::new(clock.clone())),
        clock,
        org,
        start,
        price,
        customer: String::new(),
        seeded: Seeded::default(),
    };
    demo.tell(proxy).await.map(Some)
}

struct Story {
    app: App,
    clock: ManualClock,
    org: OrganizationId,
    start: DateTime<Utc>,
    price: String,
    customer: String,
    seeded: Seeded,
}

impl Story {
    fn at(&self, day: i64, hour: i64, minute: i64) -> DateTime<Utc> {
        self.start - Duration::hours(8) + Duration::days(day) + Duration::hours(hour) + Duration::minutes(minute)
    }

    async fn tell(mut self, proxy: Option<&StripeProxy>) -> anyhow::Result<Seeded> {
        self.clock.set(self.start);
        billing::purchases::flow::account(&self.app, &self.org).await.map_err(api)?;
        self.customer = billing::purchases::flow::ensure_customer(&self.app, &self.org).await.map_err(api)?;
        self.attach_card().await?;
        let mut period_start = None;
        for day in 0..DAYS {
            if day == CREDITS_DAY {
                self.buy_credits(self.at(day, 9, 30), 20_000).await?;
            }
            if day == SUBSCRIBE_DAY {
                period_start = Some(self.at(day, 9, 0));
                self.subscription_event(day, "created", self.at(day, 9, 0), None).await?;
                self.subscription_invoice(day, "subscription_create", self.at(day, 9, 0)).await?;
            }
            if let Some(started) = period_start {
                let renewal = started.checked_add_months(Months::new(1)).context("a renewal date")?;
                if self.at(day, 0, 0) <= renewal && renewal < self.at(day + 1, 0, 0) {
                    self.subscription_event(day, "updated", renewal, Some(renewal)).await?;
                    self.subscription_invoice(day, "subscription_cycle", renewal).await?;
                    period_start = Some(renewal);
                }
            }
            let runs = if day % 3 == 1 { 3 } else { 2 };
            for (slot, (hour, minute)) in RUN_TIMES.iter().take(runs).enumerate() {
                self.run(day, slot, self.at(day, *hour, *minute)).await?;
            }
            if day == FIRST_INVOICE_DAY {
                let invoice = self.invoice(self.at(day, 20, 0)).await?;
                self.pay(&invoice, self.at(day + 1, 11, 0)).await?;
            }
        }
        self.invoice(self.at(DAYS - 1, 20, 30)).await?;
        if let (Some(proxy), Some(sub)) = (proxy, self.subscription_object(period_start)) {
            proxy.remember_subscription(sub);
        }
        Ok(self.seeded)
    }

    /// A saved card, as the payment-method route saves one.
    async fn attach_card(&self) -> anyhow::Result<()> {
        let stripe = self.app.stripe().context("Stripe is not configured")?;
        let method = stripe.attach_payment_method(&self.customer, "pm_card_visa").await.context("attaching a card")?;
        stripe.set_default_payment_method(&self.customer, &method.id).await.context("making it the default")?;
        self.app.store.set_has_payment_method(&self.org, true).await.context("recording the card")?;
        Ok(())
    }

    /// One run: reserved, then committed 12 minutes later at the held amount (or refused).
    async fn run(&mut self, day: i64, slot: usize, at: DateTime<Utc>) -> anyhow::Result<()> {
        self.clock.set(at);
        let run_id = format!("demo-run-{day:02}-{slot}");
        let kind = if (day + slot as i64) % 5 == 0 { RunKind::Complex } else { RunKind::Standard };
        let request = ReserveRequest { run_id: run_id.clone(), kind, estimated_cost_cents: None };
        let app = &self.app;
        match app.store.reserve(&self.org, &request, app.catalog(), at, app.hold_ttl()).await {
            Ok(_) => {}
            Err(QuotaError::Refused(_)) => {
                self.seeded.refused += 1;
                return Ok(());
            }
            Err(err) => return Err(err).with_context(|| format!("reserving {run_id}")),
        }
        // One call a run, two on every fifth: bounded, and all three providers every day.
        let calls = if (day as usize + slot).is_multiple_of(5) { 2 } else { 1 };
        for call in 0..calls {
            let (provider, model) = MODELS[(day as usize * 3 + slot + call) % MODELS.len()];
            let tokens = 800 + ((day as u64 * 37 + slot as u64 * 11 + call as u64 * 5) % 40) * 100;
            self.clock.set(at + Duration::minutes(3 + 4 * call as i64));
            let message = json!({
                "type": "llm_call",
                "event_id": format!("demo-llm-{day:02}-{slot}-{call}"),
                "organization_id": DEMO_ORG,
                "run_id": run_id,
                "provider": provider,
                "model": model,
                "prompt_tokens": tokens,
                "completion_tokens": tokens / 4,
                "payer": "platform",
                "recorded_at": self.clock_now(),
            });
            let message = serde_json::from_value(message).context("an LLM call message")?;
            billing::usage::flow::apply(app, message)
                .await
                .map_err(|e| anyhow::anyhow!("recording an LLM call: {e:?}"))?;
            self.seeded.llm_calls += 1;
        }
        let done = at + Duration::minutes(12);
        self.clock.set(done);
        let details = json!({ "workflow": if kind == RunKind::Complex { "research-report" } else { "triage" } });
        app.store
            .commit(&self.org, &run_id, None, false, Some(details), done)
            .await
            .with_context(|| format!("committing {run_id}"))?;
        self.seeded.runs += 1;
        Ok(())
    }

    fn clock_now(&self) -> String {
        billing::clock::Clock::now(&self.clock).to_rfc3339()
    }

    /// A credit purchase as Stripe reports a paid Checkout session.
    async fn buy_credits(&self, at: DateTime<Utc>, cents: i64) -> anyhow::Result<()> {
        let session = json!({
            "id": "cs_demo_credits", "object": "checkout.session", "mode": "payment", "status": "complete",
            "payment_status": "paid", "amount_total": cents, "currency": "usd", "customer": self.customer,
            "payment_intent": "pi_demo_credits",
            "metadata": { "organization_id": DEMO_ORG, "purpose": "credits" },
        });
        self.process("evt_demo_credits", "checkout.session.completed", at, session).await
    }

    /// The subscription as Stripe describes it, with its period from `period_start`.
    fn subscription_object(&self, period_start: Option<DateTime<Utc>>) -> Option<Value> {
        let period_start = period_start?;
        let period_end = period_start.checked_add_months(Months::new(1))?;
        let sub = DemoSubscription {
            customer: &self.customer,
            price: &self.price,
            tier: DEMO_TIER,
            status: "active",
            subscribed: self.at(SUBSCRIBE_DAY, 9, 0),
            period: (period_start, period_end),
            cancel_at_period_end: false,
        };
        Some(sub.to_json(self.tier_cents()))
    }

    fn tier_cents(&self) -> i64 {
        tier_cents(&self.app, DEMO_TIER)
    }

    /// `customer.subscription.<created|updated>`: created with the paid session first.
    async fn subscription_event(
        &self,
        day: i64,
        kind: &str,
        at: DateTime<Utc>,
        renewed: Option<DateTime<Utc>>,
    ) -> anyhow::Result<()> {
        let period_start = renewed.unwrap_or(at);
        let sub = self.subscription_object(Some(period_start)).context("a subscription")?;
        if kind == "created" {
            let session = json!({
                "id": "cs_demo_subscription", "object": "checkout.session", "mode": "subscription",
                "status": "complete", "payment_status": "paid", "amount_total": self.tier_cents(), "currency": "usd",
                "customer": self.customer, "subscription": "sub_demo",
                "metadata": { "organization_id": DEMO_ORG, "purpose": "subscription", "tier": DEMO_TIER },
            });
            self.process("evt_demo_subscription_checkout", "checkout.session.completed", at, session).await?;
        }
        self.process(&format!("evt_demo_subscription_{kind}_{day}"), &format!("customer.subscription.{kind}"), at, sub)
            .await
    }

    /// Stripe's own invoice for the subscription, paid.
    async fn subscription_invoice(&self, day: i64, reason: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
        let cents = self.tier_cents();
        let end = at.checked_add_months(Months::new(1)).context("a period end")?;
        let invoice = json!({
            "id": format!("in_demo_sub_{day}"), "object": "invoice", "customer": self.customer,
            "subscription": "sub_demo", "status": "paid", "billing_reason": reason,
            "amount_due": cents, "amount_paid": cents, "amount_remaining": 0, "currency": "usd",
            "created": at.timestamp(), "number": format!("DEMO-SUB-{day}"),
            "period_start": at.timestamp(), "period_end": at.timestamp(),
            "status_transitions": { "finalized_at": at.timestamp(), "paid_at": at.timestamp() },
            "lines": { "data": [{ "amount": cents, "quantity": 1, "description": "1 × Starter (monthly)",
                                  "period": { "start": at.timestamp(), "end": end.timestamp() } }] },
            "metadata": {},
        });
        self.process(&format!("evt_demo_sub_invoice_{day}"), "invoice.paid", at, invoice).await
    }

    /// Invoices the unbilled usage up to `at` (the generate route's flow).
    async fn invoice(&mut self, at: DateTime<Utc>) -> anyhow::Result<billing::invoicing::rules::Invoice> {
        self.clock.set(at);
        let generated = billing::invoicing::flow::generate(&self.app, &self.org)
            .await
            .with_context(|| format!("generating the invoice of {at}"))?;
        let invoice = generated.invoice;
        let label = format!("{} ({})", invoice.number.as_deref().unwrap_or(&invoice.id), invoice.status.as_str());
        self.seeded.invoices.push(label);
        Ok(invoice)
    }

    /// Stripe's `invoice.paid` for one of our usage invoices (collected by Stripe).
    async fn pay(&mut self, invoice: &billing::invoicing::rules::Invoice, at: DateTime<Utc>) -> anyhow::Result<()> {
        let Some(stripe_id) = invoice.stripe_invoice_id.as_deref() else { return Ok(()) };
        let object = json!({
            "id": stripe_id, "object": "invoice", "customer": self.customer, "status": "paid",
            "billing_reason": "manual", "amount_due": invoice.amount_due_cents, "amount_paid": invoice.amount_due_cents,
            "amount_remaining": 0, "currency": "usd", "created": invoice.created_at.timestamp(),
            "status_transitions": { "paid_at": at.timestamp() },
            "metadata": { "organization_id": DEMO_ORG, "billing_invoice_id": invoice.id },
        });
        self.process(&format!("evt_demo_paid_{}", invoice.id), "invoice.paid", at, object).await?;
        if let Some(label) = self.seeded.invoices.last_mut() {
            *label = label.replace("(open)", "(paid)");
        }
        Ok(())
    }

    /// Hands an event to the Stripe event processor, as the queue consumer does.
    async fn process(&self, id: &str, kind: &str, at: DateTime<Utc>, object: Value) -> anyhow::Result<()> {
        self.clock.set(at);
        let event = json!({ "id": id, "object": "event", "type": kind, "created": at.timestamp(), "livemode": false,
                            "data": { "object": object } });
        billing::stripe_events::flow::process(&self.app, &event.to_string())
            .await
            .map_err(|e| anyhow::anyhow!("processing {kind} {id}: {e:?}"))
    }
}

fn tier_cents(app: &App, tier: &str) -> i64 {
    let usd = app.catalog().tier(tier).and_then(|t| t.price_usd).unwrap_or_default();
    billing::money::exact_cents(usd).unwrap_or_default()
}

/// The demo's Stripe subscription, as the proxy answers it.
struct DemoSubscription<'a> {
    customer: &'a str,
    price: &'a str,
    tier: &'a str,
    status: &'a str,
    subscribed: DateTime<Utc>,
    period: (DateTime<Utc>, DateTime<Utc>),
    cancel_at_period_end: bool,
}

impl DemoSubscription<'_> {
    fn to_json(&self, unit_amount: i64) -> Value {
        let (start, end) = (self.period.0.timestamp(), self.period.1.timestamp());
        json!({
            "id": "sub_demo", "object": "subscription", "customer": self.customer, "status": self.status,
            "created": self.subscribed.timestamp(), "start_date": self.subscribed.timestamp(),
            "current_period_start": start, "current_period_end": end,
            "cancel_at_period_end": self.cancel_at_period_end,
            "cancel_at": if self.cancel_at_period_end { json!(end) } else { Value::Null },
            "canceled_at": null, "ended_at": null,
            "trial_start": null, "trial_end": null, "schedule": null, "livemode": false,
            "metadata": { "organization_id": DEMO_ORG, "purpose": "subscription", "tier": self.tier },
            "items": { "object": "list", "data": [{
                "id": "si_demo", "object": "subscription_item", "quantity": 1,
                "price": { "id": self.price, "object": "price", "unit_amount": unit_amount, "currency": "usd",
                           "recurring": { "interval": "month", "interval_count": 1 } },
                "current_period_start": start, "current_period_end": end,
            }] },
        })
    }
}

/// A server restarted against the same stack finds the demo written but its proxy empty: the
/// demo's subscription is recorded again as billing last stored it, so changing or
/// cancelling it still works.
async fn remember_stored_subscription(
    app: &App,
    org: &OrganizationId,
    customer: &str,
    proxy: &StripeProxy,
) -> anyhow::Result<()> {
    let Some(stored) = app.store.subscription(org).await.context("reading the demo subscription")? else {
        return Ok(());
    };
    let (Some("sub_demo"), Some(price), Some(start), Some(end)) = (
        stored.stripe_subscription_id.as_deref(),
        stored.stripe_price_id.as_deref(),
        stored.current_period_start,
        stored.current_period_end,
    ) else {
        return Ok(());
    };
    let sub = DemoSubscription {
        customer,
        price,
        tier: &stored.tier,
        status: &stored.status,
        subscribed: stored.subscribed_at.and_then(|s| DateTime::from_timestamp(s, 0)).unwrap_or(start),
        period: (start, end),
        cancel_at_period_end: stored.cancel_at_period_end,
    };
    proxy.remember_subscription(sub.to_json(tier_cents(app, &stored.tier)));
    Ok(())
}

fn api(err: billing::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{err:?}")
}
