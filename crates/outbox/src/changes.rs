//! Collects which entries one call touched and turns them into [`Change`]s at the end. Emitting
//! the final state of each touched entry (rather than a log of steps) gives the adapter at most
//! one write per record per call, all of which fit in one IndexedDB transaction, and makes it
//! impossible to forget a transition: whatever was touched is written as it now is.

use crate::entry::{Change, Entry};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default)]
pub(crate) struct ChangeLog {
    order: Vec<String>,
    seen: BTreeSet<String>,
    /// Ids whose only change in this call is being handed out (see [`Change::Mark`]).
    marks: BTreeSet<String>,
}

impl ChangeLog {
    pub(crate) fn touch(&mut self, id: &str) {
        if self.seen.insert(id.to_string()) {
            self.order.push(id.to_string());
        } else {
            // Changed in another way too: the whole record is written.
            self.marks.remove(id);
        }
    }

    /// An entry was handed out: in flight, one attempt more. Unless the call changed it in
    /// another way before, that is all that changed, and it is emitted as a [`Change::Mark`].
    pub(crate) fn mark(&mut self, id: &str) {
        if self.seen.insert(id.to_string()) {
            self.order.push(id.to_string());
            self.marks.insert(id.to_string());
        }
    }

    /// Drop an id that turned out not to need a write.
    pub(crate) fn untouch(&mut self, id: &str) {
        self.marks.remove(id);
        if self.seen.remove(id) {
            // Usually the id just touched, so the common case is a pop.
            if self.order.last().map(String::as_str) == Some(id) {
                self.order.pop();
            } else {
                self.order.retain(|x| x != id);
            }
        }
    }

    /// A `Put` of the current record for every touched id still present (a `Mark` for one
    /// that was only handed out), a `Delete` for every touched id that is gone; in the order
    /// ids were first touched.
    pub(crate) fn finish(self, entries: &BTreeMap<String, Entry>) -> Vec<Change> {
        self.order
            .into_iter()
            .map(|id| match entries.get(&id) {
                Some(e) if self.marks.contains(&id) => Change::Mark(e.clone()),
                Some(e) => Change::Put(e.clone()),
                None => Change::Delete(id),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::tests::command;

    #[test]
    fn one_change_per_touched_id_in_first_touch_order() {
        let mut entries = BTreeMap::new();
        entries.insert("b".to_string(), Entry::new(command("b", "s", 1), 0));
        let mut log = ChangeLog::default();
        log.touch("b");
        log.touch("a");
        log.touch("b");
        let changes = log.finish(&entries);
        assert_eq!(changes.len(), 2);
        assert!(matches!(&changes[0], Change::Put(e) if e.id() == "b"));
        assert_eq!(changes[1], Change::Delete("a".into()));
    }
}
