//! Idempotency-Key semantics (DESIGN §3.5): the first execution's answer is stored with the
//! request it belongs to and replayed for every repeat; a different request under the same key
//! is refused; a repeat that arrives while the first is still executing gets 409.
//!
//! The effect itself is an upsert keyed by the command id, so a command that was already
//! copied here by replication (it first reached another region) takes effect once as well.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use mfe_contract::{Command, CommandAck};
use rusqlite::Transaction;

use super::store::{self, IdempotencyRecord, Store, StoredCommand};

/// Status of a first execution that succeeded.
pub const CREATED: u16 = 201;

/// What executing one command under its key came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// First execution here: answer 201 with this acknowledgement.
    Created(CommandAck),
    /// A repeat: answer exactly what the first execution answered.
    Replayed { status: u16, body: String },
    /// The key is already bound to a different command.
    KeyReused,
}

/// Executes `command` (whose id is its idempotency key) inside `tx`.
///
/// `peers` are the regions a newly accepted command must be replicated to.
pub fn execute(
    tx: &Transaction<'_>,
    region: &str,
    peers: &[String],
    command: &Command,
    now: i64,
) -> rusqlite::Result<Outcome> {
    if let Some(record) = store::get_idempotency(tx, &command.id)? {
        // Compare parsed commands, not text: key order inside `payload` must not matter.
        let same = serde_json::from_str::<Command>(&record.request)
            .map(|first| first == *command)
            .unwrap_or(false);
        if !same {
            return Ok(Outcome::KeyReused);
        }
        store::bump_received(tx, &command.id)?;
        return Ok(Outcome::Replayed {
            status: record.status,
            body: record.body,
        });
    }
    let ack = match store::get_command(tx, &command.id)? {
        Some(existing) => {
            // Known through replication (or an earlier run): no new effect, same answer as
            // the region that accepted it first.
            if existing.command() != *command {
                return Ok(Outcome::KeyReused);
            }
            store::bump_received(tx, &command.id)?;
            CommandAck {
                id: command.id.clone(),
                region: existing.region,
                accepted_at: existing.accepted_at,
            }
        }
        None => {
            store::insert_command(tx, &StoredCommand::accepted(command, region, now))?;
            store::enqueue_replication(tx, peers, &command.id, now)?;
            CommandAck {
                id: command.id.clone(),
                region: region.to_owned(),
                accepted_at: now,
            }
        }
    };
    let record = IdempotencyRecord {
        request: serde_json::to_string(command).expect("a Command always serialises"),
        status: CREATED,
        body: serde_json::to_string(&ack).expect("an ack always serialises"),
    };
    store::put_idempotency(tx, &command.id, &record, now)?;
    Ok(Outcome::Created(ack))
}

/// Which of `keys` already have a stored answer, so a repeat can be replayed even while
/// another repeat of it is being answered. A store that cannot be read answers "none": the
/// caller then refuses with 409, which the client retries.
pub async fn answered(store: &Store, keys: Vec<String>) -> HashSet<String> {
    if keys.is_empty() {
        return HashSet::new();
    }
    store
        .read(move |conn| {
            let mut found = HashSet::new();
            for key in keys {
                if store::get_idempotency(conn, &key)?.is_some() {
                    found.insert(key);
                }
            }
            Ok(found)
        })
        .await
        .unwrap_or_default()
}

/// Keys held by a request of this process right now: a first execution, or a repeat being
/// replayed. Only a key that has no stored answer yet is "still executing" (409) for others.
#[derive(Clone, Default)]
pub struct InFlight(Arc<Mutex<HashSet<String>>>);

impl InFlight {
    /// Claims `key`; `None` if another request holds it. The claim ends when dropped, also
    /// when the request is abandoned (client gone, region taken down).
    pub fn claim(&self, key: &str) -> Option<Claim> {
        let mut keys = self.0.lock().unwrap_or_else(|p| p.into_inner());
        keys.insert(key.to_owned()).then(|| Claim {
            keys: self.clone(),
            key: key.to_owned(),
        })
    }
}

/// A held key; see [`InFlight::claim`].
pub struct Claim {
    keys: InFlight,
    key: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut keys = self.keys.0.lock().unwrap_or_else(|p| p.into_inner());
        keys.remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_claimed_once_until_released() {
        let inflight = InFlight::default();
        let first = inflight.claim("k").expect("free");
        assert!(inflight.claim("k").is_none());
        assert!(inflight.claim("other").is_some());
        drop(first);
        assert!(inflight.claim("k").is_some());
    }
}
