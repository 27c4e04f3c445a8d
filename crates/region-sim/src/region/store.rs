//! One region's SQLite store: the commands (effects), the idempotency records (first answers),
//! and the replication outbox (what still has to be copied to which region).
//!
//! SQLite calls block, so they run on tokio's blocking pool behind one mutex per region: the
//! mutex also serialises executions, which is what makes "first execution wins" trivially true.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use mfe_contract::Command;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    stream TEXT NOT NULL,
    kind TEXT NOT NULL,
    app TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    accepted_at INTEGER NOT NULL,
    origin_region TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    replicated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS commands_by_acceptance ON commands (accepted_at, id);
CREATE INDEX IF NOT EXISTS commands_by_stream ON commands (stream, seq);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    first_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS replication_outbox (
    target TEXT NOT NULL,
    id TEXT NOT NULL,
    enqueued_at INTEGER NOT NULL,
    PRIMARY KEY (target, id)
);
CREATE INDEX IF NOT EXISTS replication_outbox_by_age ON replication_outbox (enqueued_at);
CREATE TABLE IF NOT EXISTS health_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
);
";

/// Why a store call failed.
#[derive(Debug)]
pub enum StoreError {
    /// The `store_unwritable` fault is on.
    Unwritable,
    Sqlite(rusqlite::Error),
    /// The blocking task panicked or was cancelled.
    Task(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unwritable => write!(f, "store is not writable (fault injected)"),
            Self::Sqlite(err) => write!(f, "sqlite: {err}"),
            Self::Task(err) => write!(f, "store task failed: {err}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Sqlite(err)
    }
}

/// A command as a region stores it, and as `GET /commands` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCommand {
    pub id: String,
    pub client_id: String,
    pub stream: String,
    pub seq: u64,
    pub kind: String,
    pub app: String,
    pub payload: serde_json::Value,
    pub created_at: i64,
    /// When the command was first accepted by any region (the earliest wins on merge).
    pub accepted_at: i64,
    /// Region that first accepted it (goes with `accepted_at`).
    pub region: String,
    /// How many client requests with this key this region received (first plus replays).
    pub received: u64,
    /// True when the command first reached this region through replication.
    pub replicated: bool,
}

impl StoredCommand {
    /// A command this region accepts from a client right now.
    pub fn accepted(command: &Command, region: &str, now: i64) -> Self {
        Self {
            id: command.id.clone(),
            client_id: command.client_id.clone(),
            stream: command.stream.clone(),
            seq: command.seq,
            kind: command.kind.clone(),
            app: command.app.clone(),
            payload: command.payload.clone(),
            created_at: command.created_at,
            accepted_at: now,
            region: region.to_owned(),
            received: 1,
            replicated: false,
        }
    }

    /// The wire command this row was made from.
    pub fn command(&self) -> Command {
        Command {
            id: self.id.clone(),
            client_id: self.client_id.clone(),
            seq: self.seq,
            stream: self.stream.clone(),
            kind: self.kind.clone(),
            app: self.app.clone(),
            payload: self.payload.clone(),
            created_at: self.created_at,
        }
    }
}

/// The first answer given for an idempotency key, replayed for every repeat.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    /// The request body (a serialised `Command`) the answer belongs to.
    pub request: String,
    pub status: u16,
    pub body: String,
}

/// Filters of `GET /commands`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub since: i64,
    pub stream: Option<String>,
    pub id: Option<String>,
    pub limit: u32,
}

/// Pending replication of one source store towards one target region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingToTarget {
    pub target: String,
    pub count: u64,
    pub oldest_enqueued_at: i64,
}

/// Handle on one region's SQLite file; cheap to clone.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
    unwritable: Arc<AtomicBool>,
}

impl Store {
    /// Opens (creating if missing) the database at `path`; `reset` deletes it first.
    pub fn open(path: &Path, reset: bool) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating data folder {}", dir.display()))?;
        }
        if reset {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let file = PathBuf::from(format!("{}{suffix}", path.display()));
                match std::fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => {
                        return Err(err).with_context(|| format!("deleting {}", file.display()))
                    }
                }
            }
        }
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("creating schema in {}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            conn: Arc::new(Mutex::new(conn)),
            unwritable: Arc::new(AtomicBool::new(false)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes every write fail (and `/health` report `store_ok: false`) until cleared.
    pub fn set_unwritable(&self, unwritable: bool) {
        self.unwritable.store(unwritable, Ordering::SeqCst);
    }

    /// Runs a read on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&conn).map_err(StoreError::from)
        })
        .await
        .map_err(|err| StoreError::Task(err.to_string()))?
    }

    /// Runs `f` in one immediate transaction on the blocking pool; commits if it returns `Ok`.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        if self.unwritable.load(Ordering::SeqCst) {
            return Err(StoreError::Unwritable);
        }
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .map_err(|err| StoreError::Task(err.to_string()))?
    }

    /// Deep health check: a real write and read back.
    pub async fn probe(&self, now: i64) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO health_probe (id, at) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                params![now],
            )?;
            let read: i64 =
                tx.query_row("SELECT at FROM health_probe WHERE id = 1", [], |r| r.get(0))?;
            if read == now {
                Ok(())
            } else {
                Err(rusqlite::Error::QueryReturnedNoRows)
            }
        })
        .await
    }
}

const COMMAND_COLUMNS: &str = "id, client_id, stream, seq, kind, app, payload, created_at, \
                               accepted_at, origin_region, received, replicated";

fn row_to_command(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredCommand> {
    let payload: String = row.get(6)?;
    let payload = serde_json::from_str(&payload).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(err))
    })?;
    Ok(StoredCommand {
        id: row.get(0)?,
        client_id: row.get(1)?,
        stream: row.get(2)?,
        // SQLite integers are signed; the cast round-trips every u64 bit for bit.
        seq: row.get::<_, i64>(3)? as u64,
        kind: row.get(4)?,
        app: row.get(5)?,
        payload,
        created_at: row.get(7)?,
        accepted_at: row.get(8)?,
        region: row.get(9)?,
        received: row.get::<_, i64>(10)?.max(0) as u64,
        replicated: row.get(11)?,
    })
}

pub fn get_command(conn: &Connection, id: &str) -> rusqlite::Result<Option<StoredCommand>> {
    conn.query_row(
        &format!("SELECT {COMMAND_COLUMNS} FROM commands WHERE id = ?1"),
        params![id],
        row_to_command,
    )
    .optional()
}

pub fn insert_command(tx: &Transaction<'_>, row: &StoredCommand) -> rusqlite::Result<()> {
    tx.execute(
        &format!("INSERT INTO commands ({COMMAND_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        params![
            row.id,
            row.client_id,
            row.stream,
            row.seq as i64,
            row.kind,
            row.app,
            row.payload.to_string(),
            row.created_at,
            row.accepted_at,
            row.region,
            row.received as i64,
            row.replicated,
        ],
    )?;
    Ok(())
}

/// Counts one more client request carrying this command's key.
pub fn bump_received(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE commands SET received = received + 1 WHERE id = ?1",
        params![id],
    )?;
    Ok(())
}

/// Merges a copy of a command from another region: inserted if unknown, otherwise the copy
/// with the earlier `(accepted_at, region)` wins, so every region ends with the same row
/// whatever order copies arrive in. This region's `received`/`replicated` stay local.
pub fn merge_command(tx: &Transaction<'_>, incoming: &StoredCommand) -> rusqlite::Result<()> {
    match get_command(tx, &incoming.id)? {
        None => insert_command(
            tx,
            &StoredCommand {
                received: 0,
                replicated: true,
                ..incoming.clone()
            },
        ),
        Some(local) => {
            if (incoming.accepted_at, &incoming.region) < (local.accepted_at, &local.region) {
                tx.execute(
                    "UPDATE commands SET client_id = ?2, stream = ?3, seq = ?4, kind = ?5,
                         app = ?6, payload = ?7, created_at = ?8, accepted_at = ?9,
                         origin_region = ?10
                     WHERE id = ?1",
                    params![
                        incoming.id,
                        incoming.client_id,
                        incoming.stream,
                        incoming.seq as i64,
                        incoming.kind,
                        incoming.app,
                        incoming.payload.to_string(),
                        incoming.created_at,
                        incoming.accepted_at,
                        incoming.region,
                    ],
                )?;
            }
            Ok(())
        }
    }
}

pub fn list_commands(
    conn: &Connection,
    filter: &ListFilter,
) -> rusqlite::Result<Vec<StoredCommand>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COMMAND_COLUMNS} FROM commands
         WHERE accepted_at >= ?1 AND (?2 IS NULL OR stream = ?2) AND (?3 IS NULL OR id = ?3)
         ORDER BY accepted_at, id LIMIT ?4"
    ))?;
    let rows = statement.query_map(
        params![filter.since, filter.stream, filter.id, filter.limit],
        row_to_command,
    )?;
    rows.collect()
}

/// Payloads of one stream's commands in sequence order (the read model of `/q/stream/…`).
pub fn stream_payloads(
    conn: &Connection,
    stream: &str,
) -> rusqlite::Result<Vec<serde_json::Value>> {
    let mut statement = conn.prepare_cached(
        "SELECT payload FROM commands WHERE stream = ?1 ORDER BY seq, created_at, id",
    )?;
    let rows = statement.query_map(params![stream], |row| {
        let text: String = row.get(0)?;
        serde_json::from_str(&text).map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(err))
        })
    })?;
    rows.collect()
}

/// All command ids, sorted: used to check that regions converged to the same set.
pub fn command_ids(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare_cached("SELECT id FROM commands ORDER BY id")?;
    let rows = statement.query_map([], |row| row.get(0))?;
    rows.collect()
}

pub fn get_idempotency(
    conn: &Connection,
    key: &str,
) -> rusqlite::Result<Option<IdempotencyRecord>> {
    conn.query_row(
        "SELECT request, status, body FROM idempotency WHERE key = ?1",
        params![key],
        |row| {
            Ok(IdempotencyRecord {
                request: row.get(0)?,
                status: row.get(1)?,
                body: row.get(2)?,
            })
        },
    )
    .optional()
}

pub fn put_idempotency(
    tx: &Transaction<'_>,
    key: &str,
    record: &IdempotencyRecord,
    now: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO idempotency (key, request, status, body, first_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![key, record.request, record.status, record.body, now],
    )?;
    Ok(())
}

/// Schedules copies of a newly accepted command to every other region.
pub fn enqueue_replication(
    tx: &Transaction<'_>,
    targets: &[String],
    id: &str,
    now: i64,
) -> rusqlite::Result<()> {
    let mut statement = tx.prepare_cached(
        "INSERT OR IGNORE INTO replication_outbox (target, id, enqueued_at) VALUES (?1, ?2, ?3)",
    )?;
    for target in targets {
        statement.execute(params![target, id, now])?;
    }
    Ok(())
}

/// Outbox entries enqueued at or before `due_at`, oldest first.
pub fn outbox_due(
    conn: &Connection,
    due_at: i64,
    limit: u32,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement = conn.prepare_cached(
        "SELECT target, id FROM replication_outbox WHERE enqueued_at <= ?1
         ORDER BY enqueued_at, id LIMIT ?2",
    )?;
    let rows = statement.query_map(params![due_at, limit], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

pub fn outbox_delete(tx: &Transaction<'_>, target: &str, ids: &[String]) -> rusqlite::Result<()> {
    let mut statement =
        tx.prepare_cached("DELETE FROM replication_outbox WHERE target = ?1 AND id = ?2")?;
    for id in ids {
        statement.execute(params![target, id])?;
    }
    Ok(())
}

/// Drops outbox entries for regions that are not in this run's configuration (a previous run
/// had other regions); they could never be delivered and would block convergence.
pub fn outbox_forget_unknown(tx: &Transaction<'_>, known: &[String]) -> rusqlite::Result<usize> {
    let mut statement = tx.prepare_cached("SELECT DISTINCT target FROM replication_outbox")?;
    let targets: Vec<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut removed = 0;
    for target in targets.iter().filter(|t| !known.contains(t)) {
        removed += tx.execute(
            "DELETE FROM replication_outbox WHERE target = ?1",
            params![target],
        )?;
    }
    Ok(removed)
}

/// Per target region: how many entries wait and since when.
pub fn outbox_pending(conn: &Connection) -> rusqlite::Result<Vec<PendingToTarget>> {
    let mut statement = conn.prepare_cached(
        "SELECT target, COUNT(*), MIN(enqueued_at) FROM replication_outbox
         GROUP BY target ORDER BY target",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(PendingToTarget {
            target: row.get(0)?,
            count: row.get::<_, i64>(1)?.max(0) as u64,
            oldest_enqueued_at: row.get(2)?,
        })
    })?;
    rows.collect()
}

/// Empties every table (admin reset).
pub fn clear(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DELETE FROM commands; DELETE FROM idempotency; DELETE FROM replication_outbox;",
    )
}
