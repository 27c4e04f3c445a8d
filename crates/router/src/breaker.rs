//! Per-region circuit breaker over real requests (probes only ever end an open period early,
//! when they see the region recover from being down).
//!
//! Closed: requests flow; it opens after N consecutive failures or when at least half of the
//! recent window failed. Open: nothing flows until the cool-down ends, or until probes see the
//! region come back from down (then it goes half-open at once: the outage the cool-down was
//! waiting out is over). Half-open: exactly one trial request; its success closes the breaker
//! and resets the cool-down, its failure reopens it with the cool-down doubled (capped).
//!
//! Every state change bumps an epoch stamped on each [`Permit`]. An outcome whose permit is
//! from an older epoch is ignored, so a slow request that started before the breaker opened
//! can neither close it nor reopen it, and a trial that was given up for lost cannot decide a
//! later half-open period.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::event::BreakerCause;

/// Breaker state as the UI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// Breaker state plus the numbers behind it, for the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakerView {
    pub state: BreakerState,
    /// When an open breaker lets a trial through.
    pub half_open_at_ms: Option<i64>,
    /// True while the one half-open trial is out.
    pub trial_in_flight: bool,
    /// Cool-down the next opening will use (or the running one uses).
    pub cool_down_ms: i64,
    pub consecutive_failures: u32,
    /// Failures among `recent_requests` (the closed-state window).
    pub recent_failures: u32,
    pub recent_requests: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    Open { until: i64 },
    HalfOpen { trial_since: Option<i64> },
}

/// Leave to send one request, from [`Breaker::try_acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    epoch: u64,
    trial: bool,
}

impl Permit {
    pub fn is_trial(self) -> bool {
        self.trial
    }
}

/// A state change for the router to turn into an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerChange {
    Opened {
        cause: BreakerCause,
        cool_down_ms: i64,
    },
    HalfOpened,
    Closed,
}

/// How a permitted request ended, for the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Success,
    Failure,
    /// Abandoned without an answer (lost hedge race, page leaving): no evidence either way.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breaker {
    phase: Phase,
    epoch: u64,
    consecutive_failures: u32,
    /// Closed-state outcomes, newest last; `true` is a failure.
    window: VecDeque<bool>,
    cool_down_ms: i64,
}

impl Breaker {
    pub fn new(cfg: &Config) -> Self {
        Self {
            phase: Phase::Closed,
            epoch: 0,
            consecutive_failures: 0,
            window: VecDeque::with_capacity(cfg.breaker_window),
            cool_down_ms: cfg.breaker_cool_down_ms,
        }
    }

    /// Applies what the passage of time changes: an open breaker whose cool-down is over
    /// becomes half-open; a trial out for too long counts as failed.
    pub fn advance(&mut self, now: i64, cfg: &Config) -> Option<BreakerChange> {
        match self.phase {
            Phase::Open { until } if now >= until => {
                self.phase = Phase::HalfOpen { trial_since: None };
                self.epoch += 1;
                Some(BreakerChange::HalfOpened)
            }
            Phase::HalfOpen {
                trial_since: Some(since),
            } if now.saturating_sub(since) >= cfg.breaker_trial_timeout_ms => {
                Some(self.reopen(now, cfg, BreakerCause::TrialLost))
            }
            _ => None,
        }
    }

    /// State as of `now`, without changing anything (an elapsed cool-down reads as half-open).
    pub fn state(&self, now: i64) -> BreakerState {
        match self.phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until } if now >= until => BreakerState::HalfOpen,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Whether [`Breaker::try_acquire`] would hand out a permit at `now`.
    pub fn would_permit(&self, now: i64) -> bool {
        match self.phase {
            Phase::Closed => true,
            Phase::Open { until } => now >= until,
            Phase::HalfOpen { trial_since } => trial_since.is_none(),
        }
    }

    /// Closed: requests flow freely and the region may carry traffic.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Leave to send one request. Call [`Breaker::advance`] first; an open breaker whose
    /// cool-down is over but was not advanced still refuses.
    pub fn try_acquire(&mut self, now: i64) -> Option<Permit> {
        match self.phase {
            Phase::Closed => Some(Permit {
                epoch: self.epoch,
                trial: false,
            }),
            Phase::HalfOpen { trial_since: None } => {
                self.phase = Phase::HalfOpen {
                    trial_since: Some(now),
                };
                Some(Permit {
                    epoch: self.epoch,
                    trial: true,
                })
            }
            Phase::Open { .. } | Phase::HalfOpen { .. } => None,
        }
    }

    /// Folds in how a permitted request ended.
    pub fn record(
        &mut self,
        permit: Permit,
        verdict: Verdict,
        now: i64,
        cfg: &Config,
    ) -> Option<BreakerChange> {
        if permit.epoch != self.epoch {
            return None;
        }
        match (self.phase, permit.trial) {
            (Phase::Closed, false) => self.record_closed(verdict, now, cfg),
            (
                Phase::HalfOpen {
                    trial_since: Some(_),
                },
                true,
            ) => match verdict {
                Verdict::Cancelled => {
                    self.phase = Phase::HalfOpen { trial_since: None };
                    None
                }
                Verdict::Success => {
                    self.phase = Phase::Closed;
                    self.epoch += 1;
                    self.consecutive_failures = 0;
                    self.window.clear();
                    self.cool_down_ms = cfg.breaker_cool_down_ms;
                    Some(BreakerChange::Closed)
                }
                Verdict::Failure => Some(self.reopen(now, cfg, BreakerCause::TrialFailed)),
            },
            _ => None,
        }
    }

    fn record_closed(&mut self, verdict: Verdict, now: i64, cfg: &Config) -> Option<BreakerChange> {
        let failed = match verdict {
            Verdict::Cancelled => return None,
            Verdict::Success => false,
            Verdict::Failure => true,
        };
        if self.window.len() >= cfg.breaker_window {
            self.window.pop_front();
        }
        self.window.push_back(failed);
        if !failed {
            self.consecutive_failures = 0;
            return None;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let cause = if self.consecutive_failures >= cfg.breaker_consecutive_failures {
            BreakerCause::ConsecutiveFailures
        } else if self.window.len() >= cfg.breaker_min_samples
            && self.failures_in_window() as f64
                >= cfg.breaker_failure_ratio * self.window.len() as f64
        {
            BreakerCause::FailureRate
        } else {
            return None;
        };
        self.phase = Phase::Open {
            until: now.saturating_add(self.cool_down_ms),
        };
        self.epoch += 1;
        Some(BreakerChange::Opened {
            cause,
            cool_down_ms: self.cool_down_ms,
        })
    }

    /// Probes confirmed that the region came back from being down: an open breaker lets its
    /// trial through now instead of at the end of the cool-down (as Envoy un-ejects a host on
    /// a passing active health check). The cool-down is kept, so a failed trial still doubles
    /// it; a breaker opened by request failures while probes stayed fine never sees this.
    pub fn on_recovered(&mut self) -> Option<BreakerChange> {
        match self.phase {
            Phase::Open { .. } => {
                self.phase = Phase::HalfOpen { trial_since: None };
                self.epoch += 1;
                Some(BreakerChange::HalfOpened)
            }
            _ => None,
        }
    }

    fn reopen(&mut self, now: i64, cfg: &Config, cause: BreakerCause) -> BreakerChange {
        self.cool_down_ms = self
            .cool_down_ms
            .saturating_mul(2)
            .min(cfg.breaker_cool_down_max_ms);
        self.phase = Phase::Open {
            until: now.saturating_add(self.cool_down_ms),
        };
        self.epoch += 1;
        BreakerChange::Opened {
            cause,
            cool_down_ms: self.cool_down_ms,
        }
    }

    fn failures_in_window(&self) -> usize {
        self.window.iter().filter(|failed| **failed).count()
    }

    /// Next moment time alone changes this breaker (cool-down end, trial deadline).
    pub fn next_deadline(&self, cfg: &Config) -> Option<i64> {
        match self.phase {
            Phase::Closed | Phase::HalfOpen { trial_since: None } => None,
            Phase::Open { until } => Some(until),
            Phase::HalfOpen {
                trial_since: Some(since),
            } => Some(since.saturating_add(cfg.breaker_trial_timeout_ms)),
        }
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    pub fn view(&self, now: i64) -> BreakerView {
        let (half_open_at_ms, trial_in_flight) = match self.phase {
            Phase::Open { until } if now < until => (Some(until), false),
            Phase::HalfOpen { trial_since } => (None, trial_since.is_some()),
            _ => (None, false),
        };
        BreakerView {
            state: self.state(now),
            half_open_at_ms,
            trial_in_flight,
            cool_down_ms: self.cool_down_ms,
            consecutive_failures: self.consecutive_failures,
            recent_failures: self.failures_in_window() as u32,
            recent_requests: self.window.len() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::default()
    }

    /// Sends one request at `now` and reports `verdict`; returns any change.
    fn hit(b: &mut Breaker, now: i64, verdict: Verdict) -> Option<BreakerChange> {
        let c = cfg();
        b.advance(now, &c);
        let permit = b.try_acquire(now).expect("permitted");
        b.record(permit, verdict, now, &c)
    }

    fn opened(cause: BreakerCause, cool_down_ms: i64) -> Option<BreakerChange> {
        Some(BreakerChange::Opened {
            cause,
            cool_down_ms,
        })
    }

    #[test]
    fn a_confirmed_recovery_half_opens_an_open_breaker_and_keeps_the_cool_down() {
        let c = cfg();
        let mut b = Breaker::new(&c);
        for t in 0..5 {
            hit(&mut b, t, Verdict::Failure);
        }
        assert_eq!(b.state(10), BreakerState::Open);
        assert_eq!(b.on_recovered(), Some(BreakerChange::HalfOpened));
        assert_eq!(b.state(10), BreakerState::HalfOpen);
        let trial = b.try_acquire(10).expect("the trial goes now");
        assert!(trial.is_trial());
        assert_eq!(b.on_recovered(), None, "only an open breaker moves");
        assert_eq!(
            b.record(trial, Verdict::Failure, 20, &c),
            opened(BreakerCause::TrialFailed, 60_000),
            "a failed trial doubles the cool-down as before"
        );
        let mut closed = Breaker::new(&c);
        assert_eq!(closed.on_recovered(), None);
    }

    #[test]
    fn opens_after_five_consecutive_failures() {
        let mut b = Breaker::new(&cfg());
        for t in 0..4 {
            assert_eq!(hit(&mut b, t, Verdict::Failure), None);
        }
        assert_eq!(
            hit(&mut b, 4, Verdict::Failure),
            opened(BreakerCause::ConsecutiveFailures, 30_000)
        );
        assert_eq!(b.state(5), BreakerState::Open);
        assert!(b.try_acquire(5).is_none());
    }

    #[test]
    fn a_success_resets_the_consecutive_count() {
        let mut b = Breaker::new(&cfg());
        for t in 0..4 {
            assert_eq!(hit(&mut b, t, Verdict::Failure), None);
        }
        assert_eq!(hit(&mut b, 4, Verdict::Success), None);
        for t in 5..9 {
            assert_eq!(hit(&mut b, t, Verdict::Failure), None);
        }
        // 8 of 9 failed, but 9 samples are below the minimum for the rate rule.
        assert_eq!(b.state(9), BreakerState::Closed);
        assert_eq!(b.consecutive_failures(), 4);
    }

    #[test]
    fn opens_on_half_failures_once_the_minimum_sample_is_reached() {
        let mut b = Breaker::new(&cfg());
        // S F S F S F S F S: never two failures in a row, 4 of 9 failed.
        for i in 0..9 {
            let verdict = if i % 2 == 1 {
                Verdict::Failure
            } else {
                Verdict::Success
            };
            assert_eq!(hit(&mut b, i, verdict), None);
        }
        assert_eq!(
            hit(&mut b, 9, Verdict::Failure),
            opened(BreakerCause::FailureRate, 30_000),
            "5 failures among 10"
        );
    }

    #[test]
    fn forty_percent_failures_keep_it_closed() {
        let mut b = Breaker::new(&cfg());
        for i in 0..100 {
            let verdict = if i % 5 >= 3 {
                Verdict::Failure
            } else {
                Verdict::Success
            };
            assert_eq!(hit(&mut b, i, verdict), None, "at {i}");
        }
    }

    #[test]
    fn half_open_allows_exactly_one_trial_and_success_closes() {
        let c = cfg();
        let mut b = Breaker::new(&c);
        for t in 0..5 {
            hit(&mut b, t, Verdict::Failure);
        }
        assert_eq!(b.advance(30_003, &c), None, "cool-down not over");
        assert_eq!(b.advance(30_004, &c), Some(BreakerChange::HalfOpened));
        let trial = b.try_acquire(30_004).expect("one trial");
        assert!(trial.is_trial());
        assert!(
            b.try_acquire(30_005).is_none(),
            "second concurrent trial refused"
        );
        assert!(!b.would_permit(30_005));
        assert_eq!(
            b.record(trial, Verdict::Success, 30_100, &c),
            Some(BreakerChange::Closed)
        );
        assert_eq!(b.state(30_100), BreakerState::Closed);
        assert_eq!(b.view(30_100).cool_down_ms, 30_000);
    }

    #[test]
    fn failed_trials_double_the_cool_down_up_to_five_minutes() {
        let c = cfg();
        let mut b = Breaker::new(&c);
        for t in 0..5 {
            hit(&mut b, t, Verdict::Failure);
        }
        let mut seen = vec![];
        for _ in 0..6 {
            let now = b.next_deadline(&c).expect("open");
            assert_eq!(b.advance(now, &c), Some(BreakerChange::HalfOpened));
            let trial = b.try_acquire(now).expect("trial");
            match b.record(trial, Verdict::Failure, now, &c) {
                Some(BreakerChange::Opened {
                    cause: BreakerCause::TrialFailed,
                    cool_down_ms,
                }) => seen.push(cool_down_ms),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(seen, [60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
        // A success after all that resets the cool-down to the base.
        let now = b.next_deadline(&c).unwrap();
        b.advance(now, &c);
        let trial = b.try_acquire(now).unwrap();
        b.record(trial, Verdict::Success, now, &c);
        for t in 1..=5 {
            hit(&mut b, now + t, Verdict::Failure);
        }
        assert_eq!(b.view(now + 5).cool_down_ms, 30_000);
        assert_eq!(b.view(now + 5).half_open_at_ms, Some(now + 5 + 30_000));
    }

    #[test]
    fn cancelled_trial_frees_the_slot_without_deciding() {
        let c = cfg();
        let mut b = Breaker::new(&c);
        for t in 0..5 {
            hit(&mut b, t, Verdict::Failure);
        }
        b.advance(40_000, &c);
        let trial = b.try_acquire(40_000).unwrap();
        assert_eq!(b.record(trial, Verdict::Cancelled, 40_001, &c), None);
        assert_eq!(b.state(40_001), BreakerState::HalfOpen);
        assert!(b.try_acquire(40_002).is_some());
    }

    #[test]
    fn lost_trial_counts_as_failed_after_its_deadline() {
        let c = cfg();
        let mut b = Breaker::new(&c);
        for t in 0..5 {
            hit(&mut b, t, Verdict::Failure);
        }
        b.advance(40_000, &c);
        let trial = b.try_acquire(40_000).unwrap();
        assert_eq!(b.advance(99_999, &c), None);
        assert_eq!(
            b.advance(100_000, &c),
            Some(BreakerChange::Opened {
                cause: BreakerCause::TrialLost,
                cool_down_ms: 60_000
            })
        );
        // The late answer belongs to an old epoch and changes nothing.
        assert_eq!(b.record(trial, Verdict::Success, 100_001, &c), None);
        assert_eq!(b.state(100_001), BreakerState::Open);
    }

    #[test]
    fn outcomes_from_before_the_opening_are_ignored() {
        let c = cfg();
        let mut b = Breaker::new(&c);
        let slow = b.try_acquire(0).unwrap();
        for t in 1..=5 {
            hit(&mut b, t, Verdict::Failure);
        }
        assert_eq!(b.record(slow, Verdict::Failure, 6, &c), None);
        assert_eq!(b.view(6).cool_down_ms, 30_000, "no extra doubling");
        b.advance(40_000, &c);
        assert_eq!(b.record(slow, Verdict::Success, 40_000, &c), None);
        assert_eq!(
            b.state(40_000),
            BreakerState::HalfOpen,
            "old success cannot close"
        );
    }
}
