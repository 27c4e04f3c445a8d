//! One simulated region: its store, its faults, its in-flight keys, and the HTTP API it serves.

// The request handling refuses a request by returning its HTTP answer (`Result<_, Response>`).
// A `Response` is 128 bytes, built and moved once per request: boxing it would only add noise.
#[allow(clippy::result_large_err)]
pub mod api;
#[allow(clippy::result_large_err)]
pub mod batch;
pub mod cors;
pub mod faults;
pub mod idempotency;
pub mod rate_limit;
#[allow(clippy::result_large_err)]
pub mod request;
pub mod store;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::replication::Replication;
use faults::Faults;
use idempotency::InFlight;
use rate_limit::{RateLimit, RateLimiter};
use store::Store;

/// State of one region, shared by its handlers, the admin API and the replicator.
pub struct Region {
    pub name: String,
    pub store: Store,
    /// The other regions, to which this region's accepted commands are replicated.
    pub peers: Vec<String>,
    pub in_flight: InFlight,
    /// Replication lag above which `/health` says `degraded`.
    pub health_lag_bound_ms: u64,
    /// Per-client token buckets of the command writes.
    pub limiter: RateLimiter,
    faults: watch::Sender<Faults>,
    /// CORS preflights received since start-up or the last reset: a page that keeps the
    /// region's preflight answer sends one per kind of request, not one per command.
    preflights: AtomicU64,
}

impl Region {
    pub fn new(
        name: String,
        store: Store,
        peers: Vec<String>,
        health_lag_bound_ms: u64,
        rate_limit: RateLimit,
    ) -> Self {
        Self {
            name,
            store,
            peers,
            in_flight: InFlight::default(),
            health_lag_bound_ms,
            limiter: RateLimiter::new(rate_limit),
            faults: watch::Sender::new(Faults::default()),
            preflights: AtomicU64::new(0),
        }
    }

    pub fn faults(&self) -> Faults {
        self.faults.borrow().clone()
    }

    /// Replaces the fault set; held black-holed requests notice at once.
    pub fn set_faults(&self, faults: Faults) {
        self.store.set_unwritable(faults.store_unwritable);
        self.faults.send_replace(faults);
    }

    pub fn subscribe_faults(&self) -> watch::Receiver<Faults> {
        self.faults.subscribe()
    }

    pub fn count_preflight(&self) {
        self.preflights.fetch_add(1, Ordering::Relaxed);
    }

    pub fn preflights(&self) -> u64 {
        self.preflights.load(Ordering::Relaxed)
    }

    pub fn reset_preflights(&self) {
        self.preflights.store(0, Ordering::Relaxed);
    }

    /// The injected latency, if any.
    pub async fn delay(&self) {
        let latency_ms = self.faults.borrow().latency_ms;
        if latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(latency_ms)).await;
        }
    }
}

/// Every region of the run plus the replication settings between them.
pub struct Cluster {
    pub regions: Vec<Arc<Region>>,
    pub replication: Replication,
}

impl Cluster {
    pub fn region(&self, name: &str) -> Option<&Arc<Region>> {
        self.regions.iter().find(|r| r.name == name)
    }

    /// Oldest time (ms) at which a command was enqueued for `target` and has not reached it;
    /// `None` when nothing is pending. Unreadable stores are skipped.
    pub async fn oldest_pending_for(&self, target: &str) -> Option<i64> {
        let mut oldest: Option<i64> = None;
        for source in self.regions.iter().filter(|r| r.name != target) {
            let Ok(pending) = source.store.read(store::outbox_pending).await else {
                continue;
            };
            for entry in pending.into_iter().filter(|p| p.target == target) {
                oldest = Some(oldest.map_or(entry.oldest_enqueued_at, |o| {
                    o.min(entry.oldest_enqueued_at)
                }));
            }
        }
        oldest
    }
}

/// Handler state of a region's router.
#[derive(Clone)]
pub struct RegionCtx {
    pub region: Arc<Region>,
    pub cluster: Arc<Cluster>,
}
