//! Asynchronous replication between regions, as in global tables: every command a region
//! applies is copied to each other region after a random lag, kept in the source's durable
//! queue while either end is down or cut off, and merged by command id on arrival.

use crate::scenario::REGIONS;
use crate::trace;
use crate::world::World;
use crate::Event;

impl World {
    fn link_up(&self, from: usize, to: usize) -> bool {
        let (a, b) = (&self.regions[from], &self.regions[to]);
        a.up && b.up && !a.partitioned && !b.partitioned
    }

    /// A command took effect at region `from`: copy it to every other region.
    pub(crate) fn replicate_out(&mut self, from: usize, id: &str) {
        for to in 0..self.regions.len() {
            if to == from {
                continue;
            }
            self.replicating += 1;
            let lag = if self.rng.chance(0.1) {
                self.rng.between(2_000, 15_000)
            } else {
                self.rng.between(20, 2_000)
            };
            self.queue.push(
                self.now + lag,
                Event::Replicate {
                    from,
                    to,
                    id: id.to_string(),
                },
            );
        }
    }

    /// One replication message: kept in the source's durable replication queue while either
    /// end is down or cut off, then merged by command id.
    pub fn replicate(&mut self, from: usize, to: usize, id: String) {
        if !self.link_up(from, to) {
            self.parked.push((from, to, id));
            return;
        }
        self.replicating -= 1;
        let Some(row) = self.regions[from].store.get(&id).cloned() else {
            self.violation(format!(
                "{id} replicated from {} which lacks it",
                REGIONS[from]
            ));
            return;
        };
        let new = self.regions[to].merge(&id, &row);
        trace!(
            self,
            "replication {} -> {}: {id}{}",
            REGIONS[from],
            REGIONS[to],
            if new { " (applied)" } else { " (merged)" }
        );
    }

    /// A region came back or was reconnected: resume the replication that waited for it.
    pub fn resume_replication(&mut self) {
        let parked = std::mem::take(&mut self.parked);
        for (from, to, id) in parked {
            if self.link_up(from, to) {
                let lag = self.rng.between(20, 2_000);
                self.queue
                    .push(self.now + lag, Event::Replicate { from, to, id });
            } else {
                self.parked.push((from, to, id));
            }
        }
    }
}
