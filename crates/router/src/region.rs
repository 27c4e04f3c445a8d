//! Everything the router knows about one region, and the small questions asked of it
//! (may it carry traffic, when is its next probe, how long before hedging it).

use mfe_contract::RegionInfo;

use crate::breaker::Breaker;
use crate::config::Config;
use crate::ewma::Ewma;
use crate::health::{Health, HealthTracker};
use crate::latency_window::LatencyWindow;

#[derive(Debug, Clone)]
pub(crate) struct Region {
    pub info: RegionInfo,
    pub health: HealthTracker,
    /// Probe RTTs only: request RTTs include server work and only the current region gets
    /// them, which would make the region in use look slower than the idle ones.
    pub ewma: Ewma,
    pub last_probe_rtt_ms: Option<f64>,
    pub last_request_rtt_ms: Option<i64>,
    pub latency: LatencyWindow,
    pub breaker: Breaker,
    /// `i64::MIN` until the first probe, so every region is probed at once on start.
    pub next_probe_at: i64,
    pub probe_in_flight_since: Option<i64>,
    pub last_probe_done_at: Option<i64>,
    /// Consecutive probe rounds this region was clearly faster than the current one.
    pub faster_rounds: u32,
    /// When a request to it last ended in a network error, awaiting a probe to confirm.
    pub suspect_unreachable_at: Option<i64>,
}

impl Region {
    pub fn new(info: RegionInfo, cfg: &Config) -> Self {
        Self {
            info,
            health: HealthTracker::new(),
            ewma: Ewma::new(),
            last_probe_rtt_ms: None,
            last_request_rtt_ms: None,
            latency: LatencyWindow::new(cfg.latency_window),
            breaker: Breaker::new(cfg),
            next_probe_at: i64::MIN,
            probe_in_flight_since: None,
            last_probe_done_at: None,
            faster_rounds: 0,
            suspect_unreachable_at: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Latency used for ranking: the EWMA, or the prior when never measured.
    pub fn rank_ms(&self, cfg: &Config) -> f64 {
        self.ewma.value_or(cfg.unmeasured_rtt_ms)
    }

    /// Up or degraded by probes, and its breaker closed: may be the current region.
    pub fn is_eligible(&self) -> bool {
        self.health.health().is_usable() && self.breaker.is_closed()
    }

    /// Probe period: the long one only when nothing at all is suspicious.
    pub fn probe_interval(&self, cfg: &Config) -> i64 {
        let calm = self.health.health() == Health::Up
            && self.breaker.is_closed()
            && self.breaker.consecutive_failures() == 0;
        if calm {
            cfg.probe_interval_healthy_ms
        } else {
            cfg.probe_interval_unhealthy_ms
        }
    }

    /// A probe left unreported this long is given up on (the adapter's own timeout should
    /// have fired long before) and the region becomes due again.
    pub fn probe_expiry(&self, cfg: &Config) -> Option<i64> {
        self.probe_in_flight_since
            .map(|since| since.saturating_add(cfg.probe_timeout_ms.saturating_mul(2)))
    }

    /// Pulls the next probe forward after a failed request, but never closer than the
    /// minimum gap after the previous probe.
    pub fn expedite_probe(&mut self, now: i64, cfg: &Config) {
        let earliest = self.last_probe_done_at.map_or(now, |done| {
            done.saturating_add(cfg.probe_min_gap_ms).max(now)
        });
        self.next_probe_at = self.next_probe_at.min(earliest);
    }

    /// How long to wait for this region before hedging to the next one: the p95 of recent
    /// requests, or a multiple of the probe RTT until enough requests were seen, or the upper
    /// bound when nothing is known; always within the configured bounds.
    pub fn hedge_delay(&self, cfg: &Config) -> i64 {
        let raw = if self.latency.len() >= cfg.hedge_min_samples {
            self.latency.p95().unwrap_or(cfg.hedge_max_ms)
        } else if let Some(ewma) = self.ewma.value() {
            (ewma * cfg.hedge_probe_factor).ceil().min(i64::MAX as f64) as i64
        } else {
            cfg.hedge_max_ms
        };
        raw.clamp(cfg.hedge_min_ms, cfg.hedge_max_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region() -> Region {
        Region::new(
            RegionInfo {
                name: "eu-west".into(),
                url: "http://127.0.0.1:8082".into(),
            },
            &Config::default(),
        )
    }

    #[test]
    fn hedge_delay_without_data_is_the_upper_bound() {
        assert_eq!(region().hedge_delay(&Config::default()), 2_000);
    }

    #[test]
    fn hedge_delay_before_enough_requests_follows_the_probe_rtt() {
        let c = Config::default();
        let mut r = region();
        r.ewma.observe(80.0, c.ewma_alpha);
        assert_eq!(r.hedge_delay(&c), 240);
        r.ewma = Ewma::new();
        r.ewma.observe(10.0, c.ewma_alpha);
        assert_eq!(r.hedge_delay(&c), 100, "clamped to the lower bound");
    }

    #[test]
    fn hedge_delay_is_the_clamped_request_p95() {
        let c = Config::default();
        let mut r = region();
        for ms in [300, 310, 320, 330, 340, 350, 360, 700] {
            r.latency.push(ms);
        }
        assert_eq!(r.hedge_delay(&c), 700);
        for _ in 0..40 {
            r.latency.push(5_000);
        }
        assert_eq!(r.hedge_delay(&c), 2_000);
        for _ in 0..40 {
            r.latency.push(3);
        }
        assert_eq!(r.hedge_delay(&c), 100);
    }

    #[test]
    fn expedite_respects_the_minimum_gap() {
        let c = Config::default();
        let mut r = region();
        r.next_probe_at = 40_000;
        r.last_probe_done_at = Some(10_000);
        r.expedite_probe(10_200, &c);
        assert_eq!(r.next_probe_at, 11_000);
        r.expedite_probe(20_000, &c);
        assert_eq!(r.next_probe_at, 11_000, "never pushed later");
    }
}
