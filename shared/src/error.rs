//! The one error type handlers return, and its mapping to HTTP.
//!
//! Every failure a client can see becomes `{"detail": "...", "code": "..."}` with the status
//! below. Internal causes are logged, never sent: a 5xx body says only what kind of thing
//! failed.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("authentication required")]
    Unauthenticated,
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("{detail}")]
    NotFound { code: &'static str, detail: String },
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("{detail}")]
    Gone { code: &'static str, detail: String },
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("{detail}")]
    PaymentRequired { code: &'static str, detail: String },
    /// An invoice could not be charged: 402 with the page where the customer can pay it.
    #[error("{detail}")]
    InvoiceUnpaid { code: &'static str, detail: String, hosted_invoice_url: Option<String> },
    #[error("{detail}")]
    TooManyRequests { code: &'static str, detail: String, retry_after_secs: u64 },
    #[error("payment provider failed: {0}")]
    PaymentProvider(String),
    #[error("a dependency is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

/// What a 503 asks clients to wait before retrying.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

#[derive(Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    pub detail: &'a str,
    pub code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosted_invoice_url: Option<&'a str>,
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest { code, detail: detail.into() }
    }
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Forbidden { code, detail: detail.into() }
    }
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::NotFound { code, detail: detail.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Gone { .. } => StatusCode::GONE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PaymentRequired { .. } | Self::InvoiceUnpaid { .. } => StatusCode::PAYMENT_REQUIRED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PaymentProvider(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Gone { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::PaymentRequired { code, .. }
            | Self::InvoiceUnpaid { code, .. }
            | Self::TooManyRequests { code, .. } => code,
            Self::Unauthenticated => "unauthenticated",
            Self::PaymentProvider(_) => "payment_provider_error",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// When a client should try again: a refusal that names its wait, or an outage (a
    /// dependency down or contention that outlasted every retry) after a short pause.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after_secs, .. } => Some(*retry_after_secs),
            Self::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// The sentence the client sees. Server-side causes are replaced by a generic sentence.
    pub fn public_detail(&self) -> String {
        match self {
            Self::PaymentProvider(_) => {
                "The payment provider could not complete the request; nothing was charged. Please retry.".to_owned()
            }
            Self::Unavailable(_) => "The billing service is temporarily unavailable. Please retry shortly.".to_owned(),
            Self::Internal(_) => "The billing service hit an unexpected error.".to_owned(),
            Self::Unauthenticated => "A valid bearer token is required.".to_owned(),
            other => other.to_string(),
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, code = self.code(), "request failed");
        } else {
            tracing::info!(code = self.code(), status = status.as_u16(), "request refused");
        }
        let detail = self.public_detail();
        let hosted_invoice_url = match &self {
            Self::InvoiceUnpaid { hosted_invoice_url, .. } => hosted_invoice_url.as_deref(),
            _ => None,
        };
        let body = serde_json::to_string(&ErrorBody { detail: &detail, code: self.code(), hosted_invoice_url })
            .expect("an error body always serializes");
        let mut builder = Response::builder().status(status).header("content-type", "application/json");
        if let Some(seconds) = self.retry_after_secs() {
            builder = builder.header("retry-after", seconds.to_string());
        }
        builder.body(Body::from(body)).expect("static headers are valid")
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        if err.is_unavailable() { Self::Unavailable(err.to_string()) } else { Self::Internal(err.into()) }
    }
}

impl From<crate::costs::http::QueryError> for ApiError {
    fn from(err: crate::costs::http::QueryError) -> Self {
        use crate::costs::http::QueryError;
        let code = match err {
            QueryError::InvalidInstant { .. } | QueryError::InvalidLimit => "invalid_query",
            QueryError::OutOfOrder { .. } => "invalid_range",
        };
        Self::bad_request(code, err.to_string())
    }
}

impl From<crate::exports::http::ExportError> for ApiError {
    fn from(err: crate::exports::http::ExportError) -> Self {
        use crate::exports::http::ExportError;
        match err {
            ExportError::UnknownKind => Self::not_found("unknown_export", err.to_string()),
            ExportError::InvalidLimit | ExportError::NotForKind { .. } => {
                Self::bad_request("invalid_query", err.to_string())
            }
        }
    }
}

impl From<crate::usage::http::DayRangeError> for ApiError {
    fn from(err: crate::usage::http::DayRangeError) -> Self {
        use crate::usage::http::DayRangeError;
        let code = match err {
            DayRangeError::InvalidDate { .. } => "invalid_query",
            DayRangeError::OutOfOrder { .. } | DayRangeError::TooLong { .. } => "invalid_range",
        };
        Self::bad_request(code, err.to_string())
    }
}

impl From<crate::subscriptions::flow::manage::SubscriptionError> for ApiError {
    fn from(err: crate::subscriptions::flow::manage::SubscriptionError) -> Self {
        use crate::subscriptions::flow::manage::SubscriptionError as E;
        let conflict = |code: &'static str, err: &E| Self::Conflict { code, detail: err.to_string() };
        match err {
            E::Store(e) => e.into(),
            E::Payment(e) => e.into(),
            E::InvalidTier(..) => Self::bad_request("invalid_tier", err.to_string()),
            E::ToFree => Self::bad_request("use_cancel", err.to_string()),
            E::NoSubscription => conflict("no_subscription", &err),
            E::Ended => conflict("subscription_ended", &err),
            E::CancellationPending => conflict("cancellation_pending", &err),
            E::SameTier(_) => conflict("same_tier", &err),
            E::NoPrice(_) => conflict("tier_unavailable", &err),
            E::PastDue => conflict("subscription_past_due", &err),
            E::Busy => {
                Self::TooManyRequests { code: "subscription_busy", detail: err.to_string(), retry_after_secs: 2 }
            }
        }
    }
}

impl From<crate::operators::flow::AdminError> for ApiError {
    fn from(err: crate::operators::flow::AdminError) -> Self {
        use crate::operators::flow::AdminError as E;
        use crate::operators::rules::audit::ReasonError;
        match err {
            E::Store(e) => e.into(),
            E::List(e) => e.into(),
            E::Reason(ReasonError::Missing) => Self::bad_request("reason_required", err.to_string()),
            E::Reason(ReasonError::TooLong) => Self::bad_request("invalid_reason", err.to_string()),
            E::NoAccount => Self::not_found("account_not_found", err.to_string()),
            E::AlreadySuspended => Self::Conflict { code: "already_suspended", detail: err.to_string() },
            E::NotSuspended => Self::Conflict { code: "not_suspended", detail: err.to_string() },
            E::Busy => Self::TooManyRequests { code: "account_busy", detail: err.to_string(), retry_after_secs: 1 },
            E::ZeroAmount => Self::bad_request("invalid_amount", err.to_string()),
            E::Override(crate::accounts::rules::limits::OverrideError::Expired(_)) => {
                Self::bad_request("invalid_expiry", err.to_string())
            }
            E::Override(_) => Self::Conflict { code: "limit_not_overridable", detail: err.to_string() },
            E::BelowHolds { .. } => Self::Conflict { code: "insufficient_credits", detail: err.to_string() },
        }
    }
}

impl From<crate::flags::flow::FlagsError> for ApiError {
    fn from(err: crate::flags::flow::FlagsError) -> Self {
        use crate::flags::flow::FlagsError as E;
        use crate::flags::rules::FlagError;
        use crate::operators::rules::audit::ReasonError;
        match err {
            E::Store(e) => e.into(),
            E::Reason(ReasonError::Missing) => Self::bad_request("reason_required", err.to_string()),
            E::Reason(ReasonError::TooLong) => Self::bad_request("invalid_reason", err.to_string()),
            E::Invalid(FlagError::InvalidName) => Self::bad_request("invalid_flag", err.to_string()),
            E::Invalid(FlagError::UnknownTier(_)) => Self::bad_request("unknown_tier", err.to_string()),
            E::Invalid(FlagError::DescriptionTooLong) => Self::bad_request("invalid_description", err.to_string()),
            E::Undefined(_) => Self::not_found("flag_not_found", err.to_string()),
            E::Busy => Self::TooManyRequests { code: "flag_busy", detail: err.to_string(), retry_after_secs: 1 },
        }
    }
}

impl From<crate::promotions::flow::PromoCodesError> for ApiError {
    fn from(err: crate::promotions::flow::PromoCodesError) -> Self {
        use crate::promotions::flow::PromoCodesError as E;
        use crate::promotions::rules::PromoError as P;
        match err {
            E::Store(e) => e.into(),
            E::Payment(e) => e.into(),
            E::Refused(refusal) => Self::bad_request(refusal.code(), refusal.to_string()),
            E::Invalid(ref invalid) => {
                let code = match invalid {
                    P::InvalidCode => "invalid_promo_code",
                    P::DiscountRequired | P::InvalidPercent | P::InvalidAmount => "invalid_discount",
                    P::DurationRequired | P::MonthsRequired | P::MonthsNotAllowed => "invalid_duration",
                    P::InvalidMaxRedemptions => "invalid_max_redemptions",
                    P::ExpiryInPast => "invalid_expiry",
                    P::UnknownTarget(_) => "unknown_promo_target",
                };
                Self::bad_request(code, err.to_string())
            }
            E::Exists(_) => Self::Conflict { code: "promo_code_exists", detail: err.to_string() },
            E::NotFound(_) => Self::not_found("promo_code_not_found", err.to_string()),
            E::Busy => Self::TooManyRequests { code: "promo_code_busy", detail: err.to_string(), retry_after_secs: 1 },
        }
    }
}

impl From<crate::invoicing::flow::actions::InvoiceActionError> for ApiError {
    fn from(err: crate::invoicing::flow::actions::InvoiceActionError) -> Self {
        use crate::invoicing::flow::actions::InvoiceActionError as E;
        use crate::operators::rules::audit::ReasonError;
        match err {
            E::Store(e) => e.into(),
            E::Payment(e) => e.into(),
            E::Reason(ReasonError::Missing) => Self::bad_request("reason_required", err.to_string()),
            E::Reason(ReasonError::TooLong) => Self::bad_request("invalid_reason", err.to_string()),
            E::NotFound => Self::not_found("invoice_not_found", err.to_string()),
            E::NotOpen(_) => Self::Conflict { code: "invoice_not_open", detail: err.to_string() },
            E::PartlyPaid => Self::Conflict { code: "invoice_partly_paid", detail: err.to_string() },
            E::AlreadyClosed(_) => Self::Conflict { code: "invoice_already_closed", detail: err.to_string() },
            E::Busy => Self::TooManyRequests { code: "invoice_busy", detail: err.to_string(), retry_after_secs: 1 },
        }
    }
}

impl From<crate::byo_keys::flow::ByoError> for ApiError {
    fn from(err: crate::byo_keys::flow::ByoError) -> Self {
        use crate::byo_keys::flow::ByoError as E;
        use crate::byo_keys::rules::ByoKeyError as K;
        match err {
            E::Store(e) => e.into(),
            E::Invalid(K::UnknownProvider(..)) => Self::bad_request("unknown_provider", err.to_string()),
            E::Invalid(K::InvalidKey) => Self::bad_request("invalid_api_key", err.to_string()),
            E::Invalid(K::InvalidBaseUrl) => Self::bad_request("invalid_base_url", err.to_string()),
            E::NotInPlan(_) => Self::Conflict { code: "byo_keys_not_in_plan", detail: err.to_string() },
            E::NoKey(_) => Self::not_found("byo_key_not_found", err.to_string()),
            #[cfg(feature = "byo-keys")]
            E::Envelope(e) => {
                use crate::crypto::envelope::EnvelopeError as V;
                match e {
                    // Said plainly, never answered with a wrong key: the customer saves it again.
                    V::Tampered => Self::Conflict {
                        code: "byo_key_unreadable",
                        detail: "The stored key no longer decrypts (it was altered or corrupted); save it again."
                            .into(),
                    },
                    V::Kms(why) => Self::Unavailable(format!("KMS: {why}")),
                    V::NotConfigured | V::Seal => Self::Internal(anyhow::anyhow!(e)),
                }
            }
        }
    }
}

impl From<crate::operators::flow::redrive::RedriveError> for ApiError {
    fn from(err: crate::operators::flow::redrive::RedriveError) -> Self {
        use crate::operators::flow::redrive::RedriveError as E;
        use crate::operators::rules::audit::ReasonError;
        match err {
            E::Store(e) => e.into(),
            E::Reason(ReasonError::Missing) => Self::bad_request("reason_required", err.to_string()),
            E::Reason(ReasonError::TooLong) => Self::bad_request("invalid_reason", err.to_string()),
            E::UnknownQueue(_) => Self::not_found("unknown_queue", err.to_string()),
            E::NotRedrivable(_) => Self::Conflict { code: "not_redrivable", detail: err.to_string() },
            E::NotConfigured(_) => Self::Internal(anyhow::anyhow!(err)),
            E::Sqs { .. } => {
                tracing::error!(error = %err, "redrive failed at SQS");
                Self::Unavailable("The queue service could not be reached; retry shortly.".into())
            }
        }
    }
}

impl From<crate::store::cursor::CursorError> for ApiError {
    fn from(err: crate::store::cursor::CursorError) -> Self {
        Self::bad_request("invalid_cursor", err.to_string())
    }
}

impl From<crate::costs::store::ListError> for ApiError {
    fn from(err: crate::costs::store::ListError) -> Self {
        use crate::costs::store::ListError;
        match err {
            ListError::Cursor(e) => e.into(),
            ListError::Store(e) => e.into(),
        }
    }
}

impl From<crate::quota::store::QuotaError> for ApiError {
    fn from(err: crate::quota::store::QuotaError) -> Self {
        use crate::quota::rules::{Outcome, Refusal};
        use crate::quota::store::QuotaError;
        match err {
            QuotaError::Refused(refusal @ Refusal::Suspended) => {
                Self::forbidden(refusal.code(), "The billing account is suspended; no new runs can start.")
            }
            QuotaError::Refused(refusal @ Refusal::Exhausted) => Self::PaymentRequired {
                code: refusal.code(),
                detail: "No free workflows, credits, subscription quota or overage allowance is left for this run."
                    .into(),
            },
            QuotaError::Refused(refusal @ Refusal::BudgetExceeded) => Self::PaymentRequired {
                code: refusal.code(),
                detail: "This month's budget is spent and capped; raise the budget or wait for next month.".into(),
            },
            QuotaError::Refused(ref refusal @ Refusal::ConcurrencyFull { limit, retry_after_secs }) => {
                Self::TooManyRequests {
                    code: refusal.code(),
                    detail: format!("All {limit} concurrent run slots of this plan are in use."),
                    retry_after_secs,
                }
            }
            QuotaError::AlreadySettled { run_id, outcome } => match outcome {
                Outcome::Expired => Self::Gone {
                    code: "reservation_expired",
                    detail: format!("The reservation for run {run_id} expired and its quota was returned."),
                },
                outcome => Self::Conflict {
                    code: "reservation_settled",
                    detail: format!("The reservation for run {run_id} was already {}.", outcome.as_str()),
                },
            },
            QuotaError::NotFound(run_id) => {
                Self::not_found("reservation_not_found", format!("There is no reservation for run {run_id}."))
            }
            QuotaError::ExceedsHold(e) => Self::Conflict {
                code: "exceeds_hold",
                detail: format!(
                    "The actual cost ${} is above the ${} held; set overage_approved to bill the difference.",
                    crate::money::dollars(e.actual_cents),
                    crate::money::dollars(e.held_cents)
                ),
            },
            QuotaError::Contended => Self::TooManyRequests {
                code: "account_busy",
                detail: "Too many simultaneous changes to this account; retry shortly.".into(),
                retry_after_secs: 1,
            },
            QuotaError::Store(e) => e.into(),
        }
    }
}

impl From<crate::invoicing::flow::InvoicingError> for ApiError {
    fn from(err: crate::invoicing::flow::InvoicingError) -> Self {
        use crate::invoicing::flow::InvoicingError as E;
        let detail = err.to_string();
        match err {
            E::NothingToInvoice => Self::Conflict { code: "nothing_to_invoice", detail },
            E::NotPayable(_) => Self::Conflict { code: "invoice_not_payable", detail },
            E::NoAccount => Self::not_found("account_not_found", detail),
            E::Busy => Self::TooManyRequests { code: "invoice_generation_in_progress", detail, retry_after_secs: 2 },
            E::NoPaymentMethod { hosted_invoice_url } => {
                Self::InvoiceUnpaid { code: "no_payment_method", detail, hosted_invoice_url }
            }
            E::Declined { hosted_invoice_url } => {
                Self::InvoiceUnpaid { code: "payment_declined", detail, hosted_invoice_url }
            }
            E::Incomplete { hosted_invoice_url } => {
                Self::InvoiceUnpaid { code: "payment_incomplete", detail, hosted_invoice_url }
            }
            E::Inconsistent(_) => Self::Internal(anyhow::anyhow!(detail)),
            E::Store(e) => e.into(),
            E::Payment(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(err: ApiError) -> (u16, serde_json::Value, Option<String>) {
        let resp = err.into_response();
        let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let json = serde_json::from_slice(resp.body().as_ref()).unwrap();
        (resp.status().as_u16(), json, retry)
    }

    #[test]
    fn client_errors_keep_their_detail_and_code() {
        let (status, json, _) = body_of(ApiError::bad_request("invalid_amount", "amount_usd must be above 0"));
        assert_eq!(status, 400);
        assert_eq!(json, serde_json::json!({"detail": "amount_usd must be above 0", "code": "invalid_amount"}));
    }

    #[test]
    fn an_unpaid_invoice_answers_402_with_where_to_pay() {
        let err = ApiError::InvoiceUnpaid {
            code: "payment_declined",
            detail: "declined".into(),
            hosted_invoice_url: Some("https://pay.example/i".into()),
        };
        let (status, json, _) = body_of(err);
        assert_eq!(status, 402);
        assert_eq!(json["hosted_invoice_url"], "https://pay.example/i");
        let (_, plain, _) = body_of(ApiError::bad_request("x", "y"));
        assert!(plain.get("hosted_invoice_url").is_none(), "other errors keep the two fields");
    }

    #[test]
    fn concurrency_refusals_carry_retry_after() {
        let err = ApiError::TooManyRequests {
            code: "concurrency_limit",
            detail: "all slots busy".into(),
            retry_after_secs: 7,
        };
        let (status, json, retry) = body_of(err);
        assert_eq!((status, retry.as_deref()), (429, Some("7")));
        assert_eq!(json["code"], "concurrency_limit");
    }

    #[test]
    fn server_errors_never_leak_their_cause() {
        let (status, json, _) =
            body_of(ApiError::Internal(anyhow::anyhow!("table arn:aws:dynamodb:secret-table broke")));
        assert_eq!(status, 500);
        assert!(!json["detail"].as_str().unwrap().contains("arn:"), "{json}");
        let (status, json, retry) = body_of(ApiError::Unavailable("connect to 10.0.0.1 refused".into()));
        assert_eq!((status, json["code"].as_str(), retry.as_deref()), (503, Some("service_unavailable"), Some("2")));
        assert!(!json["detail"].as_str().unwrap().contains("10.0.0.1"));
    }
}
