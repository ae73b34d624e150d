//! fakehub's integration tests: a real server on loopback, driven over HTTP.

mod api;
mod blob;
mod broken;
mod bulk;
mod corpus;
mod in_progress;
mod job_logs;
mod live;
mod octocrab_client;
mod owners;

use fakehub::{Config, FakeHub};

/// Starts a hub with `config` (test-sized unless overridden).
pub(crate) async fn hub(config: Config) -> FakeHub {
    FakeHub::start(config)
        .await
        .expect("fakehub starts on loopback")
}

/// A client that, like a careful GitHub client, follows no redirect by itself.
pub(crate) fn client() -> reqwest::Client {
    // In a workspace build reqwest has logidx-fetch's `rustls-no-provider` feature: it then
    // needs a process-wide crypto provider even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a plain HTTP client builds")
}

/// GET `path` on the API with the hub's token.
pub(crate) async fn get(hub: &FakeHub, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", hub.api_url()))
        .bearer_auth(hub.token())
        .send()
        .await
        .expect("fakehub answers")
}

/// GET `path` and parse the JSON body, asserting 200.
pub(crate) async fn get_json(hub: &FakeHub, path: &str) -> serde_json::Value {
    let response = get(hub, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("a JSON body")
}
