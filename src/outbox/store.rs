//! The outbox in IndexedDB. Schema (versioned upgrades):
//! - v1: `outbox` (one record per command, keyed by command id);
//! - v2: `meta` (the per-client `seq` counter, allocated in the same transaction as the write
//!   it numbers, so two tabs never hand out the same number) and `quarantine` (records that no
//!   longer decode, moved aside with the reason, shown to the user, never dropped).
//!
//! Every write is one transaction awaited to commit; no transaction is held across a fetch.

use std::cell::RefCell;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use mfe_contract::Command;
use mfe_outbox::{decode_record, Change, Entry};
use serde::Serialize;
use wasm_bindgen::JsValue;

pub const DB_NAME: &str = "mfe-shell";
const DB_VERSION: u8 = 2;
pub const OUTBOX: &str = "outbox";
pub const META: &str = "meta";
pub const QUARANTINE: &str = "quarantine";
const SEQ_KEY: &str = "seq";

/// A stored record that did not decode: kept (moved to `quarantine`) and shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    pub key: String,
    pub reason: String,
}

/// What the store holds.
#[derive(Debug, Default)]
pub struct Loaded {
    pub entries: Vec<Entry>,
    pub quarantined: Vec<Quarantined>,
}

/// A storage failure, worded for the person who must act on it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail(context: &str, e: impl std::fmt::Debug) -> StoreError {
    let detail = format!("{e:?}");
    if detail.contains("QuotaExceeded") {
        return StoreError(format!(
            "{context}: this device's storage is full. Free some space, then try again."
        ));
    }
    StoreError(format!("{context}: {detail}"))
}

type Opening = Shared<LocalBoxFuture<'static, Result<Database, StoreError>>>;

thread_local! {
    static DB: RefCell<Option<Database>> = const { RefCell::new(None) };
    /// The open in progress, shared by every caller that arrives meanwhile: concurrent first
    /// writes must not each open (and leak) a connection, which would block later upgrades.
    static OPENING: RefCell<Option<Opening>> = const { RefCell::new(None) };
}

/// Closes the open connection, if any, so the next call opens it afresh (another tab wants to
/// upgrade the schema, or the database was deleted under the page).
pub fn close() {
    if let Some(db) = DB.with(|d| d.borrow_mut().take()) {
        db.close();
    }
}

async fn open() -> Result<Database, StoreError> {
    if let Some(db) = DB.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    let opening = OPENING.with(|o| {
        o.borrow_mut()
            .get_or_insert_with(|| open_connection().boxed_local().shared())
            .clone()
    });
    let result = opening.await;
    OPENING.with(|o| o.borrow_mut().take());
    let db = result?;
    DB.with(|d| *d.borrow_mut() = Some(db.clone()));
    Ok(db)
}

async fn open_connection() -> Result<Database, StoreError> {
    let db = Database::open(DB_NAME)
        .with_version(DB_VERSION)
        .with_on_upgrade_needed(|event, db| {
            let old = event.old_version() as u64;
            if old < 1 {
                db.create_object_store(OUTBOX).build()?;
            }
            if old < 2 {
                db.create_object_store(META).build()?;
                db.create_object_store(QUARANTINE).build()?;
            }
            Ok(())
        })
        .with_on_blocked(|_| {
            leptos::logging::warn!("another tab keeps an older version of the outbox open");
            Ok(())
        })
        .await
        .map_err(|e| fail("cannot open this device's outbox", e))?;
    Ok(db)
}

fn to_js(value: &impl Serialize) -> Result<JsValue, StoreError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| fail("cannot encode a command", e))
}

/// Saves a new command in one transaction: allocates its `seq` from the shared counter and
/// writes the entry. Returns the entry as stored.
pub async fn save_new(mut command: Command, now_ms: i64) -> Result<Entry, StoreError> {
    let db = open().await?;
    let tx = db
        .transaction([OUTBOX, META])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| fail("cannot save on this device", e))?;
    let meta = tx.object_store(META).map_err(|e| fail("meta", e))?;
    let last: Option<JsValue> = meta
        .get(SEQ_KEY)
        .primitive()
        .map_err(|e| fail("cannot read the sequence counter", e))?
        .await
        .map_err(|e| fail("cannot read the sequence counter", e))?;
    let last = last.and_then(|v| v.as_f64()).unwrap_or(0.0) as u64;
    command.seq = last + 1;
    meta.put(JsValue::from_f64(command.seq as f64))
        .with_key(SEQ_KEY)
        .primitive()
        .map_err(|e| fail("cannot advance the sequence counter", e))?;
    let entry = Entry::new(command, now_ms);
    tx.object_store(OUTBOX)
        .map_err(|e| fail("outbox", e))?
        .put(to_js(&entry)?)
        .with_key(entry.id().to_string())
        .primitive()
        .map_err(|e| fail("cannot save on this device", e))?;
    tx.commit()
        .await
        .map_err(|e| fail("cannot save on this device", e))?;
    Ok(entry)
}

/// Writes a batch of changes in one transaction and waits for the commit.
pub async fn apply(changes: &[Change]) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let db = open().await?;
    let tx = db
        .transaction(OUTBOX)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| fail("cannot update the outbox", e))?;
    let store = tx.object_store(OUTBOX).map_err(|e| fail("outbox", e))?;
    for change in changes {
        match change {
            Change::Put(entry) => {
                store
                    .put(to_js(entry)?)
                    .with_key(entry.id().to_string())
                    .primitive()
                    .map_err(|e| fail("cannot update the outbox", e))?;
            }
            Change::Delete(id) => {
                store
                    .delete(id.clone())
                    .primitive()
                    .map_err(|e| fail("cannot update the outbox", e))?;
            }
        }
    }
    tx.commit()
        .await
        .map_err(|e| fail("cannot update the outbox", e))
}

/// Reads every command. Records that do not decode are moved to `quarantine` (in the same
/// transaction) with the reason, so they stay inspectable and stop blocking delivery.
pub async fn load() -> Result<Loaded, StoreError> {
    let db = open().await?;
    let tx = db
        .transaction([OUTBOX, QUARANTINE])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| fail("cannot read the outbox", e))?;
    let store = tx.object_store(OUTBOX).map_err(|e| fail("outbox", e))?;
    let keys = store
        .get_all_keys::<JsValue>()
        .primitive()
        .map_err(|e| fail("cannot read the outbox", e))?
        .await
        .map_err(|e| fail("cannot read the outbox", e))?;
    let values = store
        .get_all::<JsValue>()
        .primitive()
        .map_err(|e| fail("cannot read the outbox", e))?
        .await
        .map_err(|e| fail("cannot read the outbox", e))?;
    let quarantine = tx
        .object_store(QUARANTINE)
        .map_err(|e| fail("quarantine", e))?;
    let mut loaded = Loaded::default();
    for (key, value) in keys.zip(values) {
        let key = key.map_err(|e| fail("cannot read a key", e))?;
        let value = value.map_err(|e| fail("cannot read a record", e))?;
        let key_text = key.as_string().unwrap_or_else(|| format!("{key:?}"));
        let decoded = serde_wasm_bindgen::from_value::<serde_json::Value>(value.clone())
            .map_err(|e| e.to_string())
            .and_then(|json| decode_record(&json).map_err(|e| e.to_string()));
        match decoded {
            Ok(entry) if entry.id() == key_text => loaded.entries.push(entry),
            Ok(entry) => loaded.quarantined.push(Quarantined {
                key: key_text.clone(),
                reason: format!("stored under {key_text} but its id is {}", entry.id()),
            }),
            Err(reason) => loaded.quarantined.push(Quarantined {
                key: key_text.clone(),
                reason,
            }),
        }
        if let Some(q) = loaded.quarantined.last().filter(|q| q.key == key_text) {
            let record = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&record, &"reason".into(), &q.reason.as_str().into());
            let _ = js_sys::Reflect::set(&record, &"record".into(), &value);
            quarantine
                .put(JsValue::from(record))
                .with_key(key_text.clone())
                .primitive()
                .map_err(|e| fail("cannot set a record aside", e))?;
            store
                .delete(key_text)
                .primitive()
                .map_err(|e| fail("cannot set a record aside", e))?;
        }
    }
    // Earlier quarantined records stay listed.
    let kept_keys = quarantine
        .get_all_keys::<JsValue>()
        .primitive()
        .map_err(|e| fail("cannot read the quarantine", e))?
        .await
        .map_err(|e| fail("cannot read the quarantine", e))?;
    let newly: Vec<String> = loaded.quarantined.iter().map(|q| q.key.clone()).collect();
    for key in kept_keys.flatten() {
        let key = key.as_string().unwrap_or_default();
        if !newly.contains(&key) {
            loaded.quarantined.push(Quarantined {
                key,
                reason: "set aside earlier: it could not be read".into(),
            });
        }
    }
    tx.commit()
        .await
        .map_err(|e| fail("cannot read the outbox", e))?;
    Ok(loaded)
}

/// Reads the records whose id `known` does not recognise (commands another tab saved), without
/// decoding the rest. Undecodable ones are left for [`load`] to quarantine.
pub async fn load_unknown(known: impl Fn(&str) -> bool) -> Result<Vec<Entry>, StoreError> {
    let db = open().await?;
    let tx = db
        .transaction(OUTBOX)
        .build()
        .map_err(|e| fail("cannot read the outbox", e))?;
    let store = tx.object_store(OUTBOX).map_err(|e| fail("outbox", e))?;
    let keys = store
        .get_all_keys::<JsValue>()
        .primitive()
        .map_err(|e| fail("cannot read the outbox", e))?
        .await
        .map_err(|e| fail("cannot read the outbox", e))?;
    let unknown: Vec<String> = keys
        .flatten()
        .filter_map(|k| k.as_string())
        .filter(|k| !known(k))
        .collect();
    let mut entries = Vec::new();
    for key in unknown {
        let value: Option<JsValue> = store
            .get(key.clone())
            .primitive()
            .map_err(|e| fail("cannot read a record", e))?
            .await
            .map_err(|e| fail("cannot read a record", e))?;
        let decoded = value
            .and_then(|v| serde_wasm_bindgen::from_value::<serde_json::Value>(v).ok())
            .and_then(|json| decode_record(&json).ok())
            .filter(|entry| entry.id() == key);
        entries.extend(decoded);
    }
    Ok(entries)
}
