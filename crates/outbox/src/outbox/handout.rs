//! Choosing what to send: per-stream FIFO, a small number of streams at once, batches.
//!
//! A stream is sendable when nothing of it is out on the network and its head is due. Its
//! chunk (the head plus the following due commands) always travels in one request, because
//! the server applies a batch in order, whereas two requests could reach two regions and land
//! in either order. Different streams may share a request.

use super::{Outbox, WorkState};
use crate::backoff::full_jitter_ms;
use crate::changes::ChangeLog;
use crate::entry::Change;
use crate::random::Random;
use mfe_contract::{Command, CommandStatus};

/// One request to make: `POST /commands` when it holds one command, `POST /commands:batch`
/// otherwise. Hand it back to [`Outbox::complete`] or [`Outbox::complete_items`] with the
/// result.
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    /// Unique for the life of this [`Outbox`], so late answers to old requests are recognised.
    pub id: u64,
    /// In the order the server must apply them.
    pub commands: Vec<Command>,
}

impl Work {
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.commands.iter().map(|c| c.id.as_str())
    }

    /// One command: send it alone rather than as a batch.
    pub fn is_single(&self) -> bool {
        self.commands.len() == 1
    }
}

/// What [`Outbox::poll`] decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Poll {
    /// Write these first, in one transaction, before any request goes out.
    pub changes: Vec<Change>,
    /// Requests to make now.
    pub work: Vec<Work>,
}

/// A stream ready to send, with what decides who goes first.
struct Candidate {
    next_at: i64,
    enqueued_at: i64,
    head: String,
    stream: String,
}

impl Outbox {
    /// Housekeeping, then everything that may be sent now. Call it on startup, after every
    /// enqueue and every completion, on `online`, on `resume_auth`, and when [`Outbox::next_wake`]
    /// comes. Entries handed out are `inflight` in the returned changes.
    pub fn poll(&mut self, now_ms: i64, rng: &mut impl Random) -> Poll {
        let mut log = ChangeLog::default();
        self.housekeeping(now_ms, rng, &mut log);
        let work = if self.online && !self.auth_paused {
            self.hand_out(now_ms, rng, &mut log)
        } else {
            Vec::new()
        };
        Poll {
            changes: log.finish(&self.entries),
            work,
        }
    }

    /// Streams that could start a request now, oldest due first.
    fn candidates(&self, now_ms: i64) -> Vec<Candidate> {
        let mut out = Vec::new();
        for (stream, queue) in &self.queues {
            if self.busy.contains_key(stream) {
                continue;
            }
            let Some((_, head)) = queue.first() else {
                continue;
            };
            let Some(e) = self.entries.get(head) else {
                continue;
            };
            if e.status == CommandStatus::Pending && e.next_at <= now_ms {
                out.push(Candidate {
                    next_at: e.next_at,
                    enqueued_at: e.enqueued_at,
                    head: head.clone(),
                    stream: stream.clone(),
                });
            }
        }
        out.sort_by(|a, b| {
            (a.next_at, a.enqueued_at, &a.head).cmp(&(b.next_at, b.enqueued_at, &b.head))
        });
        out
    }

    /// The due prefix of a stream's queue, at most `room` long.
    fn chunk(&self, stream: &str, now_ms: i64, room: usize) -> Vec<String> {
        let Some(queue) = self.queues.get(stream) else {
            return Vec::new();
        };
        queue
            .iter()
            .take(room)
            .map(|(_, id)| id)
            .take_while(|id| {
                self.entries
                    .get(*id)
                    .is_some_and(|e| e.status == CommandStatus::Pending && e.next_at <= now_ms)
            })
            .cloned()
            .collect()
    }

    fn hand_out(&mut self, now_ms: i64, rng: &mut impl Random, log: &mut ChangeLog) -> Vec<Work> {
        let max_batch = self.batch_limit;
        let mut free = self
            .config
            .max_streams_in_flight
            .saturating_sub(self.busy.len());
        if free == 0 {
            return Vec::new();
        }
        let throttled = !self.budget.allows_retry();
        let mut probe_taken = self.probe.is_some();
        // (ids, is_probe) of each request being filled.
        let mut batches: Vec<(Vec<String>, bool)> = Vec::new();
        let mut current: (Vec<String>, bool) = (Vec::new(), false);

        for cand in self.candidates(now_ms) {
            if free == 0 {
                break;
            }
            let attempts = self.entries.get(&cand.head).map_or(0, |e| e.attempts);
            let mut is_probe = false;
            if attempts > 0 && throttled {
                if probe_taken {
                    // Throttled: push this retry later instead of dropping it.
                    self.push_later(&cand.head, attempts, now_ms, rng, log);
                    continue;
                }
                probe_taken = true;
                is_probe = true;
            }
            if current.0.len() >= max_batch {
                batches.push(std::mem::take(&mut current));
            }
            let ids = self.chunk(&cand.stream, now_ms, max_batch - current.0.len());
            current.0.extend(ids);
            current.1 |= is_probe;
            free -= 1;
        }
        if !current.0.is_empty() {
            batches.push(current);
        }

        let mut out = Vec::with_capacity(batches.len());
        for (ids, is_probe) in batches {
            let work_id = self.next_work_id;
            self.next_work_id += 1;
            let mut commands = Vec::with_capacity(ids.len());
            for id in &ids {
                let Some(e) = self.entries.get_mut(id) else {
                    continue;
                };
                e.status = CommandStatus::Inflight;
                e.attempts = e.attempts.saturating_add(1);
                commands.push(e.command.clone());
                *self.busy.entry(e.command.stream.clone()).or_insert(0) += 1;
                self.work_of.insert(id.clone(), work_id);
                log.mark(id);
            }
            self.works.insert(
                work_id,
                WorkState {
                    ids,
                    sent_at: now_ms,
                },
            );
            if is_probe {
                self.probe = Some(work_id);
            }
            out.push(Work {
                id: work_id,
                commands,
            });
        }
        out
    }

    /// Move a retry that the budget does not allow yet to a later time (at least one backoff
    /// base, so the caller's timer can't spin).
    fn push_later(
        &mut self,
        id: &str,
        attempts: u32,
        now_ms: i64,
        rng: &mut impl Random,
        log: &mut ChangeLog,
    ) {
        let c = &self.config;
        let delay = full_jitter_ms(attempts, c.backoff_base_ms, c.backoff_cap_ms, rng.unit())
            .max(c.backoff_base_ms);
        if let Some(e) = self.entries.get_mut(id) {
            e.next_at = now_ms.saturating_add(delay);
            log.touch(id);
        }
    }
}
