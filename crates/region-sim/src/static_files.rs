//! The static server: published micro apps (`cdn_dir`) first, then the shell (`shell_dir`),
//! a generated `/regions.json`, and an SPA fallback to `index.html`.
//!
//! Caching follows DESIGN §3.2/§4: anything whose URL changes with its content (versioned app
//! paths, trunk's hashed file names) is immutable for a year; everything else (`index.html`,
//! `manifest.json`, `regions.json`, `sw.js`, …) is `no-cache` with a validator, so a browser
//! revalidates and gets a cheap 304. `tower-http`'s `ServeDir` resolves paths and refuses
//! traversal; it also provides `Last-Modified` and answers `If-Modified-Since`.
//!
//! Every answer carries `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`;
//! HTML answers carry the Content Security Policy, and `/csp-report` collects violations
//! (see `csp/`).

use std::convert::Infallible;
use std::hash::Hasher;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use mfe_contract::RegionInfo;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::csp::{self, Csp, CspReports};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The static router. `regions` is what `/regions.json` lists and what the page's CSP lets it
/// connect to, with `dev_origins` (`mfe dev` servers, development only); violation reports go
/// to `reports`.
pub fn router(
    cdn_dir: PathBuf,
    shell_dir: PathBuf,
    regions: &[RegionInfo],
    router_config: Option<&serde_json::Value>,
    dev_origins: &[String],
    reports: Arc<CspReports>,
) -> Router {
    let connect = regions.iter().map(|r| r.url.clone());
    let csp = Arc::new(Csp::new(
        connect.chain(dev_origins.iter().cloned()).collect(),
    ));
    let regions_json = Bytes::from(
        serde_json::to_vec_pretty(&match router_config {
            Some(router) => serde_json::json!({ "regions": regions, "router": router }),
            None => serde_json::json!({ "regions": regions }),
        })
        .expect("region list serialises"),
    );
    let etag = format!("\"{:016x}\"", fnv1a(&regions_json));
    let index = shell_dir.join("index.html");
    let spa = tower::service_fn(move |request: Request| {
        let index = index.clone();
        async move { Ok::<_, Infallible>(spa_fallback(index, request).await) }
    });
    let manifest_path = cdn_dir.join("manifest.json");
    let files = ServeDir::new(cdn_dir).fallback(ServeDir::new(shell_dir).fallback(spa));
    Router::new()
        .route(
            "/regions.json",
            get(move |headers: HeaderMap| async move {
                etag_answer(&headers, regions_json.clone(), &etag)
            }),
        )
        .route(
            "/manifest.json",
            get(move |headers: HeaderMap| {
                let path = manifest_path.clone();
                async move { manifest_answer(&headers, &path).await }
            }),
        )
        .merge(csp::reports::routes(reports))
        .fallback_service(files)
        .layer(from_fn(cache_headers))
        .layer(from_fn_with_state(csp, csp::security_headers))
}

/// `index.html` for client-side routes (no file extension), 404 for missing files. Nothing
/// under a versioned app path is a client route: a missing asset there stays a 404 instead of
/// turning into HTML.
async fn spa_fallback(index: PathBuf, request: Request) -> Response {
    let path = request.uri().path();
    let last_segment = path.rsplit('/').next().unwrap_or_default();
    let is_route = !last_segment.contains('.') && !is_versioned_app_path(path);
    let readable = request.method() == Method::GET || request.method() == Method::HEAD;
    if is_route && readable {
        match ServeFile::new(index).oneshot(request).await {
            Ok(response) => response.map(Body::new),
            Err(never) => match never {},
        }
    } else {
        (StatusCode::NOT_FOUND, "not found").into_response()
    }
}

/// The manifest, read on every request, with a validator computed from its bytes: deployers
/// may rewrite it twice within a second, which a `Last-Modified` date cannot tell apart (a
/// browser revalidating would get 304 and keep the older manifest).
async fn manifest_answer(headers: &HeaderMap, path: &std::path::Path) -> Response {
    match tokio::fs::read(path).await {
        Ok(bytes) => {
            let etag = format!("\"{:016x}\"", fnv1a(&bytes));
            etag_answer(headers, Bytes::from(bytes), &etag)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (StatusCode::NOT_FOUND, "no manifest published yet").into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading the manifest");
            (StatusCode::INTERNAL_SERVER_ERROR, "manifest unreadable").into_response()
        }
    }
}

/// A JSON answer with a strong `ETag`, or 304 when the client already holds it.
fn etag_answer(headers: &HeaderMap, body: Bytes, etag: &str) -> Response {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let etag = HeaderValue::from_str(etag).expect("hex etag is a valid header");
    if matches {
        (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response()
    } else {
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::ETAG, etag),
            ],
            body,
        )
            .into_response()
    }
}

/// Sets `Cache-Control` by path and fixes the JavaScript/wasm content types.
async fn cache_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let status = response.status();
    let cacheable = status.is_success() || status == StatusCode::NOT_MODIFIED;
    let policy = if cacheable && is_immutable_path(&path) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    if status.is_success() {
        if let Some(content_type) = content_type_override(&path) {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
    }
    response
}

/// Content types browsers are strict about: module scripts and streaming wasm compilation.
fn content_type_override(path: &str) -> Option<&'static str> {
    let extension = path.rsplit_once('.').map(|(_, ext)| ext)?;
    match extension {
        "js" | "mjs" => Some("text/javascript"),
        "wasm" => Some("application/wasm"),
        _ => None,
    }
}

/// `/apps/<name>/<version>/<something>`: where the deployer puts immutable app assets.
fn is_versioned_app_path(path: &str) -> bool {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    segments.next() == Some("apps") && segments.nth(2).is_some()
}

/// A file (its last segment has an extension) under a versioned app path, or a file name
/// with trunk's content hash.
pub fn is_immutable_path(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    let is_file = last.contains('.');
    is_file && (is_versioned_app_path(path) || is_hashed_file_name(last))
}

/// Trunk names its outputs `<name>-<hash>.<ext>` (wasm `<name>-<hash>_bg.wasm`, worker loaders
/// `<name>-<hash>_loader.js`, initializers `<hash>-<name>`), where `<hash>` is a 64-bit hash
/// printed as unpadded hex: usually 16 digits, fewer when it starts with zeros. 12 to 16 hex
/// digits count as a hash (a real one is shorter than 12 once in 65,536 builds, and then it is
/// merely revalidated).
pub fn is_hashed_file_name(name: &str) -> bool {
    let Some((stem, _extension)) = name.rsplit_once('.') else {
        return false;
    };
    let stem = stem
        .strip_suffix("_bg")
        .or_else(|| stem.strip_suffix("_loader"))
        .unwrap_or(stem);
    let is_hash =
        |s: &str| (12..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
    let suffix = stem
        .rsplit_once('-')
        .is_some_and(|(base, hash)| !base.is_empty() && is_hash(hash));
    let prefix = stem
        .split_once('-')
        .is_some_and(|(hash, rest)| !rest.is_empty() && is_hash(hash));
    suffix || prefix
}

/// Small stable hash for the `regions.json` ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hasher = Fnv1a(0xcbf2_9ce4_8422_2325);
    hasher.write(bytes);
    hasher.finish()
}

struct Fnv1a(u64);

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed_file_name("mfe-shell-0123456789abcdef.js"));
        assert!(is_hashed_file_name("mfe-shell-0123456789abcdef_bg.wasm"));
        assert!(is_hashed_file_name("style-0123456789ABCDEF.css"));
        assert!(!is_hashed_file_name("sw.js"));
        assert!(!is_hashed_file_name("index.html"));
        assert!(is_hashed_file_name("mfe-shell-123456789abcdef.js"));
        assert!(is_hashed_file_name("worker-0123456789abcdef_loader.js"));
        assert!(is_hashed_file_name("0123456789abcdef-init.js"));
        assert!(!is_hashed_file_name("mfe-shell-12345678.js"));
        assert!(!is_hashed_file_name("mfe-shell-0123456789abcdefg.js"));
        assert!(!is_hashed_file_name("mfe-shell-0123456789abcdef0.js"));
        assert!(!is_hashed_file_name("-0123456789abcdef.js"));
    }

    #[test]
    fn versioned_app_paths_are_immutable() {
        assert!(is_immutable_path("/apps/tasks/1.0.0/tasks.js"));
        assert!(is_immutable_path("/apps/tasks/1.0.0/sub/x.wasm"));
        assert!(!is_immutable_path("/apps/tasks/1.0.0"));
        assert!(!is_immutable_path("/apps/tasks/1.0.0/"));
        assert!(!is_immutable_path("/apps/tasks/1.0.0/route"));
        assert!(is_versioned_app_path("/apps/tasks/1.0.0/route"));
        assert!(!is_versioned_app_path("/apps/tasks/1.0.0"));
        assert!(!is_versioned_app_path("/apps"));
        assert!(!is_immutable_path("/manifest.json"));
        assert!(!is_immutable_path("/index.html"));
        assert!(is_immutable_path("/mfe-shell-0123456789abcdef_bg.wasm"));
    }

    #[test]
    fn script_and_wasm_types_are_forced() {
        assert_eq!(content_type_override("/a/b.mjs"), Some("text/javascript"));
        assert_eq!(content_type_override("/b.wasm"), Some("application/wasm"));
        assert_eq!(content_type_override("/b.css"), None);
        assert_eq!(content_type_override("/tasks"), None);
    }
}
