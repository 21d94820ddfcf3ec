//! Configuration from the environment, read once per process.
//!
//! Every setting has one environment variable; SAM sets them from template parameters and the
//! local server from `.local/`. Secrets are wrapped in [`Secret`] so they never reach a log.

use std::fmt;
use std::time::Duration;

use crate::catalog::rules::{Catalog, CatalogError};
use crate::costs::rules::{ModelPrices, PriceTableError};
use crate::dunning::rules::{self as dunning, DunningPolicy};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Prices(#[from] PriceTableError),
    #[error("secret {arn} could not be read: {reason}")]
    Secret { arn: String, reason: String },
}

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Default)]
pub struct StripeConfig {
    pub secret_key: Option<Secret>,
    pub publishable_key: Option<String>,
    pub webhook_secret: Option<Secret>,
    /// Overrides `https://api.stripe.com` (stripe-mock locally).
    pub api_base: Option<String>,
    /// Stripe price id of each subscribable tier (and `lifetime`), by tier id.
    pub tier_prices: std::collections::BTreeMap<String, String>,
    /// Stripe price id of each workflow pack, by pack id (else the catalog price is charged).
    pub pack_prices: std::collections::BTreeMap<String, String>,
    /// Secrets Manager secret holding the secret key and webhook secret (read at cold start).
    pub secrets_arn: Option<String>,
    /// Whether the deployment takes payments, for functions not given the secret key itself.
    pub payments_enabled: bool,
}

impl StripeConfig {
    /// The tier a Stripe price id sells, if it is one of ours.
    pub fn tier_for_price(&self, price_id: &str) -> Option<&str> {
        self.tier_prices.iter().find(|(_, p)| p.as_str() == price_id).map(|(tier, _)| tier.as_str())
    }
}

impl StripeConfig {
    /// The frontend can take payments only when both halves of the key pair are present
    /// (the secret half may live only with the functions that use it).
    pub fn is_configured(&self) -> bool {
        (self.secret_key.is_some() || self.payments_enabled) && self.publishable_key.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub stripe: StripeConfig,
    /// Base URL of the web app; default checkout return URLs hang off it.
    pub frontend_url: String,
    pub event_bus_name: Option<String>,
    pub usage_queue_url: Option<String>,
    /// How long a quota hold lives without a heartbeat.
    pub hold_ttl: Duration,
    pub catalog: Catalog,
    /// Prices LLM calls that arrive without costs.
    pub model_prices: ModelPrices,
    /// Added to platform-paid LLM costs when they are passed through to the customer.
    pub margin_percent: u32,
    /// Where a queue consumer sets aside messages it can never process.
    pub dead_letter_queue_url: Option<String>,
    /// The consumed queue's `maxReceiveCount`: a message failing on that receive goes to the
    /// dead-letter queue (counted as `DeadLettered`).
    pub max_receive_count: Option<u32>,
    /// SNS topic the notifier publishes to (with e-mail subscribers if configured).
    pub notification_topic_arn: Option<String>,
    /// The KMS key that wraps organizations' data keys for bring-your-own provider keys.
    pub byo_keys_kms_key_id: Option<String>,
    /// FIFO queue between the Stripe webhook and its processor.
    pub stripe_events_queue_url: Option<String>,
    /// Failed payment attempts on one invoice before the account is suspended.
    pub failed_payments_before_suspension: u32,
    /// The token claim naming the caller's role in their organization.
    pub org_role_claim: String,
    /// IAM principals (role or user ARNs) allowed on the internal routes.
    pub workflow_engine_principals: Vec<String>,
    /// Days from an invoice's finalization to its due date.
    pub invoice_payment_terms_days: i64,
    /// Queue of accounts whose month the monthly close invoices.
    pub account_close_queue_url: Option<String>,
    /// Reminder days around an invoice's due date and when an unpaid one suspends.
    pub dunning: DunningPolicy,
    /// URLs of the stack's queues this function was given, by logical id (operators' health
    /// view and redrive; see `domain::queues`).
    pub queue_urls: std::collections::BTreeMap<&'static str, String>,
}

impl Config {
    pub const TABLE: &'static str = "BILLING_TABLE";

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let catalog = match get("PLAN_CATALOG_JSON") {
            Some(json) => Catalog::from_json(&json)?,
            None => Catalog::builtin(),
        };
        let hold_ttl = match get("HOLD_TTL_SECONDS") {
            None => Duration::from_secs(30 * 60),
            Some(raw) => match raw.parse::<u64>() {
                Ok(secs) if (30..=24 * 3600).contains(&secs) => Duration::from_secs(secs),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "HOLD_TTL_SECONDS",
                        reason: format!("{raw:?} is not a whole number of seconds between 30 and 86400"),
                    });
                }
            },
        };
        Ok(Self {
            table_name: get(Self::TABLE).ok_or(ConfigError::Missing(Self::TABLE))?,
            stripe: StripeConfig {
                secret_key: get("STRIPE_SECRET_KEY").map(Secret::new),
                publishable_key: get("STRIPE_PUBLISHABLE_KEY"),
                webhook_secret: get("STRIPE_WEBHOOK_SECRET").map(Secret::new),
                api_base: get("STRIPE_API_BASE"),
                // STRIPE_PRICE_PRO=price_123 sells tier `pro`, and so on for every tier.
                tier_prices: catalog
                    .tiers
                    .iter()
                    .filter_map(|t| {
                        let name = format!("STRIPE_PRICE_{}", t.id.as_str().to_uppercase());
                        get(&name).map(|price| (t.id.to_string(), price))
                    })
                    .collect(),
                pack_prices: catalog
                    .workflow_packs
                    .iter()
                    .filter_map(|p| {
                        get(&format!("STRIPE_PRICE_PACK_{}", p.id.to_uppercase())).map(|price| (p.id.clone(), price))
                    })
                    .collect(),
                secrets_arn: get("STRIPE_SECRETS_ARN"),
                payments_enabled: get("STRIPE_PAYMENTS_ENABLED").is_some_and(|v| v == "true"),
            },
            stripe_events_queue_url: get("STRIPE_EVENTS_QUEUE_URL"),
            failed_payments_before_suspension: match get("SUSPEND_AFTER_FAILED_PAYMENTS") {
                None => 3,
                Some(raw) => raw.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| ConfigError::Invalid {
                    name: "SUSPEND_AFTER_FAILED_PAYMENTS",
                    reason: format!("{raw:?} is not a whole number of at least 1"),
                })?,
            },
            invoice_payment_terms_days: match get("INVOICE_PAYMENT_TERMS_DAYS") {
                None => crate::invoicing::rules::DEFAULT_PAYMENT_TERMS_DAYS,
                Some(raw) => {
                    raw.parse::<i64>().ok().filter(|n| (0..=365).contains(n)).ok_or_else(|| ConfigError::Invalid {
                        name: "INVOICE_PAYMENT_TERMS_DAYS",
                        reason: format!("{raw:?} is not a whole number of days from 0 to 365"),
                    })?
                }
            },
            account_close_queue_url: get("ACCOUNT_CLOSE_QUEUE_URL"),
            queue_urls: crate::operators::rules::queues::QUEUES
                .iter()
                .filter_map(|q| get(q.env).map(|url| (q.name, url)))
                .collect(),
            dunning: dunning_policy(get("DUNNING_REMINDER_OFFSETS_DAYS"), get("SUSPEND_AFTER_DAYS_OVERDUE"))?,
            frontend_url: get("FRONTEND_URL").unwrap_or_else(|| "http://localhost:3000".to_owned()),
            event_bus_name: get("EVENT_BUS_NAME"),
            usage_queue_url: get("USAGE_QUEUE_URL"),
            hold_ttl,
            catalog,
            model_prices: match get("MODEL_PRICES_JSON") {
                Some(json) => ModelPrices::from_json(&json)?,
                None => ModelPrices::builtin(),
            },
            margin_percent: match get("PASS_THROUGH_MARGIN_PERCENT") {
                None => 20,
                Some(raw) => raw.parse::<u32>().ok().filter(|m| *m <= 1000).ok_or_else(|| ConfigError::Invalid {
                    name: "PASS_THROUGH_MARGIN_PERCENT",
                    reason: format!("{raw:?} is not a whole percentage between 0 and 1000"),
                })?,
            },
            dead_letter_queue_url: get("DEAD_LETTER_QUEUE_URL"),
            max_receive_count: match get("MAX_RECEIVE_COUNT") {
                None => None,
                Some(raw) => Some(raw.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| ConfigError::Invalid {
                    name: "MAX_RECEIVE_COUNT",
                    reason: format!("{raw:?} is not a whole number of at least 1"),
                })?),
            },
            notification_topic_arn: get("NOTIFICATION_TOPIC_ARN"),
            byo_keys_kms_key_id: get("BYO_KEYS_KMS_KEY_ID"),
            org_role_claim: get("ORG_ROLE_CLAIM").unwrap_or_else(|| "org_role".to_owned()),
            workflow_engine_principals: get("WORKFLOW_ENGINE_PRINCIPALS")
                .map(|raw| raw.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect())
                .unwrap_or_default(),
        })
    }
}

/// `DUNNING_REMINDER_OFFSETS_DAYS` ("-3,0,3,7"; "none" for no reminders) and
/// `SUSPEND_AFTER_DAYS_OVERDUE` (14).
fn dunning_policy(offsets: Option<String>, suspend_after: Option<String>) -> Result<DunningPolicy, ConfigError> {
    let offsets = match offsets.as_deref() {
        None => dunning::DEFAULT_REMINDER_OFFSETS_DAYS.to_vec(),
        Some("none") => Vec::new(),
        Some(raw) => raw.split(',').map(|o| o.trim().parse::<i64>()).collect::<Result<_, _>>().map_err(|_| {
            ConfigError::Invalid {
                name: "DUNNING_REMINDER_OFFSETS_DAYS",
                reason: format!("{raw:?} is not a comma-separated list of whole days (e.g. -3,0,3,7)"),
            }
        })?,
    };
    let suspend_after = match suspend_after {
        None => dunning::DEFAULT_SUSPEND_AFTER_DAYS,
        Some(raw) => raw.parse::<i64>().map_err(|_| ConfigError::Invalid {
            name: "SUSPEND_AFTER_DAYS_OVERDUE",
            reason: format!("{raw:?} is not a whole number of days"),
        })?,
    };
    DunningPolicy::new(offsets, suspend_after).map_err(|e| ConfigError::Invalid {
        name: match e {
            dunning::PolicyError::Offset(_) => "DUNNING_REMINDER_OFFSETS_DAYS",
            dunning::PolicyError::Suspension(_) => "SUSPEND_AFTER_DAYS_OVERDUE",
        },
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn the_table_name_is_required() {
        assert!(matches!(config(&[]), Err(ConfigError::Missing("BILLING_TABLE"))));
    }

    #[test]
    fn stripe_counts_as_configured_only_with_both_keys() {
        let without = config(&[("BILLING_TABLE", "t"), ("STRIPE_PUBLISHABLE_KEY", "pk_test_1")]).unwrap();
        assert!(!without.stripe.is_configured());
        let with = config(&[
            ("BILLING_TABLE", "t"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_1"),
            ("STRIPE_SECRET_KEY", "sk_test_1"),
        ])
        .unwrap();
        assert!(with.stripe.is_configured());
        assert!(!format!("{with:?}").contains("sk_test_1"), "secrets must not appear in Debug output");
    }

    #[test]
    fn a_catalog_override_replaces_the_builtin_and_is_validated() {
        let mut json: serde_json::Value = serde_json::to_value(Catalog::builtin()).unwrap();
        json["run_prices"]["standard"] = serde_json::json!(12);
        let ok = config(&[("BILLING_TABLE", "t"), ("PLAN_CATALOG_JSON", &json.to_string())]).unwrap();
        assert_eq!(ok.catalog.run_prices.standard, rust_decimal::Decimal::from(12));

        json["tiers"][1]["price_usd"] = serde_json::json!(-1);
        let err = config(&[("BILLING_TABLE", "t"), ("PLAN_CATALOG_JSON", &json.to_string())]).unwrap_err();
        assert!(matches!(err, ConfigError::Catalog(CatalogError::NegativePrice { .. })), "{err:?}");
    }

    #[test]
    fn hold_ttl_defaults_to_thirty_minutes_and_rejects_nonsense() {
        assert_eq!(config(&[("BILLING_TABLE", "t")]).unwrap().hold_ttl, Duration::from_secs(1800));
        assert!(config(&[("BILLING_TABLE", "t"), ("HOLD_TTL_SECONDS", "soon")]).is_err());
        assert!(config(&[("BILLING_TABLE", "t"), ("HOLD_TTL_SECONDS", "5")]).is_err());
    }

    #[test]
    fn dunning_defaults_to_reminders_at_minus_three_zero_three_and_seven_days_and_suspension_after_fourteen() {
        let default = config(&[("BILLING_TABLE", "t")]).unwrap().dunning;
        assert_eq!((default.offsets(), default.suspend_after_days()), (&[-3, 0, 3, 7][..], 14));
        let custom = config(&[
            ("BILLING_TABLE", "t"),
            ("DUNNING_REMINDER_OFFSETS_DAYS", " 5, -1 ,0"),
            ("SUSPEND_AFTER_DAYS_OVERDUE", "30"),
        ])
        .unwrap()
        .dunning;
        assert_eq!((custom.offsets(), custom.suspend_after_days()), (&[-1, 0, 5][..], 30));
        let none = config(&[("BILLING_TABLE", "t"), ("DUNNING_REMINDER_OFFSETS_DAYS", "none")]).unwrap().dunning;
        assert!(none.offsets().is_empty());
        for (name, bad) in [
            ("DUNNING_REMINDER_OFFSETS_DAYS", "soon"),
            ("DUNNING_REMINDER_OFFSETS_DAYS", "-3,,3"),
            ("DUNNING_REMINDER_OFFSETS_DAYS", "400"),
            ("SUSPEND_AFTER_DAYS_OVERDUE", "0"),
            ("SUSPEND_AFTER_DAYS_OVERDUE", "two weeks"),
        ] {
            let err = config(&[("BILLING_TABLE", "t"), (name, bad)]).unwrap_err();
            assert!(matches!(err, ConfigError::Invalid { name: n, .. } if n == name), "{name}={bad}: {err:?}");
        }
    }
}
