//! The static server over real HTTP: content types, cache headers, SPA fallback,
//! `regions.json`, cdn-before-shell, and no path traversal.

mod common;

use common::{raw_exchange, Harness, WASM_BYTES};
use serde_json::Value;
use tokio::net::TcpStream;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

async fn get(h: &Harness, path: &str) -> reqwest::Response {
    h.http.get(h.static_url(path)).send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map_or("", |v| v.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasm_and_scripts_get_strict_types_and_hashed_assets_are_immutable() {
    let h = Harness::start().await;
    let wasm = get(&h, "/mfe-shell-0123456789abcdef_bg.wasm").await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(header(&wasm, "content-type"), "application/wasm");
    assert_eq!(header(&wasm, "cache-control"), IMMUTABLE);
    assert_eq!(wasm.bytes().await.unwrap().as_ref(), WASM_BYTES);

    let js = get(&h, "/mfe-shell-0123456789abcdef.js").await;
    assert_eq!(header(&js, "content-type"), "text/javascript");
    assert_eq!(header(&js, "cache-control"), IMMUTABLE);

    let app = get(&h, "/apps/tasks/1.0.0/tasks.js").await;
    assert_eq!(app.status(), 200);
    assert_eq!(header(&app, "content-type"), "text/javascript");
    assert_eq!(header(&app, "cache-control"), IMMUTABLE);
    let app_wasm = get(&h, "/apps/tasks/1.0.0/tasks_bg.wasm").await;
    assert_eq!(header(&app_wasm, "content-type"), "application/wasm");
    assert_eq!(header(&app_wasm, "cache-control"), IMMUTABLE);

    let missing = get(&h, "/apps/tasks/9.9.9/tasks.js").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        header(&missing, "cache-control"),
        "no-cache",
        "never cache a miss for a year"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_points_revalidate_and_answer_304() {
    let h = Harness::start().await;
    for path in ["/", "/index.html", "/sw.js"] {
        let response = get(&h, path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        let last_modified = header(&response, "last-modified").to_owned();
        assert!(!last_modified.is_empty(), "{path} has a validator");
        let again = h
            .http
            .get(h.static_url(path))
            .header("If-Modified-Since", &last_modified)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
    let sw = get(&h, "/sw.js").await;
    assert_eq!(header(&sw, "content-type"), "text/javascript");
    h.stop().await;
}

/// A deployer may rewrite the manifest twice within one second (a rollback then a remove): the
/// validator follows the bytes, so a revalidating browser never keeps the older one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifest_revalidates_by_its_content() {
    let h = Harness::start().await;
    let first = get(&h, "/manifest.json").await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "cache-control"), "no-cache");
    assert_eq!(header(&first, "content-type"), "application/json");
    let etag = header(&first, "etag").to_owned();
    assert!(etag.starts_with('"'), "a strong validator: {etag:?}");
    let same = h
        .http
        .get(h.static_url("/manifest.json"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 304);

    std::fs::write(
        h.dir.path().join("cdn/manifest.json"),
        br#"{"schema":1,"apps":{}}"#,
    )
    .unwrap();
    let changed = h
        .http
        .get(h.static_url("/manifest.json"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200, "new bytes, however soon");
    assert_ne!(header(&changed, "etag"), etag);
    assert_eq!(changed.text().await.unwrap(), r#"{"schema":1,"apps":{}}"#);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_routes_fall_back_to_index_and_missing_files_are_404() {
    let h = Harness::start().await;
    for route in ["/tasks", "/tasks/42/edit", "/deep/link/"] {
        let response = get(&h, route).await;
        assert_eq!(response.status(), 200, "{route}");
        assert_eq!(header(&response, "cache-control"), "no-cache");
        assert!(header(&response, "content-type").starts_with("text/html"));
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("<title>shell</title>"));
    }
    assert_eq!(get(&h, "/missing.js").await.status(), 404);
    assert_eq!(get(&h, "/apps/tasks/1.0.0/nope.wasm").await.status(), 404);
    let under_app = get(&h, "/apps/tasks/1.0.0/chunk").await;
    assert_eq!(under_app.status(), 404, "no HTML for a missing app asset");
    assert_eq!(header(&under_app, "cache-control"), "no-cache");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_apps_are_served_before_the_shell() {
    let h = Harness::start().await;
    assert_eq!(get(&h, "/both.txt").await.text().await.unwrap(), "from cdn");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_json_lists_the_running_regions() {
    let h = Harness::start().await;
    let response = get(&h, "/regions.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-cache");
    assert_eq!(header(&response, "content-type"), "application/json");
    let etag = header(&response, "etag").to_owned();
    let body: Value = response.json().await.unwrap();
    let regions: Vec<mfe_contract::RegionInfo> =
        serde_json::from_value(body["regions"].clone()).unwrap();
    assert_eq!(regions, h.sim.regions());
    let names: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["us-east", "eu-west", "ap-south"]);
    for region in &regions {
        let health = h
            .http
            .get(format!("{}/health", region.url))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
    }
    let again = h
        .http
        .get(h.static_url("/regions.json"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_cannot_escape_the_served_folders() {
    let h = Harness::start().await;
    let addr = h.sim.static_addr();
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/apps/..%2f..%2fsecret.txt",
        "/apps/tasks/1.0.0/..%2f..%2f..%2f..%2fsecret.txt",
        "/..\\secret.txt",
        "//secret.txt",
    ] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = raw_exchange(&mut stream, &request)
            .await
            .unwrap_or_default();
        assert!(!answer.contains("TOP SECRET"), "{path} leaked: {answer}");
        assert!(
            !answer.starts_with("HTTP/1.1 200") || answer.contains("<title>shell</title>"),
            "{path}: {answer}"
        );
    }
    h.stop().await;
}

#[tokio::test]
async fn regions_json_carries_router_settings_when_configured() {
    let h = Harness::start_with(|config| {
        config.router_config = Some(serde_json::json!({ "probe_interval_healthy_ms": 2000 }));
    })
    .await;
    let body: Value = get(&h, "/regions.json").await.json().await.unwrap();
    assert_eq!(body["router"]["probe_interval_healthy_ms"], 2000);
    h.stop().await;

    let h = Harness::start().await;
    let body: Value = get(&h, "/regions.json").await.json().await.unwrap();
    assert!(
        body.get("router").is_none(),
        "no override unless configured"
    );
    h.stop().await;
}
