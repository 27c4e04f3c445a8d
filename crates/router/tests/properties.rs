//! Invariants of the router under random sequences of probe results, request outcomes and
//! time passing (including jitter around equal latencies and a clock stepping back).

use mfe_contract::{HealthReport, HealthStatus, RegionInfo};
use mfe_router::{
    BreakerState, Config, Ewma, ProbeResult, RequestOutcome, RequestTicket, Router, RouterEvent,
    RouterSnapshot, SwitchReason,
};
use proptest::prelude::*;

const REGIONS: [&str; 3] = ["us-east", "eu-west", "ap-south"];
/// Most tickets the model holds at once (bounds the walk over them).
const MAX_TICKETS: usize = 12;

#[derive(Debug, Clone)]
enum Probe {
    Ok(f64),
    Degraded(f64),
    Bare503,
    Unhealthy,
    Timeout,
    Unreachable,
}

#[derive(Debug, Clone)]
enum Op {
    Advance(i64),
    /// The adapter's clock steps back this far.
    StepBack(i64),
    Probe(usize, Probe),
    /// Every region probed with `base` ± up to 10 %.
    JitterRound(f64, [f64; 3]),
    DueProbes,
    Start(usize),
    /// Start a request to the first candidate.
    StartFirst,
    Finish(usize, RequestOutcome),
    /// An answer from this region said its kill switch is on.
    SwitchedOff(usize),
    Tick,
}

fn report(status: HealthStatus) -> Option<HealthReport> {
    Some(HealthReport {
        region: "r".into(),
        status,
        store_ok: true,
        replication_lag_ms: 0,
        version: "1".into(),
    })
}

fn probe_result(p: &Probe) -> ProbeResult {
    match *p {
        Probe::Ok(rtt) => ProbeResult::Answered {
            status: 200,
            rtt_ms: rtt,
            report: report(HealthStatus::Ok),
        },
        Probe::Degraded(rtt) => ProbeResult::Answered {
            status: 200,
            rtt_ms: rtt,
            report: report(HealthStatus::Degraded),
        },
        Probe::Bare503 => ProbeResult::Answered {
            status: 503,
            rtt_ms: 0.5,
            report: None,
        },
        Probe::Unhealthy => ProbeResult::Answered {
            status: 503,
            rtt_ms: 0.5,
            report: report(HealthStatus::Unhealthy),
        },
        Probe::Timeout => ProbeResult::Timeout,
        Probe::Unreachable => ProbeResult::Unreachable,
    }
}

fn outcome() -> impl Strategy<Value = RequestOutcome> {
    prop_oneof![
        4 => Just(RequestOutcome::Status(201)),
        1 => Just(RequestOutcome::Status(404)),
        2 => Just(RequestOutcome::Status(503)),
        1 => Just(RequestOutcome::Status(429)),
        1 => Just(RequestOutcome::Status(500)),
        1 => Just(RequestOutcome::Refused),
        1 => Just(RequestOutcome::NetworkError),
        1 => Just(RequestOutcome::Timeout),
        1 => Just(RequestOutcome::Cancelled),
    ]
}

fn probe() -> impl Strategy<Value = Probe> {
    prop_oneof![
        4 => (1.0..3_000.0f64).prop_map(Probe::Ok),
        1 => (1.0..3_000.0f64).prop_map(Probe::Degraded),
        1 => Just(Probe::Bare503),
        1 => Just(Probe::Unhealthy),
        1 => Just(Probe::Timeout),
        1 => Just(Probe::Unreachable),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let region = 0..REGIONS.len();
    prop_oneof![
        3 => (0..40_000i64).prop_map(Op::Advance),
        1 => (1..100_000i64).prop_map(Op::StepBack),
        4 => (region.clone(), probe()).prop_map(|(r, p)| Op::Probe(r, p)),
        2 => (20.0..2_000.0f64, [-0.1..0.1f64, -0.1..0.1f64, -0.1..0.1f64])
            .prop_map(|(base, j)| Op::JitterRound(base, j)),
        1 => Just(Op::DueProbes),
        3 => region.clone().prop_map(Op::Start),
        3 => Just(Op::StartFirst),
        5 => (0..MAX_TICKETS, outcome()).prop_map(|(i, o)| Op::Finish(i, o)),
        1 => region.prop_map(Op::SwitchedOff),
        1 => Just(Op::Tick),
    ]
}

/// What the test remembers besides the router.
struct Model {
    router: Router,
    now: i64,
    tickets: Vec<RequestTicket>,
    /// Min and max successful probe RTT fed to each region.
    probe_range: [Option<(f64, f64)>; 3],
    /// Successful probes of each region since traffic last moved.
    probes_since_change: [u32; 3],
}

impl Model {
    fn new() -> Self {
        let regions = REGIONS.iter().map(|n| RegionInfo {
            name: (*n).into(),
            url: format!("http://{n}.test"),
        });
        Self {
            router: Router::new(Config::default(), regions),
            now: 0,
            tickets: Vec::new(),
            probe_range: [None; 3],
            probes_since_change: [0; 3],
        }
    }

    fn index(name: &str) -> usize {
        REGIONS
            .iter()
            .position(|n| *n == name)
            .expect("known region")
    }

    fn probe(&mut self, region: usize, p: &Probe) -> Result<(), TestCaseError> {
        if let Probe::Ok(rtt) | Probe::Degraded(rtt) = *p {
            let range = self.probe_range[region].get_or_insert((rtt, rtt));
            *range = (range.0.min(rtt), range.1.max(rtt));
            self.probes_since_change[region] += 1;
        }
        let events = self
            .router
            .on_probe(REGIONS[region], self.now, probe_result(p));
        self.note(&events)
    }

    /// Checks the events one router call returned, in order: a move to a faster region
    /// needs enough probe rounds of that region since traffic last moved.
    fn note(&mut self, events: &[RouterEvent]) -> Result<(), TestCaseError> {
        let rounds = self.router.config().switch_rounds;
        for e in events {
            if let RouterEvent::CurrentChanged { to, reason, .. } = e {
                if *reason == SwitchReason::Faster {
                    let to = Self::index(to.as_deref().expect("a target"));
                    prop_assert!(
                        self.probes_since_change[to] >= rounds,
                        "switched to {} after {} probes",
                        REGIONS[to],
                        self.probes_since_change[to]
                    );
                }
                self.probes_since_change = [0; 3];
            }
        }
        Ok(())
    }

    fn start(&mut self, region: &str) {
        if self.tickets.len() < MAX_TICKETS {
            if let Some(t) = self.router.start_request(region, self.now) {
                self.tickets.push(t);
            }
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Advance(ms) => self.now += ms,
            Op::StepBack(ms) => {
                let events = self.router.tick(self.now - ms);
                self.note(&events)?;
            }
            Op::Probe(region, p) => self.probe(*region, p)?,
            Op::JitterRound(base, jitter) => {
                for (region, j) in jitter.iter().enumerate() {
                    self.probe(region, &Probe::Ok(base * (1.0 + j)))?;
                }
            }
            Op::DueProbes => {
                self.router.probes_due(self.now);
            }
            Op::Start(region) => self.start(REGIONS[*region]),
            Op::StartFirst => {
                if let Some(first) = self.router.candidates(self.now).first() {
                    self.start(&first.clone());
                }
            }
            Op::Finish(slot, outcome) => {
                if !self.tickets.is_empty() {
                    let ticket = self.tickets.remove(slot % self.tickets.len());
                    let events = self.router.on_request_done(ticket, self.now, *outcome);
                    self.note(&events)?;
                }
            }
            Op::SwitchedOff(region) => {
                let events = self.router.on_switched_off(REGIONS[*region], self.now);
                self.note(&events)?;
            }
            Op::Tick => {
                let events = self.router.tick(self.now);
                self.note(&events)?;
            }
        }
        Ok(())
    }

    /// Checks every state invariant after an operation.
    fn check(&self) -> Result<(), TestCaseError> {
        let cfg = self.router.config().clone();
        let snap: RouterSnapshot = self.router.snapshot(self.now);
        let now = snap.at_ms;
        let healthy = |name: &str| {
            let r = snap.regions.iter().find(|r| r.name == name).unwrap();
            r.health.is_usable() && r.breaker.state == BreakerState::Closed
        };
        let any_healthy = snap.regions.iter().any(|r| healthy(&r.name));

        // The current region is always usable with a closed breaker, and exists when any is.
        match &snap.current {
            Some(c) => prop_assert!(healthy(c), "current {c} not healthy: {snap:?}"),
            None => prop_assert!(!any_healthy, "healthy region but none current: {snap:?}"),
        }

        // Candidates never include a region whose breaker refuses; when a healthy region
        // exists the first one is the current region or a usable region due for its trial.
        let candidates = self.router.candidates(now);
        for c in &candidates {
            let r = snap.regions.iter().find(|r| &r.name == c).unwrap();
            prop_assert!(r.breaker.state != BreakerState::Open, "{c} open: {snap:?}");
            prop_assert!(!r.breaker.trial_in_flight, "{c} trial out: {snap:?}");
        }
        if any_healthy {
            let first = snap
                .regions
                .iter()
                .find(|r| r.name == candidates[0])
                .unwrap();
            prop_assert!(
                first.is_current
                    || (first.health.is_usable() && first.breaker.state == BreakerState::HalfOpen),
                "first candidate {first:?} in {snap:?}"
            );
        }

        // At most one live half-open trial per region.
        for name in REGIONS {
            let live = self
                .tickets
                .iter()
                .filter(|t| {
                    t.region() == name
                        && t.is_trial()
                        && now - t.started_at_ms() < cfg.breaker_trial_timeout_ms
                })
                .count();
            prop_assert!(live <= 1, "{live} trials to {name}");
        }

        // EWMA within the range of observed samples, or unmeasured.
        for (i, r) in snap.regions.iter().enumerate() {
            match (r.ewma_ms, self.probe_range[i]) {
                (None, None) => {}
                (Some(e), Some((lo, hi))) => {
                    prop_assert!(
                        e >= lo && e <= hi,
                        "{} ewma {e} outside [{lo}, {hi}]",
                        r.name
                    )
                }
                other => prop_assert!(false, "{}: ewma/sample mismatch {other:?}", r.name),
            }
            prop_assert!((cfg.hedge_min_ms..=cfg.hedge_max_ms).contains(&r.hedge_delay_ms));
            // A cause is given exactly while the region is down.
            prop_assert_eq!(
                r.down_cause.is_some(),
                r.health == mfe_router::Health::Down,
                "{:?}",
                r
            );
        }

        if let Some(w) = self.router.next_wake(now) {
            prop_assert!(w >= now);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn invariants_hold_under_random_inputs(ops in prop::collection::vec(op(), 1..150)) {
        let mut model = Model::new();
        for op in &ops {
            model.apply(op)?;
            model.check()?;
        }
    }

    /// Two healthy regions at the same latency, each probe ±10 %: once traffic has a
    /// region it never moves (a move needs 20 %, jitter gives at most 1.1/0.9 ≈ 18 %).
    #[test]
    fn pure_jitter_never_moves_traffic(
        base in 20.0..2_000.0f64,
        rounds in prop::collection::vec((-0.1..0.1f64, -0.1..0.1f64, any::<bool>(), any::<bool>()), 1..80),
    ) {
        let regions = ["a", "b"].map(|n| RegionInfo { name: n.into(), url: String::new() });
        let mut router = Router::new(Config::default(), regions);
        let mut switches = 0;
        let mut now = 0;
        for (round, (ja, jb, a_first, send)) in rounds.iter().enumerate() {
            now = round as i64 * 30_000;
            router.probes_due(now);
            let order = if *a_first { [("a", ja), ("b", jb)] } else { [("b", jb), ("a", ja)] };
            for (name, j) in order {
                let result = ProbeResult::Answered { status: 200, rtt_ms: base * (1.0 + j), report: None };
                switches += router
                    .on_probe(name, now, result)
                    .iter()
                    .filter(|e| matches!(e, RouterEvent::CurrentChanged { .. }))
                    .count();
            }
            if *send {
                let current = router.current().expect("a current region").to_owned();
                let ticket = router.start_request(&current, now).expect("closed breaker");
                router.on_request_done(ticket, now + (base as i64), RequestOutcome::Status(201));
            }
        }
        prop_assert_eq!(switches, 1, "only the initial choice, by {}", now);
    }

    #[test]
    fn ewma_stays_within_its_samples(samples in prop::collection::vec(0.0..10_000.0f64, 1..200), alpha in 0.01..=1.0f64) {
        let mut e = Ewma::new();
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for s in samples {
            e.observe(s, alpha);
            lo = lo.min(s);
            hi = hi.max(s);
            let v = e.value().unwrap();
            prop_assert!(v >= lo && v <= hi, "{v} outside [{lo}, {hi}]");
        }
    }
}
