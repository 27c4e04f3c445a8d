//! What to write back when the durable copy was lost under a running instance: the database was
//! deleted (from devtools, another tab) or the browser cleared the site's data while the page
//! was open. The page still holds every command in memory; writing them back (with the same
//! ids and `seq`s) and restarting the store's `seq` counter above everything already handed out
//! means nothing acknowledged as saved is lost and no stream is reordered.

use super::Outbox;
use crate::entry::Entry;
use mfe_contract::CommandStatus;

/// The records an adapter writes back after its store was lost, and the lowest value its
/// `seq` counter may restart from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rescue {
    /// Every entry the instance holds, as it holds it, in stream order (`seq`, then id).
    /// Delivered ones are included so the store agrees with memory again; only the others
    /// matter for delivery.
    pub entries: Vec<Entry>,
    /// The highest `seq` the instance has ever seen (including entries since delivered and
    /// pruned). A store counter restarting below it would number new commands before older
    /// ones of the same stream.
    pub seq_floor: u64,
}

impl Rescue {
    /// Entries that still owe something to the user: not delivered (pending, in flight, or
    /// dead letters waiting for Retry or Discard).
    pub fn unsent(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.status != CommandStatus::Delivered)
            .count()
    }

    /// The entries to write into a store in which `present` ids already exist. Another tab may
    /// have written them back first, or delivered them since: its record is as new as ours or
    /// newer, so it is kept.
    pub fn missing<'a>(
        &'a self,
        present: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| !present(e.id()))
    }

    /// The `seq` counter to store when the store holds `stored` (0 after a deletion).
    pub fn counter_after(&self, stored: u64) -> u64 {
        stored.max(self.seq_floor)
    }

    /// Raises the floor (e.g. with what the store itself handed out).
    pub fn with_floor(mut self, floor: u64) -> Self {
        self.seq_floor = self.seq_floor.max(floor);
        self
    }
}

impl Outbox {
    /// The highest `seq` of any entry this outbox has held since it was created; unlike the
    /// entries, it survives [`Outbox::restore`] and the pruning of delivered entries.
    pub fn highest_seq(&self) -> u64 {
        self.highest_seq
    }

    /// What to write back if the store was lost: every entry held, and the counter floor.
    pub fn rescue(&self) -> Rescue {
        let mut entries: Vec<Entry> = self.entries.values().cloned().collect();
        entries.sort_by_key(|e| e.order_key());
        Rescue {
            entries,
            seq_floor: self.highest_seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Outcome;
    use crate::config::Config;
    use crate::entry::tests::command;
    use crate::random::Fixed;

    const T0: i64 = 1_700_000_000_000;

    fn queued(n: u64) -> Outbox {
        let mut o = Outbox::new(Config {
            max_batch: 1,
            keep_delivered_ms: 0,
            ..Config::default()
        });
        for seq in 1..=n {
            o.enqueue(command(&format!("c{seq}"), "s", seq), T0)
                .unwrap();
        }
        o
    }

    #[test]
    fn everything_held_is_written_back_in_stream_order() {
        let mut o = Outbox::new(Config::default());
        o.enqueue(command("b", "s", 2), T0).unwrap();
        o.enqueue(command("a", "s", 1), T0).unwrap();
        o.enqueue(command("z", "t", 3), T0).unwrap();
        let r = o.rescue();
        let ids: Vec<&str> = r.entries.iter().map(|e| e.id()).collect();
        assert_eq!(ids, ["a", "b", "z"]);
        assert_eq!(r.unsent(), 3);
        assert_eq!(r.seq_floor, 3);
        assert_eq!(r.counter_after(0), 3, "a deleted store restarts above");
        assert_eq!(r.counter_after(9), 9, "a store that is ahead stays ahead");
    }

    #[test]
    fn inflight_and_dead_entries_are_kept_as_they_are() {
        let mut o = queued(2);
        let poll = o.poll(T0, &mut Fixed(0.5));
        assert_eq!(poll.work.len(), 1);
        let r = o.rescue();
        assert_eq!(r.entries[0].status, CommandStatus::Inflight);
        assert_eq!(r.entries[1].status, CommandStatus::Pending);
        o.complete(
            T0 + 10,
            &poll.work[0],
            "r",
            &Outcome::http(422),
            &mut Fixed(0.5),
        );
        let r = o.rescue();
        assert_eq!(r.entries[0].status, CommandStatus::Dead);
        assert_eq!(
            r.unsent(),
            2,
            "a dead letter is not sent: the user still decides"
        );
    }

    #[test]
    fn the_floor_remembers_delivered_and_pruned_entries() {
        let mut o = queued(3);
        // One at a time: each poll hands out the next and prunes the delivered ones
        // (keep_delivered_ms = 0).
        for step in 0..4 {
            let poll = o.poll(T0 + 1 + step, &mut Fixed(0.5));
            for w in &poll.work {
                o.complete(T0 + 1 + step, w, "r", &Outcome::http(201), &mut Fixed(0.5));
            }
        }
        assert_eq!(o.counts().open(), 0);
        o.poll(T0 + 10, &mut Fixed(0.5));
        assert_eq!(o.entries().count(), 0, "delivered entries were pruned");
        let r = o.rescue();
        assert!(r.entries.is_empty());
        assert_eq!(r.unsent(), 0);
        assert_eq!(
            r.seq_floor, 3,
            "seq 1..3 went out; the counter must not reuse them"
        );
    }

    #[test]
    fn the_floor_survives_a_restore_with_fewer_entries() {
        let mut o = queued(5);
        let kept = o.get("c2").cloned().unwrap();
        o.restore(vec![kept], T0);
        assert_eq!(o.highest_seq(), 5);
        assert_eq!(o.rescue().entries.len(), 1);
        // And adopting another tab's higher seq raises it.
        o.adopt(Entry::new(command("x", "s", 8), T0), T0);
        assert_eq!(o.highest_seq(), 8);
    }

    #[test]
    fn only_missing_records_are_written() {
        let r = queued(3).rescue();
        let present = ["c2"];
        let ids: Vec<&str> = r
            .missing(|id| present.contains(&id))
            .map(|e| e.id())
            .collect();
        assert_eq!(ids, ["c1", "c3"]);
        assert_eq!(r.clone().with_floor(7).seq_floor, 7);
        assert_eq!(r.with_floor(1).seq_floor, 3);
    }
}
