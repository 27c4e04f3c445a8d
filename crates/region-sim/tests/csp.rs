//! The static server's security headers over real HTTP: the Content Security Policy of the
//! shell's HTML (with the hash of trunk's inline loader, recomputed after a rebuild), the
//! headers every answer carries, and the violation report endpoint.

mod common;

use common::Harness;
use serde_json::{json, Value};

/// A trunk-like `index.html` written with CRLF line endings: the browser hashes the script
/// text after turning them into LF.
const INDEX: &str = "<!DOCTYPE html>\r\n<html><head>\r\n\
    <link rel=\"stylesheet\" href=\"/shell-0123456789abcdef.css\"/>\r\n\
    <script type=\"module\">\r\n\
    import init from \"/mfe-shell-0123456789abcdef.js\";\r\nawait init();\r\n</script>\r\n\
    <link rel=\"modulepreload\" href=\"/mfe-shell-0123456789abcdef.js\"></head>\r\n\
    <body><title>shell</title></body></html>\r\n";
/// `printf '\nimport init from "/mfe-shell-0123456789abcdef.js";\nawait init();\n' |
/// openssl dgst -sha256 -binary | base64`
const INDEX_SCRIPT_HASH: &str = "'sha256-0ab2vWoKBh4rpn7BNQW9hhwA5RqDCNDJQ60o0gKdpV4='";
/// The same for `window.rebuilt = 2;`.
const REBUILT_SCRIPT_HASH: &str = "'sha256-tA/v+mpotWbRiiLy41Ow6xHziP8pNT6lRRoxpIVPH5M='";

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map_or("", |v| v.to_str().unwrap())
}

async fn get(h: &Harness, path: &str) -> reqwest::Response {
    h.http.get(h.static_url(path)).send().await.unwrap()
}

fn write_index(h: &Harness, html: &str) {
    std::fs::write(h.dir.path().join("dist/index.html"), html).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_origin_may_be_fetched_from_and_nothing_else_changes() {
    let h = Harness::start_with(|c| c.dev_origins = vec!["http://127.0.0.1:8700".into()]).await;
    write_index(&h, INDEX);
    let policy = header(&get(&h, "/").await, "content-security-policy").to_owned();
    let connect = policy
        .split("; ")
        .find(|d| d.starts_with("connect-src"))
        .unwrap()
        .to_owned();
    assert!(connect.ends_with(" http://127.0.0.1:8700"), "{connect}");
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval' blob: "),
        "{policy}"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_gets_a_policy_with_the_hash_of_its_inline_script() {
    let h = Harness::start().await;
    write_index(&h, INDEX);
    let regions: Vec<String> = h.sim.regions().into_iter().map(|r| r.url).collect();
    let expected = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob: {INDEX_SCRIPT_HASH}; \
         style-src 'self'; img-src 'self' data:; connect-src 'self' {}; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'; report-uri /csp-report",
        regions.join(" ")
    );
    for path in ["/", "/index.html", "/tasks/42"] {
        let response = get(&h, path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "content-security-policy"),
            expected,
            "{path}"
        );
        assert_eq!(response.text().await.unwrap(), INDEX, "body unchanged");
    }

    // A rebuilt shell: the new inline script is allowed at once, the old one no longer.
    write_index(
        &h,
        "<!doctype html><script>window.rebuilt = 2;</script><title>shell</title>",
    );
    let policy = header(&get(&h, "/").await, "content-security-policy").to_owned();
    assert!(policy.contains(REBUILT_SCRIPT_HASH), "{policy}");
    assert!(!policy.contains(INDEX_SCRIPT_HASH), "{policy}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_static_answer_is_hardened_and_only_html_carries_the_policy() {
    let h = Harness::start().await;
    for path in [
        "/",
        "/mfe-shell-0123456789abcdef.js",
        "/mfe-shell-0123456789abcdef_bg.wasm",
        "/apps/tasks/1.0.0/tasks.js",
        "/regions.json",
        "/manifest.json",
        "/missing.js",
        "/csp-report",
    ] {
        let response = get(&h, path).await;
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
        assert_eq!(
            header(&response, "referrer-policy"),
            "no-referrer",
            "{path}"
        );
        let is_html = header(&response, "content-type").starts_with("text/html");
        assert_eq!(
            response.headers().contains_key("content-security-policy"),
            is_html,
            "{path}"
        );
    }
    // The test shell has no inline code: nothing but the base sources.
    let policy = header(&get(&h, "/").await, "content-security-policy").to_owned();
    assert!(!policy.contains("sha256-"), "{policy}");
    assert!(!policy.contains("'unsafe-inline'"), "{policy}");
    assert!(!policy.contains("'unsafe-eval'"), "{policy}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn violation_reports_are_kept_listed_and_cleared_by_reset() {
    let h = Harness::start().await;
    let url = h.static_url("/csp-report");
    let empty: Vec<Value> = get(&h, "/csp-report").await.json().await.unwrap();
    assert!(empty.is_empty());

    let report = json!({"csp-report": {
        "document-uri": h.static_url("/"),
        "violated-directive": "script-src-elem",
        "blocked-uri": "inline",
    }});
    let response = h
        .http
        .post(&url)
        .header("Content-Type", "application/csp-report")
        .body(report.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let reporting_api = json!([{"type": "csp-violation", "body": {"blockedURL": "eval"}}]);
    let response = h
        .http
        .post(&url)
        .header("Content-Type", "application/reports+json")
        .body(reporting_api.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = h.http.post(&url).body("not json").send().await.unwrap();
    assert_eq!(response.status(), 400);

    let listed: Vec<Value> = get(&h, "/csp-report").await.json().await.unwrap();
    assert_eq!(listed, [report, reporting_api[0].clone()]);
    assert_eq!(h.sim.csp_reports().len(), 2);

    let reset = h.admin_post("/admin/reset", json!({})).await;
    assert_eq!(reset.status(), 200);
    let listed: Vec<Value> = get(&h, "/csp-report").await.json().await.unwrap();
    assert!(listed.is_empty());
    h.stop().await;
}
