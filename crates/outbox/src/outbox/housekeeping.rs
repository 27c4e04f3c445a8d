//! Time-driven rules: request leases, retention, removal of old delivered entries, repair after
//! the clock jumped, and when the adapter's timer should next call in.
//!
//! The clock is whatever the host says it is, and it can jump both ways (sleep, NTP, a user
//! changing it). Forward jumps simply make things due or expired sooner. Backward jumps are
//! repaired so that nothing waits longer than `max_delay_ms` for a send or a retention period
//! for expiry: timestamps found in the future are pulled back to now.

use super::Outbox;
use crate::changes::ChangeLog;
use crate::classify::Outcome;
use crate::entry::EXPIRED;
use crate::random::Random;
use mfe_contract::CommandStatus;

const LEASE_EXPIRED: &str = "no result was reported for this send";

enum Fix {
    Expire,
    Purge,
    Touched,
}

impl Outbox {
    pub(super) fn housekeeping(&mut self, now_ms: i64, rng: &mut impl Random, log: &mut ChangeLog) {
        self.expire_leases(now_ms, rng, log);

        let retention = self.config.retention_ms;
        let keep = self.config.keep_delivered_ms;
        let latest_next = now_ms.saturating_add(self.config.max_delay_ms);
        let mut fixes: Vec<(String, Fix)> = Vec::new();
        for (id, e) in self.entries.iter_mut() {
            let mut touched = false;
            if e.enqueued_at > now_ms {
                e.enqueued_at = now_ms;
                touched = true;
            }
            match e.status {
                CommandStatus::Pending => {
                    if now_ms.saturating_sub(e.enqueued_at) >= retention {
                        fixes.push((id.clone(), Fix::Expire));
                        continue;
                    }
                    if e.next_at > latest_next {
                        e.next_at = now_ms;
                        touched = true;
                    }
                }
                CommandStatus::Delivered => {
                    let at = e.delivered_at.unwrap_or(now_ms);
                    if now_ms.saturating_sub(at) >= keep {
                        fixes.push((id.clone(), Fix::Purge));
                        continue;
                    }
                    if at > now_ms || e.delivered_at.is_none() {
                        e.delivered_at = Some(now_ms);
                        touched = true;
                    }
                }
                CommandStatus::Inflight | CommandStatus::Dead => {}
            }
            if touched {
                fixes.push((id.clone(), Fix::Touched));
            }
        }
        for (id, fix) in fixes {
            match fix {
                Fix::Expire => self.expire(&id, log),
                Fix::Purge => {
                    if let Some(old) = self.entries.remove(&id) {
                        self.unqueue(&old);
                    }
                    log.touch(&id);
                }
                Fix::Touched => log.touch(&id),
            }
        }
    }

    /// Requests out longer than the lease are treated as timed out.
    fn expire_leases(&mut self, now_ms: i64, rng: &mut impl Random, log: &mut ChangeLog) {
        let lease = self.config.inflight_lease_ms;
        let mut overdue = Vec::new();
        for (work_id, w) in self.works.iter_mut() {
            if w.sent_at > now_ms {
                w.sent_at = now_ms; // the clock went back; restart the lease
            }
            if now_ms.saturating_sub(w.sent_at) >= lease {
                overdue.push((*work_id, w.ids.clone()));
            }
        }
        for (work_id, ids) in overdue {
            let done = self.resolve(now_ms, work_id, &ids, None, rng, |_| {
                Outcome::Network(LEASE_EXPIRED.to_string())
            });
            for change in &done.changes {
                log.touch(change.id());
            }
        }
    }

    /// Retention ran out: a dead letter with reason `expired`, never a silent drop.
    fn expire(&mut self, id: &str, log: &mut ChangeLog) {
        let Some(snapshot) = self.entries.get(id).cloned() else {
            return;
        };
        self.unqueue(&snapshot);
        if let Some(e) = self.entries.get_mut(id) {
            e.status = CommandStatus::Dead;
            e.dead_reason = Some(EXPIRED.to_string());
            log.touch(id);
        }
    }

    /// When the adapter should next call [`Outbox::poll`] if nothing else happens first (an
    /// enqueue, a completion, `online`, `resume_auth`). `None`: nothing is scheduled. Never
    /// earlier than `now_ms`. Retention keeps running while offline or paused, so this may be
    /// `Some` even then.
    pub fn next_wake(&self, now_ms: i64) -> Option<i64> {
        let mut best: Option<i64> = None;
        let mut consider = |t: i64| best = Some(best.map_or(t, |b| b.min(t)));

        let can_send =
            self.online && !self.auth_paused && self.busy.len() < self.config.max_streams_in_flight;
        if can_send {
            for (stream, queue) in &self.queues {
                if self.busy.contains_key(stream) {
                    continue;
                }
                let head = queue.first().and_then(|(_, id)| self.entries.get(id));
                if let Some(e) = head.filter(|e| e.status == CommandStatus::Pending) {
                    consider(e.next_at);
                }
            }
        }
        let latest_next = now_ms.saturating_add(self.config.max_delay_ms);
        for e in self.entries.values() {
            if e.enqueued_at > now_ms {
                consider(now_ms); // clock repair
            }
            match e.status {
                CommandStatus::Pending => {
                    consider(e.enqueued_at.saturating_add(self.config.retention_ms));
                    if e.next_at > latest_next {
                        consider(now_ms);
                    }
                }
                CommandStatus::Delivered => {
                    let at = e.delivered_at.unwrap_or(now_ms);
                    consider(
                        at.saturating_add(self.config.keep_delivered_ms)
                            .min(if at > now_ms { now_ms } else { i64::MAX }),
                    );
                }
                CommandStatus::Inflight | CommandStatus::Dead => {}
            }
        }
        for w in self.works.values() {
            consider(
                w.sent_at
                    .min(now_ms)
                    .saturating_add(self.config.inflight_lease_ms),
            );
        }
        best.map(|t| t.max(now_ms))
    }
}
