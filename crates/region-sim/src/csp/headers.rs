//! Security headers of the static server: `X-Content-Type-Options: nosniff` and
//! `Referrer-Policy: no-referrer` on every answer, and the Content Security Policy on HTML.
//!
//! The policy depends on the document (hashes of its inline code), so an HTML answer is read
//! into memory, scanned, and its policy cached under the document's bytes: a rebuilt
//! `index.html` gets its own hashes at once, even when it is written within the same second as
//! the previous build (a cache keyed by `Last-Modified`, which has one-second resolution, could
//! serve the old hashes then). Only `GET` answers with a body are scanned; a `304` keeps the
//! policy the browser stored with the unchanged document, and `HEAD` answers carry none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::html::scan;
use super::policy::policy_for;
use crate::http_error::error;

/// Largest HTML document scanned (trunk's `index.html` is about 2 KiB).
const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;
/// Distinct documents whose policy is cached; the cache is emptied when full.
const CACHE_ENTRIES: usize = 32;

/// Computes and caches the policy of each HTML document served.
pub struct Csp {
    regions: Vec<String>,
    cache: Mutex<HashMap<Bytes, HeaderValue>>,
}

impl Csp {
    /// `regions` are the base URLs the page may connect to besides its own origin.
    pub fn new(regions: Vec<String>) -> Self {
        Self {
            regions,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The policy header for this document.
    pub fn header_for(&self, html: &Bytes) -> HeaderValue {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(value) = cache.get(html) {
            return value.clone();
        }
        let policy = policy_for(&scan(html), &self.regions);
        // Hashes are base64 and region URLs were validated as header values by the CORS
        // set-up; a policy that still is not a valid header would be a bug here.
        let value = HeaderValue::from_str(&policy).expect("a CSP is a valid header value");
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(html.clone(), value.clone());
        value
    }
}

/// The middleware; see the module documentation.
pub async fn security_headers(
    State(csp): State<Arc<Csp>>,
    request: Request,
    next: Next,
) -> Response {
    let scan_html = request.method() == Method::GET;
    let response = next.run(request).await;
    let mut response = if scan_html && is_html_ok(&response) {
        with_policy(&csp, response).await
    } else {
        response
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn is_html_ok(response: &Response) -> bool {
    response.status() == StatusCode::OK
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

/// Reads the document and adds its policy.
async fn with_policy(csp: &Csp, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_HTML_BYTES).await {
        Ok(html) => {
            parts
                .headers
                .insert(header::CONTENT_SECURITY_POLICY, csp.header_for(&html));
            Response::from_parts(parts, Body::from(html))
        }
        Err(err) => {
            tracing::error!(%err, "HTML document too large or unreadable for its CSP");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "html_unreadable",
                format!("the document could not be read to compute its CSP: {err}"),
            )
        }
    }
}
