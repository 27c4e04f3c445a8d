//! Property tests: random interleavings of enqueues, sends, answers (success, 5xx, 409, 422,
//! 429 with Retry-After, 401, network errors, ambiguous timeouts), hedges, crashes and clock
//! jumps both ways, against a simulated region and a simulated disk.
//!
//! The disk only ever receives the `Change`s the outbox returns, and a crash rebuilds the
//! outbox from the disk alone, so "the disk equals the outbox after every step" proves that
//! every transition is persisted. After the interleaving, the network heals and the test
//! drives the outbox to quiescence: everything must end delivered or dead.
//!
//! The disk can also be lost under a running page (the database deleted, or site data cleared
//! while it is open): the adapter then writes back what [`Outbox::rescue`] lists and restarts
//! the disk's `seq` counter from its floor, and every check above must still hold.
//!
//! The simulated adapter times out its own requests after 30 s of elapsed time, as a fetch
//! with an `AbortSignal` timeout does, and the region applies a request, if at all, before that
//! timeout reports. (A region that applies a request after the client gave up on it can break
//! per-stream order whatever the client does; see the crate's notes.)

use mfe_contract::{Command, CommandStatus};
use mfe_outbox::{
    apply_journal, is_mark_of, split_changes, Change, Config, Entry, HedgeVerdict, Journal, Outbox,
    Outcome, SplitMix64, Work,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const T0: i64 = 1_700_000_000_000;
const ADAPTER_TIMEOUT_MS: i64 = 30_000;
const HOUR: i64 = 3_600_000;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Success,
    ServerError,
    Conflict,
    Unprocessable,
    TooMany,
    Unauthorized,
    NetworkError,
    /// The region executed the request (or not) but the answer never came.
    Timeout {
        applied: bool,
    },
}

#[derive(Debug, Clone)]
enum Op {
    Enqueue {
        stream: u8,
    },
    Poll,
    /// Answer one outstanding request; the first `ok_prefix` items succeed, the rest get `kind`.
    Respond {
        pick: usize,
        kind: Kind,
        ok_prefix: u8,
    },
    /// Send a copy of an outstanding request to a second region, if the budget allows.
    Hedge {
        pick: usize,
    },
    /// The page dies; requests already on the wire reach the region, or not.
    Crash {
        wire_applied: bool,
    },
    Advance {
        ms: i64,
    },
    Jump {
        ms: i64,
    },
    Online(bool),
    ResumeAuth,
    /// The store is deleted under the running page; the adapter writes back what it holds.
    LoseStore,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Success),
        2 => Just(Kind::ServerError),
        1 => Just(Kind::Conflict),
        1 => Just(Kind::Unprocessable),
        1 => Just(Kind::TooMany),
        1 => Just(Kind::Unauthorized),
        2 => Just(Kind::NetworkError),
        2 => any::<bool>().prop_map(|applied| Kind::Timeout { applied }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..4).prop_map(|stream| Op::Enqueue { stream }),
        6 => Just(Op::Poll),
        8 => (any::<usize>(), kind(), 0u8..3)
            .prop_map(|(pick, kind, ok_prefix)| Op::Respond { pick, kind, ok_prefix }),
        1 => any::<usize>().prop_map(|pick| Op::Hedge { pick }),
        1 => any::<bool>().prop_map(|wire_applied| Op::Crash { wire_applied }),
        3 => (0i64..90_000).prop_map(|ms| Op::Advance { ms }),
        1 => prop_oneof![
            (-3 * HOUR..3 * HOUR),
            Just(25 * HOUR),
            Just(-25 * HOUR),
        ]
        .prop_map(|ms| Op::Jump { ms }),
        1 => any::<bool>().prop_map(Op::Online),
        1 => Just(Op::ResumeAuth),
        1 => Just(Op::LoseStore),
    ]
}

/// One region with Idempotency-Key semantics: the first result for a key is kept and replayed.
#[derive(Default)]
struct Region {
    /// Keys executed successfully.
    applied: BTreeSet<String>,
    /// Keys refused for good (422).
    rejected: BTreeSet<String>,
    /// Per stream, the seqs in the order they took effect.
    effects: BTreeMap<String, Vec<u64>>,
}

impl Region {
    /// Execute a request in order. Once an item of a stream fails, later items of that stream in
    /// the same request are not executed (424), so a batch never reorders a stream.
    fn execute(&mut self, commands: &[Command], kind: Kind, ok_prefix: usize) -> Vec<u16> {
        let mut failed_streams: BTreeSet<&str> = BTreeSet::new();
        let mut out = Vec::with_capacity(commands.len());
        for (i, c) in commands.iter().enumerate() {
            if failed_streams.contains(c.stream.as_str()) {
                out.push(424);
                continue;
            }
            let status = if self.applied.contains(&c.id) {
                200 // replay of the stored first result
            } else if self.rejected.contains(&c.id) {
                422
            } else {
                let kind = if i < ok_prefix { Kind::Success } else { kind };
                match kind {
                    Kind::Success | Kind::Timeout { applied: true } => {
                        self.apply(c);
                        201
                    }
                    Kind::Unprocessable => {
                        self.rejected.insert(c.id.clone());
                        422
                    }
                    Kind::ServerError => 503,
                    Kind::Conflict => 409,
                    Kind::TooMany => 429,
                    Kind::Unauthorized => 401,
                    Kind::NetworkError | Kind::Timeout { applied: false } => 0,
                }
            };
            if !(200..300).contains(&status) {
                failed_streams.insert(c.stream.as_str());
            }
            out.push(status);
        }
        out
    }

    fn apply(&mut self, c: &Command) {
        let log = self.effects.entry(c.stream.clone()).or_default();
        if let Some(last) = log.last() {
            assert!(
                *last < c.seq,
                "stream {} applied seq {} after {}",
                c.stream,
                c.seq,
                last
            );
        }
        log.push(c.seq);
        self.applied.insert(c.id.clone());
    }
}

struct Outstanding {
    work: Work,
    /// Elapsed (not wall-clock) time since it was sent.
    age: i64,
}

struct Sim {
    config: Config,
    outbox: Outbox,
    disk: BTreeMap<String, Entry>,
    /// The same disk as the browser adapter keeps it: records written in full, in-flight
    /// marks in the journal. Read back through the journal it must equal `disk`.
    records: BTreeMap<String, Entry>,
    journal: Journal,
    region: Region,
    wire: Vec<Outstanding>,
    now: i64,
    online: bool,
    rng: SplitMix64,
    enqueued: BTreeSet<String>,
    next_seq: u64,
    deleted: BTreeSet<String>,
}

impl Sim {
    fn new(config: Config, seed: u64) -> Self {
        Self {
            outbox: Outbox::new(config.clone()),
            config,
            disk: BTreeMap::new(),
            records: BTreeMap::new(),
            journal: Journal::new(),
            region: Region::default(),
            wire: Vec::new(),
            now: T0,
            online: true,
            rng: SplitMix64::new(seed),
            enqueued: BTreeSet::new(),
            next_seq: 1,
            deleted: BTreeSet::new(),
        }
    }

    /// What a reader of the journaled disk sees.
    fn read_journaled(&self) -> BTreeMap<String, Entry> {
        let mut entries: Vec<Entry> = self.records.values().cloned().collect();
        apply_journal(&mut entries, &self.journal);
        entries
            .into_iter()
            .map(|e| (e.command.id.clone(), e))
            .collect()
    }

    fn persist(&mut self, changes: Vec<Change>) {
        let split = split_changes(&changes);
        for change in &split.records {
            match change {
                Change::Put(e) | Change::Mark(e) => {
                    self.records.insert(e.command.id.clone(), e.clone())
                }
                Change::Delete(id) => self.records.remove(id),
            };
        }
        if let Some(journal) = split.journal_after(&self.journal) {
            self.journal = journal;
        }
        let mut seen = BTreeSet::new();
        for change in changes {
            assert!(
                seen.insert(change.id().to_string()),
                "one change per id per call"
            );
            match change {
                Change::Put(e) => {
                    self.disk.insert(e.command.id.clone(), e);
                }
                Change::Mark(e) => {
                    // A mark changes only status and attempts of the record as stored.
                    let stored = self.disk.get(e.id()).expect("a mark of a stored record");
                    assert!(is_mark_of(&e, stored), "{e:?} is not a mark of {stored:?}");
                    self.disk.insert(e.command.id.clone(), e);
                }
                Change::Delete(id) => {
                    let old = self.disk.remove(&id).expect("delete of a stored record");
                    // No discard in this test: only delivered entries may be deleted.
                    assert_eq!(
                        old.status,
                        CommandStatus::Delivered,
                        "deleted {id} undelivered"
                    );
                    self.deleted.insert(id);
                }
            }
        }
    }

    fn enqueue(&mut self, stream: u8) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let id = format!("{seq:06}");
        let command = Command {
            id: id.clone(),
            client_id: "c".into(),
            seq,
            stream: format!("s{stream}"),
            kind: "k".into(),
            app: if stream.is_multiple_of(2) { "a" } else { "b" }.into(),
            payload: serde_json::json!({ "n": seq }),
            created_at: self.now,
        };
        let changes = self.outbox.enqueue(command, self.now).unwrap();
        self.persist(changes);
        self.enqueued.insert(id);
    }

    fn poll(&mut self) {
        let poll = self.outbox.poll(self.now, &mut self.rng);
        self.persist(poll.changes);
        for work in poll.work {
            self.wire.push(Outstanding { work, age: 0 });
        }
    }

    fn respond(&mut self, index: usize, kind: Kind, ok_prefix: usize) {
        let out = self.wire.remove(index);
        let work = out.work;
        let statuses =
            self.region
                .execute(&work.commands, kind, ok_prefix.min(work.commands.len()));
        let done = match kind {
            Kind::NetworkError => self.outbox.complete(
                self.now,
                &work,
                "r1",
                &Outcome::Network("refused".into()),
                &mut self.rng,
            ),
            Kind::Timeout { .. } => {
                self.outbox
                    .complete(self.now, &work, "r1", &Outcome::Timeout, &mut self.rng)
            }
            _ => {
                let items: Vec<(String, Outcome)> = work
                    .commands
                    .iter()
                    .zip(&statuses)
                    .map(|(c, s)| {
                        let mut o = Outcome::http(*s);
                        if *s == 429 {
                            o = o.with_retry_after("2");
                        }
                        (c.id.clone(), o)
                    })
                    .collect();
                if work.is_single() {
                    let outcome = items[0].1.clone();
                    self.outbox
                        .complete(self.now, &work, "r1", &outcome, &mut self.rng)
                } else {
                    self.outbox
                        .complete_items(self.now, &work, "r1", &items, &mut self.rng)
                }
            }
        };
        self.persist(done.changes);
    }

    /// Move the clock. Elapsed time only advances forward; requests that would outlive the
    /// adapter's timeout time out first.
    fn move_clock(&mut self, ms: i64) {
        let elapsed = ms.max(0);
        let mut i = 0;
        // Each turn either removes a request or moves past it: at most `wire.len()` turns.
        while i < self.wire.len() {
            if self.wire[i].age + elapsed >= ADAPTER_TIMEOUT_MS {
                let applied = self.rng.next_u64().is_multiple_of(2);
                self.respond(i, Kind::Timeout { applied }, 0);
            } else {
                self.wire[i].age += elapsed;
                i += 1;
            }
        }
        self.now += ms;
    }

    fn crash(&mut self, wire_applied: bool) {
        for out in std::mem::take(&mut self.wire) {
            if wire_applied {
                self.region.execute(&out.work.commands, Kind::Success, 0);
            }
        }
        self.outbox = Outbox::new(self.config.clone());
        self.outbox.set_online(self.online);
        // The page restarts from what the browser adapter's store reads back.
        let stored: Vec<Entry> = self.read_journaled().into_values().collect();
        let changes = self.outbox.restore(stored, self.now);
        self.persist(changes);
    }

    /// The database is deleted under the page: the disk (records and `seq` counter) is empty;
    /// the adapter writes back the outbox's rescue into it. The counter restarts from the
    /// rescue's floor, as the store's does; the memory and the requests on the wire go on.
    fn lose_store(&mut self) {
        let rescue = self.outbox.rescue();
        self.disk.clear();
        self.records.clear();
        self.journal.clear();
        let written: Vec<Entry> = rescue
            .missing(|id| self.disk.contains_key(id))
            .cloned()
            .collect();
        assert_eq!(
            written.len(),
            rescue.entries.len(),
            "an empty disk misses all"
        );
        for e in written {
            self.records.insert(e.command.id.clone(), e.clone());
            self.disk.insert(e.command.id.clone(), e);
        }
        self.next_seq = rescue.counter_after(0) + 1;
    }

    fn step(&mut self, op: &Op) {
        match op {
            Op::Enqueue { stream } => self.enqueue(*stream),
            Op::Poll => self.poll(),
            Op::Respond {
                pick,
                kind,
                ok_prefix,
            } => {
                if !self.wire.is_empty() {
                    let i = pick % self.wire.len();
                    self.respond(i, *kind, usize::from(*ok_prefix));
                }
            }
            Op::Hedge { pick } => {
                if !self.wire.is_empty()
                    && self.outbox.try_spend_hedge(self.now) == HedgeVerdict::Send
                {
                    let work = self.wire[pick % self.wire.len()].work.clone();
                    self.wire.push(Outstanding { work, age: 0 });
                }
            }
            Op::Crash { wire_applied } => self.crash(*wire_applied),
            Op::Advance { ms } | Op::Jump { ms } => self.move_clock(*ms),
            Op::Online(on) => {
                self.online = *on;
                self.outbox.set_online(*on);
            }
            Op::ResumeAuth => self.outbox.resume_auth(),
            Op::LoseStore => self.lose_store(),
        }
        self.check();
    }

    fn check(&self) {
        // Every transition reached the disk.
        let memory: BTreeMap<&str, &Entry> = self.outbox.entries().map(|e| (e.id(), e)).collect();
        let disk: BTreeMap<&str, &Entry> = self.disk.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(memory, disk, "disk and outbox disagree");
        assert_eq!(
            self.read_journaled(),
            self.disk,
            "the journaled disk reads back differently"
        );
        // Nothing lost: each command is stored, or was deleted after delivery.
        for id in &self.enqueued {
            assert!(
                self.disk.contains_key(id) || self.deleted.contains(id),
                "{id} lost"
            );
        }
        let on_wire: BTreeSet<&str> = self.wire.iter().flat_map(|o| o.work.ids()).collect();
        for e in self.disk.values() {
            // Nothing delivered that the region did not acknowledge.
            if e.status == CommandStatus::Delivered {
                assert!(
                    self.region.applied.contains(e.id()),
                    "{} not applied",
                    e.id()
                );
            }
            // Nothing stuck: an inflight entry is really out on the wire.
            if e.status == CommandStatus::Inflight {
                assert!(on_wire.contains(e.id()), "{} inflight but not sent", e.id());
            }
        }
        let c = self.outbox.counts();
        assert_eq!(
            c.pending + c.inflight + c.delivered + c.dead,
            self.disk.len()
        );
        let a = self.outbox.for_app("a").counts();
        let b = self.outbox.for_app("b").counts();
        assert_eq!(a.open() + b.open(), c.open());
    }

    /// The network heals: online, fresh credentials, every request answered with success.
    /// Drive to quiescence, following `next_wake`.
    fn heal(&mut self) {
        self.online = true;
        self.outbox.set_online(true);
        self.outbox.resume_auth();
        for _ in 0..5_000 {
            // Each turn answers (removes) one request.
            while !self.wire.is_empty() {
                self.respond(0, Kind::Success, 0);
            }
            self.poll();
            self.check();
            if !self.wire.is_empty() {
                continue;
            }
            if self.outbox.counts().open() == 0 {
                break;
            }
            let wake = self
                .outbox
                .next_wake(self.now)
                .expect("open work must schedule a wake");
            assert!(wake >= self.now);
            self.move_clock(wake - self.now);
        }
        let c = self.outbox.counts();
        assert_eq!(c.open(), 0, "not settled: {c:?}");
        for id in &self.enqueued {
            match self.disk.get(id) {
                Some(e) => assert!(
                    matches!(e.status, CommandStatus::Delivered | CommandStatus::Dead),
                    "{id}: {:?}",
                    e.status
                ),
                None => assert!(self.deleted.contains(id)),
            }
        }
    }
}

fn config() -> impl Strategy<Value = Config> {
    (1usize..5, 1usize..4, prop_oneof![Just(0i64), Just(600_000)]).prop_map(
        |(max_batch, max_streams_in_flight, keep_delivered_ms)| Config {
            max_batch,
            max_streams_in_flight,
            keep_delivered_ms,
            ..Config::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_keeps_order_loses_nothing_and_settles(
        config in config(),
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let mut sim = Sim::new(config, seed);
        for op in &ops {
            sim.step(op);
        }
        sim.heal();
    }

    #[test]
    fn a_stream_is_delivered_in_seq_order_through_failures(
        seed in any::<u64>(),
        failures in proptest::collection::vec(kind(), 0..40),
    ) {
        // Single stream, single command per request: the strictest order check.
        let config = Config { max_batch: 1, ..Config::default() };
        let mut sim = Sim::new(config, seed);
        for _ in 0..8 {
            sim.enqueue(0);
        }
        for kind in failures {
            sim.poll();
            if !sim.wire.is_empty() {
                sim.respond(0, kind, 0);
            }
            sim.check();
            sim.move_clock(5_000);
            sim.check();
        }
        sim.heal();
        let delivered: Vec<u64> = sim.region.effects.get("s0").cloned().unwrap_or_default();
        let mut sorted = delivered.clone();
        sorted.sort_unstable();
        prop_assert_eq!(delivered, sorted);
    }
}
