//! `/_local/sign-in` over HTTP: the redirect with the token in the fragment, and refusals.

mod common;

use local_server::server::LocalSite;
use local_server::sign_in;
use local_server::tokens::DevTokens;

async fn site(tokens: &DevTokens) -> String {
    let local = LocalSite { routes: sign_in::routes(tokens.clone()), web: None };
    common::serve(common::app(&[]).await, tokens.clone(), local).await
}

/// The redirect's path and the claims of the token in its fragment.
fn split(location: &str, tokens: &DevTokens) -> (String, std::collections::HashMap<String, String>) {
    let (path, fragment) = location.split_once('#').expect("a fragment");
    let token = fragment.strip_prefix("access_token=").expect("access_token in the fragment");
    (path.to_owned(), tokens.verify(token).expect("a valid dev token"))
}

#[tokio::test]
async fn sign_in_redirects_to_next_with_a_token_for_the_org_and_role() {
    let tokens = DevTokens::random();
    let url = site(&tokens).await;
    let http = common::client();

    let owner = http.get(format!("{url}/_local/sign-in?org=demo&role=owner")).send().await.unwrap();
    assert_eq!(owner.status(), 302);
    assert_eq!(owner.headers()["cache-control"], "no-store");
    let (path, claims) = split(owner.headers()["location"].to_str().unwrap(), &tokens);
    assert_eq!(path, "/billing");
    assert_eq!((claims["org_id"].as_str(), claims["org_role"].as_str()), ("demo", "owner"));
    assert!(!claims.contains_key("groups"));

    let member = http
        .get(format!("{url}/_local/sign-in?org=acme-2&role=member&next=%2Fbilling%2Finvoices%2F123"))
        .send()
        .await
        .unwrap();
    let (path, claims) = split(member.headers()["location"].to_str().unwrap(), &tokens);
    assert_eq!(path, "/billing/invoices/123");
    assert_eq!(claims["org_id"], "acme-2");
    assert!(!claims.contains_key("org_role"), "a member carries no role claim");

    let admin = http.get(format!("{url}/_local/sign-in?admin=1")).send().await.unwrap();
    let (path, claims) = split(admin.headers()["location"].to_str().unwrap(), &tokens);
    assert_eq!(path, "/admin");
    assert_eq!(claims["groups"], "[billing-admin]", "flattened as API Gateway passes list claims");
    assert!(!claims.contains_key("org_id"));
}

#[tokio::test]
async fn sign_in_refuses_bad_input_with_a_plain_400() {
    let tokens = DevTokens::random();
    let url = site(&tokens).await;
    let http = common::client();
    for query in [
        "",
        "?org=demo%20corp",
        "?org=demo&role=superuser",
        "?org=demo&admin=2",
        "?org=demo&next=https%3A%2F%2Fevil.example%2F",
        "?org=demo&next=%2F%2Fevil.example",
        "?org=demo&next=billing",
    ] {
        let answer = http.get(format!("{url}/_local/sign-in{query}")).send().await.unwrap();
        assert_eq!(answer.status(), 400, "{query}");
        assert!(answer.headers().get("location").is_none(), "{query}");
        assert!(answer.text().await.unwrap().starts_with("sign-in refused: "), "{query}");
    }
}
