//! Delivery with no page open (Background Sync): the service worker wakes, takes the same
//! drain lock as the pages, reads the outbox from IndexedDB, lets the outbox core decide what
//! is due, sends it to the regions in the order the page last knew them (failing over on the
//! same answers the page fails over on), records every outcome durably, and tells any page
//! that opens later (or is open elsewhere) through the same channel.
//!
//! The page's drainer adds what only a page has: live region measurements, hedging, and the
//! UI. Every decision — what is due, batching, classification, backoff, dead letters — is the
//! core's, for both.

use mfe_outbox::{Change, Config, Outbox, Outcome, Work};
use serde::Serialize;

use crate::store::{self, StoreError};
use crate::tabs::{self, Notice};
use crate::transport::{self, Answer};

/// Bound on rounds in one wake-up, so the worker always finishes (the browser retries a sync
/// that reports work left).
const MAX_ROUNDS: usize = 1_000;

/// What one wake-up did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// False when a page (or another worker) held the drain lock: it is delivering already.
    pub ran: bool,
    /// Commands acknowledged by a region in this wake-up (the core forgets delivered entries
    /// after a while, so this counts what it still held).
    pub delivered: usize,
    /// Commands a region refused for good (now dead letters, shown in the page).
    pub dead: usize,
    /// Commands still waiting (e.g. every region down, or a Retry-After not yet passed).
    pub waiting: usize,
    pub error: Option<String>,
}

/// Whether a whole-request answer means "try the next region" (same rule as the page).
pub fn fails_over(answer: &Answer) -> bool {
    matches!(answer, Answer::Whole(o) if o.class().should_fail_over())
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

fn random_unit() -> f64 {
    js_sys::Math::random()
}

/// Sends `work` to `regions` (base URLs, best first) until one gives an answer that is not a
/// reason to fail over; returns the core's changes for that answer.
async fn deliver(outbox: &mut Outbox, work: &Work, regions: &[(String, String)]) -> Vec<Change> {
    let mut last: Option<(String, Answer)> = None;
    for (name, url) in regions {
        let answer = transport::send(work, url.trim_end_matches('/')).await;
        let final_answer = !fails_over(&answer);
        last = Some((name.clone(), answer));
        if final_answer {
            break;
        }
    }
    let now = now_ms();
    let (region, answer) = last.unwrap_or_else(|| {
        (
            String::new(),
            Answer::Whole(Outcome::Network("no region is known".into())),
        )
    });
    let completion = match &answer {
        Answer::Whole(outcome) => outbox.complete(now, work, &region, outcome, &mut random_unit),
        Answer::Items(items) => outbox.complete_items(now, work, &region, items, &mut random_unit),
    };
    completion.changes
}

/// One wake-up: drain under the lock. `regions` are `(name, base URL)`, best first.
pub async fn drain(regions: Vec<(String, String)>) -> Report {
    let report = std::rc::Rc::new(std::cell::RefCell::new(Report::default()));
    let inner = report.clone();
    let ran = tabs::exclusive(tabs::DRAIN_LOCK, move || async move {
        let result = session(&regions).await;
        let mut r = inner.borrow_mut();
        match result {
            Ok(done) => *r = done,
            Err(e) => r.error = Some(e.to_string()),
        }
    })
    .await;
    let mut report = report.take();
    report.ran = ran;
    report
}

async fn session(regions: &[(String, String)]) -> Result<Report, StoreError> {
    let loaded = store::load().await?;
    let mut outbox = Outbox::new(Config::default());
    // Interrupted sends become pending again (their idempotency keys make a resend safe).
    let restored = outbox.restore(loaded.entries, now_ms());
    store::apply(&restored).await?;
    let before = outbox.counts();
    for _round in 0..MAX_ROUNDS {
        let poll = outbox.poll(now_ms(), &mut random_unit);
        // In-flight state is durable before any request leaves, as in the page.
        store::apply(&poll.changes).await?;
        if poll.work.is_empty() {
            break;
        }
        let mut changes = Vec::new();
        for work in &poll.work {
            changes.extend(deliver(&mut outbox, work, regions).await);
        }
        store::apply(&changes).await?;
        tabs::tell_once(Notice::Changed);
    }
    let after = outbox.counts();
    Ok(Report {
        ran: true,
        delivered: after.delivered.saturating_sub(before.delivered),
        dead: after.dead.saturating_sub(before.dead),
        waiting: after.pending + after.inflight,
        error: None,
    })
}
