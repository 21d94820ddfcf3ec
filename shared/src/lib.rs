//! The `billing` crate: everything the Lambda functions share.
//!
//! # Layout
//!
//! - [`domain`] — pure types and rules with no I/O: money, billing periods, the plan
//!   catalog, the account, quota decisions and settlement, usage and ledger records, LLM
//!   costs and budgets. Everything here is testable without a store.
//! - [`api`] — the JSON shapes the frontend and the workflow engine see. Field names follow
//!   the frontend guide (snake_case).
//! - [`store`] — DynamoDB access: the single-table key layout, item mapping with
//!   `serde_dynamo`, and the conditional writes that make creation and money moves safe;
//!   the sharded work index (`store::work_index`) through which schedules find what is due.
//! - [`auth`] — who is calling: JWT-authorizer claims from the API Gateway request context,
//!   organization membership and the admin role.
//! - [`lambda`] — the runners (`run_http`, `run_sqs`, `run_schedule`, `run_dynamodb_stream`)
//!   that do one-time setup and turn handler results into Lambda responses; HTTP request and
//!   response helpers.
//! - [`payments`] — Stripe: the API client wrapper and webhook signature verification.
//! - [`error`] — the one error type handlers return, and its mapping to HTTP.
//! - [`events`] — domain events (versioned envelope) and their EventBridge publisher; state
//!   changes announce theirs through the outbox (`store::outbox`, published by `stream-outbox`).
//! - [`flows`] — work that spans store, rules and events, shared by the functions that start it.
//! - [`app`] — the per-process context handed to handlers: config, store, clock, event
//!   publisher, SQS/SNS clients and the Stripe client.
//! - [`config`], [`secrets`], [`clock`], [`telemetry`] — environment configuration, secrets
//!   from Secrets Manager, injectable time, tracing setup and business metrics.
//! - [`cloudwatch`] — a minimal signed `GetMetricData` reader (only the health view uses it).
//! - [`sdk_http`] — the AWS SDK's HTTP client on the workspace's one stack (HTTP/1.1, compiled-in roots).
//!
//! Each concern keeps its rules, storage and flow under the same name in those layers, so a
//! template resource's code is one hop away:
//!
//! - quota (reserve, commit, release, sweep): `domain::quota`, `store::quota`;
//! - invoicing (generation, collection, the monthly close and its month lines, dunning):
//!   `domain::invoicing`, `store::invoicing`, `flows::{invoicing, dunning}`;
//! - suspension for non-payment: `store::suspension`, `flows::suspension`;
//! - subscriptions: `domain::subscription`, `store::subscriptions`, `flows::subscriptions`;
//! - operators (audit trail, suspension, credit grants, limit overrides, health, redrive):
//!   `domain::{audit, limits, queues}`, `store::{admin, operations}`,
//!   `flows::{admin, health, redrive}`, `api::admin`; the account directory and one account
//!   in full: `store::directory`, `flows::directory`, `api::directory`; closing unpaid
//!   invoices: `domain::invoicing::void`, `store::invoicing::operator`,
//!   `flows::invoice_actions`;
//! - feature flags: `domain::flags`, `store::flags`, `flows::flags`, `api::flags`;
//! - bring-your-own provider keys: `domain::byo_keys`, `crypto::envelope` (feature
//!   `byo-keys`), `store::byo_keys`, `flows::byo_keys`, `api::byo_keys`;
//! - business metrics out (EMF) and CloudWatch metrics in (the health view's queue ages):
//!   `telemetry::metrics`, `cloudwatch`.
//!
//! A function package is a thin `main.rs` that calls a runner with the handler from its
//! `lib.rs`; the local server and the tests call those same handlers.

pub mod api;
pub mod app;
pub mod auth;
pub mod clock;
pub mod cloudwatch;
pub mod config;
#[cfg(feature = "byo-keys")]
pub mod crypto;
pub mod domain;
pub mod error;
pub mod events;
pub mod flows;
pub mod lambda;
pub mod payments;
pub mod sdk_http;
pub mod secrets;
pub mod store;
pub mod telemetry;

pub use app::App;
pub use error::ApiError;
