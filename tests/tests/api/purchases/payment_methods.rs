//! Payment-method routes against stripe-mock: attach, list, and never detach someone else's.

use billing_tests::accounts::path;
use billing_tests::purchases::stripe_mock_context;
use serde_json::json;

#[tokio::test]
async fn payment_methods_attach_list_and_refuse_to_detach_someone_elses() {
    let ctx = stripe_mock_context(&[]).await;
    let server = ctx.serve().await;
    let token = server.tokens.owner("cards");

    let attached = server
        .request(
            "POST",
            &path("cards", "payment-method"),
            Some(&token),
            Some(json!({ "payment_method_id": "pm_card_visa", "set_as_default": true })),
        )
        .await;
    assert_eq!(attached.status, 200, "{attached:?}");
    assert_eq!(attached.json["is_default"], true);
    assert!(attached.json["id"].as_str().unwrap().starts_with("pm_"));
    assert!(ctx.stored_account("cards").await.has_payment_method);

    let list = server.get(&path("cards", "payment-methods"), Some(&token)).await;
    assert_eq!(list.status, 200);
    assert!(list.json.as_array().is_some(), "{list:?}");

    // stripe-mock's payment methods belong to its own fixture customer, not ours.
    let foreign = server.request("DELETE", &path("cards", "payment-methods/pm_card_visa"), Some(&token), None).await;
    assert_eq!((foreign.status, foreign.json["code"].as_str()), (404, Some("payment_method_not_found")), "{foreign:?}");
    let bad = server
        .request(
            "POST",
            &path("cards", "payment-method"),
            Some(&token),
            Some(json!({ "payment_method_id": "tok_visa", "set_as_default": false })),
        )
        .await;
    assert_eq!(bad.status, 400);
}
