//! The stored form of a command: the envelope of DESIGN §3.4, i.e. the wire [`Command`] plus
//! its delivery state. This is the record the adapter keeps in IndexedDB (key path `id`).

use mfe_contract::{Command, CommandStatus};
use serde::{Deserialize, Serialize};

/// One command and where its delivery stands. Serialized flat (the command's fields next to
/// the delivery fields), exactly as DESIGN §3.4 lists the envelope, so IndexedDB indexes can
/// use plain key paths such as `status` or `stream`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(flatten)]
    pub command: Command,
    pub status: CommandStatus,
    /// Sends made so far (counted when a send starts, so a crash mid-send still counts).
    /// Reset by a manual retry of a dead letter.
    pub attempts: u32,
    /// Earliest time of the next send, ms since the Unix epoch.
    pub next_at: i64,
    /// What went wrong last time, for the user and for support.
    #[serde(default)]
    pub last_error: Option<String>,
    /// Region of the last send (for a delivered entry: the one that acknowledged it).
    #[serde(default)]
    pub region: Option<String>,
    /// When the command entered the queue (or was manually retried); retention counts from it.
    pub enqueued_at: i64,
    /// When a region acknowledged it.
    #[serde(default)]
    pub delivered_at: Option<i64>,
    /// Why it is a dead letter: the server's reason, or `expired`.
    #[serde(default)]
    pub dead_reason: Option<String>,
}

/// Reason recorded when retention runs out before delivery.
pub const EXPIRED: &str = "expired";

impl Entry {
    /// A freshly enqueued command: pending and due at once.
    pub fn new(command: Command, now_ms: i64) -> Self {
        Self {
            command,
            status: CommandStatus::Pending,
            attempts: 0,
            next_at: now_ms,
            last_error: None,
            region: None,
            enqueued_at: now_ms,
            delivered_at: None,
            dead_reason: None,
        }
    }

    pub fn id(&self) -> &str {
        &self.command.id
    }

    pub fn stream(&self) -> &str {
        &self.command.stream
    }

    pub fn app(&self) -> &str {
        &self.command.app
    }

    /// Position inside its stream: by `seq`, then id (UUIDv7 ids sort by time).
    pub(crate) fn order_key(&self) -> (u64, String) {
        (self.command.seq, self.command.id.clone())
    }

    /// Pending or inflight: still owes a delivery.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            CommandStatus::Pending | CommandStatus::Inflight
        )
    }
}

/// A write the adapter must make so the store matches the outbox. All changes returned by one
/// call belong in one IndexedDB transaction; each id appears at most once per call.
// Nearly every change is a `Put`, so boxing the entry would only add an allocation per write.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Store this record (insert or replace, keyed by `id`).
    Put(Entry),
    /// Store this record, which differs from the one last stored only in `status` (now in
    /// flight) and `attempts` (one more): a command handed out. An adapter may store just
    /// those (see [`crate::journal`]) or the whole record, as for a `Put`.
    Mark(Entry),
    /// Remove the record with this id.
    Delete(String),
}

impl Change {
    pub fn id(&self) -> &str {
        match self {
            Change::Put(e) | Change::Mark(e) => e.id(),
            Change::Delete(id) => id,
        }
    }
}

/// How many entries are in each state, for the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub pending: usize,
    pub inflight: usize,
    pub delivered: usize,
    pub dead: usize,
}

impl Counts {
    pub(crate) fn add(&mut self, status: CommandStatus) {
        match status {
            CommandStatus::Pending => self.pending += 1,
            CommandStatus::Inflight => self.inflight += 1,
            CommandStatus::Delivered => self.delivered += 1,
            CommandStatus::Dead => self.dead += 1,
        }
    }

    /// Entries still owing a delivery.
    pub fn open(&self) -> usize {
        self.pending + self.inflight
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn command(id: &str, stream: &str, seq: u64) -> Command {
        Command {
            id: id.into(),
            client_id: "client-1".into(),
            seq,
            stream: stream.into(),
            kind: "task.add".into(),
            app: "tasks".into(),
            payload: serde_json::json!({"title": id}),
            created_at: 1_000,
        }
    }

    #[test]
    fn stored_form_is_the_flat_envelope_and_round_trips() {
        let mut e = Entry::new(command("a", "s", 3), 5_000);
        e.last_error = Some("HTTP 503".into());
        let v = serde_json::to_value(&e).unwrap();
        for key in [
            "id",
            "client_id",
            "seq",
            "stream",
            "kind",
            "payload",
            "app",
            "created_at",
            "attempts",
            "next_at",
            "status",
            "last_error",
            "region",
            "enqueued_at",
            "delivered_at",
            "dead_reason",
        ] {
            assert!(v.get(key).is_some(), "missing {key} in {v}");
        }
        assert_eq!(v["status"], "pending");
        assert_eq!(serde_json::from_value::<Entry>(v).unwrap(), e);
    }

    #[test]
    fn counts_add_up() {
        let mut c = Counts::default();
        for s in [
            CommandStatus::Pending,
            CommandStatus::Pending,
            CommandStatus::Inflight,
            CommandStatus::Dead,
        ] {
            c.add(s);
        }
        assert_eq!(c.open(), 3);
        assert_eq!(c.dead, 1);
    }
}
