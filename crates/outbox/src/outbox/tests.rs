//! Rule-by-rule tests of the state machine. The property tests in `tests/` check that the
//! rules compose.

use super::*;
use crate::classify::Outcome;
use crate::entry::tests::command;
use crate::random::{Fixed, SplitMix64};
use crate::{HedgeVerdict, EXPIRED};

const T0: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;

fn outbox(config: Config) -> Outbox {
    Outbox::new(config)
}

fn one_at_a_time() -> Config {
    Config {
        max_batch: 1,
        ..Config::default()
    }
}

fn put(o: &mut Outbox, id: &str, stream: &str, seq: u64) {
    let changes = o.enqueue(command(id, stream, seq), T0).unwrap();
    assert_eq!(changes.len(), 1);
}

fn ids(w: &Work) -> Vec<&str> {
    w.ids().collect()
}

fn poll(o: &mut Outbox, now: i64) -> Poll {
    o.poll(now, &mut Fixed(0.5))
}

fn answer(o: &mut Outbox, now: i64, w: &Work, outcome: Outcome) -> Completion {
    o.complete(now, w, "eu-west", &outcome, &mut Fixed(0.5))
}

fn status(o: &Outbox, id: &str) -> CommandStatus {
    o.status(id).unwrap()
}

fn put_of<'a>(changes: &'a [Change], id: &str) -> &'a Entry {
    changes
        .iter()
        .find_map(|c| match c {
            Change::Put(e) | Change::Mark(e) if e.id() == id => Some(e),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Put for {id} in {changes:?}"))
}

#[test]
fn enqueue_is_durable_pending_and_idempotent() {
    let mut o = outbox(Config::default());
    let changes = o.enqueue(command("a", "s", 1), T0).unwrap();
    let e = put_of(&changes, "a");
    assert_eq!(e.status, CommandStatus::Pending);
    assert_eq!((e.attempts, e.next_at, e.enqueued_at), (0, T0, T0));
    assert_eq!(o.enqueue(command("a", "s", 1), T0 + 5).unwrap(), vec![]);
    let mut other = command("a", "s", 1);
    other.kind = "task.remove".into();
    assert_eq!(
        o.enqueue(other, T0),
        Err(OutboxError::DuplicateId("a".into()))
    );
    let err = o.enqueue(command("b", "", 1), T0).unwrap_err();
    assert_eq!(err.to_string(), "command not queued: `stream` is empty");
    assert!(o.enqueue(command("", "s", 1), T0).is_err());
}

#[test]
fn a_stream_sends_its_head_first_and_nothing_else_until_it_is_settled() {
    let mut o = outbox(one_at_a_time());
    put(&mut o, "a1", "a", 1);
    put(&mut o, "a2", "a", 2);
    let p = poll(&mut o, T0);
    assert_eq!(p.work.len(), 1);
    assert_eq!(ids(&p.work[0]), ["a1"]);
    assert_eq!(put_of(&p.changes, "a1").status, CommandStatus::Inflight);
    assert_eq!(put_of(&p.changes, "a1").attempts, 1);
    assert!(poll(&mut o, T0).work.is_empty(), "a2 waits for a1");

    // A retry of the head still blocks the stream.
    answer(&mut o, T0, &p.work[0], Outcome::http(503));
    let later = o.get("a1").unwrap().next_at;
    assert!(poll(&mut o, later - 1).work.is_empty());
    let p = poll(&mut o, later);
    assert_eq!(ids(&p.work[0]), ["a1"]);

    // A dead head unblocks the stream.
    answer(&mut o, later, &p.work[0], Outcome::http(422));
    let p = poll(&mut o, later);
    assert_eq!(ids(&p.work[0]), ["a2"]);
}

#[test]
fn stream_order_is_by_seq_then_id_not_by_arrival() {
    let mut o = outbox(one_at_a_time());
    put(&mut o, "z", "s", 2);
    put(&mut o, "y", "s", 1);
    put(&mut o, "x", "s", 1);
    let order: Vec<&str> = o.stream("s").iter().map(|e| e.id()).collect();
    assert_eq!(order, ["x", "y", "z"]);
}

#[test]
fn streams_run_concurrently_up_to_the_limit() {
    let mut o = outbox(Config {
        max_batch: 1,
        max_streams_in_flight: 4,
        ..Config::default()
    });
    for i in 0..6 {
        put(&mut o, &format!("c{i}"), &format!("s{i}"), 1);
    }
    let p = poll(&mut o, T0);
    assert_eq!(p.work.len(), 4);
    assert_eq!(o.counts().inflight, 4);
    assert!(poll(&mut o, T0).work.is_empty(), "limit reached");
    answer(&mut o, T0, &p.work[0], Outcome::http(200));
    assert_eq!(poll(&mut o, T0).work.len(), 1, "a freed slot is reused");
}

#[test]
fn batches_keep_each_streams_chunk_together_and_in_order() {
    let mut o = outbox(Config::default());
    put(&mut o, "a1", "a", 1);
    put(&mut o, "a2", "a", 2);
    put(&mut o, "a3", "a", 3);
    put(&mut o, "b1", "b", 1);
    let p = poll(&mut o, T0);
    assert_eq!(p.work.len(), 1);
    let got = ids(&p.work[0]);
    assert_eq!(got.len(), 4);
    let pos = |id: &str| got.iter().position(|x| *x == id).unwrap();
    assert!(pos("a1") < pos("a2") && pos("a2") < pos("a3"));
    assert_eq!(p.changes.len(), 4);
    assert!(!p.work[0].is_single());
}

#[test]
fn a_full_batch_leaves_the_rest_of_a_stream_for_later() {
    let mut o = outbox(Config {
        max_batch: 2,
        ..Config::default()
    });
    put(&mut o, "a1", "a", 1);
    put(&mut o, "a2", "a", 2);
    put(&mut o, "a3", "a", 3);
    put(&mut o, "b1", "b", 1);
    let p = poll(&mut o, T0);
    assert_eq!(p.work.len(), 2);
    let all: Vec<Vec<&str>> = p.work.iter().map(ids).collect();
    assert!(all.contains(&vec!["a1", "a2"]), "{all:?}");
    assert!(all.contains(&vec!["b1"]), "{all:?}");
    assert_eq!(status(&o, "a3"), CommandStatus::Pending);
    let a = p.work.iter().find(|w| w.commands[0].id == "a1").unwrap();
    answer(&mut o, T0, a, Outcome::http(200));
    assert_eq!(ids(&poll(&mut o, T0).work[0]), ["a3"]);
}

/// Sends every request `poll` hands out, answering each command with `status`, until nothing
/// is due; returns the request sizes and the ids in the order they left.
fn drain_with(
    o: &mut Outbox,
    mut answer_of: impl FnMut(&Work) -> Option<Outcome>,
) -> (Vec<usize>, Vec<String>) {
    let mut sent: Vec<String> = Vec::new();
    let mut sizes = Vec::new();
    for _ in 0..1_000 {
        let p = poll(o, T0);
        if p.work.is_empty() {
            break;
        }
        assert_eq!(p.work.len(), 1, "one stream: one request at a time");
        let w = &p.work[0];
        assert_eq!(
            p.changes.len(),
            w.commands.len(),
            "every command marked in flight"
        );
        sizes.push(w.commands.len());
        match answer_of(w) {
            // the request as a whole was answered
            Some(outcome) => {
                answer(o, T0, w, outcome);
            }
            None => {
                sent.extend(w.ids().map(str::to_string));
                let items: Vec<(String, Outcome)> = w
                    .ids()
                    .map(|id| (id.to_string(), Outcome::http(201)))
                    .collect();
                o.complete_items(T0, w, "eu-west", &items, &mut Fixed(0.5));
            }
        }
    }
    (sizes, sent)
}

fn long_stream(n: u64) -> (Outbox, Vec<String>) {
    let mut o = outbox(Config::default());
    for seq in 1..=n {
        put(&mut o, &format!("c{seq:04}"), "s", seq);
    }
    let ids = (1..=n).map(|seq| format!("c{seq:04}")).collect();
    (o, ids)
}

#[test]
fn by_default_one_long_stream_goes_out_in_requests_of_the_regions_batch_limit_in_order() {
    // The regional API takes up to MAX_BATCH_COMMANDS (500) per `POST /commands:batch`.
    let (mut o, expected) = long_stream(1_200);
    let (sizes, sent) = drain_with(&mut o, |_| None);
    assert_eq!(sizes, [500, 500, 200]);
    assert_eq!(sent, expected, "stream order");
    assert_eq!(o.counts().delivered, 1_200);
}

#[test]
fn a_batch_refused_as_too_large_goes_out_again_at_once_in_halves_and_nothing_is_dead() {
    // A region that takes at most 120 per batch answers 413 to anything bigger.
    let (mut o, expected) = long_stream(600);
    let (sizes, sent) = drain_with(&mut o, |w| {
        (w.commands.len() > 120)
            .then(|| Outcome::http(413).with_reason("600 commands in one batch; at most 120"))
    });
    assert_eq!(
        sizes,
        [500, 250, 125, 62, 62, 62, 62, 62, 62, 62, 62, 62, 42]
    );
    assert_eq!(sent, expected, "stream order kept through the splits");
    let counts = o.counts();
    assert_eq!((counts.delivered, counts.dead), (600, 0));
}

#[test]
fn a_too_large_batch_is_neither_a_failure_of_the_region_nor_an_attempt_of_its_commands() {
    let (mut o, _) = long_stream(8);
    let tokens = o.budget_tokens();
    let p = poll(&mut o, T0);
    assert_eq!(p.work[0].commands.len(), 8);
    let done = answer(
        &mut o,
        T0,
        &p.work[0],
        Outcome::http(413).with_reason("too big"),
    );
    assert!(!done.failover, "the region is fine: no failover");
    assert_eq!(o.budget_tokens(), tokens, "no retry budget spent");
    assert_eq!(done.changes.len(), 8);
    for id in ["c0001", "c0008"] {
        let e = put_of(&done.changes, id);
        assert_eq!(e.status, CommandStatus::Pending);
        assert_eq!(e.next_at, T0, "due at once");
        assert_eq!(e.attempts, 0, "the request was refused, not the command");
        assert_eq!(
            e.last_error.as_deref(),
            Some("HTTP 413: too big; sent again in batches of at most 4")
        );
    }
    let next = poll(&mut o, T0);
    assert_eq!(ids(&next.work[0]), ["c0001", "c0002", "c0003", "c0004"]);
}

#[test]
fn a_single_command_refused_as_too_large_is_still_a_dead_letter_after_the_splits() {
    let (mut o, _) = long_stream(2);
    let (sizes, sent) = drain_with(&mut o, |w| {
        w.ids()
            .any(|id| id == "c0001")
            .then(|| Outcome::http(413).with_reason("command over 64 KiB"))
    });
    assert_eq!(sizes, [2, 1, 1]);
    assert_eq!(sent, ["c0002"]);
    assert_eq!(status(&o, "c0001"), CommandStatus::Dead);
    assert_eq!(status(&o, "c0002"), CommandStatus::Delivered);
}

#[test]
fn delivered_needs_an_acknowledgement() {
    let mut o = outbox(Config::default());
    put(&mut o, "a", "s", 1);
    let p = poll(&mut o, T0);
    let done = answer(&mut o, T0 + 40, &p.work[0], Outcome::http(201));
    let e = put_of(&done.changes, "a");
    assert_eq!(e.status, CommandStatus::Delivered);
    assert_eq!(e.delivered_at, Some(T0 + 40));
    assert_eq!(e.region.as_deref(), Some("eu-west"));
    assert!(!done.failover);
}

#[test]
fn conflict_retries_soon_without_failover_or_budget() {
    let mut o = outbox(Config::default());
    put(&mut o, "a", "s", 1);
    let p = poll(&mut o, T0);
    let done = answer(&mut o, T0, &p.work[0], Outcome::http(409));
    let e = put_of(&done.changes, "a");
    assert_eq!(e.status, CommandStatus::Pending);
    assert_eq!(e.next_at, T0 + 1_000, "1 s × (0.5 + 0.5)");
    assert_eq!(e.last_error.as_deref(), Some("HTTP 409"));
    assert!(!done.failover);
    assert_eq!(o.budget_tokens(), 10.0);
}

#[test]
fn server_trouble_backs_off_with_full_jitter_and_asks_for_failover() {
    for outcome in [
        Outcome::http(500),
        Outcome::http(503),
        Outcome::http(429),
        Outcome::http(408),
        Outcome::http(425),
        Outcome::Network("connection refused".into()),
        Outcome::Timeout,
    ] {
        let mut o = outbox(Config::default());
        put(&mut o, "a", "s", 1);
        let mut now = T0;
        for attempt in 1..=8u32 {
            let p = poll(&mut o, now);
            assert_eq!(p.work.len(), 1, "{outcome:?} attempt {attempt}");
            let done = o.complete(now, &p.work[0], "us-east", &outcome, &mut Fixed(0.999_999));
            assert!(done.failover);
            let e = put_of(&done.changes, "a");
            assert_eq!(e.status, CommandStatus::Pending);
            assert_eq!(e.attempts, attempt);
            let ceiling = crate::backoff::ceiling_ms(attempt, 1_000, 60_000);
            assert!(e.next_at - now < ceiling && e.next_at - now >= ceiling - 1);
            assert_eq!(e.last_error.as_deref(), Some(outcome.describe().as_str()));
            now = e.next_at;
            if attempt == 5 {
                break; // the budget would start throttling after this
            }
        }
    }
}

#[test]
fn permanent_refusals_become_dead_letters_with_the_servers_reason() {
    for status in [400u16, 403, 404, 413, 422] {
        let mut o = outbox(Config::default());
        put(&mut o, "a", "s", 1);
        let p = poll(&mut o, T0);
        let done = answer(
            &mut o,
            T0,
            &p.work[0],
            Outcome::http(status).with_reason("title too long"),
        );
        let e = put_of(&done.changes, "a");
        assert_eq!(e.status, CommandStatus::Dead);
        let reason = format!("HTTP {status}: title too long");
        assert_eq!(e.dead_reason.as_deref(), Some(reason.as_str()));
        assert!(!done.failover);
        assert!(
            poll(&mut o, T0 + HOUR).work.is_empty(),
            "dead is not resent"
        );
    }
}

#[test]
fn unauthorized_pauses_everything_until_resumed() {
    let mut o = outbox(Config {
        max_batch: 1,
        ..Config::default()
    });
    put(&mut o, "a", "s", 1);
    put(&mut o, "b", "t", 1);
    let p = poll(&mut o, T0);
    assert_eq!(p.work.len(), 2);
    let done = answer(&mut o, T0, &p.work[0], Outcome::http(401));
    assert!(done.auth_paused && o.is_auth_paused());
    let id = p.work[0].commands[0].id.clone();
    assert_eq!(status(&o, &id), CommandStatus::Pending);
    // The other request's answer still counts while paused.
    answer(&mut o, T0, &p.work[1], Outcome::http(200));
    assert!(poll(&mut o, T0 + HOUR / 2).work.is_empty());
    // Only timers that run regardless: removal of the delivered entry, then retention.
    assert_eq!(o.next_wake(T0), Some(T0 + HOUR));
    o.resume_auth();
    assert_eq!(o.next_wake(T0 + 1), Some(T0 + 1));
    let p = poll(&mut o, T0 + 1);
    assert_eq!(ids(&p.work[0]), [id.as_str()]);
    o.pause_auth();
    assert!(poll(&mut o, T0 + 2).work.is_empty());
}

#[test]
fn retry_after_is_a_floor_in_seconds_or_as_a_date() {
    let date = httpdate::fmt_http_date(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis((T0 + 90_000) as u64),
    );
    let cases = [
        ("30", T0 + 30_000),
        (date.as_str(), T0 + 90_000),
        // In the past: no effect beyond the usual backoff (< 1 s on a first failure).
        ("Sun, 06 Nov 1994 08:49:37 GMT", T0 + 500),
        ("garbage", T0 + 500),
        // Absurd: capped at max_delay_ms.
        ("999999999", T0 + HOUR),
    ];
    for (value, expect) in cases {
        for status in [503u16, 429, 409] {
            let mut o = outbox(Config::default());
            put(&mut o, "a", "s", 1);
            let p = poll(&mut o, T0);
            let done = answer(
                &mut o,
                T0,
                &p.work[0],
                Outcome::http(status).with_retry_after(value),
            );
            let e = put_of(&done.changes, "a");
            let expect = if status == 409 {
                expect.max(T0 + 1_000)
            } else {
                expect
            };
            assert_eq!(e.next_at, expect, "{status} {value}");
            assert!(poll(&mut o, expect - 1).work.is_empty(), "{status} {value}");
            assert_eq!(poll(&mut o, expect).work.len(), 1, "{status} {value}");
        }
    }
}

#[test]
fn the_retry_budget_throttles_retries_but_never_drops_them() {
    let mut o = outbox(Config {
        max_batch: 1,
        max_streams_in_flight: 10,
        ..Config::default()
    });
    for i in 0..6 {
        put(&mut o, &format!("c{i}"), &format!("s{i}"), 1);
    }
    let p = poll(&mut o, T0);
    assert_eq!(p.work.len(), 6);
    for w in &p.work[..5] {
        answer(&mut o, T0, w, Outcome::http(503));
    }
    assert_eq!(o.budget_tokens(), 5.0);
    // First attempts are not retries: a new command still goes out at once.
    put(&mut o, "fresh", "fresh", 1);
    let now = T0 + 60_000;
    let p2 = poll(&mut o, now);
    let sent: Vec<&str> = p2.work.iter().flat_map(ids).collect();
    assert!(sent.contains(&"fresh"));
    // Of the five due retries only one probe goes; the others are pushed later, not dropped.
    assert_eq!(sent.len(), 2, "{sent:?}");
    let pushed: Vec<&Entry> = p2
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::Put(e) if e.status == CommandStatus::Pending => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(pushed.len(), 4);
    for e in &pushed {
        assert!(e.next_at >= now + 1_000, "{e:?}");
    }
    // While the probe is out, nothing else is retried.
    let p3 = poll(&mut o, now + 1_500);
    assert!(p3.work.is_empty(), "{:?}", p3.work);
    assert_eq!(p3.changes.len(), 4, "pushed again");
    assert_eq!(o.counts().dead + o.counts().delivered, 0);
    // Hedges spend from the same budget: while it is throttled only the floor lets one out,
    // once per period.
    let tokens = o.budget_tokens();
    assert!(tokens <= 5.0, "throttled: {tokens}");
    assert_eq!(o.try_spend_hedge(now + 1_500), HedgeVerdict::Send);
    assert_eq!(
        o.budget_tokens(),
        tokens,
        "the floor's hedge spends no token"
    );
    assert_eq!(
        o.try_spend_hedge(now + 1_600),
        HedgeVerdict::AskAgainAt(now + 2_000)
    );
}

#[test]
fn successes_refill_the_budget_and_hedges_spend_it() {
    let mut o = outbox(Config::default());
    assert_eq!(o.try_spend_hedge(T0), HedgeVerdict::Send);
    assert_eq!(o.budget_tokens(), 9.0);
    put(&mut o, "a", "s", 1);
    let p = poll(&mut o, T0);
    answer(&mut o, T0, &p.work[0], Outcome::http(200));
    assert!((o.budget_tokens() - 9.1).abs() < 1e-9);
    o.set_online(false);
    assert_eq!(o.try_spend_hedge(T0), HedgeVerdict::No);
}

#[test]
fn a_batch_failure_costs_one_token() {
    let mut o = outbox(Config::default());
    for i in 0..10 {
        put(&mut o, &format!("c{i}"), "s", i);
    }
    let p = poll(&mut o, T0);
    assert_eq!(p.work.len(), 1);
    answer(&mut o, T0, &p.work[0], Outcome::http(503));
    assert_eq!(o.budget_tokens(), 9.0);
}

#[test]
fn offline_hands_out_nothing_and_online_makes_due_work_available() {
    let mut o = outbox(Config::default());
    put(&mut o, "a", "s", 1);
    let p = poll(&mut o, T0);
    o.set_online(false);
    // The browser noticed late: the send fails while offline. No backoff, no budget.
    let done = answer(&mut o, T0, &p.work[0], Outcome::Network("offline".into()));
    assert_eq!(put_of(&done.changes, "a").next_at, T0);
    assert_eq!(o.budget_tokens(), 10.0);
    put(&mut o, "b", "t", 1);
    assert!(poll(&mut o, T0 + 1).work.is_empty());
    assert_eq!(o.next_wake(T0 + 1), Some(T0 + 24 * HOUR));
    o.set_online(true);
    assert_eq!(o.next_wake(T0 + 1), Some(T0 + 1));
    let p = poll(&mut o, T0 + 1);
    assert_eq!(p.work.iter().map(|w| w.commands.len()).sum::<usize>(), 2);
}

#[test]
fn undelivered_entries_expire_into_dead_letters_never_vanish() {
    let mut o = outbox(Config::default());
    put(&mut o, "a", "s", 1);
    put(&mut o, "b", "s", 2);
    o.set_online(false);
    assert_eq!(o.next_wake(T0), Some(T0 + 24 * HOUR));
    assert!(poll(&mut o, T0 + 24 * HOUR - 1).changes.is_empty());
    let p = poll(&mut o, T0 + 24 * HOUR);
    assert_eq!(p.changes.len(), 2);
    for id in ["a", "b"] {
        let e = put_of(&p.changes, id);
        assert_eq!(e.status, CommandStatus::Dead);
        assert_eq!(e.dead_reason.as_deref(), Some(EXPIRED));
    }
    assert_eq!(o.counts().dead, 2);
    assert_eq!(
        o.next_wake(T0 + 24 * HOUR),
        None,
        "dead letters wait for the user"
    );
}

#[test]
fn inflight_entries_do_not_expire_under_a_request() {
    let mut o = outbox(Config::default());
    put(&mut o, "a", "s", 1);
    let p = poll(&mut o, T0 + 24 * HOUR - 10);
    assert_eq!(p.work.len(), 1);
    let done = answer(&mut o, T0 + 24 * HOUR + 10, &p.work[0], Outcome::http(200));
    assert_eq!(put_of(&done.changes, "a").status, CommandStatus::Delivered);
}

#[test]
fn delivered_entries_are_kept_for_a_while_then_deleted() {
    let mut o = outbox(Config {
        keep_delivered_ms: 10_000,
        ..Config::default()
    });
    put(&mut o, "a", "s", 1);
    let p = poll(&mut o, T0);
    answer(&mut o, T0 + 5, &p.work[0], Outcome::http(200));
    assert_eq!(o.next_wake(T0 + 5), Some(T0 + 10_005));
    assert!(poll(&mut o, T0 + 10_004).changes.is_empty());
    let p = poll(&mut o, T0 + 10_005);
    assert_eq!(p.changes, vec![Change::Delete("a".into())]);
    assert!(o.get("a").is_none());
    assert_eq!(o.next_wake(T0 + 10_005), None);
}

#[test]
fn restore_turns_inflight_back_into_pending_and_rebuilds_order() {
    let mut a = outbox(one_at_a_time());
    put(&mut a, "s-2", "s", 2);
    put(&mut a, "s-1", "s", 1);
    put(&mut a, "t-1", "t", 1);
    let p = poll(&mut a, T0);
    assert_eq!(p.work.len(), 2);
    let stored: Vec<Entry> = a.entries().cloned().collect();

    let mut b = outbox(one_at_a_time());
    let changes = b.restore(stored, T0 + 100);
    assert_eq!(changes.len(), 2, "only the inflight ones are rewritten");
    for c in &changes {
        let Change::Put(e) = c else { panic!("{c:?}") };
        assert_eq!(e.status, CommandStatus::Pending);
        assert_eq!(e.attempts, 1, "the interrupted send still counts");
        assert!(e.next_at <= T0 + 100);
        assert!(e.last_error.as_deref().unwrap().starts_with("interrupted"));
    }
    let order: Vec<&str> = b.stream("s").iter().map(|e| e.id()).collect();
    assert_eq!(order, ["s-1", "s-2"]);
    let p = poll(&mut b, T0 + 100);
    let sent: Vec<&str> = p.work.iter().flat_map(ids).collect();
    assert_eq!(sent.len(), 2);
    assert!(sent.contains(&"s-1") && sent.contains(&"t-1"));
}

#[test]
fn restore_repairs_incomplete_final_states_and_adopt_adds_only_unknown_ids() {
    let mut delivered = Entry::new(command("d", "s", 1), T0);
    delivered.status = CommandStatus::Delivered;
    let mut dead = Entry::new(command("x", "s", 2), T0);
    dead.status = CommandStatus::Dead;
    let mut o = outbox(Config::default());
    let changes = o.restore(vec![delivered, dead], T0 + 7);
    assert_eq!(put_of(&changes, "d").delivered_at, Some(T0 + 7));
    assert_eq!(
        put_of(&changes, "x").dead_reason.as_deref(),
        Some("unknown")
    );

    let other_tab = Entry::new(command("n", "s", 3), T0 + 8);
    assert!(
        o.adopt(other_tab.clone(), T0 + 9).is_empty(),
        "stored as is"
    );
    assert_eq!(o.get("n"), Some(&other_tab));
    let mut changed = other_tab;
    changed.attempts = 9;
    assert!(o.adopt(changed, T0 + 9).is_empty());
    assert_eq!(o.get("n").unwrap().attempts, 0, "known ids are left alone");
}

#[test]
fn dead_letters_can_be_retried_or_discarded() {
    let mut o = outbox(Config::default());
    put(&mut o, "a", "s", 1);
    assert_eq!(
        o.discard("a").unwrap_err().to_string(),
        "command a is pending, this needs it to be dead"
    );
    assert_eq!(
        o.retry_dead("nope", T0),
        Err(OutboxError::NotFound("nope".into()))
    );
    let p = poll(&mut o, T0);
    answer(
        &mut o,
        T0,
        &p.work[0],
        Outcome::http(422).with_reason("bad"),
    );

    let later = T0 + 2 * HOUR;
    let changes = o.retry_dead("a", later).unwrap();
    let e = put_of(&changes, "a");
    assert_eq!(e.status, CommandStatus::Pending);
    assert_eq!((e.attempts, e.next_at, e.enqueued_at), (0, later, later));
    assert_eq!(e.dead_reason, None);
    assert_eq!(
        e.last_error.as_deref(),
        Some("HTTP 422: bad"),
        "kept for context"
    );
    let p = poll(&mut o, later);
    assert_eq!(ids(&p.work[0]), ["a"]);
    answer(&mut o, later, &p.work[0], Outcome::http(404));
    assert_eq!(o.discard("a").unwrap(), vec![Change::Delete("a".into())]);
    assert!(o.get("a").is_none());
    assert!(o.discard("a").is_err());
}

#[test]
fn abandon_undoes_an_enqueue_that_could_not_be_stored() {
    let mut o = outbox(Config::default());
    put(&mut o, "a", "s", 1);
    assert_eq!(o.abandon("a").unwrap(), vec![Change::Delete("a".into())]);
    assert!(poll(&mut o, T0).work.is_empty());
    put(&mut o, "b", "s", 1);
    poll(&mut o, T0);
    assert!(o.abandon("b").is_err(), "already sent");
}

#[test]
fn batch_items_are_settled_one_by_one_and_missing_ones_retry() {
    let mut o = outbox(Config::default());
    put(&mut o, "a1", "a", 1);
    put(&mut o, "a2", "a", 2);
    put(&mut o, "a3", "a", 3);
    put(&mut o, "b1", "b", 1);
    let p = poll(&mut o, T0);
    let items = vec![
        ("a1".to_string(), Outcome::http(201)),
        ("a2".to_string(), Outcome::http(503)),
        ("a3".to_string(), Outcome::http(424)),
        // b1 missing from the answer
    ];
    let done = o.complete_items(T0, &p.work[0], "eu-west", &items, &mut Fixed(0.5));
    assert!(done.failover);
    assert_eq!(status(&o, "a1"), CommandStatus::Delivered);
    assert_eq!(status(&o, "a2"), CommandStatus::Pending);
    assert_eq!(status(&o, "a3"), CommandStatus::Pending);
    assert_eq!(status(&o, "b1"), CommandStatus::Pending);
    assert!(o
        .get("b1")
        .unwrap()
        .last_error
        .as_deref()
        .unwrap()
        .contains("no result"));
    assert_eq!(done.changes.len(), 4);
    assert_eq!(o.budget_tokens(), 9.0, "one request, one token");
}

#[test]
fn a_late_acknowledgement_is_recorded_and_other_late_answers_are_ignored() {
    let mut o = outbox(Config {
        inflight_lease_ms: 1_000,
        ..Config::default()
    });
    put(&mut o, "a", "s", 1);
    let first = poll(&mut o, T0).work.remove(0);
    assert_eq!(o.next_wake(T0), Some(T0 + 1_000));
    // No answer within the lease: treated as lost.
    let p = poll(&mut o, T0 + 1_000);
    assert_eq!(put_of(&p.changes, "a").status, CommandStatus::Pending);
    // A late failure for the old request changes nothing.
    let done = answer(&mut o, T0 + 1_100, &first, Outcome::http(503));
    assert!(done.changes.is_empty());
    // Resent, and then the first request's acknowledgement arrives after all.
    let due = o.get("a").unwrap().next_at;
    let second = poll(&mut o, due).work.remove(0);
    let done = answer(&mut o, due + 1, &first, Outcome::http(200));
    assert_eq!(put_of(&done.changes, "a").status, CommandStatus::Delivered);
    // The second request's answer is now late too.
    assert!(answer(&mut o, due + 2, &second, Outcome::http(422))
        .changes
        .is_empty());
    assert_eq!(status(&o, "a"), CommandStatus::Delivered);
    assert_eq!(o.counts().inflight, 0);
}

#[test]
fn next_wake_follows_the_earliest_due_head() {
    let mut o = outbox(Config::default());
    assert_eq!(o.next_wake(T0), None);
    put(&mut o, "a", "s", 1);
    assert_eq!(o.next_wake(T0 + 50), Some(T0 + 50), "overdue means now");
    let p = poll(&mut o, T0);
    assert_eq!(o.next_wake(T0), Some(T0 + o.config().inflight_lease_ms));
    let done = answer(&mut o, T0, &p.work[0], Outcome::http(503));
    let e = put_of(&done.changes, "a");
    assert_eq!(o.next_wake(T0), Some(e.next_at));
}

#[test]
fn next_wake_ignores_heads_while_all_slots_are_busy() {
    let mut o = outbox(Config {
        max_batch: 1,
        max_streams_in_flight: 1,
        ..Config::default()
    });
    put(&mut o, "a", "s", 1);
    put(&mut o, "b", "t", 1);
    poll(&mut o, T0);
    assert_eq!(
        o.next_wake(T0),
        Some(T0 + o.config().inflight_lease_ms),
        "b is due but can't go: no busy loop"
    );
}

#[test]
fn a_backward_clock_jump_cannot_stall_delivery() {
    let mut o = outbox(Config::default());
    put(&mut o, "a", "s", 1);
    let p = poll(&mut o, T0);
    let done = answer(
        &mut o,
        T0,
        &p.work[0],
        Outcome::http(503).with_retry_after("60"),
    );
    assert_eq!(put_of(&done.changes, "a").next_at, T0 + 60_000);
    // The clock goes back a day: waiting for T0 + 60 s would take a day.
    let back = T0 - 24 * HOUR;
    assert_eq!(o.next_wake(back), Some(back));
    let p = poll(&mut o, back);
    let e = o.get("a").unwrap();
    assert_eq!((e.next_at, e.enqueued_at), (back, back));
    assert_eq!(ids(&p.work[0]), ["a"]);
}

#[test]
fn a_forward_clock_jump_expires_what_is_too_old() {
    let mut o = outbox(Config::default());
    put(&mut o, "a", "s", 1);
    let p = poll(&mut o, T0 + 25 * HOUR);
    assert!(p.work.is_empty());
    assert_eq!(
        put_of(&p.changes, "a").dead_reason.as_deref(),
        Some(EXPIRED)
    );
}

#[test]
fn apps_only_see_their_own_commands() {
    let mut o = outbox(Config::default());
    put(&mut o, "mine", "s", 1);
    let mut theirs = command("theirs", "t", 1);
    theirs.app = "notes".into();
    o.enqueue(theirs, T0).unwrap();
    let tasks = o.for_app("tasks");
    assert!(tasks.get("mine").is_some());
    assert!(tasks.get("theirs").is_none());
    assert_eq!(tasks.status("theirs"), None);
    assert_eq!(tasks.entries().count(), 1);
    assert_eq!(tasks.counts().pending, 1);
    assert_eq!(o.for_app("notes").counts().pending, 1);
    assert_eq!(o.counts().pending, 2);
}

#[test]
fn seeded_randomness_replays_the_same_schedule() {
    let run = |seed: u64| {
        let mut o = outbox(Config::default());
        let mut rng = SplitMix64::new(seed);
        put(&mut o, "a", "s", 1);
        let mut now = T0;
        let mut schedule = Vec::new();
        for _ in 0..4 {
            let p = o.poll(now, &mut rng);
            let done = o.complete(now, &p.work[0], "r", &Outcome::Timeout, &mut rng);
            now = put_of(&done.changes, "a").next_at;
            schedule.push(now);
        }
        schedule
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn a_throttled_queue_still_drains_through_one_probe_at_a_time() {
    let mut o = outbox(Config {
        max_batch: 1,
        max_streams_in_flight: 8,
        ..Config::default()
    });
    for i in 0..8 {
        put(&mut o, &format!("c{i}"), &format!("s{i}"), 1);
    }
    let p = poll(&mut o, T0);
    for w in &p.work {
        answer(&mut o, T0, w, Outcome::http(503));
    }
    assert_eq!(o.budget_tokens(), 2.0);
    // Every answer from now on is a success, yet retries stay throttled (tokens ≤ 5) for a
    // long while: the probe is what keeps the queue moving.
    let mut now = T0;
    for _ in 0..200 {
        if o.counts().delivered == 8 {
            break;
        }
        now = o.next_wake(now).unwrap();
        let p = poll(&mut o, now);
        assert!(p.work.len() <= 1, "one probe at a time");
        for w in &p.work {
            answer(&mut o, now, w, Outcome::http(200));
        }
    }
    assert_eq!(o.counts().delivered, 8);
    assert!(
        o.budget_tokens() < 5.0,
        "still throttled: {}",
        o.budget_tokens()
    );
}

#[test]
fn a_lease_restarts_when_the_clock_goes_back() {
    let mut o = outbox(Config {
        inflight_lease_ms: 1_000,
        ..Config::default()
    });
    put(&mut o, "a", "s", 1);
    poll(&mut o, T0);
    let back = T0 - HOUR;
    poll(&mut o, back);
    assert_eq!(o.next_wake(back), Some(back + 1_000));
    assert_eq!(status(&o, "a"), CommandStatus::Inflight);
    poll(&mut o, back + 1_000);
    assert_eq!(status(&o, "a"), CommandStatus::Pending);
    assert_eq!(o.budget_tokens(), 9.0, "a lost answer counts as a failure");
}

#[test]
fn handing_out_emits_marks_and_anything_else_a_whole_record() {
    let mut o = outbox(Config::default());
    o.enqueue(command("a", "s", 1), T0).unwrap();
    o.enqueue(command("b", "t", 2), T0).unwrap();
    let p = poll(&mut o, T0);
    assert_eq!(p.work.len(), 1, "both streams in one batch");
    assert_eq!(p.changes.len(), 2);
    for c in &p.changes {
        let Change::Mark(e) = c else {
            panic!("expected a mark: {c:?}")
        };
        assert_eq!((e.status, e.attempts), (CommandStatus::Inflight, 1));
    }
    // Answered with a retry, then handed out again in a later call: a mark again.
    let w = p.work[0].clone();
    let done = answer(&mut o, T0 + 10, &w, Outcome::http(503));
    assert!(done.changes.iter().all(|c| matches!(c, Change::Put(_))));
    let later = poll(&mut o, T0 + 120_000);
    assert_eq!(later.changes.len(), 2);
    assert!(later
        .changes
        .iter()
        .all(|c| matches!(c, Change::Mark(e) if e.attempts == 2)));
}

#[test]
fn an_entry_fixed_by_housekeeping_and_handed_out_in_one_call_is_a_whole_record() {
    let mut o = outbox(Config::default());
    // Enqueued "in the future" (the clock stepped back two hours since): housekeeping clamps
    // its times, and it is due at once.
    o.enqueue(command("a", "s", 1), T0 + 7_200_000).unwrap();
    let p = poll(&mut o, T0);
    assert_eq!(p.work.len(), 1);
    let [Change::Put(e)] = p.changes.as_slice() else {
        panic!("expected one whole record: {:?}", p.changes)
    };
    assert_eq!(
        (e.status, e.attempts, e.enqueued_at),
        (CommandStatus::Inflight, 1, T0)
    );
}
