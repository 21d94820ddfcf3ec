//! What the local server's own tests share: an App that needs no emulator until it is used,
//! and the local site served on a free loopback port.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use billing::App;
use billing::clock::SystemClock;
use billing::config::Config;
use local_server::server::{self, LocalSite};
use local_server::template::Template;
use local_server::tokens::DevTokens;

/// An App over a table that is never read by these tests (routes that would read it are not
/// called), configured like `make dev`.
pub async fn app(extra: &[(&str, &str)]) -> App {
    let mut env: HashMap<String, String> = HashMap::from([
        (Config::TABLE.to_owned(), "local-site-test".to_owned()),
        ("WORKFLOW_ENGINE_PRINCIPALS".to_owned(), server::LOCAL_ENGINE_ROLE.to_owned()),
    ]);
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test config is valid");
    let aws = billing::app::load_aws_config().await;
    App::new(config, &aws, Arc::new(SystemClock))
}

/// Serves `local` with the template's routes; returns the base URL.
pub async fn serve(app: App, tokens: DevTokens, local: LocalSite) -> String {
    let template = Template::load_default().expect("template.yaml loads");
    let router = server::site(app, tokens, &template, local).expect("router builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// A client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// A fresh empty directory under the system's temp dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("local-server-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}
