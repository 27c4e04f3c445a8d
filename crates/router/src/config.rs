//! Tuning knobs of the router. The defaults are the numbers of DESIGN §3.6; every one can be
//! changed so tests, the simulator and real deployments can use their own time scales.

use serde::{Deserialize, Serialize};

/// The longest period, wait or timeout a configuration may set: a day. A browser timer cannot
/// wait past 2^31 − 1 ms (it fires at once instead), and a period is added to clock readings,
/// which must not overflow.
pub const MAX_WAIT_MS: i64 = 86_400_000;

/// Router configuration. All durations are milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Probe period of a region that is up, with a closed breaker and no recent request failure.
    pub probe_interval_healthy_ms: i64,
    /// Probe period of every other region (degraded, down, unknown, breaker not closed): a
    /// suspect region is looked at often so it is confirmed down, or back, quickly.
    pub probe_interval_unhealthy_ms: i64,
    /// How long the adapter waits for `/health` before it reports [`crate::ProbeResult::Timeout`].
    /// The core never measures time itself; it only hands this number out.
    pub probe_timeout_ms: i64,
    /// Shortest gap between two probes of one region, even when failing requests ask for an
    /// early probe: a burst of failures must not turn into a burst of probes.
    pub probe_min_gap_ms: i64,
    /// Weight of a new sample in the RTT average (0 < α ≤ 1).
    pub ewma_alpha: f64,
    /// Latency assumed for a region that was never measured: high enough that any measured
    /// region is preferred, low enough to stay comparable.
    pub unmeasured_rtt_ms: f64,
    /// Consecutive failed probes that take a region down.
    pub down_after_probe_failures: u32,
    /// Consecutive successful probes that bring a down region back up (hysteresis).
    pub up_after_successes: u32,
    /// Successful probes that make a never-seen region usable. It has no history to be
    /// hysteretic about, and waiting for a second probe would delay the first choice by a
    /// whole degraded probe period.
    pub first_up_after_successes: u32,
    /// A `/health` body that says `unhealthy` is the region's own kill switch: take it down at
    /// once instead of counting it as one failure among three.
    pub down_on_unhealthy_report: bool,
    /// A network error on a real request, confirmed by an unreachable probe within this many
    /// ms, takes the region down at once (a browser cannot tell "refused" from other network
    /// errors, so one failure alone is not proof).
    pub unreachable_confirm_ms: i64,
    /// How much faster (as a fraction, 0.2 = 20 %) another region must be before traffic moves
    /// to it while the current region is fine.
    pub switch_faster_fraction: f64,
    /// And by at least this many ms: on loopback or in one metro, a few ms of jitter are
    /// already 20 % and would make traffic wander for no gain.
    pub switch_min_gain_ms: f64,
    /// Consecutive probe rounds the challenger must be faster in before traffic moves.
    pub switch_rounds: u32,
    /// Consecutive request failures that open a region's breaker.
    pub breaker_consecutive_failures: u32,
    /// Number of recent requests the failure rate is computed over.
    pub breaker_window: usize,
    /// Failure fraction over the window that opens the breaker.
    pub breaker_failure_ratio: f64,
    /// Requests needed in the window before the failure rate counts (two failures out of two
    /// requests is not a rate).
    pub breaker_min_samples: usize,
    /// First cool-down of an opened breaker.
    pub breaker_cool_down_ms: i64,
    /// Cool-down cap: each failed trial doubles the cool-down up to this.
    pub breaker_cool_down_max_ms: i64,
    /// A half-open trial not reported within this time counts as failed, so a lost ticket can
    /// never wedge the breaker.
    pub breaker_trial_timeout_ms: i64,
    /// Recent successful request RTTs kept per region for the hedge delay.
    pub latency_window: usize,
    /// Samples needed before the p95 is trusted for the hedge delay.
    pub hedge_min_samples: usize,
    /// Lower bound of the hedge delay: hedging sooner mostly doubles load.
    pub hedge_min_ms: i64,
    /// Upper bound of the hedge delay: a black-holed region must cost at most this much.
    pub hedge_max_ms: i64,
    /// Before enough request samples exist, hedge after this multiple of the probe EWMA (a
    /// command costs more than `/health`).
    pub hedge_probe_factor: f64,
    /// How long after a failure-driven change the snapshot says "failing over".
    pub failover_notice_ms: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            probe_interval_healthy_ms: 30_000,
            probe_interval_unhealthy_ms: 5_000,
            probe_timeout_ms: 2_000,
            probe_min_gap_ms: 1_000,
            ewma_alpha: 0.3,
            unmeasured_rtt_ms: 1_000.0,
            down_after_probe_failures: 3,
            up_after_successes: 2,
            first_up_after_successes: 1,
            down_on_unhealthy_report: true,
            unreachable_confirm_ms: 7_000,
            switch_faster_fraction: 0.2,
            switch_min_gain_ms: 10.0,
            switch_rounds: 2,
            breaker_consecutive_failures: 5,
            breaker_window: 20,
            breaker_failure_ratio: 0.5,
            breaker_min_samples: 10,
            breaker_cool_down_ms: 30_000,
            breaker_cool_down_max_ms: 300_000,
            breaker_trial_timeout_ms: 60_000,
            latency_window: 32,
            hedge_min_samples: 8,
            hedge_min_ms: 100,
            hedge_max_ms: 2_000,
            hedge_probe_factor: 3.0,
            failover_notice_ms: 10_000,
        }
    }
}

impl Config {
    /// The same configuration with every value forced into a range the router can work with
    /// (no zero periods, no empty windows, α in (0, 1], bounds in order, no time longer than
    /// [`MAX_WAIT_MS`]), so a bad configuration degrades behaviour instead of dividing by zero,
    /// looping, overflowing or ending every wait at once.
    pub fn sanitized(mut self) -> Self {
        let d = Config::default();
        let ms = |value: i64, lo: i64| value.clamp(lo, MAX_WAIT_MS);
        self.probe_interval_healthy_ms = ms(self.probe_interval_healthy_ms, 1);
        self.probe_interval_unhealthy_ms = ms(self.probe_interval_unhealthy_ms, 1);
        self.probe_timeout_ms = ms(self.probe_timeout_ms, 1);
        self.probe_min_gap_ms = ms(self.probe_min_gap_ms, 0);
        self.ewma_alpha = finite_in(self.ewma_alpha, f64::MIN_POSITIVE, 1.0, d.ewma_alpha);
        self.unmeasured_rtt_ms = finite_in(self.unmeasured_rtt_ms, 0.0, 1e9, d.unmeasured_rtt_ms);
        self.down_after_probe_failures = self.down_after_probe_failures.max(1);
        self.up_after_successes = self.up_after_successes.max(1);
        self.first_up_after_successes = self.first_up_after_successes.max(1);
        self.unreachable_confirm_ms = ms(self.unreachable_confirm_ms, 0);
        self.switch_faster_fraction = finite_in(
            self.switch_faster_fraction,
            0.0,
            0.99,
            d.switch_faster_fraction,
        );
        self.switch_min_gain_ms = finite_in(self.switch_min_gain_ms, 0.0, 1e9, 0.0);
        self.switch_rounds = self.switch_rounds.max(1);
        self.breaker_consecutive_failures = self.breaker_consecutive_failures.max(1);
        self.breaker_window = self.breaker_window.clamp(1, 10_000);
        self.breaker_failure_ratio = finite_in(
            self.breaker_failure_ratio,
            f64::MIN_POSITIVE,
            1.0,
            d.breaker_failure_ratio,
        );
        self.breaker_min_samples = self.breaker_min_samples.clamp(1, self.breaker_window);
        self.breaker_cool_down_ms = ms(self.breaker_cool_down_ms, 1);
        self.breaker_cool_down_max_ms =
            ms(self.breaker_cool_down_max_ms, self.breaker_cool_down_ms);
        self.breaker_trial_timeout_ms = ms(self.breaker_trial_timeout_ms, 1);
        self.latency_window = self.latency_window.clamp(1, 10_000);
        self.hedge_min_samples = self.hedge_min_samples.clamp(1, self.latency_window);
        self.hedge_min_ms = ms(self.hedge_min_ms, 0);
        self.hedge_max_ms = ms(self.hedge_max_ms, self.hedge_min_ms);
        self.hedge_probe_factor =
            finite_in(self.hedge_probe_factor, 0.0, 1e3, d.hedge_probe_factor);
        self.failover_notice_ms = ms(self.failover_notice_ms, 0);
        self
    }

    /// Probe deadline the adapter applies with an `AbortSignal`.
    pub fn probe_timeout_ms(&self) -> i64 {
        self.probe_timeout_ms
    }
}

fn finite_in(value: f64, lo: f64, hi: f64, fallback: f64) -> f64 {
    if value.is_finite() {
        value.clamp(lo, hi)
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_design_numbers() {
        let c = Config::default();
        assert_eq!(c.probe_interval_healthy_ms, 30_000);
        assert_eq!(c.probe_interval_unhealthy_ms, 5_000);
        assert_eq!(c.probe_timeout_ms(), 2_000);
        assert_eq!(c.ewma_alpha, 0.3);
        assert_eq!(c.unmeasured_rtt_ms, 1_000.0);
        assert_eq!(c.down_after_probe_failures, 3);
        assert_eq!(c.up_after_successes, 2);
        assert_eq!(c.switch_faster_fraction, 0.2);
        assert_eq!(c.switch_rounds, 2);
        assert_eq!(c.breaker_consecutive_failures, 5);
        assert_eq!(c.breaker_window, 20);
        assert_eq!(c.breaker_failure_ratio, 0.5);
        assert_eq!(c.breaker_cool_down_ms, 30_000);
        assert_eq!(c.breaker_cool_down_max_ms, 300_000);
        assert_eq!((c.hedge_min_ms, c.hedge_max_ms), (100, 2_000));
        assert_eq!(c.clone().sanitized(), c, "defaults are already sane");
    }

    #[test]
    fn sanitized_repairs_nonsense() {
        let c = Config {
            probe_interval_healthy_ms: 0,
            ewma_alpha: f64::NAN,
            breaker_window: 0,
            breaker_min_samples: 50,
            hedge_min_ms: 500,
            hedge_max_ms: 10,
            breaker_cool_down_max_ms: 5,
            ..Config::default()
        }
        .sanitized();
        assert_eq!(c.probe_interval_healthy_ms, 1);
        assert_eq!(c.ewma_alpha, 0.3);
        assert_eq!((c.breaker_window, c.breaker_min_samples), (1, 1));
        assert_eq!((c.hedge_min_ms, c.hedge_max_ms), (500, 500));
        assert_eq!(c.breaker_cool_down_max_ms, c.breaker_cool_down_ms);
    }

    #[test]
    fn sanitized_keeps_every_time_within_a_day() {
        let huge = Config {
            probe_interval_healthy_ms: i64::MAX,
            probe_interval_unhealthy_ms: 3_000_000_000,
            probe_timeout_ms: 3_000_000_000,
            probe_min_gap_ms: i64::MAX,
            unreachable_confirm_ms: i64::MAX,
            breaker_cool_down_ms: i64::MAX,
            breaker_cool_down_max_ms: i64::MIN,
            breaker_trial_timeout_ms: i64::MAX,
            hedge_min_ms: 10_000_000_000_000,
            hedge_max_ms: 10_000_000_000_000,
            failover_notice_ms: i64::MAX,
            ..Config::default()
        }
        .sanitized();
        let times = [
            huge.probe_interval_healthy_ms,
            huge.probe_interval_unhealthy_ms,
            huge.probe_timeout_ms,
            huge.probe_min_gap_ms,
            huge.unreachable_confirm_ms,
            huge.breaker_cool_down_ms,
            huge.breaker_cool_down_max_ms,
            huge.breaker_trial_timeout_ms,
            huge.hedge_min_ms,
            huge.hedge_max_ms,
            huge.failover_notice_ms,
        ];
        assert!(times.iter().all(|&t| t == MAX_WAIT_MS), "{times:?}");
        // And it is a fixed point, like the defaults.
        assert_eq!(huge.clone().sanitized(), huge);
    }
}
