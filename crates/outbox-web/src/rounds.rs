//! The drain loop itself, one implementation for the page and the service worker: each round
//! asks the outbox core what is due, makes the in-flight marks durable before anything leaves,
//! delivers every piece of work concurrently (how is the host's business: the page walks the
//! router's regions with hedging, the worker walks `regions.json`), and records every outcome
//! durably, in the same transaction as the next round's in-flight marks.

use std::future::Future;

use mfe_outbox::{Change, Completion, Outbox, Work};

use crate::store::{self, StoreError};
use crate::transport::Answer;

/// Bound on rounds in one drain (each round sends up to the core's batch and stream limits),
/// so a drain always ends and releases the lock.
pub const MAX_ROUNDS: usize = 10_000;

/// Where the outbox stands when the host is told it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Commands were marked in flight (durably) and are about to be sent.
    Sending,
    /// The answers were recorded (durably): delivered, retried later, or dead; with the next
    /// round's in-flight marks, if any, in the same transaction.
    Recorded,
}

/// What a drainer needs from where it runs.
pub trait DrainHost {
    /// Runs `f` on the host's outbox core (never held across an await).
    fn with_outbox<R>(&self, f: impl FnOnce(&mut Outbox) -> R) -> Option<R>;
    /// Whether the device is online (offline, the core sends nothing and waits).
    fn online(&self) -> bool;
    /// Before each round: pick up what others saved meanwhile (pages share the store).
    /// `unwritten` holds the last round's outcomes, which are not durable yet (they are written
    /// with this round's in-flight marks): a host that rereads the store must write them first
    /// and take them, or the reread would undo them.
    fn before_round(
        &self,
        unwritten: &mut Vec<Change>,
    ) -> impl Future<Output = Result<(), StoreError>>;
    /// Sends one piece of work and returns the core's changes for how it ended.
    fn deliver(&self, work: &Work) -> impl Future<Output = Vec<Change>>;
    /// The outbox changed: show it, tell the others.
    fn changed(&self, phase: Phase);
}

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// A random unit in [0, 1) for the core's jitter.
pub fn random_unit() -> f64 {
    js_sys::Math::random()
}

/// Records how a request for `work` ended (`region` answered, or was the last one tried).
pub fn record(outbox: &mut Outbox, work: &Work, region: &str, answer: &Answer) -> Completion {
    let now = now_ms();
    match answer {
        Answer::Whole(outcome) => outbox.complete(now, work, region, outcome, &mut random_unit),
        Answer::Items(items) => outbox.complete_items(now, work, region, items, &mut random_unit),
    }
}

/// Drains until the core has nothing due (or [`MAX_ROUNDS`]). A store error ends the drain:
/// nothing is sent whose in-flight mark is not durable, and nothing counts as delivered that
/// is not recorded.
///
/// One IndexedDB transaction per round: the outcomes of a round are written together with the
/// in-flight marks of the next one (the core plans the next round from the outcomes in memory,
/// so both are known before anything is written), and the host hears of both once that
/// transaction has committed. Until then the next request does not leave and no outcome is
/// shown or counted.
pub async fn drain_rounds<H: DrainHost>(host: &H) -> Result<(), StoreError> {
    // The last round's outcomes, not durable yet: written with this round's in-flight marks.
    let mut outcomes: Vec<Change> = Vec::new();
    for _round in 0..MAX_ROUNDS {
        let recorded = !outcomes.is_empty();
        if let Err(e) = host.before_round(&mut outcomes).await {
            store::apply(&outcomes).await?;
            return Err(e);
        }
        let online = host.online();
        let now = now_ms();
        let Some(poll) = host.with_outbox(|outbox| {
            outbox.set_online(online);
            outbox.poll(now, &mut random_unit)
        }) else {
            return record_outcomes(host, outcomes).await;
        };
        // Later changes of one record come later in the transaction, so the last one stands
        // (a retried command handed out again is in flight, not pending).
        outcomes.extend(poll.changes);
        store::apply(&outcomes).await?;
        outcomes.clear();
        if recorded {
            host.changed(Phase::Recorded);
        }
        if poll.work.is_empty() {
            return Ok(());
        }
        if !recorded {
            host.changed(Phase::Sending);
        }
        let results = futures::future::join_all(poll.work.iter().map(|w| host.deliver(w))).await;
        outcomes = results.into_iter().flatten().collect();
    }
    record_outcomes(host, outcomes).await
}

/// Writes outcomes no later round will carry, then tells the host.
async fn record_outcomes<H: DrainHost>(host: &H, outcomes: Vec<Change>) -> Result<(), StoreError> {
    if !outcomes.is_empty() {
        store::apply(&outcomes).await?;
        host.changed(Phase::Recorded);
    }
    Ok(())
}
