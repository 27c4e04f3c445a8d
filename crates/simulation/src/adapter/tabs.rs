//! The tabs around the drainer: clicks, page loads and crashes, the drain lock, offline spells,
//! and the user's actions on dead letters.

use mfe_contract::CommandStatus;

use crate::coverage::Cover;
use crate::events::{Event, Timer};
use crate::trace;
use crate::world::World;

/// A tab that finds the lock free after its holder died takes it within this long (the
/// shell's lock retry).
const LOCK_RETRY_MS: i64 = 1_000;

impl World {
    /// The user issues a command in some tab: durable first, then delivery is asked for.
    pub fn click(&mut self, item: usize) {
        let preferred = self.items[item].tab;
        let tab = if self.tabs[preferred].alive {
            Some(preferred)
        } else {
            self.tabs.iter().position(|t| t.alive)
        };
        let Some(t) = tab else {
            trace!(self, "click {item}: no tab open, waits");
            self.deferred.push(item);
            return;
        };
        let seq = self.disk.next_seq();
        self.seq_of[item] = Some(seq);
        let wall = self.wall();
        let command = self.items[item].command(&self.client_id, seq, wall);
        let id = command.id.clone();
        trace!(self, "tab{t}: enqueue {id} seq {seq} on {}", command.stream);
        match self.tabs[t].outbox.enqueue(command, wall) {
            Ok(changes) => self.persist(changes),
            Err(e) => {
                self.violation(format!("enqueue of {id} refused: {e}"));
                return;
            }
        }
        self.enqueued += 1;
        self.stats.commands += 1;
        if self.holder == Some(t) {
            self.request_drain(t, 0);
        } else {
            self.disk.foreign.push(id);
            match self.holder {
                // BroadcastChannel: the drainer hears about it a moment later.
                Some(h) => {
                    let ms = self.rng.between(1, 20);
                    self.request_drain(h, ms);
                }
                None => self.try_lock(t),
            }
        }
    }

    /// A page loads (at start or after a crash): fresh memory, rebuilt from the disk.
    pub fn open_tab(&mut self, t: usize) {
        self.tabs[t].reset(&self.scenario.outbox);
        let epoch = self.tabs[t].epoch;
        trace!(self, "tab{t}: page loaded (epoch {epoch})");
        // The first reload of a run (every one in a replay) reads each record through its
        // stored JSON form and the validating decoder, as the page does, and checks it comes
        // back as stored; later ones take the records as stored, which keeps runs cheap.
        let stored = self.disk.load();
        let entries = if (self.decoded_once && !self.trace.enabled()) || stored.is_empty() {
            stored
        } else {
            self.decoded_once = true;
            match self.disk.load_from_json() {
                Ok(decoded) if decoded == stored => decoded,
                Ok(_) => {
                    self.violation("records changed on their way through JSON".to_string());
                    stored
                }
                Err(e) => {
                    self.violation(format!("a stored record does not decode: {e}"));
                    stored
                }
            }
        };
        let wall = self.wall();
        let online = !self.net.offline;
        let tab = &mut self.tabs[t];
        // Display only: the drainer persists its own restore when it takes the lock.
        let _ = tab.outbox.restore(entries, wall);
        tab.outbox.set_online(online);
        tab.foreign_seen = self.disk.foreign.len();
        self.stats.restores += 1;
        self.tabs[t].clock_base = self.wall() - self.now;
        let rnow = self.router_now(t);
        self.arm(t, Timer::Router, Some(rnow), rnow);
        if self.holder.is_none() {
            self.try_lock(t);
        }
        for item in std::mem::take(&mut self.deferred) {
            self.queue.push(self.now, Event::Enqueue { item });
        }
    }

    /// The page dies. Its requests stay on the wire; their answers will find nobody.
    pub fn crash_tab(&mut self, t: usize, reload_ms: i64) {
        if !self.tabs[t].alive {
            return;
        }
        trace!(self, "tab{t}: page crashed, reloads in {reload_ms} ms");
        self.cover(Cover::PageReload);
        self.tabs[t].alive = false;
        self.tabs[t].flights.clear();
        if self.holder == Some(t) {
            self.holder = None;
            for o in 0..self.tabs.len() {
                if o != t && self.tabs[o].alive {
                    let epoch = self.tabs[o].epoch;
                    let ms = self.rng.between(0, LOCK_RETRY_MS);
                    self.queue
                        .push(self.now + ms, Event::TryLock { tab: o, epoch });
                }
            }
        }
        self.queue
            .push(self.now + reload_ms, Event::TabBack { tab: t });
    }

    /// Takes the drain lock if it is free, rebuilds memory from the disk, and drains.
    pub fn try_lock(&mut self, t: usize) {
        if self.holder.is_some() || !self.tabs[t].alive {
            return;
        }
        self.holder = Some(t);
        let entries = self.disk.load();
        let wall = self.wall();
        let changes = self.tabs[t].outbox.restore(entries, wall);
        self.tabs[t].foreign_seen = self.disk.foreign.len();
        self.stats.restores += 1;
        trace!(
            self,
            "tab{t}: takes the drain lock, restores ({} repaired)",
            changes.len()
        );
        if !changes.is_empty() {
            self.cover(Cover::TakeoverInFlight);
        }
        self.persist(changes);
        self.drain(t);
    }

    /// The drain session of the holder ended (it was idle) and the other tab's waiting
    /// request gets the lock; with no other tab, the holder's next session takes it again.
    pub fn handover(&mut self) {
        let Some(h) = self.holder else {
            return;
        };
        if !self.tabs[h].flights.is_empty() {
            return; // a session ends only when idle
        }
        let o = (0..self.tabs.len())
            .find(|&o| o != h && self.tabs[o].alive)
            .unwrap_or(h);
        trace!(self, "tab{h}: releases the drain lock to tab{o}");
        self.cover(Cover::Handover);
        self.holder = None;
        self.try_lock(o);
    }

    pub fn set_offline(&mut self, offline: bool) {
        self.net.offline = offline;
        for t in 0..self.tabs.len() {
            if self.tabs[t].alive {
                self.tabs[t].outbox.set_online(!offline);
                if !offline {
                    self.request_drain(t, 0);
                    self.rearm_router(t);
                }
            }
        }
    }

    /// The user opens the dead-letter panel in the draining tab: Retry on the commands the
    /// server accepts again, Discard on the others. Comes back while dead letters remain.
    pub fn user_acts(&mut self) {
        let Some(t) = self.holder else {
            self.queue.push(self.now + 1_000, Event::UserActs);
            return;
        };
        let dead: Vec<String> = self.tabs[t]
            .outbox
            .entries()
            .filter(|e| e.status == CommandStatus::Dead)
            .map(|e| e.id().to_string())
            .collect();
        let wall = self.wall();
        for id in dead {
            let fixed = self.items.iter().any(|i| i.id == id && i.fixed_at_heal);
            let result = if fixed {
                trace!(self, "tab{t}: user retries dead letter {id}");
                self.cover(Cover::DeadRetried);
                self.tabs[t].outbox.retry_dead(&id, wall)
            } else {
                trace!(self, "tab{t}: user discards dead letter {id}");
                self.cover(Cover::DeadDiscarded);
                self.disk.discarded.insert(id.clone());
                self.tabs[t].outbox.discard(&id)
            };
            match result {
                Ok(changes) => self.persist(changes),
                Err(e) => self.violation(format!("the user's action on {id} failed: {e}")),
            }
        }
        self.request_drain(t, 0);
        if !self.disk.dead.is_empty() || !self.quiescent {
            self.queue.push(self.now + 20_000, Event::UserActs);
        }
    }
}
