//! Admin API for fault injection (DESIGN §3.5), on its own loopback-only listener so a page
//! can never reach it.
//!
//! Routes (JSON in and out; errors are `ErrorBody`):
//! - `GET  /admin/regions` → `{ "regions": [RegionState] }`
//! - `GET  /admin/regions/<name>` → `RegionState`
//! - `POST /admin/regions/<name>/down` | `/up` → `RegionState`
//! - `POST /admin/regions/<name>/faults` with a `Faults` body (absent fields off) → `RegionState`
//! - `DELETE /admin/regions/<name>/faults` → `RegionState` (all faults off)
//! - `POST /admin/reset` → `{ "regions": [RegionState] }`: faults off, all up, stores emptied,
//!   preflight counts zeroed, replication back to its start-up settings, CSP violation reports
//!   cleared
//! - `GET  /admin/replication` → `ReplicationStatus`
//! - `POST /admin/replication` with `{ "lag_ms"?, "partitioned"?, "isolated"? }` →
//!   `ReplicationStatus`

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::csp::CspReports;
use crate::http_error::error;
use crate::listener::Listener;
use crate::region::faults::Faults;
use crate::region::{store, Cluster, Region};
use crate::replication::{self, ReplicationUpdate};

/// A region as the admin API reports it.
#[derive(Debug, Clone, Serialize)]
pub struct RegionState {
    pub name: String,
    pub url: String,
    /// False while the region is down (its listener closed).
    pub up: bool,
    pub faults: Faults,
    /// CORS preflights received since start-up or the last reset.
    pub preflights: u64,
}

/// One region with the listener that serves it.
pub struct RegionServer {
    pub region: Arc<Region>,
    pub listener: Arc<Listener>,
    pub url: String,
}

/// A refused admin call, answered as an `ErrorBody`.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.status, self.code, self.message)
    }
}

type AdminResult = Result<Response, Refusal>;

#[derive(Clone)]
struct AdminCtx {
    cluster: Arc<Cluster>,
    servers: Arc<Vec<RegionServer>>,
    csp_reports: Arc<CspReports>,
}

impl AdminCtx {
    fn server(&self, name: &str) -> Result<&RegionServer, Refusal> {
        self.servers
            .iter()
            .find(|s| s.region.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self
                    .servers
                    .iter()
                    .map(|s| s.region.name.as_str())
                    .collect();
                Refusal::new(
                    StatusCode::NOT_FOUND,
                    "unknown_region",
                    format!("no region {name:?}; regions are {names:?}"),
                )
            })
    }

    fn names(&self) -> Vec<String> {
        self.servers.iter().map(|s| s.region.name.clone()).collect()
    }
}

async fn state_of(server: &RegionServer) -> RegionState {
    RegionState {
        name: server.region.name.clone(),
        url: server.url.clone(),
        up: server.listener.is_up().await,
        faults: server.region.faults(),
        preflights: server.region.preflights(),
    }
}

async fn all_states(ctx: &AdminCtx) -> Response {
    let mut regions = Vec::with_capacity(ctx.servers.len());
    for server in ctx.servers.iter() {
        regions.push(state_of(server).await);
    }
    Json(serde_json::json!({ "regions": regions })).into_response()
}

/// The admin router.
pub fn router(
    cluster: Arc<Cluster>,
    servers: Arc<Vec<RegionServer>>,
    csp_reports: Arc<CspReports>,
) -> Router {
    Router::new()
        .route("/admin/regions", get(list_regions))
        .route("/admin/regions/{name}", get(get_region))
        .route("/admin/regions/{name}/down", post(take_down))
        .route("/admin/regions/{name}/up", post(bring_up))
        .route(
            "/admin/regions/{name}/faults",
            post(set_faults).delete(clear_faults),
        )
        .route("/admin/reset", post(reset))
        .route(
            "/admin/replication",
            get(replication_status).post(set_replication),
        )
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found", "no such admin route") })
        .with_state(AdminCtx {
            cluster,
            servers,
            csp_reports,
        })
}

/// Parses a JSON body; an empty body is the type's default (so `curl -X POST` works).
fn parse_body<T: DeserializeOwned + Default>(body: &Bytes) -> Result<T, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|err| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("body is not valid: {err}"),
        )
    })
}

async fn list_regions(State(ctx): State<AdminCtx>) -> Response {
    all_states(&ctx).await
}

async fn get_region(State(ctx): State<AdminCtx>, Path(name): Path<String>) -> AdminResult {
    let server = ctx.server(&name)?;
    Ok(Json(state_of(server).await).into_response())
}

async fn take_down(State(ctx): State<AdminCtx>, Path(name): Path<String>) -> AdminResult {
    let server = ctx.server(&name)?;
    server.listener.down().await;
    Ok(Json(state_of(server).await).into_response())
}

fn bind_failed(server: &RegionServer, err: &std::io::Error) -> Refusal {
    Refusal::new(
        StatusCode::CONFLICT,
        "bind_failed",
        format!("could not bind {} again: {err}", server.listener.addr()),
    )
}

async fn bring_up(State(ctx): State<AdminCtx>, Path(name): Path<String>) -> AdminResult {
    let server = ctx.server(&name)?;
    server
        .listener
        .up()
        .await
        .map_err(|err| bind_failed(server, &err))?;
    Ok(Json(state_of(server).await).into_response())
}

async fn set_faults(
    State(ctx): State<AdminCtx>,
    Path(name): Path<String>,
    body: Bytes,
) -> AdminResult {
    let server = ctx.server(&name)?;
    let faults: Faults = parse_body(&body)?;
    faults
        .validate()
        .map_err(|reason| Refusal::new(StatusCode::BAD_REQUEST, "invalid_faults", reason))?;
    tracing::info!(region = %name, ?faults, "faults set");
    server.region.set_faults(faults);
    Ok(Json(state_of(server).await).into_response())
}

async fn clear_faults(State(ctx): State<AdminCtx>, Path(name): Path<String>) -> AdminResult {
    let server = ctx.server(&name)?;
    server.region.set_faults(Faults::default());
    Ok(Json(state_of(server).await).into_response())
}

async fn reset(State(ctx): State<AdminCtx>) -> AdminResult {
    ctx.cluster.replication.reset();
    // Replication copies again once every store is empty, or the reset failed part-way.
    let _resume = ResumeReplication(&ctx.cluster.replication);
    ctx.csp_reports.clear();
    for server in ctx.servers.iter() {
        server.region.set_faults(Faults::default());
        server.region.reset_preflights();
        server
            .listener
            .up()
            .await
            .map_err(|err| bind_failed(server, &err))?;
        server
            .region
            .store
            .write(store::clear)
            .await
            .map_err(|err| {
                Refusal::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "store_error",
                    format!("could not empty {}: {err}", server.region.name),
                )
            })?;
    }
    tracing::info!("reset: faults off, all regions up, stores empty, CSP reports cleared");
    Ok(all_states(&ctx).await)
}

/// Ends the replication's reset when dropped, on every path out of [`reset`].
struct ResumeReplication<'a>(&'a crate::replication::Replication);

impl Drop for ResumeReplication<'_> {
    fn drop(&mut self) {
        self.0.reset_done();
    }
}

async fn replication_status(State(ctx): State<AdminCtx>) -> AdminResult {
    let status = replication::status(&ctx.cluster).await.map_err(|err| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store_error",
            err.to_string(),
        )
    })?;
    Ok(Json(status).into_response())
}

async fn set_replication(State(ctx): State<AdminCtx>, body: Bytes) -> AdminResult {
    let update: ReplicationUpdate = parse_body(&body)?;
    ctx.cluster
        .replication
        .apply(update, &ctx.names())
        .map_err(|reason| Refusal::new(StatusCode::BAD_REQUEST, "invalid_replication", reason))?;
    tracing::info!(settings = ?ctx.cluster.replication.settings(), "replication set");
    replication_status(State(ctx)).await
}
