//! The simulated IndexedDB database all tabs share. It only ever receives the `Change`s the
//! outbox returns (each call's changes as one transaction), so a reload that rebuilds the
//! outbox from it proves every transition was persisted. It also keeps the history the checks
//! need: when each command was first stored as delivered, and which are dead.

use std::collections::{BTreeMap, BTreeSet};

use mfe_contract::CommandStatus;
use mfe_outbox::{decode_record, is_mark_of, Change, Entry};

#[derive(Debug, Default)]
pub struct Disk {
    pub entries: BTreeMap<String, Entry>,
    /// The per-client sequence, allocated inside the write that stores a new command.
    next_seq: u64,
    /// Ids stored by a tab that was not draining, in order; the drainer adopts them.
    pub foreign: Vec<String>,
    /// Virtual time each command was first stored as delivered (kept after a purge).
    pub delivered_at: BTreeMap<String, i64>,
    /// Commands stored as dead, with the reason.
    pub dead: BTreeMap<String, String>,
    /// Dead letters the user discarded (their records may be deleted).
    pub discarded: BTreeSet<String>,
}

/// What one transaction did that the world must look at.
#[derive(Debug, Default)]
pub struct Written {
    /// Commands stored as delivered for the first time.
    pub delivered: Vec<String>,
    /// Writes no correct outbox makes.
    pub anomalies: Vec<String>,
}

impl Disk {
    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Applies one call's changes as one transaction.
    pub fn apply(&mut self, changes: Vec<Change>, now: i64) -> Written {
        let mut out = Written::default();
        for change in changes {
            if let Change::Mark(entry) = &change {
                // A mark claims to change only status and attempts of the stored record (the
                // browser store then writes just those): check the claim.
                let claim_holds = self
                    .entries
                    .get(entry.id())
                    .is_some_and(|stored| is_mark_of(entry, stored));
                if !claim_holds {
                    out.anomalies.push(format!(
                        "command {} was marked in flight with other changes, or unstored",
                        entry.id()
                    ));
                }
            }
            match change {
                Change::Put(entry) | Change::Mark(entry) => {
                    let id = entry.id().to_string();
                    let before = self.entries.get(&id).map(|e| e.status);
                    if before == Some(CommandStatus::Delivered)
                        && entry.status != CommandStatus::Delivered
                    {
                        out.anomalies.push(format!(
                            "command {id} went back from delivered to {:?}",
                            entry.status
                        ));
                    }
                    match entry.status {
                        CommandStatus::Delivered => {
                            self.dead.remove(&id);
                            if !self.delivered_at.contains_key(&id) {
                                self.delivered_at.insert(id.clone(), now);
                                out.delivered.push(id.clone());
                            }
                        }
                        CommandStatus::Dead => {
                            let reason = entry.dead_reason.clone().unwrap_or_default();
                            self.dead.insert(id.clone(), reason);
                        }
                        _ => {
                            self.dead.remove(&id);
                        }
                    }
                    self.entries.insert(id, entry);
                }
                Change::Delete(id) => {
                    self.dead.remove(&id);
                    if let Some(old) = self.entries.remove(&id) {
                        let discarded =
                            old.status == CommandStatus::Dead && self.discarded.contains(&id);
                        if old.status != CommandStatus::Delivered && !discarded {
                            out.anomalies
                                .push(format!("command {id} was deleted while {:?}", old.status));
                        }
                    }
                }
            }
        }
        out
    }

    /// Every record, as the adapter's loader reads them.
    pub fn load(&self) -> Vec<Entry> {
        self.entries.values().cloned().collect()
    }

    /// Every record through its stored JSON form and the validating decoder, as a page load
    /// reads them. A record that fails to decode is reported (the adapter would quarantine
    /// it); none may.
    pub fn load_from_json(&self) -> Result<Vec<Entry>, String> {
        self.entries
            .values()
            .map(|e| {
                let value = serde_json::to_value(e).map_err(|err| err.to_string())?;
                decode_record(&value).map_err(|err| err.to_string())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mfe_contract::Command;

    fn entry(id: &str, status: CommandStatus) -> Entry {
        let mut e = Entry::new(
            Command {
                id: id.into(),
                client_id: "c".into(),
                seq: 1,
                stream: "s".into(),
                kind: "k".into(),
                app: "a".into(),
                payload: serde_json::Value::Null,
                created_at: 0,
            },
            0,
        );
        e.status = status;
        if status == CommandStatus::Delivered {
            e.delivered_at = Some(5);
        }
        e
    }

    #[test]
    fn history_and_anomalies() {
        let mut d = Disk::default();
        let w = d.apply(vec![Change::Put(entry("a", CommandStatus::Delivered))], 7);
        assert_eq!(w.delivered, vec!["a".to_string()]);
        let w = d.apply(vec![Change::Put(entry("a", CommandStatus::Pending))], 8);
        assert_eq!(w.anomalies.len(), 1);
        let w = d.apply(vec![Change::Delete("a".into())], 9);
        assert_eq!(w.anomalies.len(), 1, "deleting an undelivered record");
        assert_eq!(d.delivered_at["a"], 7);
        d.apply(vec![Change::Put(entry("b", CommandStatus::Pending))], 9);
        assert_eq!(d.load_from_json().unwrap(), d.load());
    }
}
