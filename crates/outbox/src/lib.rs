//! Sans-IO core of the durable command outbox (DESIGN §3.4).
//!
//! Everything here is plain data and decisions: no browser types, no clock, no I/O, no global
//! randomness. Time (`now_ms`, ms since the Unix epoch), randomness ([`Random`]) and network
//! results ([`Outcome`]) are inputs; records to persist ([`Change`]) and requests to make
//! ([`Work`]) are outputs. The page's IndexedDB + fetch adapter and the service worker's
//! Background Sync drain are thin layers over the same [`Outbox`], and tests drive it with a
//! virtual clock and a seeded generator.
//!
//! Driving it:
//!
//! ```
//! use mfe_outbox::{Config, Outbox, Outcome, SplitMix64};
//! # let command = mfe_contract::Command { id: "0190f3c2-7a2b-7cde-8f00-0123456789ab".into(),
//! #     client_id: "c".into(), seq: 1, stream: "tasks".into(), kind: "task.add".into(),
//! #     app: "tasks".into(), payload: serde_json::json!({}), created_at: 0 };
//! let mut rng = SplitMix64::new(1);
//! let mut outbox = Outbox::new(Config::default());
//! // dispatch: store the returned records in one transaction, then resolve the promise.
//! let _durable = outbox.enqueue(command, 1_000).unwrap();
//! // drain: persist `changes` (entries now inflight), then send each `work`.
//! let poll = outbox.poll(1_000, &mut rng);
//! for work in &poll.work {
//!     let done = outbox.complete(1_050, work, "eu-west", &Outcome::http(201), &mut rng);
//!     assert!(!done.failover); // persist done.changes
//! }
//! assert_eq!(outbox.counts().delivered, 1);
//! ```

pub mod backoff;
pub mod budget;
mod changes;
pub mod classify;
pub mod config;
pub mod decode;
pub mod entry;
pub mod journal;
mod outbox;
pub mod random;
pub mod retry_after;

pub use budget::{HedgeVerdict, RetryBudget};
pub use classify::{classify_status, Class, Outcome};
pub use config::Config;
pub use decode::{decode_record, DecodeError};
pub use entry::{Change, Counts, Entry, EXPIRED};
pub use journal::{
    apply_journal, decode_journal, is_mark_of, split_changes, Journal, JournalError, Split,
};
pub use outbox::{AppView, Completion, Outbox, OutboxError, Poll, Rescue, Work};
pub use random::{Fixed, Random, SplitMix64};
pub use retry_after::parse_retry_after;
