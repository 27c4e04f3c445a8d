//! The outbox state machine. It owns the in-memory picture of the queue; the adapter owns the
//! durable copy and keeps it equal by writing every [`Change`] a call returns.
//!
//! Split by concern: `handout` (what to send next), `complete` (what a result means),
//! `housekeeping` (retention, leases, clock repair, wake-ups), `manual` (user and adapter
//! actions on single entries), `view` (read-only views for the UI and apps), `rescue` (what to
//! write back when the store was lost under the adapter).

mod complete;
mod handout;
mod housekeeping;
mod manual;
mod rescue;
mod view;

pub use complete::Completion;
pub use handout::{Poll, Work};
pub use rescue::Rescue;
pub use view::AppView;

use crate::budget::{HedgeVerdict, RetryBudget};
use crate::changes::ChangeLog;
use crate::config::Config;
use crate::entry::{Change, Entry};
use mfe_contract::{Command, CommandStatus};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A request that is out on the network.
#[derive(Debug, Clone)]
struct WorkState {
    ids: Vec<String>,
    sent_at: i64,
}

/// The durable command outbox, without the I/O. See the crate docs for how to drive it.
#[derive(Debug, Clone)]
pub struct Outbox {
    config: Config,
    entries: BTreeMap<String, Entry>,
    /// Open (pending or inflight) entries of each stream, in delivery order.
    queues: BTreeMap<String, BTreeSet<(u64, String)>>,
    /// Requests out on the network, by work id.
    works: BTreeMap<u64, WorkState>,
    /// The request each inflight entry currently belongs to.
    work_of: BTreeMap<String, u64>,
    /// Inflight entries per stream; a stream listed here is busy.
    busy: BTreeMap<String, usize>,
    /// Never reset, so a late answer to an old request can't be taken for a new one.
    next_work_id: u64,
    /// The one request allowed through while the retry budget is exhausted.
    probe: Option<u64>,
    online: bool,
    auth_paused: bool,
    budget: RetryBudget,
    /// Highest `seq` ever held; kept across `restore` and pruning (see [`Rescue`]).
    highest_seq: u64,
    /// Most commands per request from now on: `config.max_batch` until a region refuses a
    /// batch as too large (413), then at most half that batch each time, down to one. Not
    /// stored: a new page starts from the configuration and learns it again with one 413.
    batch_limit: usize,
}

/// Why a request to the outbox was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxError {
    /// The command can't be queued as it is.
    Invalid {
        field: &'static str,
        problem: String,
    },
    /// Another, different command already has this id.
    DuplicateId(String),
    /// No entry has this id.
    NotFound(String),
    /// The entry is not in the state the action needs.
    WrongStatus {
        id: String,
        status: CommandStatus,
        needed: &'static str,
    },
}

impl fmt::Display for OutboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboxError::Invalid { field, problem } => {
                write!(f, "command not queued: `{field}` {problem}")
            }
            OutboxError::DuplicateId(id) => {
                write!(f, "a different command with id {id} is already queued")
            }
            OutboxError::NotFound(id) => write!(f, "no command with id {id}"),
            OutboxError::WrongStatus { id, status, needed } => write!(
                f,
                "command {id} is {}, this needs it to be {needed}",
                status_name(*status)
            ),
        }
    }
}

impl std::error::Error for OutboxError {}

pub(crate) fn status_name(s: CommandStatus) -> &'static str {
    match s {
        CommandStatus::Pending => "pending",
        CommandStatus::Inflight => "inflight",
        CommandStatus::Delivered => "delivered",
        CommandStatus::Dead => "dead",
    }
}

const INTERRUPTED: &str = "interrupted: the page or worker stopped while sending";

impl Outbox {
    /// An empty outbox, online and not paused.
    pub fn new(config: Config) -> Self {
        let config = config.sanitized();
        let budget = RetryBudget::new(
            config.budget_max_tokens,
            config.budget_token_ratio,
            config.hedge_floor_every_ms,
        );
        let batch_limit = config.max_batch;
        Self {
            config,
            entries: BTreeMap::new(),
            queues: BTreeMap::new(),
            works: BTreeMap::new(),
            work_of: BTreeMap::new(),
            busy: BTreeMap::new(),
            next_work_id: 1,
            probe: None,
            online: true,
            auth_paused: false,
            budget,
            highest_seq: 0,
            batch_limit,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Queue a new command. Returns the record to write; the command counts as dispatched once
    /// that write has committed (DESIGN §3.3). Queuing the very same command twice is a no-op,
    /// so a retried `dispatch` is harmless.
    pub fn enqueue(&mut self, command: Command, now_ms: i64) -> Result<Vec<Change>, OutboxError> {
        if command.id.is_empty() {
            return Err(OutboxError::Invalid {
                field: "id",
                problem: "is empty".into(),
            });
        }
        if command.stream.is_empty() {
            return Err(OutboxError::Invalid {
                field: "stream",
                problem: "is empty".into(),
            });
        }
        if let Some(existing) = self.entries.get(&command.id) {
            return if existing.command == command {
                Ok(Vec::new())
            } else {
                Err(OutboxError::DuplicateId(command.id))
            };
        }
        let mut log = ChangeLog::default();
        self.insert(Entry::new(command, now_ms), &mut log);
        Ok(log.finish(&self.entries))
    }

    /// Replace the whole state with what the store holds, after a start or a crash. Entries
    /// that were `inflight` become `pending` and due: the page that sent them is gone, and the
    /// idempotency key makes the resend safe. Stream order is rebuilt from `seq`, then id.
    /// Returns the records that had to change.
    pub fn restore(&mut self, entries: Vec<Entry>, now_ms: i64) -> Vec<Change> {
        self.entries.clear();
        self.queues.clear();
        self.works.clear();
        self.work_of.clear();
        self.busy.clear();
        self.probe = None;
        let mut log = ChangeLog::default();
        for entry in entries {
            // Keyed storage can't hold two records with one id; if a caller passes two, the
            // later wins, as a later write would have.
            if let Some(old) = self.entries.remove(entry.id()) {
                self.unqueue(&old);
            }
            self.adopt_one(entry, now_ms, &mut log);
        }
        log.finish(&self.entries)
    }

    /// Take in one record another tab or the service worker stored while this instance was
    /// running. Unknown ids are added (as [`Outbox::restore`] would); known ones are left
    /// alone, since this instance is the one delivering them.
    pub fn adopt(&mut self, entry: Entry, now_ms: i64) -> Vec<Change> {
        if self.entries.contains_key(entry.id()) {
            return Vec::new();
        }
        let mut log = ChangeLog::default();
        self.adopt_one(entry, now_ms, &mut log);
        log.finish(&self.entries)
    }

    fn adopt_one(&mut self, mut entry: Entry, now_ms: i64, log: &mut ChangeLog) {
        let mut repaired = false;
        match entry.status {
            CommandStatus::Inflight => {
                entry.status = CommandStatus::Pending;
                entry.next_at = entry.next_at.min(now_ms);
                entry.last_error = Some(INTERRUPTED.to_string());
                repaired = true;
            }
            CommandStatus::Delivered if entry.delivered_at.is_none() => {
                entry.delivered_at = Some(now_ms);
                repaired = true;
            }
            CommandStatus::Dead if entry.dead_reason.is_none() => {
                entry.dead_reason = Some("unknown".to_string());
                repaired = true;
            }
            _ => {}
        }
        let id = entry.id().to_string();
        self.insert(entry, log);
        if !repaired {
            // `insert` touched it; an unchanged record needs no write.
            log.untouch(&id);
        }
    }

    /// Add an entry and, if open, put it in its stream's queue.
    fn insert(&mut self, entry: Entry, log: &mut ChangeLog) {
        self.highest_seq = self.highest_seq.max(entry.command.seq);
        if entry.is_open() {
            self.queues
                .entry(entry.stream().to_string())
                .or_default()
                .insert(entry.order_key());
        }
        log.touch(entry.id());
        self.entries.insert(entry.id().to_string(), entry);
    }

    /// Take an entry out of its stream's queue (it was delivered, died or was removed).
    fn unqueue(&mut self, entry: &Entry) {
        if let Some(q) = self.queues.get_mut(entry.stream()) {
            q.remove(&entry.order_key());
            if q.is_empty() {
                self.queues.remove(entry.stream());
            }
        }
        self.leave_inflight(entry.id(), entry.stream());
    }

    /// Forget that an entry is out on the network (its answer came, or stopped mattering).
    fn leave_inflight(&mut self, id: &str, stream: &str) {
        if self.work_of.remove(id).is_some() {
            if let Some(n) = self.busy.get_mut(stream) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.busy.remove(stream);
                }
            }
        }
    }

    /// While offline nothing is handed out; going online makes due work available again.
    /// Failures reported while offline neither back off nor spend the retry budget: the
    /// network, not the region, was the problem.
    pub fn set_online(&mut self, online: bool) {
        self.online = online;
    }

    pub fn is_online(&self) -> bool {
        self.online
    }

    /// Stop handing out work until [`Outbox::resume_auth`], e.g. when the host knows its token
    /// has expired. A 401 answer does this by itself.
    pub fn pause_auth(&mut self) {
        self.auth_paused = true;
    }

    /// The host has fresh credentials: delivery may go on.
    pub fn resume_auth(&mut self) {
        self.auth_paused = false;
    }

    pub fn is_auth_paused(&self) -> bool {
        self.auth_paused
    }

    /// Ask to send a hedge (the same request to a second region) at `now`. Spends one token
    /// of the retry budget while retries are allowed, so hedges can't add load to a
    /// struggling system; past that, one hedge per [`Config::hedge_floor_every_ms`]. Always
    /// no while offline.
    pub fn try_spend_hedge(&mut self, now: i64) -> HedgeVerdict {
        if self.online {
            self.budget.try_spend_hedge(now)
        } else {
            HedgeVerdict::No
        }
    }

    /// Tokens left in the retry budget, for the inspector.
    pub fn budget_tokens(&self) -> f64 {
        self.budget.tokens()
    }
}

#[cfg(test)]
mod tests;
