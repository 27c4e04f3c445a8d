//! What a result does to the commands of a request (DESIGN §3.4).
//!
//! Only an acknowledgement ever makes a command delivered. An acknowledgement is a fact about
//! the server, so it is recorded even when it arrives late (after a timeout, from a hedge,
//! after the entry was resent or declared dead). Any other late answer is ignored: the entry
//! has moved on and its current request will answer for it.

use super::Outbox;
use crate::backoff::full_jitter_ms;
use crate::changes::ChangeLog;
use crate::classify::{Class, Outcome};
use crate::entry::Change;
use crate::random::{clamp_unit, Random};
use crate::retry_after::parse_retry_after;
use mfe_contract::CommandStatus;

/// What a completion changed and what the caller should do about the region.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    /// Write these in one transaction.
    pub changes: Vec<Change>,
    /// The region (or the path to it) looks unwell: send the next attempt elsewhere.
    pub failover: bool,
    /// A 401 paused delivery; call [`Outbox::resume_auth`] once the host has a fresh token.
    pub auth_paused: bool,
}

const MISSING_ITEM: &str = "the batch answer had no result for this command";

impl Outbox {
    /// The whole request had one outcome: a network error, a timeout, or one HTTP answer for a
    /// single command or for the batch as a whole.
    pub fn complete(
        &mut self,
        now_ms: i64,
        work: &super::Work,
        region: &str,
        outcome: &Outcome,
        rng: &mut impl Random,
    ) -> Completion {
        if work.commands.len() > 1 && outcome.is_too_large() {
            return self.split_batch(now_ms, work, region, outcome);
        }
        let ids: Vec<String> = work.ids().map(str::to_string).collect();
        self.resolve(now_ms, work.id, &ids, Some(region), rng, |_| {
            outcome.clone()
        })
    }

    /// A region refused a whole batch as too large (413 for the request, not for one of its
    /// commands): none of the commands was refused, the request was. They go out again at once
    /// in requests at most half as big, and no later request is bigger; at one command a 413
    /// is about that command and makes it a dead letter as usual. Neither a failure of the
    /// region (no backoff, no failover, no retry budget spent) nor an attempt of the commands.
    fn split_batch(
        &mut self,
        now_ms: i64,
        work: &super::Work,
        region: &str,
        outcome: &Outcome,
    ) -> Completion {
        self.batch_limit = (work.commands.len() / 2).clamp(1, self.batch_limit);
        self.works.remove(&work.id);
        if self.probe == Some(work.id) {
            self.probe = None;
        }
        let why = format!(
            "{}; sent again in batches of at most {}",
            outcome.describe(),
            self.batch_limit
        );
        let mut log = ChangeLog::default();
        for id in work.ids() {
            if self.work_of.get(id) != Some(&work.id) {
                continue; // a late answer: the command has moved on
            }
            let Some(stream) = self.entries.get(id).map(|e| e.command.stream.clone()) else {
                continue;
            };
            self.leave_inflight(id, &stream);
            if let Some(e) = self.entries.get_mut(id) {
                e.status = CommandStatus::Pending;
                e.next_at = now_ms;
                e.attempts = e.attempts.saturating_sub(1);
                e.last_error = Some(why.clone());
                e.region = Some(region.to_string());
                log.touch(id);
            }
        }
        Completion {
            changes: log.finish(&self.entries),
            failover: false,
            auth_paused: false,
        }
    }

    /// A batch answer with one outcome per command (e.g. built with
    /// [`Outcome::from_batch_item`]). A command the answer does not mention is retried as if
    /// the network had failed: never assume it arrived.
    pub fn complete_items(
        &mut self,
        now_ms: i64,
        work: &super::Work,
        region: &str,
        items: &[(String, Outcome)],
        rng: &mut impl Random,
    ) -> Completion {
        let ids: Vec<String> = work.ids().map(str::to_string).collect();
        self.resolve(now_ms, work.id, &ids, Some(region), rng, |id| {
            items
                .iter()
                .find(|(item_id, _)| item_id == id)
                .map(|(_, o)| o.clone())
                .unwrap_or_else(|| Outcome::Network(MISSING_ITEM.to_string()))
        })
    }

    pub(super) fn resolve(
        &mut self,
        now_ms: i64,
        work_id: u64,
        ids: &[String],
        region: Option<&str>,
        rng: &mut impl Random,
        outcome_of: impl Fn(&str) -> Outcome,
    ) -> Completion {
        self.works.remove(&work_id);
        if self.probe == Some(work_id) {
            self.probe = None;
        }
        let mut log = ChangeLog::default();
        let mut any_current = false;
        let mut any_backoff = false;
        let mut any_delivered = false;
        let mut any_auth = false;
        for id in ids {
            let outcome = outcome_of(id);
            let class = outcome.class();
            let Some((status, attempts)) = self.entries.get(id).map(|e| (e.status, e.attempts))
            else {
                continue; // discarded meanwhile
            };
            let current = self.work_of.get(id) == Some(&work_id);
            if !current {
                if class == Class::Delivered && status != CommandStatus::Delivered {
                    self.mark_delivered(id, now_ms, region, &mut log);
                }
                continue;
            }
            any_current = true;
            match class {
                Class::Delivered => {
                    any_delivered = true;
                    self.mark_delivered(id, now_ms, region, &mut log);
                }
                Class::Dead => self.mark_dead(id, outcome.describe(), region, &mut log),
                Class::AuthPause => {
                    any_auth = true;
                    self.auth_paused = true;
                    self.retry_at(id, now_ms, 0, &outcome, region, &mut log);
                }
                Class::RetrySoon => {
                    let base = self.config.conflict_delay_ms as f64;
                    let delay = (base * (0.5 + clamp_unit(rng.unit()))) as i64;
                    self.retry_at(id, now_ms, delay, &outcome, region, &mut log);
                }
                Class::RetryBackoff => {
                    any_backoff = true;
                    let delay = if self.online {
                        let c = &self.config;
                        full_jitter_ms(attempts, c.backoff_base_ms, c.backoff_cap_ms, rng.unit())
                    } else {
                        0 // waits for `online` anyway
                    };
                    self.retry_at(id, now_ms, delay, &outcome, region, &mut log);
                }
            }
        }
        if any_current && self.online {
            // One request, one verdict: a batch counts once, like any other request.
            if any_backoff {
                self.budget.on_failure();
            } else if any_delivered {
                self.budget.on_success();
            }
        }
        Completion {
            changes: log.finish(&self.entries),
            failover: any_backoff,
            auth_paused: any_auth,
        }
    }

    fn mark_delivered(&mut self, id: &str, now_ms: i64, region: Option<&str>, log: &mut ChangeLog) {
        let Some(snapshot) = self.entries.get(id).cloned() else {
            return;
        };
        self.unqueue(&snapshot);
        if let Some(e) = self.entries.get_mut(id) {
            e.status = CommandStatus::Delivered;
            e.delivered_at = Some(now_ms);
            e.dead_reason = None;
            e.last_error = None;
            if let Some(r) = region {
                e.region = Some(r.to_string());
            }
            log.touch(id);
        }
    }

    fn mark_dead(&mut self, id: &str, reason: String, region: Option<&str>, log: &mut ChangeLog) {
        let Some(snapshot) = self.entries.get(id).cloned() else {
            return;
        };
        self.unqueue(&snapshot);
        if let Some(e) = self.entries.get_mut(id) {
            e.status = CommandStatus::Dead;
            e.last_error = Some(reason.clone());
            e.dead_reason = Some(reason);
            if let Some(r) = region {
                e.region = Some(r.to_string());
            }
            log.touch(id);
        }
    }

    /// Back to pending, due after `delay_ms` but never before the server's `Retry-After`
    /// (itself capped at `max_delay_ms`).
    fn retry_at(
        &mut self,
        id: &str,
        now_ms: i64,
        delay_ms: i64,
        outcome: &Outcome,
        region: Option<&str>,
        log: &mut ChangeLog,
    ) {
        let stream = match self.entries.get(id) {
            Some(e) => e.command.stream.clone(),
            None => return,
        };
        self.leave_inflight(id, &stream);
        let ceiling = now_ms.saturating_add(self.config.max_delay_ms);
        let mut next_at = now_ms.saturating_add(delay_ms.max(0)).min(ceiling);
        if let Some(floor) = outcome
            .retry_after()
            .and_then(|v| parse_retry_after(v, now_ms))
        {
            next_at = next_at.max(floor.min(ceiling));
        }
        if let Some(e) = self.entries.get_mut(id) {
            e.status = CommandStatus::Pending;
            e.next_at = next_at;
            e.last_error = Some(outcome.describe());
            if let Some(r) = region {
                e.region = Some(r.to_string());
            }
            log.touch(id);
        }
    }
}
