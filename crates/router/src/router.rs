//! The router: feeds probe results and request outcomes to each region's state, keeps one
//! region current, and answers "where do I send this?".
//!
//! Time is only ever an argument. A `now` earlier than one already seen is treated as the
//! latest seen, so an adapter on a wall clock that steps back cannot undo a cool-down or
//! make a deadline negative.
//!
//! Invariant after every `&mut` call: the current region, when there is one, is up or
//! degraded by probes and its breaker is closed; and when any region is like that, there is
//! a current region.

use mfe_contract::RegionInfo;

use crate::breaker::{BreakerChange, Verdict};
use crate::config::Config;
use crate::event::{RouterEvent, SwitchReason};
use crate::health::{Health, HealthChange, ProbeFailure};
use crate::outcome::{
    classify_probe, classify_request, FailureKind, ProbeResult, ProbeVerdict, RequestOutcome,
    RequestTicket, RequestVerdict,
};
use crate::region::Region;
use crate::snapshot::{LastChange, RegionSnapshot, RouterSnapshot};

/// Sans-IO region router. See the crate documentation for how an adapter drives it.
#[derive(Debug, Clone)]
pub struct Router {
    cfg: Config,
    regions: Vec<Region>,
    current: Option<usize>,
    last_change: Option<LastChange>,
    /// Latest `now` seen.
    now: i64,
    /// Events produced by time passing inside calls that do not return events; handed out
    /// by the next call that does.
    pending: Vec<RouterEvent>,
}

impl Router {
    /// A router over `regions` (duplicates by name are dropped, first wins), all unknown and
    /// due for a probe. The configuration is [`Config::sanitized`] first.
    pub fn new(config: Config, regions: impl IntoIterator<Item = RegionInfo>) -> Self {
        let cfg = config.sanitized();
        let mut router = Self {
            cfg,
            regions: Vec::new(),
            current: None,
            last_change: None,
            now: i64::MIN,
            pending: Vec::new(),
        };
        router.regions = router.build_regions(regions, Vec::new());
        router
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Regions in configured order.
    pub fn regions(&self) -> impl Iterator<Item = &RegionInfo> {
        self.regions.iter().map(|r| &r.info)
    }

    /// Base URL of a region.
    pub fn url(&self, region: &str) -> Option<&str> {
        self.index(region)
            .map(|i| self.regions[i].info.url.as_str())
    }

    /// The region traffic goes to first, if any is up with a closed breaker.
    pub fn current(&self) -> Option<&str> {
        self.current.map(|i| self.regions[i].name())
    }

    /// Deadline the adapter applies to each probe.
    pub fn probe_timeout_ms(&self) -> i64 {
        self.cfg.probe_timeout_ms
    }

    /// Regions whose probe is due, marked as in flight: the adapter must send `GET /health`
    /// to each and report with [`Router::on_probe`]. A region is not returned again while its
    /// probe is out (an unreported probe is given up after twice the probe timeout).
    pub fn probes_due(&mut self, now: i64) -> Vec<String> {
        let now = self.advance(now);
        let mut due = Vec::new();
        for region in &mut self.regions {
            if region.probe_in_flight_since.is_none() && region.next_probe_at <= now {
                region.probe_in_flight_since = Some(now);
                due.push(region.info.name.clone());
            }
        }
        due
    }

    /// Feeds one probe result. Unknown region names are ignored (a region removed while its
    /// probe was out).
    pub fn on_probe(&mut self, region: &str, now: i64, result: ProbeResult) -> Vec<RouterEvent> {
        let now = self.advance(now);
        let Some(i) = self.index(region) else {
            return self.take_events();
        };
        let cfg = &self.cfg;
        let r = &mut self.regions[i];
        r.probe_in_flight_since = None;
        r.last_probe_done_at = Some(now);
        match classify_probe(&result) {
            ProbeVerdict::Healthy { rtt_ms, degraded } => {
                r.ewma.observe(rtt_ms, cfg.ewma_alpha);
                if rtt_ms.is_finite() {
                    r.last_probe_rtt_ms = Some(rtt_ms.max(0.0));
                }
                r.suspect_unreachable_at = None;
                let was_down = r.health.health() == Health::Down;
                let change = r.health.on_probe_success(degraded, cfg);
                // Back from down: the breaker's cool-down was about the outage, which the
                // probes just saw end; waiting it out (up to 5 min) would keep a healthy
                // region, perhaps every region, from carrying traffic.
                let recovered = (was_down && r.health.health().is_usable())
                    .then(|| r.breaker.on_recovered())
                    .flatten();
                r.next_probe_at = now.saturating_add(r.probe_interval(cfg));
                self.push_health(i, change);
                self.push_breaker(i, recovered);
                self.reconcile(now);
                self.count_round(i, now);
            }
            ProbeVerdict::Failed {
                failure,
                unreachable,
            } => {
                let confirmed = unreachable
                    && r.suspect_unreachable_at
                        .is_some_and(|at| now.saturating_sub(at) <= cfg.unreachable_confirm_ms);
                let failure = if confirmed {
                    r.suspect_unreachable_at = None;
                    ProbeFailure::ConfirmedUnreachable
                } else {
                    failure
                };
                r.faster_rounds = 0;
                let change = r.health.on_probe_failure(failure, cfg);
                r.next_probe_at = now.saturating_add(r.probe_interval(cfg));
                self.push_health(i, change);
                self.reconcile(now);
            }
        }
        self.take_events()
    }

    /// A region's answer to a request said it is switched off (its kill switch; see
    /// `mfe_contract::REGION_HEALTH_HEADER`). It is taken out at once, as a probe saying
    /// `unhealthy` would take it out, instead of at its next probe; feed the request's own
    /// outcome to [`Router::on_request_done`] as usual. Only probes bring it back, so it is
    /// probed on the unhealthy schedule from now on (never later than it already was). Ignored
    /// when [`Config::down_on_unhealthy_report`] is off, and for unknown regions.
    pub fn on_switched_off(&mut self, region: &str, now: i64) -> Vec<RouterEvent> {
        let now = self.advance(now);
        let Some(i) = self.index(region) else {
            return self.take_events();
        };
        if !self.cfg.down_on_unhealthy_report {
            return self.take_events();
        }
        let cfg = &self.cfg;
        let r = &mut self.regions[i];
        r.faster_rounds = 0;
        let change = r.health.on_probe_failure(ProbeFailure::Unhealthy, cfg);
        r.next_probe_at = r
            .next_probe_at
            .min(now.saturating_add(cfg.probe_interval_unhealthy_ms));
        self.push_health(i, change);
        self.reconcile(now);
        self.take_events()
    }

    /// Regions to try for one request, best first: the current region; the other usable
    /// ones by latency; then, as a last resort, those that are not known to be usable but
    /// whose breaker would let a request through (unknown before down). A region that has
    /// earned a switch but waits for its half-open trial comes first, so the trial happens
    /// (and on failure the next entry is tried at once). Regions whose breaker refuses are
    /// left out. Walk it on failure without waiting for probes.
    pub fn candidates(&self, now: i64) -> Vec<String> {
        let now = self.seen(now);
        let mut ranked: Vec<(u8, f64, usize)> = Vec::with_capacity(self.regions.len());
        for (i, r) in self.regions.iter().enumerate() {
            let tier = if Some(i) == self.current {
                1
            } else if r.is_eligible() {
                2
            } else if !r.breaker.would_permit(now) {
                continue;
            } else if r.health.health().is_usable() {
                if self.has_earned_switch(i) {
                    0
                } else {
                    3
                }
            } else if r.health.health() == Health::Unknown {
                4
            } else {
                5
            };
            ranked.push((tier, r.rank_ms(&self.cfg), i));
        }
        // The index breaks every tie, so an unstable sort gives the same order.
        ranked.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
        ranked
            .into_iter()
            .map(|(_, _, i)| self.regions[i].info.name.clone())
            .collect()
    }

    /// The first candidate other than `primary`: where a hedge of a request to `primary`
    /// goes.
    pub fn hedge_target(&self, now: i64, primary: &str) -> Option<String> {
        self.candidates(now).into_iter().find(|c| c != primary)
    }

    /// Asks the region's breaker for leave to send one request. `None` when the breaker is
    /// open or its one half-open trial is already out: try the next candidate.
    pub fn start_request(&mut self, region: &str, now: i64) -> Option<RequestTicket> {
        let now = self.advance(now);
        let i = self.index(region)?;
        let r = &mut self.regions[i];
        let permit = r.breaker.try_acquire(now)?;
        Some(RequestTicket {
            region: r.info.name.clone(),
            started_at_ms: now,
            permit,
        })
    }

    /// Feeds how a request ended. The RTT is `now - ticket.started_at_ms()`; only proper
    /// answers (2xx and the 4xx that blame the request) become latency samples, so a fast
    /// 503 or 429 never makes a region look fast.
    pub fn on_request_done(
        &mut self,
        ticket: RequestTicket,
        now: i64,
        outcome: RequestOutcome,
    ) -> Vec<RouterEvent> {
        self.on_request_timed(ticket, now, outcome, None)
    }

    /// [`Router::on_request_done`] with the round trip the adapter's network stack measured,
    /// when it has one: `now - ticket.started_at_ms()` also counts the time until the adapter
    /// ran again, which a busy page lengthens. The shorter of the two is the sample.
    pub fn on_request_timed(
        &mut self,
        ticket: RequestTicket,
        now: i64,
        outcome: RequestOutcome,
        network_rtt_ms: Option<i64>,
    ) -> Vec<RouterEvent> {
        let now = self.advance(now);
        let Some(i) = self.index(&ticket.region) else {
            return self.take_events();
        };
        let cfg = &self.cfg;
        let r = &mut self.regions[i];
        let waited = now.saturating_sub(ticket.started_at_ms).max(0);
        let rtt = network_rtt_ms.map_or(waited, |n| n.clamp(0, waited));
        match classify_request(outcome) {
            RequestVerdict::Answered => {
                r.latency.push(rtt);
                r.last_request_rtt_ms = Some(rtt);
                let change = r.breaker.record(ticket.permit, Verdict::Success, now, cfg);
                self.push_breaker(i, change);
                self.reconcile(now);
                self.maybe_switch_faster(i, now);
            }
            RequestVerdict::Failed(kind) => {
                let change = r.breaker.record(ticket.permit, Verdict::Failure, now, cfg);
                let health = match kind {
                    FailureKind::Refused => r.health.on_refused(),
                    FailureKind::NetworkError => {
                        r.suspect_unreachable_at = Some(now);
                        None
                    }
                    FailureKind::Other => None,
                };
                r.expedite_probe(now, cfg);
                self.push_breaker(i, change);
                self.push_health(i, health);
                self.reconcile(now);
            }
            RequestVerdict::Cancelled => {
                let change = r
                    .breaker
                    .record(ticket.permit, Verdict::Cancelled, now, cfg);
                self.push_breaker(i, change);
            }
        }
        self.take_events()
    }

    /// How long to wait for `region` before hedging: p95 of its recent requests, clamped to
    /// the configured bounds (see [`Config::hedge_min_ms`]).
    pub fn hedge_delay(&self, region: &str) -> i64 {
        self.index(region).map_or(self.cfg.hedge_max_ms, |i| {
            self.regions[i].hedge_delay(&self.cfg)
        })
    }

    /// When the adapter should call [`Router::tick`] (and [`Router::probes_due`]) next:
    /// the earliest probe, breaker cool-down end, trial deadline or end of the "failing over"
    /// notice. Never earlier than `now`; `None` only without regions.
    pub fn next_wake(&self, now: i64) -> Option<i64> {
        let now = self.seen(now);
        let cfg = &self.cfg;
        let mut wake: Option<i64> = None;
        let mut consider = |t: i64| wake = Some(wake.map_or(t, |w| w.min(t)));
        for r in &self.regions {
            consider(r.probe_expiry(cfg).unwrap_or(r.next_probe_at));
            if let Some(deadline) = r.breaker.next_deadline(cfg) {
                consider(deadline);
            }
        }
        if let Some(change) = &self.last_change {
            let end = change.at_ms.saturating_add(cfg.failover_notice_ms);
            if change.reason.is_failover() && end > now {
                consider(end);
            }
        }
        wake.map(|w| w.max(now))
    }

    /// Applies what time alone changes (breaker cool-downs ending, lost trials, lost probes)
    /// and returns every event not handed out yet.
    pub fn tick(&mut self, now: i64) -> Vec<RouterEvent> {
        self.advance(now);
        self.take_events()
    }

    /// Replaces the region list (manifest refresh), keeping what is known about regions that
    /// stay. If the current region is removed, traffic moves at once.
    pub fn set_regions(
        &mut self,
        regions: impl IntoIterator<Item = RegionInfo>,
        now: i64,
    ) -> Vec<RouterEvent> {
        let now = self.advance(now);
        let current_name = self.current().map(str::to_owned);
        let old = std::mem::take(&mut self.regions);
        self.regions = self.build_regions(regions, old);
        self.current = current_name.as_deref().and_then(|n| self.index(n));
        if current_name.is_some() && self.current.is_none() {
            let best = self.best_eligible();
            self.record_change(current_name, best, now, SwitchReason::RegionRemoved);
        }
        self.reconcile(now);
        self.take_events()
    }

    /// Everything the status bar shows.
    pub fn snapshot(&self, now: i64) -> RouterSnapshot {
        let now = self.seen(now);
        let cfg = &self.cfg;
        let failing_over = self.last_change.as_ref().is_some_and(|c| {
            c.reason.is_failover() && now.saturating_sub(c.at_ms) < cfg.failover_notice_ms
        });
        let all_unreachable = self.current.is_none()
            && self
                .regions
                .iter()
                .all(|r| r.health.health() != Health::Unknown);
        let regions = self
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| RegionSnapshot {
                name: r.info.name.clone(),
                url: r.info.url.clone(),
                health: r.health.health(),
                down_cause: r.health.down_cause(),
                is_current: self.current == Some(i),
                ewma_ms: r.ewma.value(),
                last_probe_rtt_ms: r.last_probe_rtt_ms,
                last_request_rtt_ms: r.last_request_rtt_ms,
                p95_ms: r.latency.p95(),
                hedge_delay_ms: r.hedge_delay(cfg),
                consecutive_failures: r.health.failures_in_a_row(),
                breaker: r.breaker.view(now),
            })
            .collect();
        RouterSnapshot {
            at_ms: now,
            current: self.current().map(str::to_owned),
            failing_over,
            all_unreachable,
            last_change: self.last_change.clone(),
            regions,
        }
    }

    // ---- internals ----

    fn build_regions(
        &self,
        infos: impl IntoIterator<Item = RegionInfo>,
        old: Vec<Region>,
    ) -> Vec<Region> {
        let mut old: Vec<Option<Region>> = old.into_iter().map(Some).collect();
        let mut out: Vec<Region> = Vec::new();
        for info in infos {
            if out.iter().any(|r| r.info.name == info.name) {
                continue;
            }
            let kept = old
                .iter_mut()
                .find(|slot| slot.as_ref().is_some_and(|r| r.info.name == info.name))
                .and_then(Option::take);
            let mut region = kept.unwrap_or_else(|| Region::new(info.clone(), &self.cfg));
            region.info = info;
            out.push(region);
        }
        out
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.regions.iter().position(|r| r.info.name == name)
    }

    fn seen(&self, now: i64) -> i64 {
        self.now.max(now)
    }

    /// Moves the clock forward and applies what time alone changes.
    fn advance(&mut self, now: i64) -> i64 {
        let now = self.seen(now);
        self.now = now;
        for i in 0..self.regions.len() {
            let cfg = &self.cfg;
            let r = &mut self.regions[i];
            let change = r.breaker.advance(now, cfg);
            if r.probe_expiry(cfg).is_some_and(|expiry| now >= expiry) {
                r.probe_in_flight_since = None;
                r.next_probe_at = r.next_probe_at.min(now);
            }
            if r.suspect_unreachable_at
                .is_some_and(|at| now.saturating_sub(at) > cfg.unreachable_confirm_ms)
            {
                r.suspect_unreachable_at = None;
            }
            self.push_breaker(i, change);
        }
        self.reconcile(now);
        now
    }

    /// Restores the invariant: leave a current region that may no longer carry traffic at
    /// once, and pick one when there is none.
    fn reconcile(&mut self, now: i64) {
        match self.current {
            Some(c) if self.regions[c].is_eligible() => {}
            Some(c) => {
                let reason = if self.regions[c].health.health().is_usable() {
                    SwitchReason::BreakerOpened
                } else {
                    SwitchReason::CurrentDown
                };
                let best = self.best_eligible();
                self.set_current(best, now, reason);
            }
            None => {
                if let Some(best) = self.best_eligible() {
                    let reason = if self.last_change.is_none() {
                        SwitchReason::Initial
                    } else {
                        SwitchReason::Recovered
                    };
                    self.set_current(Some(best), now, reason);
                }
            }
        }
    }

    /// Lowest-latency region that may carry traffic (configured order breaks ties).
    fn best_eligible(&self) -> Option<usize> {
        self.regions
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_eligible())
            .min_by(|(ia, a), (ib, b)| {
                a.rank_ms(&self.cfg)
                    .total_cmp(&b.rank_ms(&self.cfg))
                    .then(ia.cmp(ib))
            })
            .map(|(i, _)| i)
    }

    /// `challenger` is faster than `current` by the configured fraction and margin.
    fn is_clearly_faster(&self, challenger: usize, current: usize) -> bool {
        let fast = self.regions[challenger].rank_ms(&self.cfg);
        let slow = self.regions[current].rank_ms(&self.cfg);
        fast <= slow * (1.0 - self.cfg.switch_faster_fraction)
            && slow - fast >= self.cfg.switch_min_gain_ms
    }

    /// Has been clearly faster than the current region for enough rounds, and still is.
    fn has_earned_switch(&self, i: usize) -> bool {
        self.current.is_some_and(|c| {
            c != i
                && self.regions[i].faster_rounds >= self.cfg.switch_rounds
                && self.is_clearly_faster(i, c)
        })
    }

    /// After a successful probe of region `i`: one more (or no) round of being faster.
    fn count_round(&mut self, i: usize, now: i64) {
        let Some(c) = self.current else {
            return;
        };
        if i == c {
            // The current region's average moved: streaks of regions no longer ahead end.
            for j in 0..self.regions.len() {
                if j != c && !self.is_clearly_faster(j, c) {
                    self.regions[j].faster_rounds = 0;
                }
            }
            return;
        }
        let faster = self.is_clearly_faster(i, c);
        let r = &mut self.regions[i];
        r.faster_rounds = if faster {
            r.faster_rounds.saturating_add(1)
        } else {
            0
        };
        self.maybe_switch_faster(i, now);
    }

    fn maybe_switch_faster(&mut self, i: usize, now: i64) {
        if self.regions[i].is_eligible() && self.has_earned_switch(i) {
            self.set_current(Some(i), now, SwitchReason::Faster);
        }
    }

    fn set_current(&mut self, next: Option<usize>, now: i64, reason: SwitchReason) {
        if next == self.current {
            return;
        }
        let from = self.current().map(str::to_owned);
        self.record_change(from, next, now, reason);
    }

    fn record_change(
        &mut self,
        from: Option<String>,
        next: Option<usize>,
        now: i64,
        reason: SwitchReason,
    ) {
        self.current = next;
        for r in &mut self.regions {
            r.faster_rounds = 0;
        }
        let to = self.current().map(str::to_owned);
        self.last_change = Some(LastChange {
            from: from.clone(),
            to: to.clone(),
            reason,
            at_ms: now,
        });
        self.pending
            .push(RouterEvent::CurrentChanged { from, to, reason });
    }

    fn push_health(&mut self, i: usize, change: Option<HealthChange>) {
        let Some(change) = change else {
            return;
        };
        let region = self.regions[i].info.name.clone();
        self.pending.push(match change {
            HealthChange::Up => RouterEvent::RegionUp { region },
            HealthChange::Degraded(cause) => RouterEvent::RegionDegraded { region, cause },
            HealthChange::Down(cause) => RouterEvent::RegionDown { region, cause },
        });
    }

    fn push_breaker(&mut self, i: usize, change: Option<BreakerChange>) {
        let Some(change) = change else {
            return;
        };
        let region = self.regions[i].info.name.clone();
        self.pending.push(match change {
            BreakerChange::Opened {
                cause,
                cool_down_ms,
            } => RouterEvent::BreakerOpened {
                region,
                cause,
                cool_down_ms,
            },
            BreakerChange::HalfOpened => RouterEvent::BreakerHalfOpen { region },
            BreakerChange::Closed => RouterEvent::BreakerClosed { region },
        });
    }

    fn take_events(&mut self) -> Vec<RouterEvent> {
        std::mem::take(&mut self.pending)
    }
}
