//! A region's health as seen through `/health` probes, with hysteresis.
//!
//! Health is driven by probes only, plus one shortcut: a refused connection from a real
//! request takes the region down at once. Request successes never bring a region up: with
//! the kill switch on, `/health` says 503 while commands still succeed, and letting those
//! successes count would flip the region up and down on every probe.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::event::{DegradedCause, DownCause};

/// What the status bar shows for a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Not probed successfully yet, nor failed enough to be down.
    Unknown,
    Up,
    /// Usable, but a probe failed or the region reported itself degraded: probed more often.
    Degraded,
    Down,
}

impl Health {
    /// Up or degraded: may carry traffic.
    pub fn is_usable(self) -> bool {
        matches!(self, Self::Up | Self::Degraded)
    }
}

/// Why a probe failed, as far as health is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeFailure {
    /// Timeout, 5xx, unexpected status: one strike.
    Plain,
    /// The region said `unhealthy`: its kill switch.
    Unhealthy,
    /// Network error that confirms an earlier request network error.
    ConfirmedUnreachable,
}

/// A health transition for the router to turn into an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthChange {
    Up,
    Degraded(DegradedCause),
    Down(DownCause),
}

/// Streak counters and the current health of one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthTracker {
    health: Health,
    /// Why the region is down, while it is.
    down_cause: Option<DownCause>,
    failures_in_a_row: u32,
    successes_in_a_row: u32,
}

impl Default for HealthTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthTracker {
    pub fn new() -> Self {
        Self {
            health: Health::Unknown,
            down_cause: None,
            failures_in_a_row: 0,
            successes_in_a_row: 0,
        }
    }

    pub fn health(&self) -> Health {
        self.health
    }

    /// Why the region went down; `None` unless it is down.
    pub fn down_cause(&self) -> Option<DownCause> {
        self.down_cause
    }

    /// Consecutive failed probes (0 after any success).
    pub fn failures_in_a_row(&self) -> u32 {
        self.failures_in_a_row
    }

    /// A probe answered 2xx; `reported_degraded` when the body said `degraded`.
    pub fn on_probe_success(
        &mut self,
        reported_degraded: bool,
        cfg: &Config,
    ) -> Option<HealthChange> {
        self.failures_in_a_row = 0;
        self.successes_in_a_row = self.successes_in_a_row.saturating_add(1);
        let usable = if reported_degraded {
            Health::Degraded
        } else {
            Health::Up
        };
        let next = match self.health {
            Health::Unknown if self.successes_in_a_row >= cfg.first_up_after_successes => usable,
            Health::Down if self.successes_in_a_row >= cfg.up_after_successes => usable,
            Health::Up | Health::Degraded => usable,
            unchanged => unchanged,
        };
        self.enter(next, DegradedCause::Reported, DownCause::ProbeFailures)
    }

    /// A probe failed (timeout, network error, non-2xx, `unhealthy`).
    pub fn on_probe_failure(
        &mut self,
        failure: ProbeFailure,
        cfg: &Config,
    ) -> Option<HealthChange> {
        self.successes_in_a_row = 0;
        self.failures_in_a_row = self.failures_in_a_row.saturating_add(1);
        let (next, cause) = match failure {
            ProbeFailure::Unhealthy if cfg.down_on_unhealthy_report => {
                (Health::Down, DownCause::Unhealthy)
            }
            ProbeFailure::ConfirmedUnreachable => (Health::Down, DownCause::Unreachable),
            _ if self.failures_in_a_row >= cfg.down_after_probe_failures => {
                (Health::Down, DownCause::ProbeFailures)
            }
            _ => match self.health {
                Health::Up | Health::Degraded => (Health::Degraded, DownCause::ProbeFailures),
                unchanged => (unchanged, DownCause::ProbeFailures),
            },
        };
        self.enter(next, DegradedCause::ProbeFailed, cause)
    }

    /// A real request's connection was refused: proof enough, no need to wait for probes.
    pub fn on_refused(&mut self) -> Option<HealthChange> {
        self.successes_in_a_row = 0;
        self.enter(Health::Down, DegradedCause::ProbeFailed, DownCause::Refused)
    }

    fn enter(
        &mut self,
        next: Health,
        degraded: DegradedCause,
        down: DownCause,
    ) -> Option<HealthChange> {
        if next == self.health {
            return None;
        }
        let change = match next {
            Health::Up => HealthChange::Up,
            Health::Degraded => HealthChange::Degraded(degraded),
            Health::Down => HealthChange::Down(down),
            // Nothing leads back to unknown; refuse rather than report a made-up change.
            Health::Unknown => return None,
        };
        self.health = next;
        self.down_cause = match change {
            HealthChange::Down(cause) => Some(cause),
            _ => None,
        };
        Some(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::default()
    }

    fn up(t: &mut HealthTracker) {
        t.on_probe_success(false, &cfg());
        assert_eq!(t.health(), Health::Up);
    }

    #[test]
    fn unknown_is_up_after_the_first_success() {
        let mut t = HealthTracker::new();
        assert_eq!(t.on_probe_success(false, &cfg()), Some(HealthChange::Up));
    }

    #[test]
    fn one_and_two_failures_degrade_three_take_down() {
        let mut t = HealthTracker::new();
        up(&mut t);
        let c = cfg();
        assert_eq!(
            t.on_probe_failure(ProbeFailure::Plain, &c),
            Some(HealthChange::Degraded(DegradedCause::ProbeFailed))
        );
        assert_eq!(t.on_probe_failure(ProbeFailure::Plain, &c), None);
        assert_eq!(t.health(), Health::Degraded);
        assert_eq!(
            t.on_probe_failure(ProbeFailure::Plain, &c),
            Some(HealthChange::Down(DownCause::ProbeFailures))
        );
        assert_eq!(t.failures_in_a_row(), 3);
    }

    #[test]
    fn a_success_between_failures_resets_the_count() {
        let mut t = HealthTracker::new();
        up(&mut t);
        let c = cfg();
        t.on_probe_failure(ProbeFailure::Plain, &c);
        t.on_probe_failure(ProbeFailure::Plain, &c);
        assert_eq!(t.on_probe_success(false, &c), Some(HealthChange::Up));
        t.on_probe_failure(ProbeFailure::Plain, &c);
        t.on_probe_failure(ProbeFailure::Plain, &c);
        assert_eq!(t.health(), Health::Degraded);
    }

    #[test]
    fn down_needs_two_successes_in_a_row_to_come_back() {
        let mut t = HealthTracker::new();
        up(&mut t);
        let c = cfg();
        t.on_refused();
        assert_eq!(t.health(), Health::Down);
        assert_eq!(t.on_probe_success(false, &c), None);
        t.on_probe_failure(ProbeFailure::Plain, &c);
        assert_eq!(t.on_probe_success(false, &c), None, "streak restarted");
        assert_eq!(t.on_probe_success(false, &c), Some(HealthChange::Up));
    }

    #[test]
    fn unknown_region_goes_down_after_three_failures() {
        let mut t = HealthTracker::new();
        let c = cfg();
        assert_eq!(t.on_probe_failure(ProbeFailure::Plain, &c), None);
        assert_eq!(t.on_probe_failure(ProbeFailure::Plain, &c), None);
        assert_eq!(t.health(), Health::Unknown);
        assert_eq!(
            t.on_probe_failure(ProbeFailure::Plain, &c),
            Some(HealthChange::Down(DownCause::ProbeFailures))
        );
    }

    #[test]
    fn kill_switch_takes_down_at_once_unless_configured_off() {
        let mut t = HealthTracker::new();
        up(&mut t);
        assert_eq!(
            t.on_probe_failure(ProbeFailure::Unhealthy, &cfg()),
            Some(HealthChange::Down(DownCause::Unhealthy))
        );
        let lenient = Config {
            down_on_unhealthy_report: false,
            ..cfg()
        };
        let mut t = HealthTracker::new();
        up(&mut t);
        assert_eq!(
            t.on_probe_failure(ProbeFailure::Unhealthy, &lenient),
            Some(HealthChange::Degraded(DegradedCause::ProbeFailed))
        );
    }

    #[test]
    fn reported_degraded_is_usable_and_clears_on_ok() {
        let mut t = HealthTracker::new();
        let c = cfg();
        assert_eq!(
            t.on_probe_success(true, &c),
            Some(HealthChange::Degraded(DegradedCause::Reported))
        );
        assert!(t.health().is_usable());
        assert_eq!(t.on_probe_success(false, &c), Some(HealthChange::Up));
    }

    #[test]
    fn confirmed_unreachable_is_down_at_once() {
        let mut t = HealthTracker::new();
        up(&mut t);
        assert_eq!(
            t.on_probe_failure(ProbeFailure::ConfirmedUnreachable, &cfg()),
            Some(HealthChange::Down(DownCause::Unreachable))
        );
    }
}
