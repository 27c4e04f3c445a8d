//! The virtual clock: a queue of timed events. Nothing in a run sleeps or reads real time;
//! the run jumps from one event to the next. Events at the same instant run in the order they
//! were scheduled, so a run is a pure function of its seed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::scenario::Chaos;

/// A tab's two timers, as in the shell: the router's probe loop and the drainer's sleep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    Router = 0,
    Outbox = 1,
}

/// Something that happens at a point of virtual time.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The user issues workload item `item` in some tab.
    Enqueue { item: usize },
    /// A planned fault starts or ends.
    Chaos(Chaos),
    /// The network heals and every region comes up; chaos is over.
    Heal,
    /// A client request reaches its region.
    RequestArrives { req: u64 },
    /// A region finishes executing a request it accepted earlier.
    Commit { req: u64 },
    /// A region's answer (or the network's failure) reaches the client.
    Answer { req: u64 },
    /// The client's deadline for a request.
    Deadline { req: u64 },
    /// The hedge delay of attempt `req` of a tab's delivery of work `work` ran out.
    Hedge {
        tab: usize,
        epoch: u64,
        work: u64,
        req: u64,
    },
    /// A `/health` probe ends (answered, unreachable or timed out).
    ProbeDone { tab: usize, epoch: u64, probe: u64 },
    /// One of a tab's timers.
    Wake {
        tab: usize,
        epoch: u64,
        timer: Timer,
    },
    /// Another tab told this one the store changed (BroadcastChannel): drain soon.
    Notice { tab: usize, epoch: u64 },
    /// A tab tries to take the drain lock.
    TryLock { tab: usize, epoch: u64 },
    /// The host obtained a fresh session token after a 401.
    TokenRefreshed { tab: usize, epoch: u64 },
    /// The user goes through the dead letters: Retry or Discard.
    UserActs,
    /// A reloading tab is back.
    TabBack { tab: usize },
    /// One replication message of command `id` from one region to another.
    Replicate { from: usize, to: usize, id: String },
}

/// Pending events, earliest first, ties in scheduling order. The heap holds one number per
/// event, `time | order | slot`, so keeping it ordered is cheap; the events wait in slots.
#[derive(Debug, Default)]
pub struct Queue {
    heap: BinaryHeap<Reverse<u128>>,
    slots: Vec<Option<Event>>,
    free: Vec<u32>,
    order: u32,
}

impl Queue {
    /// Schedules `event` at virtual time `at` (never negative).
    pub fn push(&mut self, at: i64, event: Event) {
        self.order = self.order.wrapping_add(1);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                (self.slots.len() - 1) as u32
            }
        };
        let key = (u128::from(at.max(0) as u64) << 64)
            | (u128::from(self.order) << 32)
            | u128::from(slot);
        self.heap.push(Reverse(key));
    }

    pub fn pop(&mut self) -> Option<(i64, Event)> {
        let Reverse(key) = self.heap.pop()?;
        let at = (key >> 64) as i64;
        let slot = key as u32;
        self.free.push(slot);
        self.slots[slot as usize].take().map(|event| (at, event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_then_in_scheduling_order() {
        let mut q = Queue::default();
        q.push(5, Event::Heal);
        q.push(1, Event::Enqueue { item: 1 });
        q.push(1, Event::Enqueue { item: 2 });
        assert_eq!(q.pop(), Some((1, Event::Enqueue { item: 1 })));
        assert_eq!(q.pop(), Some((1, Event::Enqueue { item: 2 })));
        assert_eq!(q.pop(), Some((5, Event::Heal)));
        assert!(q.is_empty());
    }
}
