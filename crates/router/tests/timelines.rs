//! Each routing rule of DESIGN §3.6 played out on a concrete timeline through the public API.

use mfe_contract::{HealthReport, HealthStatus, RegionInfo};
use mfe_router::{
    BreakerCause, BreakerState, Config, DegradedCause, DownCause, Health, ProbeResult,
    RequestOutcome, Router, RouterEvent, SwitchReason,
};

fn info(name: &str) -> RegionInfo {
    RegionInfo {
        name: name.into(),
        url: format!("http://{name}.test"),
    }
}

fn router(names: &[&str]) -> Router {
    Router::new(Config::default(), names.iter().map(|n| info(n)))
}

fn report(status: HealthStatus) -> Option<HealthReport> {
    Some(HealthReport {
        region: "x".into(),
        status,
        store_ok: status != HealthStatus::Unhealthy,
        replication_lag_ms: 0,
        version: "0.1.0".into(),
    })
}

fn ok(rtt_ms: f64) -> ProbeResult {
    ProbeResult::Answered {
        status: 200,
        rtt_ms,
        report: report(HealthStatus::Ok),
    }
}

fn fail() -> ProbeResult {
    ProbeResult::Timeout
}

fn changed(from: Option<&str>, to: Option<&str>, reason: SwitchReason) -> RouterEvent {
    RouterEvent::CurrentChanged {
        from: from.map(Into::into),
        to: to.map(Into::into),
        reason,
    }
}

fn switches(events: &[RouterEvent]) -> Vec<&RouterEvent> {
    events
        .iter()
        .filter(|e| matches!(e, RouterEvent::CurrentChanged { .. }))
        .collect()
}

/// Sends one request to `region` and reports `outcome` `took` ms later.
fn request(
    r: &mut Router,
    region: &str,
    at: i64,
    took: i64,
    outcome: RequestOutcome,
) -> Vec<RouterEvent> {
    let ticket = r.start_request(region, at).expect("breaker permits");
    r.on_request_done(ticket, at + took, outcome)
}

/// Start-up: every region probed at 0, answers in `rtts` order.
fn started(names: &[&str], rtts: &[f64]) -> Router {
    let mut r = router(names);
    assert_eq!(r.probes_due(0).len(), names.len());
    for (name, rtt) in names.iter().zip(rtts) {
        r.on_probe(name, *rtt as i64, ok(*rtt));
    }
    r
}

fn region_health(r: &Router, name: &str, now: i64) -> Health {
    r.snapshot(now)
        .regions
        .into_iter()
        .find(|s| s.name == name)
        .expect("region")
        .health
}

#[test]
fn every_region_is_probed_at_start_and_the_first_answer_becomes_current() {
    let mut r = router(&["us-east", "eu-west", "ap-south"]);
    assert_eq!(r.current(), None);
    assert_eq!(r.probes_due(0), ["us-east", "eu-west", "ap-south"]);
    assert!(
        r.probes_due(1).is_empty(),
        "probes in flight are not handed out twice"
    );
    let events = r.on_probe("eu-west", 20, ok(20.0));
    assert_eq!(
        events,
        [
            RouterEvent::RegionUp {
                region: "eu-west".into()
            },
            changed(None, Some("eu-west"), SwitchReason::Initial)
        ]
    );
    assert_eq!(r.current(), Some("eu-west"));
    let s = r.snapshot(20);
    assert_eq!(s.current.as_deref(), Some("eu-west"));
    assert!(!s.failing_over && !s.all_unreachable);
}

#[test]
fn before_any_answer_every_region_is_a_candidate_in_configured_order() {
    let r = router(&["us-east", "eu-west", "ap-south"]);
    assert_eq!(r.candidates(0), ["us-east", "eu-west", "ap-south"]);
    assert_eq!(
        r.hedge_delay("us-east"),
        2_000,
        "nothing known: the upper bound"
    );
}

#[test]
fn healthy_regions_are_probed_every_30_s_others_every_5_s() {
    let mut r = router(&["a", "b"]);
    r.probes_due(0);
    r.on_probe("a", 10, ok(10.0));
    r.on_probe("b", 2_000, fail());
    assert_eq!(r.next_wake(2_000), Some(7_000));
    assert!(r.probes_due(6_999).is_empty());
    assert_eq!(r.probes_due(7_000), ["b"]);
    r.on_probe("b", 7_100, fail());
    assert_eq!(r.next_wake(7_100), Some(12_100));
    assert_eq!(r.probes_due(12_100), ["b"]);
    r.on_probe("b", 12_150, ok(50.0));
    assert!(r.probes_due(30_009).is_empty());
    assert_eq!(r.probes_due(30_010), ["a"]);
}

#[test]
fn an_unreported_probe_is_handed_out_again_after_twice_the_timeout() {
    let mut r = router(&["a"]);
    assert_eq!(r.probes_due(0), ["a"]);
    assert_eq!(r.next_wake(0), Some(4_000));
    assert!(r.probes_due(3_999).is_empty());
    assert_eq!(r.probes_due(4_000), ["a"]);
    assert_eq!(r.probe_timeout_ms(), 2_000);
}

#[test]
fn a_clearly_faster_region_wins_after_two_probe_rounds() {
    let mut r = started(&["a", "b"], &[100.0, 100.0]);
    assert_eq!(r.current(), Some("a"));
    // Round 1 at 30 s: b answers in 70 ms (30 % faster), a stays at 100.
    r.probes_due(30_100);
    assert!(switches(&r.on_probe("a", 30_100, ok(100.0))).is_empty());
    // b's average: 100 → 91; not yet 20 % faster.
    assert!(switches(&r.on_probe("b", 30_100, ok(70.0))).is_empty());
    for round in 2..=4 {
        let now = round * 30_000 + 100;
        r.probes_due(now);
        r.on_probe("a", now, ok(100.0));
        let events = r.on_probe("b", now, ok(50.0));
        // b's average: 91 → 78.7 (round 2, faster) → 70.1 (round 3, faster again: switch).
        if round < 3 {
            assert!(switches(&events).is_empty(), "round {round}");
        } else if round == 3 {
            assert_eq!(
                switches(&events),
                [&changed(Some("a"), Some("b"), SwitchReason::Faster)]
            );
        } else {
            assert!(switches(&events).is_empty(), "stays on b");
        }
    }
    assert_eq!(r.current(), Some("b"));
    let last = r.snapshot(120_100).last_change.unwrap();
    assert_eq!(last.reason, SwitchReason::Faster);
    assert!(
        !r.snapshot(120_100).failing_over,
        "a faster region is not a failover"
    );
}

#[test]
fn one_faster_round_followed_by_a_normal_one_does_not_switch() {
    let mut r = started(&["a", "b"], &[100.0, 100.0]);
    // Alternate: b fast one round, normal the next. Its average never stays ahead twice.
    let mut events = Vec::new();
    for round in 1..=20 {
        let now = round * 30_000;
        r.probes_due(now);
        events.extend(r.on_probe("a", now, ok(100.0)));
        let rtt = if round % 2 == 0 { 20.0 } else { 160.0 };
        events.extend(r.on_probe("b", now, ok(rtt)));
    }
    assert_eq!(r.current(), Some("a"), "{events:?}");
    assert!(switches(&events).is_empty());
}

#[test]
fn fifteen_percent_faster_never_moves_traffic() {
    let mut r = started(&["a", "b"], &[100.0, 85.0]);
    for round in 1..=50 {
        let now = round * 30_000;
        r.probes_due(now);
        r.on_probe("a", now, ok(100.0));
        assert!(switches(&r.on_probe("b", now, ok(85.0))).is_empty());
    }
    assert_eq!(r.current(), Some("a"));
}

#[test]
fn a_few_ms_on_loopback_are_not_worth_moving_for() {
    // 2 ms against 5 ms is 60 % faster but only 3 ms: below the 10 ms minimum gain.
    let mut r = started(&["a", "b"], &[5.0, 2.0]);
    for round in 1..=10 {
        let now = round * 30_000;
        r.probes_due(now);
        r.on_probe("a", now, ok(5.0));
        r.on_probe("b", now, ok(2.0));
    }
    assert_eq!(r.current(), Some("a"));
}

#[test]
fn three_failed_probes_take_the_current_region_down_and_traffic_moves_at_once() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    assert_eq!(r.current(), Some("a"));
    r.probes_due(30_020);
    r.on_probe("b", 30_080, ok(80.0));
    let e1 = r.on_probe("a", 32_020, fail());
    assert_eq!(
        e1,
        [RouterEvent::RegionDegraded {
            region: "a".into(),
            cause: DegradedCause::ProbeFailed
        }]
    );
    assert_eq!(r.current(), Some("a"), "degraded still carries traffic");
    assert_eq!(r.probes_due(37_020), ["a"], "degraded: every 5 s");
    assert!(r.on_probe("a", 39_020, fail()).is_empty());
    r.probes_due(44_020);
    let e3 = r.on_probe("a", 46_020, fail());
    assert_eq!(
        e3,
        [
            RouterEvent::RegionDown {
                region: "a".into(),
                cause: DownCause::ProbeFailures
            },
            changed(Some("a"), Some("b"), SwitchReason::CurrentDown)
        ]
    );
    let s = r.snapshot(46_020);
    assert!(s.failing_over);
    assert_eq!(s.regions[0].consecutive_failures, 3);
    assert!(
        !r.snapshot(56_019 + 1).failing_over,
        "the notice fades after 10 s"
    );
    assert!(r.snapshot(56_019).failing_over);
}

#[test]
fn a_refused_request_takes_the_region_down_at_once() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    let events = request(&mut r, "a", 1_000, 1, RequestOutcome::Refused);
    assert_eq!(
        events,
        [
            RouterEvent::RegionDown {
                region: "a".into(),
                cause: DownCause::Refused
            },
            changed(Some("a"), Some("b"), SwitchReason::CurrentDown)
        ]
    );
    assert_eq!(r.candidates(1_001), ["b", "a"], "a stays a last resort");
    // Probed early (1 s after its previous probe at most) to see it come back.
    assert!(r.probes_due(1_019).is_empty());
    assert_eq!(r.probes_due(1_020), ["a"]);
}

#[test]
fn a_network_error_confirmed_by_an_unreachable_probe_is_down_at_once() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    let events = request(&mut r, "a", 1_000, 3, RequestOutcome::NetworkError);
    assert!(events.is_empty(), "one network error alone proves nothing");
    assert_eq!(r.current(), Some("a"));
    assert_eq!(r.probes_due(1_020), ["a"], "probed early");
    let events = r.on_probe("a", 1_030, ProbeResult::Unreachable);
    assert_eq!(
        events,
        [
            RouterEvent::RegionDown {
                region: "a".into(),
                cause: DownCause::Unreachable
            },
            changed(Some("a"), Some("b"), SwitchReason::CurrentDown)
        ]
    );
}

#[test]
fn an_unreachable_probe_long_after_a_network_error_is_one_strike() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    request(&mut r, "a", 1_000, 3, RequestOutcome::NetworkError);
    r.tick(9_000);
    r.probes_due(9_000);
    r.on_probe("a", 9_010, ProbeResult::Unreachable);
    assert_eq!(region_health(&r, "a", 9_010), Health::Degraded);
}

#[test]
fn the_health_kill_switch_takes_the_region_down_at_once_a_bare_503_is_one_strike() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    r.probes_due(30_020);
    let bare = r.on_probe(
        "a",
        30_025,
        ProbeResult::Answered {
            status: 503,
            rtt_ms: 1.0,
            report: None,
        },
    );
    assert_eq!(
        bare,
        [RouterEvent::RegionDegraded {
            region: "a".into(),
            cause: DegradedCause::ProbeFailed
        }]
    );
    assert_eq!(
        r.snapshot(30_025).regions[0].ewma_ms,
        Some(20.0),
        "a fast 503 is not fast"
    );
    r.probes_due(35_025);
    let kill = r.on_probe(
        "a",
        35_026,
        ProbeResult::Answered {
            status: 503,
            rtt_ms: 1.0,
            report: report(HealthStatus::Unhealthy),
        },
    );
    assert_eq!(
        kill,
        [
            RouterEvent::RegionDown {
                region: "a".into(),
                cause: DownCause::Unhealthy
            },
            changed(Some("a"), Some("b"), SwitchReason::CurrentDown)
        ]
    );
}

#[test]
fn an_answer_saying_switched_off_takes_the_region_out_before_its_next_probe() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    assert_eq!(r.current(), Some("a"));
    // The command itself was accepted: an answer, and a latency sample like any other.
    request(&mut r, "a", 1_000, 20, RequestOutcome::Status(201));
    let events = r.on_switched_off("a", 1_020);
    assert_eq!(
        events,
        [
            RouterEvent::RegionDown {
                region: "a".into(),
                cause: DownCause::Unhealthy
            },
            changed(Some("a"), Some("b"), SwitchReason::CurrentDown)
        ]
    );
    assert_eq!(r.candidates(1_020)[0], "b", "the next command goes to b");
    let a = &r.snapshot(1_020).regions[0];
    assert_eq!(
        a.down_cause,
        Some(DownCause::Unhealthy),
        "the status bar can say why"
    );
    // Probed on the unhealthy schedule (5 s), not at the healthy 30 s; a later notice does not
    // push that probe back.
    assert!(r.probes_due(5_000).is_empty());
    r.on_switched_off("a", 5_010);
    assert_eq!(r.probes_due(6_020), ["a"]);
    // Switched back on: only probes bring it back, after the usual two successes.
    r.on_probe("a", 6_030, ok(20.0));
    assert_eq!(region_health(&r, "a", 6_030), Health::Down);
    r.probes_due(11_030);
    let back = r.on_probe("a", 11_040, ok(20.0));
    assert!(
        back.contains(&RouterEvent::RegionUp { region: "a".into() }),
        "{back:?}"
    );
    assert_eq!(region_health(&r, "a", 11_040), Health::Up);
    assert_eq!(r.snapshot(11_040).regions[0].down_cause, None);
}

#[test]
fn a_switched_off_answer_is_ignored_when_reports_may_not_take_a_region_down() {
    let config = Config {
        down_on_unhealthy_report: false,
        ..Config::default()
    };
    let mut r = Router::new(config, [info("a"), info("b")]);
    r.probes_due(0);
    r.on_probe("a", 20, ok(20.0));
    r.on_probe("b", 80, ok(80.0));
    assert!(r.on_switched_off("a", 100).is_empty());
    assert!(r.on_switched_off("mars", 100).is_empty(), "unknown region");
    assert_eq!(region_health(&r, "a", 100), Health::Up);
    assert_eq!(r.current(), Some("a"));
}

#[test]
fn a_region_reporting_degraded_still_carries_traffic_and_is_probed_often() {
    let mut r = router(&["a"]);
    r.probes_due(0);
    let events = r.on_probe(
        "a",
        10,
        ProbeResult::Answered {
            status: 200,
            rtt_ms: 10.0,
            report: report(HealthStatus::Degraded),
        },
    );
    assert_eq!(
        events[0],
        RouterEvent::RegionDegraded {
            region: "a".into(),
            cause: DegradedCause::Reported
        }
    );
    assert_eq!(r.current(), Some("a"));
    assert_eq!(r.next_wake(10), Some(5_010));
}

#[test]
fn a_down_region_needs_two_good_probes_and_traffic_returns_when_it_is_nearest() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    request(&mut r, "a", 1_000, 1, RequestOutcome::Refused);
    assert_eq!(r.current(), Some("b"));
    r.probes_due(2_000);
    let first = r.on_probe("a", 2_020, ok(20.0));
    assert!(first.is_empty(), "one success is not enough: {first:?}");
    assert_eq!(region_health(&r, "a", 2_020), Health::Down);
    assert_eq!(r.probes_due(7_020), ["a"]);
    let second = r.on_probe("a", 7_040, ok(20.0));
    assert_eq!(
        second,
        [
            RouterEvent::RegionUp { region: "a".into() },
            changed(Some("b"), Some("a"), SwitchReason::Faster)
        ]
    );
}

#[test]
fn five_failed_requests_open_the_breaker_and_traffic_moves_at_once() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    for i in 0..4 {
        let events = request(&mut r, "a", 1_000 + i, 2, RequestOutcome::Status(503));
        assert!(switches(&events).is_empty());
    }
    let events = request(&mut r, "a", 1_004, 2, RequestOutcome::Status(503));
    assert_eq!(
        events,
        [
            RouterEvent::BreakerOpened {
                region: "a".into(),
                cause: BreakerCause::ConsecutiveFailures,
                cool_down_ms: 30_000
            },
            changed(Some("a"), Some("b"), SwitchReason::BreakerOpened)
        ]
    );
    assert!(r.snapshot(1_006).failing_over);
    assert_eq!(
        r.candidates(1_006),
        ["b"],
        "an open breaker is not even a last resort"
    );
    assert!(r.start_request("a", 1_006).is_none());
    assert_eq!(
        region_health(&r, "a", 1_006),
        Health::Up,
        "probes still say up"
    );
}

#[test]
fn a_half_open_breaker_lets_exactly_one_trial_through() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    for i in 0..5 {
        request(&mut r, "a", 1_000 + i, 2, RequestOutcome::Status(500));
    }
    let open = r.snapshot(20_000).regions[0].breaker.clone();
    assert_eq!(open.state, BreakerState::Open);
    assert_eq!(open.half_open_at_ms, Some(31_006));
    assert!(r.next_wake(20_000).unwrap() <= 31_006);
    assert_eq!(
        r.tick(31_006),
        [RouterEvent::BreakerHalfOpen { region: "a".into() }]
    );
    assert_eq!(r.candidates(31_006), ["b", "a"]);
    let trial = r.start_request("a", 31_006).expect("one trial");
    assert!(trial.is_trial());
    assert!(r.start_request("a", 31_007).is_none(), "no second trial");
    assert_eq!(r.candidates(31_007), ["b"]);
    let events = r.on_request_done(trial, 31_050, RequestOutcome::Status(201));
    assert_eq!(events, [RouterEvent::BreakerClosed { region: "a".into() }]);
    assert_eq!(
        r.current(),
        Some("b"),
        "closing alone does not move traffic back"
    );
    assert_eq!(r.snapshot(31_050).regions[0].breaker.cool_down_ms, 30_000);
}

#[test]
fn a_failed_trial_reopens_with_a_doubled_cool_down() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    for i in 0..5 {
        request(&mut r, "a", 1_000 + i, 2, RequestOutcome::Timeout);
    }
    let events = request(&mut r, "a", 31_006, 2_000, RequestOutcome::Timeout);
    assert!(events.contains(&RouterEvent::BreakerOpened {
        region: "a".into(),
        cause: BreakerCause::TrialFailed,
        cool_down_ms: 60_000
    }));
    assert_eq!(
        r.snapshot(33_006).regions[0].breaker.half_open_at_ms,
        Some(93_006)
    );
}

/// Regression (found by the deterministic simulation): after every region had been down for
/// minutes, probes saw them all back up, yet nothing was delivered for up to five more
/// minutes because each breaker waited out its doubled cool-down.
#[test]
fn a_region_that_probes_bring_back_up_gets_its_trial_without_waiting_out_the_cool_down() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    for i in 0..5 {
        request(&mut r, "a", 1_000 + i, 1, RequestOutcome::Refused);
    }
    assert_eq!(region_health(&r, "a", 1_010), Health::Down);
    assert!(
        r.start_request("a", 1_010).is_none(),
        "breaker open until 31 s"
    );
    r.on_probe("a", 6_000, ok(20.0));
    let events = r.on_probe("a", 11_000, ok(20.0));
    assert_eq!(
        events,
        [
            RouterEvent::RegionUp { region: "a".into() },
            RouterEvent::BreakerHalfOpen { region: "a".into() }
        ]
    );
    let trial = r.start_request("a", 11_001).expect("the trial goes now");
    assert!(trial.is_trial());
    let events = r.on_request_done(trial, 11_021, RequestOutcome::Status(201));
    assert!(events.contains(&RouterEvent::BreakerClosed { region: "a".into() }));
}

#[test]
fn a_breaker_opened_while_probes_stayed_fine_waits_out_its_cool_down() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    for i in 0..5 {
        request(&mut r, "a", 1_000 + i, 2, RequestOutcome::Status(503));
    }
    assert!(r.on_probe("a", 6_000, ok(20.0)).is_empty());
    assert!(
        r.start_request("a", 6_001).is_none(),
        "still open: requests fail there"
    );
    assert_eq!(
        r.snapshot(6_001).regions[0].breaker.state,
        BreakerState::Open
    );
}

#[test]
fn a_cancelled_trial_frees_the_slot() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    for i in 0..5 {
        request(&mut r, "a", 1_000 + i, 2, RequestOutcome::Status(429));
    }
    let trial = r.start_request("a", 40_000).unwrap();
    // Only the half-open notice (from the time that passed before the trial) comes out.
    assert_eq!(
        r.on_request_done(trial, 40_100, RequestOutcome::Cancelled),
        [RouterEvent::BreakerHalfOpen { region: "a".into() }]
    );
    assert!(r.start_request("a", 40_101).unwrap().is_trial());
}

#[test]
fn a_region_that_earned_the_switch_gets_its_trial_first_and_wins_on_success() {
    let mut r = started(&["a", "b"], &[20.0, 200.0]);
    for i in 0..5 {
        request(&mut r, "a", 1_000 + i, 2, RequestOutcome::Status(503));
    }
    assert_eq!(r.current(), Some("b"));
    // Cool-down over; probes say a is much faster, round after round.
    for round in 1..=2 {
        let now = 30_000 * round + 5_000;
        r.probes_due(now);
        r.on_probe("a", now, ok(20.0));
        r.on_probe("b", now, ok(200.0));
    }
    assert_eq!(r.current(), Some("b"), "a's breaker is not closed yet");
    assert_eq!(r.candidates(65_000), ["a", "b"], "a's trial comes first");
    let trial = r.start_request("a", 65_000).unwrap();
    assert!(trial.is_trial());
    let events = r.on_request_done(trial, 65_030, RequestOutcome::Status(201));
    assert_eq!(
        events,
        [
            RouterEvent::BreakerClosed { region: "a".into() },
            changed(Some("b"), Some("a"), SwitchReason::Faster)
        ]
    );
}

#[test]
fn fast_error_answers_never_make_a_region_look_fast() {
    let mut r = started(&["a", "b"], &[300.0, 310.0]);
    for i in 0..10 {
        request(
            &mut r,
            "a",
            1_000 + i * 1_000,
            250,
            RequestOutcome::Status(201),
        );
    }
    let before = r.snapshot(20_000).regions[0].clone();
    request(&mut r, "a", 20_000, 1, RequestOutcome::Status(503));
    request(&mut r, "a", 20_001, 1, RequestOutcome::Status(429));
    let after = r.snapshot(20_002).regions[0].clone();
    assert_eq!(after.p95_ms, before.p95_ms);
    assert_eq!(after.ewma_ms, before.ewma_ms);
    assert_eq!(after.last_request_rtt_ms, Some(250));
    assert_eq!(r.hedge_delay("a"), 250);
}

#[test]
fn client_errors_prove_the_region_works() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    for i in 0..10 {
        request(&mut r, "a", 1_000 + i, 5, RequestOutcome::Status(422));
    }
    assert_eq!(
        r.snapshot(2_000).regions[0].breaker.state,
        BreakerState::Closed
    );
    assert_eq!(r.current(), Some("a"));
}

#[test]
fn candidates_are_current_then_usable_by_latency_then_unknown_then_down() {
    let names = ["down", "open", "slow", "unknown", "fast", "mid"];
    let mut r = router(&names);
    r.probes_due(0);
    r.on_probe("fast", 10, ok(10.0));
    r.on_probe("mid", 50, ok(50.0));
    r.on_probe("slow", 300, ok(300.0));
    r.on_probe("open", 20, ok(20.0));
    r.on_probe("down", 5, ok(5.0));
    request(&mut r, "down", 400, 1, RequestOutcome::Refused);
    for i in 0..5 {
        request(&mut r, "open", 500 + i, 1, RequestOutcome::Status(500));
    }
    // "fast" was the first answer processed; "down" (5 ms) is faster but by less than 10 ms.
    assert_eq!(r.current(), Some("fast"));
    assert_eq!(
        r.candidates(600),
        ["fast", "mid", "slow", "unknown", "down"]
    );
    assert_eq!(r.hedge_target(600, "fast").as_deref(), Some("mid"));
}

#[test]
fn with_every_region_down_traffic_stops_and_resumes_on_recovery() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    request(&mut r, "a", 1_000, 1, RequestOutcome::Refused);
    let events = request(&mut r, "b", 1_001, 1, RequestOutcome::Refused);
    assert_eq!(
        switches(&events),
        [&changed(Some("b"), None, SwitchReason::CurrentDown)]
    );
    let s = r.snapshot(1_002);
    assert_eq!(s.current, None);
    assert!(s.all_unreachable && s.failing_over);
    assert_eq!(
        r.candidates(1_002),
        ["a", "b"],
        "still worth a try, fastest first"
    );
    r.probes_due(2_002);
    r.on_probe("b", 2_080, ok(80.0));
    r.probes_due(7_080);
    let events = r.on_probe("b", 7_160, ok(80.0));
    assert_eq!(
        switches(&events),
        [&changed(None, Some("b"), SwitchReason::Recovered)]
    );
    assert!(!r.snapshot(7_160).all_unreachable);
}

#[test]
fn a_measured_network_round_trip_is_the_sample_when_shorter() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    // The adapter ran again 600 ms after each request, but the network took 140 ms: a busy
    // page must not lengthen the hedge delay.
    for i in 0..10 {
        let ticket = r.start_request("a", 1_000 + i * 1_000).expect("permitted");
        r.on_request_timed(
            ticket,
            1_600 + i * 1_000,
            RequestOutcome::Status(201),
            Some(140),
        );
    }
    assert_eq!(r.hedge_delay("a"), 140);
    // A measure longer than the wait itself, or below zero, cannot be: the wait bounds it.
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    for i in 0..10 {
        let ticket = r.start_request("a", 1_000 + i * 1_000).expect("permitted");
        let measured = if i % 2 == 0 { Some(5_000) } else { Some(-7) };
        r.on_request_timed(
            ticket,
            1_300 + i * 1_000,
            RequestOutcome::Status(201),
            measured,
        );
    }
    assert_eq!(r.hedge_delay("a"), 300);
}

#[test]
fn hedge_delay_is_the_p95_of_recent_requests_within_bounds() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    assert_eq!(
        r.hedge_delay("a"),
        100,
        "3 × 20 ms probe RTT, raised to the 100 ms floor"
    );
    for i in 0..19 {
        request(
            &mut r,
            "a",
            1_000 + i * 1_000,
            150 + i,
            RequestOutcome::Status(201),
        );
    }
    request(&mut r, "a", 30_000, 900, RequestOutcome::Status(201));
    // 20 samples: 150..=168 and 900; nearest-rank p95 is the 19th: 168.
    assert_eq!(r.hedge_delay("a"), 168);
    for i in 0..40 {
        request(
            &mut r,
            "a",
            40_000 + i * 10_000,
            9_000,
            RequestOutcome::Status(201),
        );
    }
    assert_eq!(r.hedge_delay("a"), 2_000);
    assert_eq!(r.hedge_delay("nowhere"), 2_000);
}

#[test]
fn a_clock_stepping_back_changes_nothing() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    for i in 0..5 {
        request(&mut r, "a", 10_000 + i, 1, RequestOutcome::Status(503));
    }
    // The adapter's clock jumps back an hour: the cool-down still runs from 10 s.
    assert!(r.start_request("a", -3_600_000).is_none());
    assert_eq!(r.snapshot(0).at_ms, 10_005);
    assert!(r.start_request("a", 40_004).is_none());
    assert!(r.start_request("a", 40_005).unwrap().is_trial());
}

#[test]
fn unknown_names_are_ignored() {
    let mut r = started(&["a"], &[20.0]);
    assert!(r.on_probe("zz", 100, ok(1.0)).is_empty());
    assert!(r.start_request("zz", 100).is_none());
    assert_eq!(r.url("a"), Some("http://a.test"));
    assert_eq!(r.url("zz"), None);
}

#[test]
fn replacing_the_region_list_keeps_state_and_leaves_a_removed_current() {
    let mut r = started(&["a", "b"], &[20.0, 80.0]);
    let events = r.set_regions([info("b"), info("c"), info("b")], 1_000);
    assert_eq!(
        switches(&events),
        [&changed(Some("a"), Some("b"), SwitchReason::RegionRemoved)]
    );
    let s = r.snapshot(1_000);
    assert_eq!(
        s.regions
            .iter()
            .map(|x| x.name.as_str())
            .collect::<Vec<_>>(),
        ["b", "c"]
    );
    assert_eq!(s.regions[0].ewma_ms, Some(80.0), "b's history kept");
    assert_eq!(s.regions[1].health, Health::Unknown);
    assert_eq!(r.probes_due(1_000), ["c"]);
}

#[test]
fn duplicate_region_names_are_dropped() {
    let r = Router::new(Config::default(), [info("a"), info("a"), info("b")]);
    assert_eq!(r.regions().count(), 2);
}

#[test]
fn next_wake_is_none_without_regions_and_never_in_the_past() {
    let r = Router::new(Config::default(), []);
    assert_eq!(r.next_wake(5), None);
    assert!(r.snapshot(5).all_unreachable);
    let r = router(&["a"]);
    assert_eq!(r.next_wake(1_000), Some(1_000), "due now, not at i64::MIN");
}

#[test]
fn snapshot_and_events_are_serialisable() {
    fn assert_serde<T: serde::Serialize + for<'de> serde::Deserialize<'de>>() {}
    assert_serde::<mfe_router::RouterSnapshot>();
    assert_serde::<RouterEvent>();
    assert_serde::<Config>();
}
