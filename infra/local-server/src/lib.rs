//! The local stand-in for API Gateway and the deployment: read `template.yaml`, create its
//! resources in the emulators, and serve its routes through the real handlers.
//!
//! - [`template`] — parse the template (functions, routes and their auth, table, queues, buses).
//! - [`provision`] — create those resources in DynamoDB Local and moto.
//! - [`tokens`] — sign and verify the dev JWTs that stand in for the identity provider.
//! - [`pump`] — SQS event source mappings and EventBridge rule targets, done locally.
//! - [`stream`] — the DynamoDB stream event source mapping (the outbox), done locally.
//! - [`registry`] — binary name → handler, for every function package (generated from
//!   template.yaml by `make generate`).
//! - [`server`] — the HTTP router that turns requests into API Gateway v2 events.
//! - [`sign_in`] — `/_local/sign-in`: dev tokens handed to the web app in the URL fragment.
//! - [`stripe_proxy`] — a recording proxy in front of stripe-mock (sessions, subscriptions).
//! - [`checkout_events`] — the events Stripe sends when a Checkout session completes.
//! - [`checkout`] — `/_local/checkout` and `/_local/portal`: the hosted pages, stood in for.
//! - [`demo`] — 60 days of history for org `demo`, written once through the system's own code.
//! - [`web`] — the web app's static build on the same origin, with the SPA fallback.

pub mod checkout;
pub mod checkout_events;
pub mod demo;
pub mod provision;
pub mod pump;
pub mod registry;
pub mod server;
pub mod sign_in;
pub mod stream;
pub mod stripe_proxy;
pub mod template;
pub mod tokens;
pub mod web;
