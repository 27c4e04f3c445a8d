//! Delivery with no page open (Background Sync): the service worker wakes, takes the same
//! drain lock as the pages, reads the outbox from IndexedDB and runs the same drain loop
//! ([`crate::rounds`]) as a page, sending each piece of work to the regions in the order of
//! `regions.json` (failing over on the same answers a page fails over on), and tells any page
//! open elsewhere through the same channel.
//!
//! The page's drainer adds what only a page has: live region measurements, hedging, the UI.

use std::cell::RefCell;

use mfe_outbox::{Change, Config, Outbox, Outcome, Work};
use serde::Serialize;

use crate::rounds::{self, now_ms, DrainHost, Phase};
use crate::store::{self, StoreError};
use crate::tabs::{self, Notice};
use crate::transport::{self, Answer};

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

/// Whether a whole-request answer means "try the next region" (the page's rule too).
pub fn fails_over(answer: &Answer) -> bool {
    matches!(answer, Answer::Whole(o) if o.class().should_fail_over())
}

/// The worker as a drain host: its own outbox core, regions in a fixed order, no UI.
struct Worker {
    outbox: RefCell<Outbox>,
    /// `(name, base URL)`, best first. A region whose answer said it is switched off moves to
    /// the back for the rest of this wake-up.
    regions: RefCell<Vec<(String, String)>>,
}

/// Moves `name` behind every other region, keeping the others' order.
fn to_the_back(regions: &mut Vec<(String, String)>, name: &str) {
    if let Some(i) = regions.iter().position(|(n, _)| n == name) {
        let region = regions.remove(i);
        regions.push(region);
    }
}

impl DrainHost for Worker {
    fn with_outbox<R>(&self, f: impl FnOnce(&mut Outbox) -> R) -> Option<R> {
        Some(f(&mut self.outbox.borrow_mut()))
    }

    fn online(&self) -> bool {
        true
    }

    /// The worker holds the drain lock and nobody else delivers meanwhile; what pages save
    /// while it runs is picked up by the next wake-up or by a page's drainer.
    async fn before_round(&self, _unwritten: &mut Vec<Change>) -> Result<(), StoreError> {
        Ok(())
    }

    async fn deliver(&self, work: &Work) -> Vec<Change> {
        let mut last: Option<(String, Answer)> = None;
        let regions = self.regions.borrow().clone();
        for (name, url) in &regions {
            let reply = transport::send(work, url.trim_end_matches('/')).await;
            if reply.switched_off {
                to_the_back(&mut self.regions.borrow_mut(), name);
            }
            let answer = reply.answer;
            let settled = !fails_over(&answer);
            last = Some((name.clone(), answer));
            if settled {
                break;
            }
        }
        let (region, answer) = last.unwrap_or_else(|| {
            (
                String::new(),
                Answer::Whole(Outcome::Network("no region is known".into())),
            )
        });
        rounds::record(&mut self.outbox.borrow_mut(), work, &region, &answer).changes
    }

    fn changed(&self, phase: Phase) {
        if phase == Phase::Recorded {
            tabs::tell_once(Notice::Changed);
        }
    }
}

/// One wake-up: drain under the lock. `regions` are `(name, base URL)`, best first.
pub async fn drain(regions: Vec<(String, String)>) -> Report {
    let report = std::rc::Rc::new(RefCell::new(Report::default()));
    let inner = report.clone();
    let ran = tabs::exclusive(tabs::DRAIN_LOCK, move || async move {
        let result = session(regions).await;
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

async fn session(regions: Vec<(String, String)>) -> Result<Report, StoreError> {
    let loaded = store::load().await?;
    let mut outbox = Outbox::new(Config::default());
    // Interrupted sends become pending again (their idempotency keys make a resend safe).
    let restored = outbox.restore(loaded.entries, now_ms());
    store::apply(&restored).await?;
    let before = outbox.counts();
    let worker = Worker {
        outbox: RefCell::new(outbox),
        regions: RefCell::new(regions),
    };
    rounds::drain_rounds(&worker).await?;
    let after = worker.outbox.borrow().counts();
    Ok(Report {
        ran: true,
        delivered: after.delivered.saturating_sub(before.delivered),
        dead: after.dead.saturating_sub(before.dead),
        waiting: after.pending + after.inflight,
        error: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(regions: &[(String, String)]) -> Vec<&str> {
        regions.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn a_switched_off_region_goes_behind_the_others_in_their_order() {
        let mut regions: Vec<(String, String)> = ["us-east", "eu-west", "ap-south"]
            .iter()
            .map(|n| (n.to_string(), format!("http://{n}.test")))
            .collect();
        to_the_back(&mut regions, "us-east");
        assert_eq!(names(&regions), ["eu-west", "ap-south", "us-east"]);
        assert_eq!(regions[2].1, "http://us-east.test");
        to_the_back(&mut regions, "mars");
        assert_eq!(names(&regions), ["eu-west", "ap-south", "us-east"]);
    }
}
