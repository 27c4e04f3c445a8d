//! One simulated region, as DESIGN §3.5 describes a region: a store of commands keyed by id
//! (effects are upserts, so a command that reaches a region twice takes effect once),
//! idempotency records that replay the first answer, claims that answer 409 to a repeat while
//! the first execution runs, a replication queue, and the faults of the plan.
//!
//! The region never looks at the client: it only sees requests, as a real one would.

use std::collections::{BTreeMap, BTreeSet};

use mfe_contract::{Command, HealthStatus};

use crate::rng::Rng;
use crate::scenario::{Fault, REGIONS};

/// A command as a region stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub stream: String,
    pub seq: u64,
    /// Region that accepted it first; replication keeps the earliest `(accepted_at, name)`,
    /// so all regions end up agreeing.
    pub region: usize,
    pub accepted_at: i64,
}

impl Row {
    fn rank(&self) -> (i64, &'static str) {
        (self.accepted_at, REGIONS[self.region])
    }
}

/// What a region does with a request as it arrives.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    /// Nothing listens: connection refused.
    Refused,
    /// Accepted and never answered.
    Hang,
    /// Answered at once with an error, nothing executed. `retry_after` in seconds; `date`
    /// when the region sends it as an HTTP date instead.
    Error {
        status: u16,
        retry_after: Option<i64>,
        date: bool,
    },
    /// Will execute after `after_ms`; `claimed[i]` says whether item `i`'s key was free (a
    /// key still executing for another request answers 409).
    Execute { claimed: Vec<bool>, after_ms: i64 },
}

/// How `/health` answers right now.
#[derive(Debug, Clone, PartialEq)]
pub enum HealthAnswer {
    Refused,
    Hang,
    Answer {
        status: u16,
        report: HealthStatus,
        extra_ms: i64,
    },
}

#[derive(Debug, Clone)]
pub struct Region {
    pub index: usize,
    pub up: bool,
    pub fault: Fault,
    /// Replication links cut.
    pub partitioned: bool,
    pub store: BTreeMap<String, Row>,
    /// How many times each command took effect here (client execution or replication).
    pub effects: BTreeMap<String, u32>,
    /// First answer per key: where and when the command was first accepted.
    idempotency: BTreeMap<String, (usize, i64)>,
    claims: BTreeSet<String>,
    /// Requests accepted and not committed yet: a crash resets their connections.
    pub executing: BTreeSet<u64>,
    /// Most commands this region takes in one batch: a bigger batch is refused whole (413),
    /// as a region with a lower limit than the client's default would.
    pub max_batch: usize,
}

/// Status of a first execution, and of its replays.
pub const CREATED: u16 = 201;
const IN_FLIGHT: u16 = 409;
const UNPROCESSABLE: u16 = 422;
const FAILED_DEPENDENCY: u16 = 424;

impl Region {
    pub fn new(index: usize) -> Self {
        Self {
            index,
            up: true,
            fault: Fault::None,
            partitioned: false,
            store: BTreeMap::new(),
            effects: BTreeMap::new(),
            idempotency: BTreeMap::new(),
            claims: BTreeSet::new(),
            executing: BTreeSet::new(),
            max_batch: usize::MAX,
        }
    }

    pub fn name(&self) -> &'static str {
        REGIONS[self.index]
    }

    /// A request for `commands` arrives (request id `req`).
    pub fn admit(&mut self, req: u64, commands: &[Command], rng: &mut Rng) -> Admission {
        if !self.up {
            return Admission::Refused;
        }
        let mut conflict_rate = 0.0;
        let mut extra_ms = 0;
        match self.fault {
            Fault::BlackHole => return Admission::Hang,
            Fault::Errors { rate, retry_after } if rng.chance(rate) => {
                let status = [500, 502, 503, 429][rng.below(4) as usize];
                let retry_after = (retry_after && rng.chance(0.7)).then(|| rng.between(1, 20));
                return Admission::Error {
                    status,
                    retry_after,
                    date: rng.chance(0.3),
                };
            }
            Fault::Unauthorized { rate } if rng.chance(rate) => {
                return Admission::Error {
                    status: 401,
                    retry_after: None,
                    date: false,
                };
            }
            Fault::Conflicts { rate } => conflict_rate = rate,
            Fault::Slow { extra_ms: ms } => extra_ms = rng.between(ms / 2, ms),
            _ => {}
        }
        if commands.len() > self.max_batch {
            return Admission::Error {
                status: 413,
                retry_after: None,
                date: false,
            };
        }
        let claimed = commands
            .iter()
            .map(|c| !rng.chance(conflict_rate) && self.claims.insert(c.id.clone()))
            .collect();
        self.executing.insert(req);
        Admission::Execute {
            claimed,
            after_ms: rng.between(2, 20) + extra_ms,
        }
    }

    /// Executes an admitted request in one transaction: items in order, each with the status
    /// it would have had alone, except that after a failed item the later items of the same
    /// stream are not executed (424), so a stream never skips ahead of a command that will be
    /// retried. Returns `(id, status, took_effect_here)` per item.
    pub fn commit(
        &mut self,
        req: u64,
        commands: &[Command],
        claimed: &[bool],
        now: i64,
        poisoned: impl Fn(&str) -> bool,
    ) -> Vec<(String, u16, bool)> {
        self.executing.remove(&req);
        let mut failed_streams: BTreeSet<&str> = BTreeSet::new();
        let mut out = Vec::with_capacity(commands.len());
        for (command, &mine) in commands.iter().zip(claimed) {
            let status = if failed_streams.contains(command.stream.as_str()) {
                FAILED_DEPENDENCY
            } else if !mine {
                IN_FLIGHT
            } else if poisoned(&command.id) {
                UNPROCESSABLE
            } else {
                CREATED
            };
            let mut effect = false;
            if status == CREATED {
                effect = self.execute(command, now);
            } else {
                failed_streams.insert(command.stream.as_str());
            }
            if mine {
                self.claims.remove(&command.id);
            }
            out.push((command.id.clone(), status, effect));
        }
        out
    }

    /// First execution under a key: an upsert keyed by the command id. True when it took
    /// effect here just now.
    fn execute(&mut self, command: &Command, now: i64) -> bool {
        if self.idempotency.contains_key(&command.id) {
            return false; // a repeat: the stored answer is replayed
        }
        if let Some(row) = self.store.get(&command.id) {
            // Known through replication: no new effect, the first region's answer.
            self.idempotency
                .insert(command.id.clone(), (row.region, row.accepted_at));
            return false;
        }
        self.store.insert(
            command.id.clone(),
            Row {
                stream: command.stream.clone(),
                seq: command.seq,
                region: self.index,
                accepted_at: now,
            },
        );
        *self.effects.entry(command.id.clone()).or_insert(0) += 1;
        self.idempotency
            .insert(command.id.clone(), (self.index, now));
        true
    }

    /// A replicated row arrives: insert, or keep whichever was accepted first. True when it
    /// took effect here just now.
    pub fn merge(&mut self, id: &str, incoming: &Row) -> bool {
        match self.store.get_mut(id) {
            Some(local) => {
                if incoming.rank() < local.rank() {
                    local.region = incoming.region;
                    local.accepted_at = incoming.accepted_at;
                }
                false
            }
            None => {
                self.store.insert(id.to_string(), incoming.clone());
                *self.effects.entry(id.to_string()).or_insert(0) += 1;
                true
            }
        }
    }

    /// The process dies: claims vanish with it, and the requests it was executing lose their
    /// connections (returned, so the caller can reset them). The store survives.
    pub fn crash(&mut self) -> Vec<u64> {
        self.up = false;
        self.claims.clear();
        std::mem::take(&mut self.executing).into_iter().collect()
    }

    pub fn restart(&mut self) {
        self.up = true;
    }

    /// `GET /health`: the deep check of DESIGN §3.5.
    pub fn health(&self, rng: &mut Rng) -> HealthAnswer {
        if !self.up {
            return HealthAnswer::Refused;
        }
        let ok = |extra_ms| HealthAnswer::Answer {
            status: 200,
            report: if self.partitioned {
                HealthStatus::Degraded // replication lag over bound
            } else {
                HealthStatus::Ok
            },
            extra_ms,
        };
        match self.fault {
            Fault::BlackHole => HealthAnswer::Hang,
            Fault::KillSwitch => HealthAnswer::Answer {
                status: 503,
                report: HealthStatus::Unhealthy,
                extra_ms: 0,
            },
            Fault::Errors { rate, .. } if rng.chance(rate) => HealthAnswer::Answer {
                status: 503,
                report: HealthStatus::Degraded,
                extra_ms: 0,
            },
            Fault::Slow { extra_ms } => ok(rng.between(extra_ms / 2, extra_ms)),
            _ => ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(id: &str, stream: &str, seq: u64) -> Command {
        Command {
            id: id.into(),
            client_id: "c".into(),
            seq,
            stream: stream.into(),
            kind: "k".into(),
            app: "a".into(),
            payload: serde_json::Value::Null,
            created_at: 0,
        }
    }

    #[test]
    fn repeats_replay_and_take_effect_once() {
        let mut r = Region::new(0);
        let c = [cmd("a", "s", 1)];
        let out = r.commit(1, &c, &[true], 10, |_| false);
        assert_eq!(out, vec![("a".to_string(), 201, true)]);
        let out = r.commit(2, &c, &[true], 20, |_| false);
        assert_eq!(out, vec![("a".to_string(), 201, false)]);
        assert_eq!(r.effects["a"], 1);
        assert_eq!(r.store["a"].accepted_at, 10);
    }

    #[test]
    fn a_failed_item_stops_the_rest_of_its_stream_only() {
        let mut r = Region::new(0);
        let c = [cmd("a", "s", 1), cmd("b", "s", 2), cmd("x", "t", 3)];
        let out = r.commit(1, &c, &[false, true, true], 10, |_| false);
        let statuses: Vec<u16> = out.iter().map(|o| o.1).collect();
        assert_eq!(statuses, vec![409, 424, 201]);
        assert!(!r.store.contains_key("b"));
    }

    #[test]
    fn merge_keeps_the_earliest_acceptance_and_counts_one_effect() {
        let mut a = Region::new(0);
        let mut b = Region::new(1);
        a.commit(1, &[cmd("x", "s", 1)], &[true], 50, |_| false);
        b.commit(2, &[cmd("x", "s", 1)], &[true], 40, |_| false);
        let from_b = b.store["x"].clone();
        assert!(!a.merge("x", &from_b));
        assert_eq!((a.store["x"].region, a.store["x"].accepted_at), (1, 40));
        assert_eq!(a.effects["x"], 1);
        let mut c = Region::new(2);
        assert!(c.merge("x", &from_b));
    }

    #[test]
    fn a_crash_resets_executions_and_releases_claims() {
        let mut r = Region::new(0);
        let mut rng = Rng::new(1, 1);
        let c = [cmd("a", "s", 1)];
        assert!(matches!(
            r.admit(7, &c, &mut rng),
            Admission::Execute { .. }
        ));
        match r.admit(8, &c, &mut rng) {
            Admission::Execute { claimed, .. } => assert_eq!(claimed, vec![false]),
            other => panic!("{other:?}"),
        }
        let mut reset = r.crash();
        reset.sort_unstable();
        assert_eq!(reset, vec![7, 8]);
        assert_eq!(r.admit(9, &c, &mut rng), Admission::Refused);
        r.restart();
        match r.admit(9, &c, &mut rng) {
            Admission::Execute { claimed, .. } => assert_eq!(claimed, vec![true]),
            other => panic!("{other:?}"),
        }
    }
}
