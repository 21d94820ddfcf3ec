//! The `billing` crate: everything the Lambda functions share, one module per concern.
//!
//! # Layout
//!
//! A concern keeps every part of itself under one name, each part a file or a folder:
//!
//! | part | what it holds | may use |
//! |---|---|---|
//! | `rules` | pure types and rules: no I/O, no clock of their own | other concerns' `rules`, the kernel |
//! | `store` | DynamoDB items and the conditional writes (some rule types still carry their key attributes: docs/design/layout.md) | `rules`, the store core, `events` |
//! | `stripe` | the concern's Stripe calls | `rules`, `payments` |
//! | `http` | request and response shapes, the HTTP mapping of store and rule errors; no I/O | the parts above |
//! | `flow` | work spanning store, Stripe and events, typed inputs in, a shape out; its errors' HTTP mapping | all of the above, never a Lambda request |
//!
//! A function package (`functions/<name>`) is the handler above them all: it reads the request,
//! authorizes, calls a flow (or a store read) and answers with a shape. `tests/layers.rs` fails
//! when a part imports one above it, or the platform core imports a concern.
//!
//! Concerns (Kill Bill's module per concern is the model):
//!
//! - [`accounts`] — the billing account item, its status and limit overrides;
//! - [`catalog`] — tiers, limits, prices, packs (data in `shared/catalog/`), the public config;
//! - [`quota`] — reserve, heartbeat, commit, release, sweep; the monthly free-quota reset;
//! - [`usage`] — usage records, the per-day aggregates behind the charts, the usage queue's flow;
//! - [`costs`] — LLM call costs, their aggregates and monthly budgets;
//! - [`credits`] — the prepaid balance and its ledger;
//! - [`purchases`] — Checkout (credits, packs, lifetime, subscriptions, cards), the portal, cards;
//! - [`subscriptions`] — the lifecycle from Stripe's events, customer changes, trials;
//! - [`launch_offers`] — launch-price phases and their Stripe schedules;
//! - [`promotions`] — operators' promotion codes mirrored to Stripe;
//! - [`invoicing`] — invoice generation, collection through Stripe, the monthly close, voids;
//! - [`dunning`] — chasing unpaid invoices, suspension and its lifting;
//! - [`stripe_events`] — the webhook's FIFO consumer, event markers, the customer map;
//! - [`exports`] — CSV exports of the lists;
//! - [`operators`] — the audit trail, the directory, admin actions, health, redrive;
//! - [`flags`] — feature flags;
//! - [`byo_keys`] — bring-your-own provider keys (sealed by [`crypto`], feature `byo-keys`).
//!
//! The kernel every concern shares: [`money`] (cents, dollars in request bodies), [`ids`],
//! [`period`].
//!
//! Platform modules, which know no concern's rules:
//!
//! - [`store`] — the store core: the table client, key layout, expression builder, one
//!   `transact`, paging and cursors, the outbox, stored idempotent answers, the work index;
//! - [`events`] — domain events and their EventBridge publisher;
//! - [`payments`] — the Stripe client, its transport and webhook signature verification;
//! - [`lambda`] — the runners (`run_http`, `run_sqs`, `run_schedule`, `run_dynamodb_stream`) and
//!   HTTP plumbing;
//! - [`app`], [`config`], [`secrets`], [`clock`], [`auth`], [`telemetry`], [`cloudwatch`],
//!   [`sdk_http`], [`messages`] (how a queue message fails), [`error`] (the one error type handlers return), [`openapi`].
//!
//! A function package is a thin `main.rs` that calls a runner with the handler from its
//! `lib.rs`; the local server and the tests call those same handlers.

// Platform.
pub mod app;
pub mod auth;
pub mod clock;
pub mod cloudwatch;
pub mod config;
#[cfg(feature = "byo-keys")]
pub mod crypto;
pub mod error;
pub mod events;
pub mod lambda;
pub mod messages;
pub mod openapi;
pub mod payments;
pub mod sdk_http;
pub mod secrets;
pub mod store;
pub mod telemetry;

// Kernel.
pub mod ids;
pub mod money;
pub mod period;

// Concerns.
pub mod accounts;
pub mod byo_keys;
pub mod catalog;
pub mod costs;
pub mod credits;
pub mod dunning;
pub mod exports;
pub mod flags;
pub mod invoicing;
pub mod launch_offers;
pub mod operators;
pub mod promotions;
pub mod purchases;
pub mod quota;
pub mod stripe_events;
pub mod subscriptions;
pub mod usage;

pub use app::App;
pub use error::ApiError;
