//! The AWS SDK's HTTPS client: the workspace's one stack (hyper 1, rustls with aws-lc-rs),
//! trusting the Mozilla root program compiled into the binary instead of the system's files.
//!
//! The SDK's default client reads the operating system's certificates when it first sets up
//! a connection: the bundle file and then every file of the certificate directory, each
//! parsed, in every cold start. That was the largest part of a function's own init CPU
//! (README, "Cold starts"). The compiled roots are the same program the Stripe and CloudWatch
//! clients trust (webpki-roots), so every client of a function trusts the same authorities.

use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use base64::Engine;

/// The SDK's HTTPS (and, for local endpoints, HTTP) client with compiled-in roots.
pub fn sdk_https_client() -> Result<SharedHttpClient, aws_smithy_http_client::HttpClientError> {
    let context = TlsContext::builder().with_trust_store(compiled_roots()).build()?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}

fn compiled_roots() -> TrustStore {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .fold(TrustStore::empty().with_native_roots(false), |store, cert| store.with_pem_certificate(pem(cert)))
}

/// A DER certificate as PEM, the only form the SDK's trust store takes.
fn pem(der: &[u8]) -> Vec<u8> {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::with_capacity(body.len() + body.len() / 64 + 64);
    pem.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem.into_bytes()
}

#[cfg(test)]
mod tests {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::*;

    #[test]
    fn every_compiled_root_survives_the_pem_round_trip_the_sdk_applies() {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        assert!(roots.len() > 100, "the Mozilla program has well over a hundred roots");
        for root in roots {
            let pem = pem(root);
            let parsed: Vec<CertificateDer<'_>> =
                CertificateDer::pem_slice_iter(&pem).collect::<Result<_, _>>().expect("valid PEM");
            assert_eq!(parsed, vec![root.clone()]);
        }
    }

    #[test]
    fn the_roots_aws_endpoints_chain_to_are_among_them() {
        // Amazon Root CA 1 and Starfield Services Root G2 (cross-signs the Amazon roots),
        // found by the subject text in their DER.
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        let has = |name: &[u8]| roots.iter().any(|r| r.windows(name.len()).any(|w| w == name));
        assert!(has(b"Amazon Root CA 1"));
        assert!(has(b"Starfield Services Root Certificate Authority - G2"));
    }
}
