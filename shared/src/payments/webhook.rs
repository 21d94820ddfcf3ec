//! Webhook signature verification with async-stripe's implementation (HMAC-SHA256,
//! constant-time comparison, any of several `v1=` signatures accepted during a secret roll,
//! 300 s tolerance), against the injectable clock.
//!
//! Only the signature is taken from it: the payload is then read as plain JSON, so an event
//! rendered with an API version newer than the typed models is still accepted, not bounced
//! back to Stripe for three days of retries.

use stripe_webhook::{Webhook, WebhookError};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("no signature in the Stripe-Signature header matches the payload")]
    Mismatch,
    #[error("the signature timestamp is more than 300 seconds from now")]
    Stale,
}

impl SignatureError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing_signature",
            Self::Malformed | Self::Mismatch => "invalid_signature",
            Self::Stale => "stale_signature",
        }
    }
}

/// Checks `header` against `payload` as Stripe signs it, at unix time `now`.
pub fn verify(payload: &str, header: Option<&str>, secret: &str, now: i64) -> Result<(), SignatureError> {
    let header = header.filter(|h| !h.trim().is_empty()).ok_or(SignatureError::Missing)?;
    match Webhook::construct_event_with_timestamp(payload, header, secret, now) {
        // A parse failure comes only after the signature and timestamp were accepted.
        Ok(_) | Err(WebhookError::BadParse(_)) => Ok(()),
        Err(WebhookError::BadTimestamp(_)) => Err(SignatureError::Stale),
        Err(WebhookError::BadSignature) => Err(SignatureError::Mismatch),
        Err(WebhookError::BadHeader(_) | WebhookError::BadKey) => Err(SignatureError::Malformed),
    }
}

/// Signs `payload` the way Stripe does (`t=…,v1=…`), for tests and local tools.
pub fn sign(payload: &str, secret: &str, timestamp: i64) -> String {
    Webhook::generate_test_header(payload, secret, Some(timestamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const PAYLOAD: &str =
        r#"{"id":"evt_1","object":"event","type":"customer.created","created":1700000000,"data":{"object":{}}}"#;

    #[test]
    fn a_stripe_signed_payload_verifies_even_when_its_object_is_unfamiliar() {
        let header = sign(PAYLOAD, SECRET, 1_700_000_000);
        assert_eq!(verify(PAYLOAD, Some(&header), SECRET, 1_700_000_100), Ok(()));
    }

    #[test]
    fn tampering_a_wrong_secret_and_a_stale_timestamp_are_refused() {
        let header = sign(PAYLOAD, SECRET, 1_700_000_000);
        assert_eq!(
            verify(&PAYLOAD.replace("evt_1", "evt_2"), Some(&header), SECRET, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(PAYLOAD, Some(&header), "whsec_other", 1_700_000_000), Err(SignatureError::Mismatch));
        assert_eq!(verify(PAYLOAD, Some(&header), SECRET, 1_700_000_301), Err(SignatureError::Stale));
        assert_eq!(verify(PAYLOAD, None, SECRET, 1_700_000_000), Err(SignatureError::Missing));
        assert!(verify(PAYLOAD, Some("t=abc,v1=00"), SECRET, 1_700_000_000).is_err());
    }

    #[test]
    fn during_a_secret_roll_any_valid_v1_signature_is_accepted() {
        let old = sign(PAYLOAD, "whsec_old", 1_700_000_000);
        let new = sign(PAYLOAD, "whsec_new", 1_700_000_000);
        let v1 = |h: &str| h.split(",v1=").nth(1).unwrap().to_owned();
        let both = format!("t=1700000000,v1={},v1={}", v1(&old), v1(&new));
        assert_eq!(verify(PAYLOAD, Some(&both), "whsec_new", 1_700_000_000), Ok(()));
        assert_eq!(verify(PAYLOAD, Some(&both), "whsec_old", 1_700_000_000), Ok(()));
    }
}
