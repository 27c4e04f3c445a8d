//! The in-flight journal: how a round's in-flight marks are made durable without rewriting
//! every record they touch.
//!
//! Handing a command out changes only its `status` (to in flight) and its `attempts` (one more);
//! the core says so by emitting a [`Change::Mark`] instead of a `Put`. Writing the whole record
//! for that, and again for the outcome, made two record writes per command per drain, and those
//! writes were most of a drain's time. The adapter instead keeps the marks in one small record
//! (`id → attempts`) written in the same transaction as the records that did change; reading
//! applies it back. The stored state is the same as if every
//! mark had been written in full: a reader sees the command in flight with its attempts, a
//! crash mid-send still counts the attempt.
//!
//! Applying is monotonic, so a stale journal can never take a command backwards: a mark only
//! counts for a record that is still waiting with fewer attempts than the mark (once the
//! outcome is written, the record says delivered, dead, or waiting with that many attempts).

use std::collections::BTreeMap;

use mfe_contract::CommandStatus;

use crate::entry::{Change, Entry};

/// In-flight marks by command id: the attempts each mark recorded.
pub type Journal = BTreeMap<String, u32>;

/// Most marks a journal may hold (far above what a drain hands out at once: streams in flight
/// times the batch limit); a longer one is not read (see [`decode_journal`]).
pub const MAX_JOURNAL_MARKS: usize = 100_000;

/// How one transaction writes a set of changes: the records to put or delete, and what it
/// does to the journal (see [`Split::journal_after`]).
#[derive(Debug, Default, PartialEq)]
pub struct Split<'a> {
    pub records: Vec<&'a Change>,
    /// Marks this transaction adds (or raises).
    marks: Journal,
    /// Records written in full (or deleted), whose marks end here.
    settled: Vec<&'a str>,
}

impl Split<'_> {
    /// The journal as this transaction leaves it, given the one stored: `None` when unchanged,
    /// `Some(empty)` when it is to be removed.
    pub fn journal_after(&self, stored: &Journal) -> Option<Journal> {
        // Decided before copying: a save, the most frequent transaction, touches no mark. An id
        // is either settled or marked here, never both, so any hit below changes the journal.
        let settles = self.settled.iter().any(|id| stored.contains_key(*id));
        let marks = self.marks.iter().any(|(id, a)| stored.get(id) != Some(a));
        if !settles && !marks {
            return None;
        }
        let mut journal = stored.clone();
        for id in &self.settled {
            journal.remove(*id);
        }
        journal.extend(self.marks.iter().map(|(id, a)| (id.clone(), *a)));
        Some(journal)
    }
}

/// Splits `changes` into record writes and journal marks. A record's only change in the set
/// that is a [`Change::Mark`] goes to the journal (the stored record is then the mark but for
/// status and attempts); every other change is written in full and ends the record's mark. When a
/// record changes more than once in the set (an outcome, then the next round's mark), its last
/// state is written in full, as a sequence of record writes would leave it. The record writes
/// do not depend on the stored journal, so they can be issued before it is read.
pub fn split_changes(changes: &[Change]) -> Split<'_> {
    let mut last: BTreeMap<&str, (&Change, usize)> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for change in changes {
        let id = change.id();
        let seen = last.get(id).map_or(0, |(_, n)| *n);
        if seen == 0 {
            order.push(id);
        }
        last.insert(id, (change, seen + 1));
    }
    let mut split = Split::default();
    for id in order {
        let (change, times) = last[id];
        match change {
            Change::Mark(entry) if times == 1 => {
                split.marks.insert(id.to_string(), entry.attempts);
            }
            _ => {
                split.settled.push(id);
                split.records.push(change);
            }
        }
    }
    split
}

/// Whether `mark` is what a [`Change::Mark`] claims to be for the record `stored`: the same
/// record but in flight (it was waiting) with one attempt more. The journal relies on it; the
/// property and simulation tests check every mark the core emits against it.
pub fn is_mark_of(mark: &Entry, stored: &Entry) -> bool {
    stored.status == CommandStatus::Pending
        && mark.status == CommandStatus::Inflight
        && mark.attempts == stored.attempts.saturating_add(1)
        && Entry {
            status: stored.status,
            attempts: stored.attempts,
            ..mark.clone()
        } == *stored
}

/// Applies `journal` to records just read, and returns the marks that still say something
/// (for a reader that tidies the stored journal).
pub fn apply_journal(entries: &mut [Entry], journal: &Journal) -> Journal {
    let mut live = Journal::new();
    for entry in entries.iter_mut() {
        let Some(&attempts) = journal.get(entry.id()) else {
            continue;
        };
        let open = matches!(
            entry.status,
            CommandStatus::Pending | CommandStatus::Inflight
        );
        if open && entry.attempts < attempts {
            entry.status = CommandStatus::Inflight;
            entry.attempts = attempts;
            live.insert(entry.id().to_string(), attempts);
        }
    }
    live
}

/// Why a stored journal was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalError(pub String);

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the in-flight journal could not be read: {}", self.0)
    }
}

/// Reads a stored journal: an object of command id → attempts (a whole number ≥ 1).
/// Anything else is refused whole with the reason; the caller then reads the records as they
/// are, which loses at most the count of sends that were in flight.
pub fn decode_journal(value: &serde_json::Value) -> Result<Journal, JournalError> {
    let object = value
        .as_object()
        .ok_or_else(|| JournalError("not an object".into()))?;
    if object.len() > MAX_JOURNAL_MARKS {
        return Err(JournalError(format!(
            "{} marks, more than {MAX_JOURNAL_MARKS}",
            object.len()
        )));
    }
    let mut journal = Journal::new();
    for (id, attempts) in object {
        let attempts = attempts
            .as_u64()
            .filter(|a| (1..=u64::from(u32::MAX)).contains(a))
            .ok_or_else(|| JournalError(format!("{id}: attempts must be a whole number ≥ 1")))?;
        journal.insert(id.clone(), attempts as u32);
    }
    Ok(journal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::tests::command;

    fn entry(id: &str, status: CommandStatus, attempts: u32) -> Entry {
        let mut e = Entry::new(command(id, "s", 1), 0);
        e.status = status;
        e.attempts = attempts;
        e
    }

    fn ids(records: &[&Change]) -> Vec<String> {
        records
            .iter()
            .map(|c| match c {
                Change::Put(e) | Change::Mark(e) => format!("put {} {:?}", e.id(), e.status),
                Change::Delete(id) => format!("delete {id}"),
            })
            .collect()
    }

    #[test]
    fn marks_go_to_the_journal_and_outcomes_to_the_records() {
        let stored = Journal::from([("a".to_string(), 1), ("b".to_string(), 2)]);
        let changes = vec![
            Change::Put(entry("a", CommandStatus::Delivered, 1)),
            Change::Put(entry("b", CommandStatus::Pending, 2)),
            Change::Mark(entry("c", CommandStatus::Inflight, 1)),
        ];
        let split = split_changes(&changes);
        assert_eq!(ids(&split.records), ["put a Delivered", "put b Pending"]);
        assert_eq!(
            split.journal_after(&stored),
            Some(Journal::from([("c".to_string(), 1)]))
        );
    }

    #[test]
    fn a_record_changed_twice_is_written_as_it_ends() {
        // An outcome "retry" followed by the next round's mark of the same command: the mark
        // is written in full (the outcome's error and next time must not be lost).
        let changes = vec![
            Change::Put(entry("a", CommandStatus::Pending, 1)),
            Change::Mark(entry("a", CommandStatus::Inflight, 2)),
            Change::Mark(entry("b", CommandStatus::Inflight, 1)),
            Change::Delete("b".into()),
        ];
        let split = split_changes(&changes);
        assert_eq!(ids(&split.records), ["put a Inflight", "delete b"]);
        assert_eq!(
            split.journal_after(&Journal::from([("a".to_string(), 1)])),
            Some(Journal::new())
        );
    }

    #[test]
    fn an_unchanged_journal_is_not_written() {
        let stored = Journal::from([("a".to_string(), 1)]);
        let changes = vec![Change::Put(entry("z", CommandStatus::Dead, 0))];
        assert_eq!(split_changes(&changes).journal_after(&stored), None);
        let changes = vec![Change::Put(entry("a", CommandStatus::Delivered, 1))];
        assert_eq!(
            split_changes(&changes).journal_after(&stored),
            Some(Journal::new())
        );
    }

    #[test]
    fn reading_applies_marks_only_forwards() {
        let mut entries = vec![
            entry("waiting", CommandStatus::Pending, 0),
            entry("retried", CommandStatus::Pending, 2),
            entry("delivered", CommandStatus::Delivered, 1),
            entry("dead", CommandStatus::Dead, 1),
            entry("unmarked", CommandStatus::Pending, 0),
        ];
        let journal = Journal::from([
            ("waiting".to_string(), 1),
            ("retried".to_string(), 2),
            ("delivered".to_string(), 1),
            ("dead".to_string(), 3),
            ("gone".to_string(), 1),
        ]);
        let live = apply_journal(&mut entries, &journal);
        let got: Vec<(CommandStatus, u32)> =
            entries.iter().map(|e| (e.status, e.attempts)).collect();
        assert_eq!(
            got,
            [
                (CommandStatus::Inflight, 1),
                (CommandStatus::Pending, 2),
                (CommandStatus::Delivered, 1),
                (CommandStatus::Dead, 1),
                (CommandStatus::Pending, 0),
            ]
        );
        assert_eq!(live, Journal::from([("waiting".to_string(), 1)]));
    }

    #[test]
    fn writing_through_the_journal_reads_back_as_writing_every_record() {
        // Records as stored, a round's marks through the journal, then the outcomes with the
        // next round's marks: what a reader sees equals the records written in full.
        let mut full: BTreeMap<String, Entry> = ["a", "b", "c"]
            .iter()
            .map(|id| (id.to_string(), entry(id, CommandStatus::Pending, 0)))
            .collect();
        let mut records = full.clone();
        let mut journal = Journal::new();
        let retry = Entry {
            last_error: Some("HTTP 503".into()),
            region: Some("us-east".into()),
            next_at: 5_000,
            ..entry("b", CommandStatus::Pending, 1)
        };
        let rounds = vec![
            vec![
                Change::Mark(entry("a", CommandStatus::Inflight, 1)),
                Change::Mark(entry("b", CommandStatus::Inflight, 1)),
            ],
            vec![
                Change::Put(entry("a", CommandStatus::Delivered, 1)),
                Change::Put(retry.clone()),
                Change::Mark(Entry {
                    status: CommandStatus::Inflight,
                    attempts: 2,
                    ..retry.clone()
                }),
                Change::Mark(entry("c", CommandStatus::Inflight, 1)),
            ],
            vec![
                Change::Put(entry("c", CommandStatus::Dead, 1)),
                Change::Put(Entry {
                    attempts: 2,
                    next_at: 9_000,
                    ..retry.clone()
                }),
            ],
            vec![Change::Mark(Entry {
                status: CommandStatus::Inflight,
                attempts: 3,
                next_at: 9_000,
                ..retry.clone()
            })],
        ];
        for changes in &rounds {
            let split = split_changes(changes);
            for change in &split.records {
                match change {
                    Change::Put(e) | Change::Mark(e) => {
                        records.insert(e.id().to_string(), e.clone())
                    }
                    Change::Delete(id) => records.remove(id),
                };
            }
            if let Some(j) = split.journal_after(&journal) {
                journal = j;
            }
            for change in changes {
                match change {
                    Change::Put(e) | Change::Mark(e) => full.insert(e.id().to_string(), e.clone()),
                    Change::Delete(id) => full.remove(id),
                };
            }
            let mut read: Vec<Entry> = records.values().cloned().collect();
            apply_journal(&mut read, &journal);
            let expected: Vec<Entry> = full.values().cloned().collect();
            assert_eq!(read, expected);
        }
    }

    #[test]
    fn a_journal_that_is_not_id_to_attempts_is_refused_whole() {
        let ok = serde_json::json!({"a": 1, "b": 7});
        assert_eq!(
            decode_journal(&ok).unwrap(),
            Journal::from([("a".to_string(), 1), ("b".to_string(), 7)])
        );
        for bad in [
            serde_json::json!([1, 2]),
            serde_json::json!({"a": 0}),
            serde_json::json!({"a": -1}),
            serde_json::json!({"a": 1.5}),
            serde_json::json!({"a": "1"}),
            serde_json::json!({"a": 4_294_967_296u64}),
        ] {
            assert!(decode_journal(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_mark_is_the_stored_record_in_flight_with_one_attempt_more() {
        let stored = entry("a", CommandStatus::Pending, 1);
        assert!(is_mark_of(&entry("a", CommandStatus::Inflight, 2), &stored));
        assert!(!is_mark_of(
            &entry("a", CommandStatus::Inflight, 3),
            &stored
        ));
        assert!(!is_mark_of(&entry("a", CommandStatus::Pending, 2), &stored));
        let moved = Entry {
            next_at: 7,
            ..entry("a", CommandStatus::Inflight, 2)
        };
        assert!(!is_mark_of(&moved, &stored), "another field changed too");
        let delivered = entry("a", CommandStatus::Delivered, 1);
        assert!(!is_mark_of(
            &entry("a", CommandStatus::Inflight, 2),
            &delivered
        ));
    }
}
