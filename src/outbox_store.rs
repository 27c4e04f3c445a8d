//! The device's outbox in IndexedDB: every command is written here, in its own transaction,
//! before any attempt to send it, so a closed tab or a reload loses nothing.

use std::cell::RefCell;

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use mfe_contract::{Command, CommandStatus};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

const DB_NAME: &str = "mfe-shell";
const DB_VERSION: u8 = 1;
pub const OUTBOX: &str = "outbox";

/// One command as stored on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCommand {
    pub command: Command,
    pub status: CommandStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Region that acknowledged it.
    pub region: Option<String>,
    pub enqueued_at: i64,
    pub delivered_at: Option<i64>,
}

/// What was read back: the records that decoded, and the ones that did not (kept on disk,
/// reported to the user, never dropped).
#[derive(Debug, Default)]
pub struct Snapshot {
    pub commands: Vec<StoredCommand>,
    pub unreadable: Vec<String>,
}

thread_local! {
    static DB: RefCell<Option<Database>> = const { RefCell::new(None) };
}

fn err(context: &str, e: impl std::fmt::Debug) -> String {
    format!("{context}: {e:?}")
}

async fn open_db() -> Result<Database, String> {
    if let Some(db) = DB.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    let db = Database::open(DB_NAME)
        .with_version(DB_VERSION)
        .with_on_upgrade_needed(|event, db| {
            if event.old_version() < 1.0 {
                db.create_object_store(OUTBOX).build()?;
            }
            Ok(())
        })
        .await
        .map_err(|e| err("cannot open the device store", e))?;
    DB.with(|d| *d.borrow_mut() = Some(db.clone()));
    Ok(db)
}

fn to_js(record: &StoredCommand) -> Result<JsValue, String> {
    record
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| err("cannot encode command", e))
}

/// Writes `records` in one transaction and waits until it is committed.
pub async fn put_all(records: &[StoredCommand]) -> Result<(), String> {
    let db = open_db().await?;
    let tx = db
        .transaction(OUTBOX)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| err("cannot start a write", e))?;
    let store = tx.object_store(OUTBOX).map_err(|e| err("outbox", e))?;
    for record in records {
        store
            .put(to_js(record)?)
            .with_key(record.command.id.clone())
            .primitive()
            .map_err(|e| err("cannot write command", e))?;
    }
    tx.commit()
        .await
        .map_err(|e| err("the device did not save the command", e))
}

/// Reads every stored command, oldest first.
pub async fn load_all() -> Result<Snapshot, String> {
    let db = open_db().await?;
    let tx = db
        .transaction(OUTBOX)
        .build()
        .map_err(|e| err("cannot start a read", e))?;
    let store = tx.object_store(OUTBOX).map_err(|e| err("outbox", e))?;
    let values = store
        .get_all::<JsValue>()
        .primitive()
        .map_err(|e| err("cannot read outbox", e))?
        .await
        .map_err(|e| err("cannot read outbox", e))?;
    let mut snapshot = Snapshot::default();
    for value in values {
        let value = value.map_err(|e| err("cannot read record", e))?;
        match serde_wasm_bindgen::from_value::<StoredCommand>(value) {
            Ok(record) => snapshot.commands.push(record),
            Err(e) => snapshot.unreadable.push(e.to_string()),
        }
    }
    snapshot
        .commands
        .sort_by(|a, b| (a.command.seq, &a.command.id).cmp(&(b.command.seq, &b.command.id)));
    Ok(snapshot)
}
