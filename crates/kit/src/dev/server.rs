//! The dev server: the page, the SDK's mock host, the staged app's files and `mfe.json`, the
//! scripted answers, and a status the page polls to reload after a rebuild. Loopback only;
//! every answer is `no-store` (it changes on each build) and readable from any origin, so a
//! shell on another port can load the app through its dev override.

use std::path::PathBuf;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;

use super::Shared;

const PAGE: &str = include_str!("page.html");
/// The one mock host implementation, shared with the SDK's `testing` feature.
const MOCK_HOST: &str = include_str!("../../../../mfe/sdk/js/mock-host.js");

#[derive(Clone)]
struct Ctx {
    state: Shared,
    app_dir: PathBuf,
}

fn with_type(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn page(State(ctx): State<Ctx>) -> Response {
    let name = ctx
        .state
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .staged
        .as_ref()
        .map(|s| s.descriptor.name.clone())
        .unwrap_or_else(|| "app".into());
    with_type("text/html; charset=utf-8", PAGE.replace("__NAME__", &name))
}

async fn status(State(ctx): State<Ctx>) -> Json<serde_json::Value> {
    let s = ctx.state.read().unwrap_or_else(|p| p.into_inner());
    let d = s.staged.as_ref().map(|s| &s.descriptor);
    Json(serde_json::json!({
        "build": s.build,
        "ok": d.is_some(),
        "error": s.error,
        "name": d.map(|d| d.name.clone()),
        "version": d.map(|d| d.version.clone()),
        "entry": d.map(|d| d.entry.clone()),
        "wasm": d.and_then(|d| d.wasm.clone()),
    }))
}

async fn descriptor(State(ctx): State<Ctx>) -> Response {
    let s = ctx.state.read().unwrap_or_else(|p| p.into_inner());
    match &s.staged {
        Some(staged) => Json(staged.descriptor.clone()).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "no successful build yet").into_response(),
    }
}

/// `dev/answers.json`, read on each request so edits apply on the next reload.
async fn answers(State(ctx): State<Ctx>) -> Response {
    let path = ctx.app_dir.join("dev").join("answers.json");
    match tokio::fs::read(&path).await {
        Ok(bytes) => match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(value) if value.is_object() => Json(value).into_response(),
            Ok(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{}: expected an object of path → answer", path.display()),
            )
                .into_response(),
            Err(e) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{}: {e}", path.display()),
            )
                .into_response(),
        },
        Err(_) => Json(serde_json::json!({})).into_response(),
    }
}

async fn asset(State(ctx): State<Ctx>, request: Request) -> Response {
    let path = request.uri().path();
    let s = ctx.state.read().unwrap_or_else(|p| p.into_inner());
    let file = s
        .staged
        .as_ref()
        .and_then(|staged| staged.files.iter().find(|f| f.url == path));
    match file {
        Some(f) => with_type(content_type(path), f.bytes.clone()),
        None => (
            StatusCode::NOT_FOUND,
            format!("{path}: not part of the current build"),
        )
            .into_response(),
    }
}

async fn no_store(request: Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// Serves until the listener fails (the caller stops it by dropping the future).
pub async fn serve(listener: TcpListener, state: Shared, app_dir: PathBuf) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/", get(page))
        .route(
            "/mock-host.js",
            get(|| async { with_type("text/javascript; charset=utf-8", MOCK_HOST) }),
        )
        .route("/__dev/status", get(status))
        .route("/mfe.json", get(descriptor))
        .route("/answers.json", get(answers))
        .route("/apps/{*path}", get(asset))
        .layer(axum::middleware::from_fn(no_store))
        .with_state(Ctx { state, app_dir });
    axum::serve(listener, app).await?;
    Ok(())
}
