//! Purchase helpers: a context whose purchase routes reach stripe-mock.

use crate::TestContext;

/// A context whose Stripe is stripe-mock, with keys, the pro price, the frontend's URL and `extra`.
pub async fn stripe_mock_context(extra: &[(&str, &str)]) -> TestContext {
    let base = std::env::var("STRIPE_API_BASE").expect("stripe-mock runs in the test stack");
    let mut vars = vec![
        ("STRIPE_SECRET_KEY", "sk_test_123"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_123"),
        ("STRIPE_API_BASE", base.as_str()),
        ("STRIPE_PRICE_PRO", "price_pro_monthly"),
        ("FRONTEND_URL", "https://app.example.com"),
    ];
    vars.extend_from_slice(extra);
    TestContext::with_env(&vars).await
}
