//! The one error type handlers return, and its mapping to HTTP.
//!
//! Every failure a client can see becomes `{"detail": "...", "code": "..."}` with the status
//! below. Internal causes are logged, never sent: a 5xx body says only what kind of thing
//! failed.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::payments::PaymentError;
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

impl From<PaymentError> for ApiError {
    fn from(err: PaymentError) -> Self {
        match err {
            PaymentError::NotConfigured => Self::Unavailable("payments are not configured on this deployment".into()),
            PaymentError::NotFound(what) => Self::not_found("not_found", format!("No such {what}.")),
            other => Self::PaymentProvider(other.to_string()),
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
