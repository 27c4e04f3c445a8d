//! Actions on one entry: the user's Retry and Discard of dead letters, and the adapter's
//! undo of an enqueue whose durable write failed.

use super::{status_name, Outbox, OutboxError};
use crate::changes::ChangeLog;
use crate::entry::Change;
use mfe_contract::CommandStatus;

impl Outbox {
    /// Give a dead letter another go: pending, due now, attempts and retention restarted.
    /// Restarting retention is the user's explicit choice; the server's effects are upserts
    /// keyed by command id, so even a resend past the idempotency-key lifetime applies once.
    /// It is queued in its stream by `seq`, so it goes before later commands not yet sent, but
    /// commands already delivered after it stay delivered: the user reorders by retrying.
    pub fn retry_dead(&mut self, id: &str, now_ms: i64) -> Result<Vec<Change>, OutboxError> {
        let mut entry = self.dead_entry(id)?.clone();
        entry.status = CommandStatus::Pending;
        entry.attempts = 0;
        entry.next_at = now_ms;
        entry.enqueued_at = now_ms;
        entry.dead_reason = None;
        let mut log = ChangeLog::default();
        self.insert(entry, &mut log);
        Ok(log.finish(&self.entries))
    }

    /// Remove a dead letter for good (the user decided it no longer matters).
    pub fn discard(&mut self, id: &str) -> Result<Vec<Change>, OutboxError> {
        self.dead_entry(id)?;
        self.entries.remove(id);
        Ok(vec![Change::Delete(id.to_string())])
    }

    /// Undo an [`Outbox::enqueue`] whose write to the store failed (e.g. quota), so `dispatch`
    /// can reject without the outbox sending a command the user was told was not saved. Only
    /// for an entry that was never handed out.
    pub fn abandon(&mut self, id: &str) -> Result<Vec<Change>, OutboxError> {
        let entry = self
            .entries
            .get(id)
            .ok_or_else(|| OutboxError::NotFound(id.to_string()))?;
        if entry.status != CommandStatus::Pending || entry.attempts > 0 {
            return Err(OutboxError::WrongStatus {
                id: id.to_string(),
                status: entry.status,
                needed: "pending and never sent",
            });
        }
        if let Some(old) = self.entries.remove(id) {
            self.unqueue(&old);
        }
        Ok(vec![Change::Delete(id.to_string())])
    }

    fn dead_entry(&self, id: &str) -> Result<&crate::entry::Entry, OutboxError> {
        let entry = self
            .entries
            .get(id)
            .ok_or_else(|| OutboxError::NotFound(id.to_string()))?;
        if entry.status == CommandStatus::Dead {
            Ok(entry)
        } else {
            Err(OutboxError::WrongStatus {
                id: id.to_string(),
                status: entry.status,
                needed: status_name(CommandStatus::Dead),
            })
        }
    }
}
