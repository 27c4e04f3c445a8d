//! What must hold at the end of every run. Each check returns plain sentences; the runner adds
//! the seed and the replay command.
//!
//! The order guarantee checked here is the one the cores and the adapter provide together:
//! **within a stream, the first application of each delivered command at any region (the
//! application the converged stores record as the accepting one) happens strictly after the
//! first application of every delivered command of that stream with a lower `seq`.**
//!
//! It holds because the outbox hands out a stream's next command only once every earlier one
//! is settled — acknowledged (and an acknowledgement exists only once some region applied the
//! command) or dead — a request carries a stream's commands in `seq` order, and a region runs
//! a batch in order and stops a stream at its first failed item (424). Copies of an older
//! request still on the wire (after a timeout, a failover, a hedge, a lease expiry or a
//! reload) can apply an older command at some region after a newer one, but never before that
//! command's first application elsewhere, so the first application, which replication keeps
//! as the accepted one, stays in order. It needs an adapter that adopts the records other tabs
//! stored before it polls (see the adapter module). Dead letters are left out: a stream moves
//! on past them, and one the user retries lands after later commands by design.
//!
//! Arrival order at a single region is *not* guaranteed and not checked: replication copies
//! commands independently, and late copies of requests arrive late (in the default run some
//! region receives a stream's requests out of `seq` order in about one seed in seven).

use std::collections::{BTreeMap, BTreeSet};

use mfe_contract::CommandStatus;
use mfe_outbox::Config;

use crate::scenario::{REGIONS, REQUEST_TIMEOUT_MS};
use crate::world::World;

/// How long after the heal every command must be delivered, from the defaults of the cores:
/// - the router sees a region back after `up_after_successes` probes at the degraded period,
///   the last one taking up to its timeout (a breaker the outage opened then lets its trial
///   through at once);
/// - a command that failed just before the heal waits up to one backoff cap (a Retry-After
///   here is at most 20 s, below it), and with the retry budget spent it may be pushed back
///   once more, by up to another cap, while the single retry slot is taken;
/// - a request out at the heal ends by the adapter's deadline; a reload and the lock retry
///   take a few seconds;
/// - and the outbox keeps its times on the wall clock, so a clock stepped back holds its
///   waits back by as much, but never by more than `max_delay_ms` (its clock repair).
pub fn heal_bound_ms(world: &World) -> i64 {
    let router = mfe_router::Config::default();
    let outbox = Config::default();
    let detect = i64::from(router.up_after_successes) * router.probe_interval_unhealthy_ms
        + router.probe_timeout_ms;
    let wait = 2 * outbox.backoff_cap_ms;
    let tail = REQUEST_TIMEOUT_MS + 4_000;
    detect + wait + tail + world.stepped_back_ms.min(outbox.max_delay_ms)
}

pub fn check(world: &World) -> Vec<String> {
    let mut problems = world.violations.clone();
    if !world.quiescent {
        problems.push(not_quiescent(world));
    }
    problems.extend(nothing_lost(world));
    problems.extend(disk_matches_the_drainer(world));
    problems.extend(regions_converged(world));
    problems.extend(stream_order(world));
    let bound = heal_bound_ms(world);
    if world.stats.drain_after_heal_ms > bound {
        problems.push(format!(
            "the last command was delivered {} ms after the heal, over the bound of {bound} ms",
            world.stats.drain_after_heal_ms
        ));
    }
    problems
}

fn not_quiescent(world: &World) -> String {
    let open: Vec<String> = world
        .disk
        .entries
        .values()
        .filter(|e| e.is_open())
        .take(5)
        .map(|e| {
            format!(
                "{} {:?} attempts {} next_at {:+} ms last_error {:?}",
                e.id(),
                e.status,
                e.attempts,
                e.next_at - world.wall(),
                e.last_error
            )
        })
        .collect();
    format!(
        "not quiescent at {:.1}s ({} steps): {}/{} enqueued, {} delivered, {} dead, {} requests \
         and {} replications in flight, holder {:?}; open: {}",
        world.now as f64 / 1_000.0,
        world.stats.steps,
        world.enqueued,
        world.items.len(),
        world.disk.delivered_at.len(),
        world.disk.dead.len(),
        world.in_network,
        world.replicating,
        world.holder,
        open.join("; ")
    )
}

/// Every command ends delivered, unless the scenario allows otherwise: a poisoned command the
/// server still refuses ends discarded by the user (after being a dead letter with the
/// server's 422), with no effect anywhere.
fn nothing_lost(world: &World) -> Vec<String> {
    let mut out = Vec::new();
    for (i, item) in world.items.iter().enumerate() {
        if world.seq_of[i].is_none() {
            out.push(format!("{} was never enqueued", item.id));
            continue;
        }
        let delivered = world.disk.delivered_at.contains_key(&item.id);
        let dead = world.disk.dead.get(&item.id);
        let discarded = world.disk.discarded.contains(&item.id);
        let must_be_delivered = !item.poisoned || item.fixed_at_heal;
        match (must_be_delivered, delivered, dead, discarded) {
            (true, true, None, false) => {}
            (false, false, None, true) => {
                if world.regions.iter().any(|r| r.store.contains_key(&item.id)) {
                    out.push(format!("discarded {} took effect somewhere", item.id));
                }
            }
            _ => out.push(format!(
                "{} (poisoned: {}, fixed: {}) ended delivered: {delivered}, dead: {dead:?}, \
                 discarded: {discarded}, on disk: {:?}",
                item.id,
                item.poisoned,
                item.fixed_at_heal,
                world.disk.entries.get(&item.id).map(|e| e.status)
            )),
        }
    }
    out
}

/// The drainer's memory and the disk agree record for record: every transition was persisted.
fn disk_matches_the_drainer(world: &World) -> Vec<String> {
    let Some(h) = world.holder else {
        return Vec::new();
    };
    let memory: Vec<_> = world.tabs[h].outbox.entries().collect();
    let disk: Vec<_> = world.disk.entries.values().collect();
    if memory.len() != disk.len() {
        return vec![format!(
            "the drainer holds {} records, the disk {}",
            memory.len(),
            disk.len()
        )];
    }
    memory
        .iter()
        .zip(&disk)
        .filter(|(m, d)| m != d)
        .take(3)
        .map(|(m, d)| format!("record {} differs: memory {m:?}, disk {d:?}", m.id()))
        .collect()
}

/// After convergence every region holds the same set, which is exactly the delivered
/// commands; each took effect once per region; all agree on who accepted it first and when.
fn regions_converged(world: &World) -> Vec<String> {
    let mut out = Vec::new();
    let mut expected: Vec<&str> = world
        .items
        .iter()
        .filter(|i| !i.poisoned || i.fixed_at_heal)
        .map(|i| i.id.as_str())
        .collect();
    expected.sort_unstable();
    let mut all_hold_the_set = true;
    for region in &world.regions {
        if !region
            .store
            .keys()
            .map(String::as_str)
            .eq(expected.iter().copied())
        {
            all_hold_the_set = false;
            let held: BTreeSet<&str> = region.store.keys().map(String::as_str).collect();
            let wanted: BTreeSet<&str> = expected.iter().copied().collect();
            let missing: Vec<_> = wanted.difference(&held).take(3).collect();
            let extra: Vec<_> = held.difference(&wanted).take(3).collect();
            out.push(format!(
                "{} holds {} commands, expected {}: missing {missing:?}, unexpected {extra:?}",
                region.name(),
                held.len(),
                wanted.len()
            ));
        }
        for (id, n) in region.effects.iter().filter(|(_, n)| **n != 1) {
            out.push(format!("{id} took effect {n} times in {}", region.name()));
        }
    }
    if all_hold_the_set {
        // Same keys everywhere, so the stores line up row by row.
        let mut rows: Vec<_> = world.regions.iter().map(|r| r.store.iter()).collect();
        let (first, others) = rows.split_at_mut(1);
        for (id, row) in first[0].by_ref() {
            for other in others.iter_mut() {
                if let Some((_, o)) = other.next() {
                    if (o.region, o.accepted_at) != (row.region, row.accepted_at) {
                        out.push(format!(
                            "regions disagree on the acceptance of {id}: {:?} and {:?}",
                            (REGIONS[row.region], row.accepted_at),
                            (REGIONS[o.region], o.accepted_at)
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The order guarantee of the module docs, plus its visible form: the accepted times the
/// converged stores hold never go backwards along a stream.
fn stream_order(world: &World) -> Vec<String> {
    let mut out = Vec::new();
    let mut streams: BTreeMap<&str, Vec<(u64, &str)>> = BTreeMap::new();
    for (i, item) in world.items.iter().enumerate() {
        // A dead letter the user retried is delivered after later commands of its stream,
        // by design (DESIGN §3.4: the user reorders by retrying).
        let delivered = world.disk.delivered_at.contains_key(&item.id) && !item.poisoned;
        if let (Some(seq), true) = (world.seq_of[i], delivered) {
            streams
                .entry(item.stream.as_str())
                .or_default()
                .push((seq, item.id.as_str()));
        }
    }
    for (stream, mut ids) in streams {
        ids.sort_unstable();
        for pair in ids.windows(2) {
            let (a, b) = (pair[0].1, pair[1].1);
            let (Some(fa), Some(fb)) = (world.first_applied.get(a), world.first_applied.get(b))
            else {
                out.push(format!("{stream}: {a} or {b} was never applied"));
                continue;
            };
            if (fa.0, fa.1) >= (fb.0, fb.1) {
                out.push(format!(
                    "{stream}: {b} (seq {}) was first applied at {} ms in {} before {a} (seq {}) \
                     at {} ms in {}",
                    pair[1].0, fb.0, REGIONS[fb.2], pair[0].0, fa.0, REGIONS[fa.2]
                ));
            }
            let region = &world.regions[0];
            if let (Some(ra), Some(rb)) = (region.store.get(a), region.store.get(b)) {
                if ra.accepted_at > rb.accepted_at {
                    out.push(format!(
                        "{stream}: the converged store says {b} was accepted before {a}"
                    ));
                }
            }
        }
    }
    out
}

/// Counts of final states on the disk, for the replay header.
pub fn final_counts(world: &World) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for e in world.disk.entries.values() {
        let key = match e.status {
            CommandStatus::Pending => "pending",
            CommandStatus::Inflight => "inflight",
            CommandStatus::Delivered => "delivered",
            CommandStatus::Dead => "dead",
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}
