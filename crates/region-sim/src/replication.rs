//! Asynchronous replication between the simulated regions, like DynamoDB global tables.
//!
//! A command a region accepts is written, in the same transaction, to that region's
//! replication outbox once per other region. A background task copies due entries (older than
//! the configured lag) over every link that is not partitioned, merging by command id (the
//! earliest acceptance wins, see `store::merge_command`), and deletes them from the outbox
//! only after the target committed. Copies are therefore at-least-once and the merge makes
//! them take effect once, in any order. "Down" regions keep replicating: down closes a
//! region's HTTP listener, not its storage; use a partition to stop replication.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::clock::now_ms;
use crate::region::store::{self, StoreError, StoredCommand};
use crate::region::{Cluster, Region};

/// How often due outbox entries are copied.
pub const TICK: Duration = Duration::from_millis(20);
/// Outbox entries copied per source region and tick.
const ENTRIES_PER_TICK: u32 = 1_000;

/// Current replication settings, as `GET /admin/replication` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicationSettings {
    /// Delay between a command's acceptance and its copy to the other regions.
    pub lag_ms: u64,
    /// Cut links, both directions: `[["us-east", "eu-west"]]`.
    pub partitioned: Vec<[String; 2]>,
    /// Regions cut from every other region.
    pub isolated: Vec<String>,
}

impl ReplicationSettings {
    /// Whether copies may flow from `from` to `to` right now.
    pub fn link_open(&self, from: &str, to: &str) -> bool {
        let isolated = self.isolated.iter().any(|r| r == from || r == to);
        let cut = self
            .partitioned
            .iter()
            .any(|[a, b]| (a == from && b == to) || (a == to && b == from));
        !isolated && !cut
    }
}

/// Body of `POST /admin/replication`; it replaces the settings whole: an absent `lag_ms`
/// means the lag given at start-up, absent lists mean no partition.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationUpdate {
    pub lag_ms: Option<u64>,
    #[serde(default)]
    pub partitioned: Vec<[String; 2]>,
    #[serde(default)]
    pub isolated: Vec<String>,
}

/// Longest configurable lag (10 minutes): longer is a partition.
const MAX_LAG_MS: u64 = 600_000;

/// The replication settings shared by the admin API, `/health` and the replicator.
pub struct Replication {
    default_lag_ms: u64,
    settings: RwLock<ReplicationSettings>,
    /// Raised when a reset starts and again when it ends (odd while one runs): no copy read
    /// before or during a reset may land after it (see [`step`]).
    resets: Arc<AtomicU64>,
}

impl Replication {
    pub fn new(default_lag_ms: u64) -> Self {
        Self {
            default_lag_ms,
            settings: RwLock::new(ReplicationSettings {
                lag_ms: default_lag_ms,
                partitioned: Vec::new(),
                isolated: Vec::new(),
            }),
            resets: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn settings(&self) -> ReplicationSettings {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Validates region names and replaces the settings.
    pub fn apply(
        &self,
        update: ReplicationUpdate,
        known: &[String],
    ) -> Result<ReplicationSettings, String> {
        let lag_ms = update.lag_ms.unwrap_or(self.default_lag_ms);
        if lag_ms > MAX_LAG_MS {
            return Err(format!(
                "lag_ms must be at most {MAX_LAG_MS}; use a partition to stop replication"
            ));
        }
        let names = update
            .partitioned
            .iter()
            .flat_map(|pair| pair.iter())
            .chain(update.isolated.iter());
        for name in names {
            if !known.contains(name) {
                return Err(format!("unknown region {name:?}; regions are {known:?}"));
            }
        }
        let settings = ReplicationSettings {
            lag_ms,
            partitioned: update.partitioned,
            isolated: update.isolated,
        };
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings.clone();
        Ok(settings)
    }

    /// Starts a reset: back to the start-up lag, no partitions, and no copy read so far lands
    /// any more; ticks copy nothing until [`Replication::reset_done`]. Called before the stores
    /// are emptied.
    pub fn reset(&self) {
        self.resets.fetch_add(1, Ordering::SeqCst);
        let _ = self.apply(ReplicationUpdate::default(), &[]);
    }

    /// Ends a reset: every store is empty, replication may copy again.
    pub fn reset_done(&self) {
        if self.resetting() {
            self.resets.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn resets(&self) -> u64 {
        self.resets.load(Ordering::SeqCst)
    }

    fn resetting(&self) -> bool {
        during_reset(self.resets())
    }
}

/// Whether a value of the reset counter says a reset is running (odd between its two raises).
fn during_reset(resets: u64) -> bool {
    resets % 2 == 1
}

/// Runs replication ticks until `stop`.
pub async fn run(cluster: Arc<Cluster>, stop: CancellationToken) {
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticker.tick() => {
                step(&cluster).await;
            }
        }
    }
}

/// Copies every due entry over open links once; returns how many entries were delivered.
/// Failures (a target store unwritable) leave entries pending for the next tick.
pub async fn step(cluster: &Cluster) -> usize {
    let resets = cluster.replication.resets();
    if during_reset(resets) {
        // A reset is emptying the stores: a region not emptied yet would be copied into one
        // that already is.
        return 0;
    }
    let settings = cluster.replication.settings();
    let due_at = now_ms().saturating_sub(i64::try_from(settings.lag_ms).unwrap_or(i64::MAX));
    let mut delivered = 0;
    for source in &cluster.regions {
        let Ok(due) = source
            .store
            .read(move |conn| store::outbox_due(conn, due_at, ENTRIES_PER_TICK))
            .await
        else {
            continue;
        };
        let mut by_target: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (target, id) in due {
            by_target.entry(target).or_default().push(id);
        }
        for (target, ids) in by_target {
            if !settings.link_open(&source.name, &target) {
                continue;
            }
            if let Some(target_region) = cluster.region(&target) {
                let wanted = ids.clone();
                let Ok(rows) = source
                    .store
                    .read(move |conn| {
                        let mut rows = Vec::with_capacity(wanted.len());
                        for id in &wanted {
                            rows.extend(store::get_command(conn, id)?);
                        }
                        Ok(rows)
                    })
                    .await
                else {
                    continue;
                };
                let merged =
                    merge_unless_reset(&cluster.replication, target_region, rows, resets).await;
                if !matches!(merged, Ok(true)) {
                    continue;
                }
            }
            let count = ids.len();
            if source
                .store
                .write(move |tx| store::outbox_delete(tx, &target, &ids))
                .await
                .is_ok()
            {
                delivered += count;
            }
        }
    }
    delivered
}

/// Merges copies into `target` unless a reset started since `resets` was read: they were read
/// before it emptied the stores, and landing after it would bring back commands of a run that
/// is over (a benchmark's next run would find them). The check runs inside the target's
/// write, which the store serialises with the reset's own clear: a write before that clear is
/// emptied by it, one after it sees the new count. `Ok(false)`: dropped.
async fn merge_unless_reset(
    replication: &Replication,
    target: &Region,
    rows: Vec<StoredCommand>,
    resets: u64,
) -> Result<bool, StoreError> {
    let current = Arc::clone(&replication.resets);
    target
        .store
        .write(move |tx| {
            if current.load(Ordering::SeqCst) != resets {
                return Ok(false);
            }
            rows.iter()
                .try_for_each(|row| store::merge_command(tx, row))?;
            Ok(true)
        })
        .await
}

/// Replication state of one region.
#[derive(Debug, Clone, Serialize)]
pub struct RegionReplication {
    pub name: String,
    /// Commands stored in this region.
    pub commands: usize,
    /// Copies of this region's commands not yet delivered to others.
    pub pending_out: u64,
    /// Copies from other regions not yet delivered here.
    pub pending_in: u64,
    /// Age of the oldest copy not yet delivered here (0 when none): `/health`'s lag.
    pub lag_ms: u64,
}

/// Body of `GET /admin/replication`.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicationStatus {
    #[serde(flatten)]
    pub settings: ReplicationSettings,
    /// No copy pending anywhere and every region holds the same set of command ids.
    pub converged: bool,
    pub regions: Vec<RegionReplication>,
}

/// Reads every store to report what is pending and whether the regions agree.
pub async fn status(cluster: &Cluster) -> Result<ReplicationStatus, StoreError> {
    let now = now_ms();
    let mut ids = Vec::with_capacity(cluster.regions.len());
    let mut pending = Vec::with_capacity(cluster.regions.len());
    for region in &cluster.regions {
        ids.push(region.store.read(store::command_ids).await?);
        pending.push(region.store.read(store::outbox_pending).await?);
    }
    let regions: Vec<RegionReplication> = cluster
        .regions
        .iter()
        .enumerate()
        .map(|(i, region)| {
            let incoming = pending.iter().flatten().filter(|p| p.target == region.name);
            let (pending_in, oldest) = incoming.fold((0, None::<i64>), |(n, oldest), p| {
                (
                    n + p.count,
                    Some(oldest.map_or(p.oldest_enqueued_at, |o| o.min(p.oldest_enqueued_at))),
                )
            });
            RegionReplication {
                name: region.name.clone(),
                commands: ids[i].len(),
                pending_out: pending[i].iter().map(|p| p.count).sum(),
                pending_in,
                lag_ms: oldest.map_or(0, |o| u64::try_from(now - o).unwrap_or(0)),
            }
        })
        .collect();
    let nothing_pending = regions.iter().all(|r| r.pending_out == 0);
    let same_sets = ids.windows(2).all(|pair| pair[0] == pair[1]);
    Ok(ReplicationStatus {
        settings: cluster.replication.settings(),
        converged: nothing_pending && same_sets,
        regions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::rate_limit::RateLimit;
    use crate::region::store::Store;

    fn copy_of(id: &str) -> StoredCommand {
        StoredCommand {
            id: id.into(),
            client_id: "client".into(),
            stream: "bench".into(),
            seq: 1,
            kind: "task.add".into(),
            app: "tasks".into(),
            payload: serde_json::json!({ "title": id }),
            created_at: 1,
            accepted_at: 2,
            region: "a".into(),
            received: 1,
            replicated: false,
        }
    }

    async fn held(region: &Region, id: &'static str) -> bool {
        region
            .store
            .read(move |conn| store::get_command(conn, id))
            .await
            .unwrap()
            .is_some()
    }

    fn region(dir: &tempfile::TempDir, name: &str, peer: &str) -> Arc<Region> {
        let store = Store::open(&dir.path().join(format!("{name}.sqlite")), true).unwrap();
        Arc::new(Region::new(
            name.into(),
            store,
            vec![peer.into()],
            1_000,
            RateLimit::DEFAULT,
        ))
    }

    #[tokio::test]
    async fn a_tick_during_a_reset_copies_nothing_and_the_next_one_after_it_does() {
        let dir = tempfile::tempdir().unwrap();
        let cluster = Cluster {
            regions: vec![region(&dir, "a", "b"), region(&dir, "b", "a")],
            replication: Replication::new(0),
        };
        let a = Arc::clone(&cluster.regions[0]);
        let accept = |id: &'static str| {
            let a = Arc::clone(&a);
            async move {
                a.store
                    .write(move |tx| {
                        store::insert_command(tx, &copy_of(id))?;
                        store::enqueue_replication(tx, &["b".to_string()], id, 0)
                    })
                    .await
                    .unwrap();
            }
        };
        // Region `a` not emptied yet while the reset runs: nothing reaches `b`.
        accept("before").await;
        cluster.replication.reset();
        assert_eq!(step(&cluster).await, 0);
        assert!(!held(&cluster.regions[1], "before").await);
        cluster.replication.reset_done();

        accept("after").await;
        assert!(step(&cluster).await >= 1);
        assert!(held(&cluster.regions[1], "after").await);
    }

    #[tokio::test]
    async fn a_copy_read_before_a_reset_does_not_land_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("b.sqlite"), true).unwrap();
        let target = Region::new(
            "b".into(),
            store,
            vec!["a".into()],
            1_000,
            RateLimit::DEFAULT,
        );
        let replication = Replication::new(0);

        let before = replication.resets();
        replication.reset();
        let merged = merge_unless_reset(&replication, &target, vec![copy_of("old")], before).await;
        assert!(!merged.unwrap(), "dropped");
        assert!(!held(&target, "old").await);

        // While the reset runs, a tick copies nothing; once it is done, copies land as usual.
        assert!(replication.resetting());
        replication.reset_done();
        assert!(!replication.resetting());
        let now = replication.resets();
        let merged = merge_unless_reset(&replication, &target, vec![copy_of("new")], now).await;
        assert!(merged.unwrap());
        assert!(held(&target, "new").await);
    }

    fn names() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn partitions_cut_both_directions_and_isolation_cuts_all() {
        let replication = Replication::new(5);
        let settings = replication
            .apply(
                ReplicationUpdate {
                    lag_ms: None,
                    partitioned: vec![["a".into(), "b".into()]],
                    isolated: vec![],
                },
                &names(),
            )
            .unwrap();
        assert_eq!(settings.lag_ms, 5);
        assert!(!settings.link_open("a", "b"));
        assert!(!settings.link_open("b", "a"));
        assert!(settings.link_open("a", "c"));
        let settings = replication
            .apply(
                ReplicationUpdate {
                    lag_ms: Some(0),
                    partitioned: vec![],
                    isolated: vec!["c".into()],
                },
                &names(),
            )
            .unwrap();
        assert!(settings.link_open("a", "b"));
        assert!(!settings.link_open("a", "c"));
        assert!(!settings.link_open("c", "b"));
    }

    #[test]
    fn unknown_regions_are_refused() {
        let replication = Replication::new(0);
        let err = replication
            .apply(
                ReplicationUpdate {
                    lag_ms: None,
                    partitioned: vec![],
                    isolated: vec!["mars".into()],
                },
                &names(),
            )
            .unwrap_err();
        assert!(err.contains("mars"), "{err}");
        replication.reset();
        assert!(replication.settings().isolated.is_empty());
    }
}
