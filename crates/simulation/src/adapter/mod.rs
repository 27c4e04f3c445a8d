//! The shell's adapter loop, as the browser runs it, over the two sans-IO cores: `poll` the
//! outbox, send each `Work` to the region the router ranks first, report every outcome to both
//! cores, fail over to the next candidate at once, hedge a slow request to the next region
//! while the retry budget allows, probe on the router's schedule and sleep until the earliest
//! `next_wake`. Around it: the drain lock between tabs, page reloads and offline periods.
//!
//! Three rules of the adapter matter, and the checks rely on them:
//! - the drainer adopts every record another tab stored before it polls, so a command can never
//!   be overtaken by a later one of its stream that this tab happened to see first (learning
//!   about them from a BroadcastChannel notice that arrives a few ms later is not enough: the
//!   simulation reorders streams within a few thousand seeds that way);
//! - a tab that takes the drain lock rebuilds its outbox from the disk (`restore`), because
//!   another tab may have delivered, retried or added commands since it last looked;
//! - a request that fails while the device is offline is reported to the router as
//!   `Cancelled` and ends the walk over the candidates: otherwise a short offline spell opens
//!   every region's breaker (or fails every half-open trial, doubling the cool-downs) and no
//!   command moves for minutes after the device is back online.

mod delivery;
mod tabs;
mod timers;

use mfe_contract::CommandStatus;
use mfe_outbox::Change;

use crate::client::Flight;
use crate::coverage::Cover;
use crate::events::Event;
use crate::trace;
use crate::world::World;

/// The outbox's `last_error` for a send whose result never came within its lease.
const LEASE_EXPIRED: &str = "network error: no result was reported for this send";

impl World {
    /// The router's clock: `performance.timeOrigin + performance.now()`, monotonic for the life
    /// of the page whatever the wall clock does. (Fed `Date.now()`, the router would hold
    /// every probe and cool-down for as long as the wall clock was stepped back.)
    pub fn router_now(&self, t: usize) -> i64 {
        self.tabs[t].clock_base + self.now
    }

    /// Writes one call's changes as one transaction, and checks what they claim.
    pub fn persist(&mut self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        for change in &changes {
            if let Change::Put(e) = change {
                if e.status == CommandStatus::Pending
                    && e.last_error.as_deref() == Some(LEASE_EXPIRED)
                {
                    self.cover(Cover::LeaseExpired);
                }
            }
        }
        let written = self.disk.apply(changes, self.now);
        for anomaly in written.anomalies {
            self.violation(anomaly);
        }
        for id in written.delivered {
            if !self.regions.iter().any(|r| r.store.contains_key(&id)) {
                self.violation(format!("{id} marked delivered but no region has it"));
            }
            if self.healed {
                self.stats.drain_after_heal_ms = self
                    .stats
                    .drain_after_heal_ms
                    .max(self.now - self.scenario.heal_at);
            }
        }
    }

    /// Asks for a drain of tab `t` in `ms` (coalesced when immediate).
    pub fn request_drain(&mut self, t: usize, ms: i64) {
        let tab = &mut self.tabs[t];
        if !tab.alive || (ms == 0 && tab.drain_pending) {
            return;
        }
        if ms == 0 {
            tab.drain_pending = true;
        }
        let epoch = tab.epoch;
        self.queue
            .push(self.now + ms, Event::Notice { tab: t, epoch });
    }

    /// One drain round: adopt what other tabs stored, poll, persist, send.
    pub fn drain(&mut self, t: usize) {
        if !self.tabs[t].alive {
            return;
        }
        if self.holder != Some(t) {
            if self.holder.is_none() {
                self.try_lock(t);
            }
            return;
        }
        let wall = self.wall();
        let seen = self.tabs[t].foreign_seen;
        let unseen: Vec<String> = self.disk.foreign[seen..].to_vec();
        self.tabs[t].foreign_seen = self.disk.foreign.len();
        for id in unseen {
            if self.tabs[t].outbox.get(&id).is_some() {
                continue;
            }
            if let Some(entry) = self.disk.entries.get(&id).cloned() {
                self.cover(Cover::Adopted);
                let changes = self.tabs[t].outbox.adopt(entry, wall);
                self.persist(changes);
            }
        }
        let online = !self.net.offline;
        let outbox = &mut self.tabs[t].outbox;
        outbox.set_online(online);
        let throttled = outbox.budget_tokens() <= 5.0;
        let poll = outbox.poll(wall, &mut self.rng);
        if throttled && online {
            self.cover(Cover::BudgetSpent);
        }
        if poll.work.iter().any(|w| !w.is_single()) {
            self.cover(Cover::BatchRequest);
        }
        self.persist(poll.changes);
        for work in poll.work {
            trace!(
                self,
                "tab{t}: work {} [{}]",
                work.id,
                work.ids().collect::<Vec<_>>().join(", ")
            );
            let id = work.id;
            self.tabs[t].flights.insert(
                id,
                Flight {
                    work,
                    tried: Vec::new(),
                    out: Vec::new(),
                    hedged: false,
                    last: None,
                },
            );
            self.next_attempt(t, id);
        }
        self.rearm_outbox(t);
    }
}
