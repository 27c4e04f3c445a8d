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
}

impl ChangeLog {
    pub(crate) fn touch(&mut self, id: &str) {
        if self.seen.insert(id.to_string()) {
            self.order.push(id.to_string());
        }
    }

    /// Drop an id that turned out not to need a write.
    pub(crate) fn untouch(&mut self, id: &str) {
        if self.seen.remove(id) {
            // Usually the id just touched, so the common case is a pop.
            if self.order.last().map(String::as_str) == Some(id) {
                self.order.pop();
            } else {
                self.order.retain(|x| x != id);
            }
        }
    }

    /// A `Put` of the current record for every touched id still present, a `Delete` for every
    /// touched id that is gone; in the order ids were first touched.
    pub(crate) fn finish(self, entries: &BTreeMap<String, Entry>) -> Vec<Change> {
        self.order
            .into_iter()
            .map(|id| match entries.get(&id) {
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
