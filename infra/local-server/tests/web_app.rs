//! The web app on the API's origin: files, the SPA fallback, cache rules, and the API's JSON
//! 404 kept for `/api/...`.

mod common;

use local_server::server::LocalSite;
use local_server::tokens::DevTokens;
use local_server::web::WebApp;

async fn site_with(dist: &std::path::Path) -> String {
    let local = LocalSite { routes: axum::Router::new(), web: Some(WebApp::new(dist)) };
    common::serve(common::app(&[]).await, DevTokens::random(), local).await
}

fn built_app() -> std::path::PathBuf {
    let dist = common::temp_dir("dist");
    std::fs::write(dist.join("index.html"), "<!doctype html><title>app</title><div id=root></div>").unwrap();
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(dist.join("assets/index-abc123.js"), "console.log('app')").unwrap();
    std::fs::write(dist.join("favicon.svg"), "<svg/>").unwrap();
    dist
}

#[tokio::test]
async fn files_are_served_and_deep_links_get_index_html_without_caching() {
    let url = site_with(&built_app()).await;
    let http = common::client();

    for path in ["/", "/billing", "/billing/invoices/123", "/admin/accounts?page=2"] {
        let answer = http.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        assert_eq!(answer.headers()["cache-control"], "no-cache", "{path}");
        assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        assert!(answer.text().await.unwrap().contains("<div id=root>"), "{path}");
    }

    let icon = http.get(format!("{url}/favicon.svg")).send().await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.text().await.unwrap(), "<svg/>");

    let bundle = http.get(format!("{url}/assets/index-abc123.js")).send().await.unwrap();
    assert_eq!(bundle.status(), 200);
    assert_eq!(bundle.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(bundle.headers()["content-type"].to_str().unwrap().contains("javascript"));

    let missing = http.get(format!("{url}/assets/index-old999.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404, "a missing bundle is not the app's HTML");
}

#[tokio::test]
async fn unknown_api_and_local_routes_keep_the_json_404_and_known_routes_still_answer() {
    let url = site_with(&built_app()).await;
    let http = common::client();

    for path in ["/api/billing/nope", "/api", "/_local/nope"] {
        let answer = http.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), 404, "{path}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body, serde_json::json!({ "message": "Not Found" }), "{path}");
    }
    let post = http.post(format!("{url}/billing")).send().await.unwrap();
    assert_eq!(post.status(), 404, "only GET and HEAD fall back to the app");

    let plans = http.get(format!("{url}/api/billing/plans")).send().await.unwrap();
    assert_eq!(plans.status(), 200, "the template's routes come first");
    assert!(plans.json::<serde_json::Value>().await.unwrap()["tiers"].is_array());
}

#[tokio::test]
async fn without_a_build_the_app_paths_say_how_to_make_one() {
    let url = site_with(&common::temp_dir("empty").join("dist")).await;
    let http = common::client();
    let page = http.get(format!("{url}/billing/usage")).send().await.unwrap();
    assert_eq!(page.status(), 503);
    let text = page.text().await.unwrap();
    assert!(text.contains("make web"), "{text}");
    assert!(text.contains("<html lang=\"en\">"));
    let api = http.get(format!("{url}/api/billing/nope")).send().await.unwrap();
    assert_eq!(api.status(), 404);
}
