//! The outbox in IndexedDB. Schema (versioned upgrades):
//! - v1: `outbox` (one record per command, keyed by command id);
//! - v2: `meta` (the per-client `seq` counter, allocated in the same transaction as the write
//!   it numbers, so two tabs never hand out the same number; the `rev` counter, raised by
//!   every transaction that changes or removes records, so a page can tell whether anybody
//!   else did since it last looked; and the in-flight journal, `id → attempts` of the commands
//!   handed out and not answered yet, which every read applies to the records, see
//!   [`mfe_outbox::journal`]) and `quarantine` (records that no longer decode, moved aside with
//!   the reason, shown to the user, never dropped);
//! - v3: no new store. The in-flight journal changes how records must be read: a build of v2
//!   reads them without it, so it would show commands handed out as waiting and could retry a
//!   dead letter with a stale attempt count. Opening v3 makes every tab of such a build let go
//!   of the database and ask for a reload (below), instead of working beside this one.
//!
//! Every write is one transaction awaited to commit; no transaction is held across a fetch.
//!
//! One connection is shared by every call, and watched, because other tabs and the browser can
//! take the database away from under the page:
//! - **Another tab opens a newer version** (`versionchange` with a version): the connection is
//!   closed at once so that tab's upgrade is not blocked, and the store refuses every call
//!   with a plain reason until the page is reloaded ([`StoreEvent::Outdated`]). What was saved
//!   stays in the database, which the newer tab now serves.
//! - **This page's upgrade is blocked** by a tab that keeps the old version open: the open goes
//!   on in the background and completes when that tab lets go ([`StoreEvent::Blocked`], then
//!   [`StoreEvent::Unblocked`]). A call waits for it at most [`set_open_wait`] (10 s by
//!   default), then fails with the reason before writing anything, so nothing it was asked to
//!   save can be taken for saved.
//! - **The database is deleted** (`versionchange` without a version: devtools, another tab)
//!   **or closed by the browser** (`close`: site data cleared): the connection closes so the
//!   deletion can proceed, the store reopens (recreating the schema) and, before any other call
//!   may use it, writes back what the page still holds ([`rescue_from`]: the outbox core's
//!   [`Rescue`]) with the same ids and `seq`s, and restarts the `seq` counter above them
//!   ([`StoreEvent::Lost`], then [`StoreEvent::Restored`]). A write that committed just
//!   before the deletion is written again after it, and a call that failed because the
//!   connection went away is tried once more on the restored one.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use futures::future::{select, Either, FutureExt, LocalBoxFuture, Shared};
use indexed_db_futures::database::Database;
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use mfe_contract::Command;
use mfe_outbox::{
    apply_journal, decode_journal, decode_record, split_changes, Change, Entry, Journal,
    JournalError, Rescue,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;

pub const DB_NAME: &str = "mfe-shell";
pub const DB_VERSION: u8 = 3;
pub const OUTBOX: &str = "outbox";
pub const META: &str = "meta";
pub const QUARANTINE: &str = "quarantine";
const SEQ_KEY: &str = "seq";
/// Raised by one in every transaction that changes or removes records ([`apply`], the
/// write-back after a loss, [`load`] when it sets records aside). Saves raise `seq` instead.
const REV_KEY: &str = "rev";
/// Key of the in-flight journal in `meta`; also its key in `quarantine` if it does not read.
const JOURNAL_KEY: &str = "inflight";
/// How long a call waits for the database to open (e.g. while an older tab blocks the
/// upgrade) before it fails with the reason.
const DEFAULT_OPEN_WAIT: Duration = Duration::from_secs(10);
/// Reopen attempts when the database is taken away again while being reopened.
const MAX_REOPENS: usize = 3;

const OUTDATED: &str = "this app was updated in another tab; reload this page to keep saving \
                        here (what was already saved is safe)";
const BLOCKED: &str = "another tab of this app still has the older version open; close it, \
                       then try again (what was already saved is safe)";
const RESTORING: &str = "stored data was cleared by the browser and is being restored; try \
                         again in a moment";
const SLOW: &str = "this device's storage did not answer in time; try again";

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

/// What happened to the database that the person using the page should hear about.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreEvent {
    /// Opening waits for another tab that keeps an older version open.
    Blocked,
    /// The open that was blocked has ended (opened, or failed with a reason).
    Unblocked,
    /// Another tab opened a newer version: this page let go and stops writing until reloaded.
    Outdated,
    /// The database was deleted or closed under the page; it is being reopened.
    Lost,
    /// After a loss, the database was reopened and the page's commands written back:
    /// `unsent` not yet delivered are stored again, `written` records had to be rewritten
    /// (the others were already there, e.g. another tab restored them first).
    Restored { unsent: usize, written: usize },
    /// After a loss, writing back failed; the page still holds the commands and tries again
    /// on the next call.
    RestoreFailed { unsent: usize, reason: String },
}

type Opening = Shared<LocalBoxFuture<'static, Result<Database, StoreError>>>;
type Listener = Rc<dyn Fn(StoreEvent)>;
type Provider = Rc<dyn Fn() -> Rescue>;

/// The shared connection and the flag its handlers raise when it is taken away.
struct Conn {
    db: Database,
    gone: Rc<Cell<bool>>,
}

thread_local! {
    static CONN: RefCell<Option<Conn>> = const { RefCell::new(None) };
    /// The open in progress, shared by every caller that arrives meanwhile: concurrent first
    /// writes must not each open (and leak) a connection, which would block later upgrades.
    static OPENING: RefCell<Option<Opening>> = const { RefCell::new(None) };
    /// A newer version was opened elsewhere: refuse calls until reload.
    static IS_OUTDATED: Cell<bool> = const { Cell::new(false) };
    /// The database was lost and not yet written back.
    static IS_LOST: Cell<bool> = const { Cell::new(false) };
    /// How many times the database was lost: a call that sees it change knows its connection
    /// went away under it.
    static LOSSES: Cell<u64> = const { Cell::new(0) };
    /// The open in progress was reported blocked.
    static IS_BLOCKED: Cell<bool> = const { Cell::new(false) };
    /// The highest `seq` this page allocated or read (a floor for the counter after a loss).
    static HIGHEST_SEQ: Cell<u64> = const { Cell::new(0) };
    /// The `seq` counter when [`load_unknown`] last read every key, raised by this page's own
    /// saves right after it; `None` until the first read and after the database was lost.
    static SEEN_COUNTER: Cell<Option<u64>> = const { Cell::new(None) };
    /// The `rev` counter when [`load`] last read every record, raised by this page's own
    /// changes right after it; `None` until the first read, after a change of another writer
    /// came in between, and after the database was lost.
    static SEEN_REV: Cell<Option<u64>> = const { Cell::new(None) };
    /// How many writes this page has started ([`apply`], [`save_new`]): a read that saw this
    /// number move while it ran may have missed a change the page already made in memory.
    static OWN_WRITES: Cell<u64> = const { Cell::new(0) };
    static OPEN_WAIT: Cell<Duration> = const { Cell::new(DEFAULT_OPEN_WAIT) };
    static LISTENER: RefCell<Option<Listener>> = const { RefCell::new(None) };
    static PROVIDER: RefCell<Option<Provider>> = const { RefCell::new(None) };
}

/// Tells `listener` about everything worth showing the user (replaces any earlier one).
pub fn on_event(listener: impl Fn(StoreEvent) + 'static) {
    LISTENER.with(|l| *l.borrow_mut() = Some(Rc::new(listener)));
}

/// Where the store gets what to write back after the database was lost under the page: the
/// commands the page holds in memory (the outbox core's [`Rescue`]).
pub fn rescue_from(provider: impl Fn() -> Rescue + 'static) {
    PROVIDER.with(|p| *p.borrow_mut() = Some(Rc::new(provider)));
}

/// Forgets the listener and the rescue provider.
pub fn clear_hooks() {
    LISTENER.with(|l| l.borrow_mut().take());
    PROVIDER.with(|p| p.borrow_mut().take());
}

/// How long a call waits for the database to open before failing with the reason.
pub fn set_open_wait(wait: Duration) {
    OPEN_WAIT.with(|w| w.set(wait));
}

fn emit(event: StoreEvent) {
    if let Some(listener) = LISTENER.with(|l| l.borrow().clone()) {
        listener(event);
    }
}

/// Closes the open connection, if any, so the next call opens it afresh, and forgets that it
/// was outdated or lost.
pub fn close() {
    if let Some(conn) = CONN.with(|c| c.borrow_mut().take()) {
        conn.gone.set(true);
        conn.db.close();
    }
    IS_OUTDATED.with(|o| o.set(false));
    IS_LOST.with(|l| l.set(false));
    SEEN_COUNTER.with(|s| s.set(None));
    SEEN_REV.with(|s| s.set(None));
}

fn losses() -> u64 {
    LOSSES.with(Cell::get)
}

fn raise_highest_seq(seq: u64) {
    HIGHEST_SEQ.with(|h| h.set(h.get().max(seq)));
}

#[derive(Clone, Copy)]
enum Why {
    /// `versionchange` to a newer version.
    Upgraded,
    /// `versionchange` without a version: the database is being deleted.
    Deleted,
    /// `close`: the browser closed the connection (site data cleared, storage failure).
    Closed,
}

/// A connection was taken away: let go of it at once, then either stop (a newer version
/// serves the database now) or reopen and write back.
fn connection_lost(raw: &web_sys::IdbDatabase, gone: &Rc<Cell<bool>>, why: Why) {
    raw.close();
    if gone.replace(true) {
        return;
    }
    CONN.with(|c| {
        let mut c = c.borrow_mut();
        if c.as_ref().is_some_and(|conn| Rc::ptr_eq(&conn.gone, gone)) {
            *c = None;
        }
    });
    match why {
        Why::Upgraded => {
            IS_OUTDATED.with(|o| o.set(true));
            emit(StoreEvent::Outdated);
        }
        Why::Deleted | Why::Closed => {
            IS_LOST.with(|l| l.set(true));
            LOSSES.with(|l| l.set(l.get() + 1));
            SEEN_COUNTER.with(|s| s.set(None));
            SEEN_REV.with(|s| s.set(None));
            emit(StoreEvent::Lost);
            // Queued behind the deletion, it runs once the deletion has completed; it is driven
            // to the end without anyone waiting for it.
            drop(opening());
        }
    }
}

/// Watches a fresh connection for being taken away. The handlers run at most once each, and
/// one of them firing closes the connection, so the other never does.
fn watch(db: &Database) -> Rc<Cell<bool>> {
    let gone = Rc::new(Cell::new(false));
    let raw: web_sys::IdbDatabase = db.as_sys().clone().unchecked_into();
    let (raw_change, gone_change) = (raw.clone(), gone.clone());
    let on_change = Closure::once_into_js(move |event: web_sys::IdbVersionChangeEvent| {
        let why = match event.new_version() {
            Some(_) => Why::Upgraded,
            None => Why::Deleted,
        };
        connection_lost(&raw_change, &gone_change, why);
    });
    raw.set_onversionchange(Some(on_change.unchecked_ref()));
    let (raw_close, gone_close) = (raw.clone(), gone.clone());
    let on_close = Closure::once_into_js(move || {
        connection_lost(&raw_close, &gone_close, Why::Closed);
    });
    raw.set_onclose(Some(on_close.unchecked_ref()));
    gone
}

/// Creates whatever store is missing. Checking names (not only the old version) also repairs
/// a database some other code created empty, e.g. by opening it without a version.
fn upgrade(db: &Database) -> indexed_db_futures::Result<()> {
    let existing: Vec<String> = db.object_store_names().collect();
    for name in [OUTBOX, META, QUARANTINE] {
        if !existing.iter().any(|n| n == name) {
            db.create_object_store(name).build()?;
        }
    }
    Ok(())
}

async fn open_once() -> Result<(Database, Rc<Cell<bool>>), StoreError> {
    let result = Database::open(DB_NAME)
        .with_version(DB_VERSION)
        .with_on_upgrade_needed(|_, db| upgrade(&db))
        .with_on_blocked(|_| {
            IS_BLOCKED.with(|b| b.set(true));
            emit(StoreEvent::Blocked);
            Ok(())
        })
        .await;
    if IS_BLOCKED.with(|b| b.replace(false)) {
        emit(StoreEvent::Unblocked);
    }
    match result {
        Ok(db) => {
            let gone = watch(&db);
            Ok((db, gone))
        }
        Err(e) if format!("{e:?}").contains("VersionError") => {
            // The database is already at a newer version than this page knows.
            IS_OUTDATED.with(|o| o.set(true));
            emit(StoreEvent::Outdated);
            Err(StoreError(OUTDATED.into()))
        }
        Err(e) => Err(fail("cannot open this device's outbox", e)),
    }
}

/// Opens the database, writes back what the page holds if it was lost, and only then makes
/// the connection the shared one.
async fn connect() -> Result<Database, StoreError> {
    for _ in 0..MAX_REOPENS {
        if IS_OUTDATED.with(Cell::get) {
            return Err(StoreError(OUTDATED.into()));
        }
        let (db, gone) = open_once().await?;
        if IS_LOST.with(Cell::get) {
            let rescue = PROVIDER
                .with(|p| p.borrow().clone())
                .map(|provide| provide())
                .unwrap_or_default()
                .with_floor(HIGHEST_SEQ.with(Cell::get));
            match write_entries(&db, &rescue).await {
                Ok(_) if gone.get() => continue,
                Ok(written) => {
                    IS_LOST.with(|l| l.set(false));
                    emit(StoreEvent::Restored {
                        unsent: rescue.unsent(),
                        written,
                    });
                }
                Err(_) if gone.get() => continue,
                Err(e) => {
                    gone.set(true);
                    db.close();
                    emit(StoreEvent::RestoreFailed {
                        unsent: rescue.unsent(),
                        reason: e.to_string(),
                    });
                    return Err(e);
                }
            }
        }
        if gone.get() {
            continue;
        }
        CONN.with(|c| {
            *c.borrow_mut() = Some(Conn {
                db: db.clone(),
                gone,
            })
        });
        return Ok(db);
    }
    Err(StoreError(RESTORING.into()))
}

/// The open in progress, started if there is none. It is driven to the end whoever waits for
/// it: an open request dropped half-way would lose its upgrade handler.
fn opening() -> Opening {
    OPENING.with(|o| {
        o.borrow_mut()
            .get_or_insert_with(|| {
                let shared = async {
                    let result = connect().await;
                    OPENING.with(|o| o.borrow_mut().take());
                    result
                }
                .boxed_local()
                .shared();
                let driver = shared.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = driver.await;
                });
                shared
            })
            .clone()
    })
}

/// The shared connection and the loss count it was taken at.
async fn open() -> Result<(Database, u64), StoreError> {
    if IS_OUTDATED.with(Cell::get) {
        return Err(StoreError(OUTDATED.into()));
    }
    if let Some(db) = CONN.with(|c| c.borrow().as_ref().map(|c| c.db.clone())) {
        return Ok((db, losses()));
    }
    let wait = gloo_timers::future::sleep(OPEN_WAIT.with(Cell::get));
    match select(opening(), Box::pin(wait)).await {
        Either::Left((result, _)) => result.map(|db| (db, losses())),
        Either::Right(_) => Err(StoreError(
            if IS_BLOCKED.with(Cell::get) {
                BLOCKED
            } else if IS_LOST.with(Cell::get) {
                RESTORING
            } else {
                SLOW
            }
            .into(),
        )),
    }
}

/// Runs `op` on the shared connection; if it fails because the database was lost under it,
/// runs it once more on the restored one. Returns the loss count the result was obtained at.
async fn run<T, F, Fut>(op: F) -> Result<(T, u64), StoreError>
where
    F: Fn(Database) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let (db, at) = open().await?;
    match op(db).await {
        Err(_) if losses() != at => {
            let (db, at) = open().await?;
            op(db).await.map(|value| (value, at))
        }
        result => result.map(|value| (value, at)),
    }
}

/// The shared `seq` counter as stored (0 before the first save).
async fn read_counter(meta: &ObjectStore<'_>, context: &str) -> Result<u64, StoreError> {
    read_number(meta, SEQ_KEY, context).await
}

/// A value kept in `meta`, if any.
async fn read_meta(
    meta: &ObjectStore<'_>,
    key: &str,
    context: &str,
) -> Result<Option<JsValue>, StoreError> {
    meta.get(key)
        .primitive()
        .map_err(|e| fail(context, e))?
        .await
        .map_err(|e| fail(context, e))
}

/// A counter kept in `meta` (0 before it was first written).
async fn read_number(meta: &ObjectStore<'_>, key: &str, context: &str) -> Result<u64, StoreError> {
    let stored = read_meta(meta, key, context).await?;
    Ok(stored.and_then(|v| v.as_f64()).unwrap_or(0.0) as u64)
}

/// The in-flight journal as stored in the caller's transaction (empty when there is none), or
/// why it does not read, with what was stored.
async fn read_journal(
    meta: &ObjectStore<'_>,
    context: &str,
) -> Result<Result<Journal, (JournalError, JsValue)>, StoreError> {
    let Some(value) = read_meta(meta, JOURNAL_KEY, context).await? else {
        return Ok(Ok(Journal::new()));
    };
    let decoded = serde_wasm_bindgen::from_value::<serde_json::Value>(value.clone())
        .map_err(|e| JournalError(e.to_string()))
        .and_then(|json| decode_journal(&json));
    Ok(decoded.map_err(|e| (e, value)))
}

/// Stores `journal` in the caller's transaction (removes it when empty).
fn write_journal(
    meta: &ObjectStore<'_>,
    journal: &Journal,
    context: &str,
) -> Result<(), StoreError> {
    if journal.is_empty() {
        meta.delete(JOURNAL_KEY)
            .primitive()
            .map_err(|e| fail(context, e))?;
    } else {
        // Built in place (the stored form `decode_journal` reads): small, and no JSON detour.
        let object = js_sys::Object::new();
        for (id, attempts) in journal {
            let _ = js_sys::Reflect::set(&object, &JsValue::from_str(id), &(*attempts).into());
        }
        meta.put(JsValue::from(object))
            .with_key(JOURNAL_KEY)
            .primitive()
            .map_err(|e| fail(context, e))?;
    }
    Ok(())
}

/// Raises the `rev` counter by one inside the caller's transaction; returns its value before.
async fn raise_rev(meta: &ObjectStore<'_>, context: &str) -> Result<u64, StoreError> {
    let rev = read_number(meta, REV_KEY, context).await?;
    meta.put(JsValue::from_f64((rev + 1) as f64))
        .with_key(REV_KEY)
        .primitive()
        .map_err(|e| fail(context, e))?;
    Ok(rev)
}

/// After this page's own change committed with `rev` as the counter before it: still in step
/// if the page had seen `rev`, otherwise somebody else changed records in between.
fn own_change_committed(rev: u64, at: u64) {
    SEEN_REV.with(|s| {
        let in_step = s.get() == Some(rev) && losses() == at;
        s.set(in_step.then_some(rev + 1));
    });
}

/// How many writes this page has started so far (see [`load`]'s callers).
pub fn own_writes_started() -> u64 {
    OWN_WRITES.with(Cell::get)
}

fn own_write_starts() {
    OWN_WRITES.with(|w| w.set(w.get() + 1));
}

/// Whether nobody else changed or removed a record since this page last read them all
/// ([`load`]), its own changes apart: one read of the `rev` counter. New commands other tabs
/// saved meanwhile are not covered (see [`load_unknown`]).
pub async fn unchanged_since_last_read() -> Result<bool, StoreError> {
    let Some(seen) = SEEN_REV.with(Cell::get) else {
        return Ok(false);
    };
    let (rev, at) = run(|db| async move {
        let context = "cannot read the outbox";
        let tx = db.transaction(META).build().map_err(|e| fail(context, e))?;
        let meta = tx.object_store(META).map_err(|e| fail(context, e))?;
        read_number(&meta, REV_KEY, context).await
    })
    .await?;
    Ok(rev == seen && losses() == at && SEEN_REV.with(Cell::get) == Some(seen))
}

/// Writes the rescue's entries the store does not hold, and raises the `seq` counter to its
/// floor, in one transaction. Returns how many records were written.
async fn write_entries(db: &Database, rescue: &Rescue) -> Result<usize, StoreError> {
    let context = "cannot save the unsent commands again";
    let tx = db
        .transaction([OUTBOX, META])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| fail(context, e))?;
    let store = tx.object_store(OUTBOX).map_err(|e| fail(context, e))?;
    let present: HashSet<String> = store
        .get_all_keys::<JsValue>()
        .primitive()
        .map_err(|e| fail(context, e))?
        .await
        .map_err(|e| fail(context, e))?
        .flatten()
        .filter_map(|k| k.as_string())
        .collect();
    let mut written = 0;
    for entry in rescue.missing(|id| present.contains(id)) {
        store
            .put(to_js(entry)?)
            .with_key(entry.id().to_string())
            .primitive()
            .map_err(|e| fail(context, e))?;
        written += 1;
    }
    let meta = tx.object_store(META).map_err(|e| fail(context, e))?;
    if written > 0 {
        raise_rev(&meta, context).await?;
    }
    let stored = read_counter(&meta, context).await?;
    let counter = rescue.counter_after(stored);
    if counter != stored {
        meta.put(JsValue::from_f64(counter as f64))
            .with_key(SEQ_KEY)
            .primitive()
            .map_err(|e| fail(context, e))?;
    }
    tx.commit().await.map_err(|e| fail(context, e))?;
    Ok(written)
}

/// A record as the plain object IndexedDB stores: encoded to JSON text in Rust and parsed by
/// the browser in one call, which is faster than building the object field by field across
/// the wasm boundary (and builds the same object `serde_wasm_bindgen`'s JSON-compatible
/// serializer did).
fn to_js(value: &impl Serialize) -> Result<JsValue, StoreError> {
    let text = serde_json::to_string(value).map_err(|e| fail("cannot encode a command", e))?;
    js_sys::JSON::parse(&text).map_err(|e| fail("cannot encode a command", e))
}

/// Saves a new command in one transaction: allocates its `seq` from the shared counter and
/// writes the entry. Returns the entry as stored.
pub async fn save_new(command: Command, now_ms: i64) -> Result<Entry, StoreError> {
    own_write_starts();
    let (entry, at) = run(|db| save_in(db, command.clone(), now_ms)).await?;
    raise_highest_seq(entry.command.seq);
    // The caller holds what it saved: if nobody else saved since the last look, nothing is
    // unknown still.
    let seq = entry.command.seq;
    SEEN_COUNTER.with(|s| {
        if s.get() == seq.checked_sub(1) {
            s.set(Some(seq));
        }
    });
    if losses() != at {
        // Committed, then the database was deleted before the page held the entry in memory
        // for the write-back: write it again (if it is not there already), same id and seq.
        let again = Rescue {
            entries: vec![entry.clone()],
            seq_floor: entry.command.seq,
        };
        let again = &again;
        run(|db| async move { write_entries(&db, again).await }).await?;
    }
    Ok(entry)
}

async fn save_in(db: Database, mut command: Command, now_ms: i64) -> Result<Entry, StoreError> {
    let tx = db
        .transaction([OUTBOX, META])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| fail("cannot save on this device", e))?;
    let meta = tx.object_store(META).map_err(|e| fail("meta", e))?;
    let last = read_counter(&meta, "cannot read the sequence counter").await?;
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
    own_write_starts();
    let (rev, at) = run(|db| apply_in(db, changes)).await?;
    own_change_committed(rev, at);
    Ok(())
}

/// Returns the `rev` counter as it was before this transaction raised it.
async fn apply_in(db: Database, changes: &[Change]) -> Result<u64, StoreError> {
    let tx = db
        .transaction([OUTBOX, META])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(|e| fail("cannot update the outbox", e))?;
    let store = tx.object_store(OUTBOX).map_err(|e| fail("outbox", e))?;
    // In-flight marks go to the journal, everything else to its record: one record write per
    // command per drain instead of two. The record writes are issued before the journal is
    // read (they do not depend on it).
    let split = split_changes(changes);
    for change in &split.records {
        match change {
            Change::Put(entry) | Change::Mark(entry) => {
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
    let meta = tx.object_store(META).map_err(|e| fail("meta", e))?;
    // A journal that does not read (only [`load`] sets one aside) is replaced: what it held
    // can only have been counts of sends in flight.
    let stored = read_journal(&meta, "cannot update the outbox")
        .await?
        .unwrap_or_default();
    if let Some(journal) = split.journal_after(&stored) {
        write_journal(&meta, &journal, "cannot update the outbox")?;
    }
    let rev = raise_rev(&meta, "cannot update the outbox").await?;
    tx.commit()
        .await
        .map_err(|e| fail("cannot update the outbox", e))?;
    Ok(rev)
}

/// Reads every command. Records that do not decode are moved to `quarantine` (in the same
/// transaction) with the reason, so they stay inspectable and stop blocking delivery.
pub async fn load() -> Result<Loaded, StoreError> {
    let ((loaded, rev), at) = run(load_in).await?;
    SEEN_REV.with(|s| s.set((losses() == at).then_some(rev)));
    if let Some(seq) = loaded.entries.iter().map(|e| e.command.seq).max() {
        raise_highest_seq(seq);
    }
    Ok(loaded)
}

/// Returns what was read and the `rev` counter as the transaction leaves it.
async fn load_in(db: Database) -> Result<(Loaded, u64), StoreError> {
    let tx = db
        .transaction([OUTBOX, QUARANTINE, META])
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
            set_aside(&quarantine, &key_text, &q.reason, &value)?;
            store
                .delete(key_text)
                .primitive()
                .map_err(|e| fail("cannot set a record aside", e))?;
        }
    }
    // The counter must stay above every stored seq: records from before the counter existed
    // (schema v1) would otherwise share seqs with new commands.
    if let Some(highest) = loaded.entries.iter().map(|e| e.command.seq).max() {
        let meta = tx.object_store(META).map_err(|e| fail("meta", e))?;
        if read_counter(&meta, "cannot read the sequence counter").await? < highest {
            meta.put(JsValue::from_f64(highest as f64))
                .with_key(SEQ_KEY)
                .primitive()
                .map_err(|e| fail("cannot advance the sequence counter", e))?;
        }
    }
    // In-flight marks are part of the records; a journal that does not read is set aside
    // like a record (the records then read as last written in full: only counts of sends in
    // flight can be missing), and one that lists answered commands is tidied.
    let meta = tx.object_store(META).map_err(|e| fail("meta", e))?;
    match read_journal(&meta, "cannot read the outbox").await? {
        Ok(journal) if !journal.is_empty() => {
            let live = apply_journal(&mut loaded.entries, &journal);
            if live != journal {
                write_journal(&meta, &live, "cannot read the outbox")?;
            }
        }
        Ok(_) => {}
        Err((why, value)) => {
            let reason = why.to_string();
            set_aside(&quarantine, JOURNAL_KEY, &reason, &value)?;
            write_journal(&meta, &Journal::new(), "cannot set a record aside")?;
            loaded.quarantined.push(Quarantined {
                key: JOURNAL_KEY.to_string(),
                reason,
            });
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
    // Records set aside left the outbox: other pages must read it again.
    let context = "cannot read the outbox";
    let rev = if newly.is_empty() {
        read_number(&meta, REV_KEY, context).await?
    } else {
        raise_rev(&meta, context).await? + 1
    };
    tx.commit().await.map_err(|e| fail(context, e))?;
    Ok((loaded, rev))
}

/// Keeps `value` in `quarantine` under `key`, with the reason it could not be read.
fn set_aside(
    quarantine: &ObjectStore<'_>,
    key: &str,
    reason: &str,
    value: &JsValue,
) -> Result<(), StoreError> {
    let record = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&record, &"reason".into(), &reason.into());
    let _ = js_sys::Reflect::set(&record, &"record".into(), value);
    quarantine
        .put(JsValue::from(record))
        .with_key(key.to_string())
        .primitive()
        .map_err(|e| fail("cannot set a record aside", e))?;
    Ok(())
}

/// Reads the records whose id `known` does not recognise (commands another tab saved), without
/// decoding the rest. Undecodable ones are left for [`load`] to quarantine.
///
/// Every save raises the shared `seq` counter by one in the transaction that writes the record,
/// so when the counter stands where this page last looked (plus its own saves since), nobody
/// else saved a command meanwhile and the keys are not read at all: one read of the counter
/// instead of every key, which a drainer does before each round. After the database was lost
/// (and records may have been written back without raising the counter) it reads the keys again.
pub async fn load_unknown(known: impl Fn(&str) -> bool) -> Result<Vec<Entry>, StoreError> {
    let (entries, at) = run(|db| load_unknown_in(db, &known)).await?;
    if let Some(seq) = entries.iter().map(|e| e.command.seq).max() {
        raise_highest_seq(seq);
    }
    if losses() != at {
        SEEN_COUNTER.with(|s| s.set(None));
    }
    Ok(entries)
}

async fn load_unknown_in(
    db: Database,
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<Entry>, StoreError> {
    let tx = db
        .transaction([OUTBOX, META])
        .build()
        .map_err(|e| fail("cannot read the outbox", e))?;
    let meta = tx.object_store(META).map_err(|e| fail("meta", e))?;
    let counter = read_counter(&meta, "cannot read the sequence counter").await?;
    if SEEN_COUNTER.with(Cell::get) == Some(counter) {
        return Ok(Vec::new());
    }
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
    if !entries.is_empty() {
        // Another drainer's marks (it may have crashed mid-send) count here too.
        if let Ok(journal) = read_journal(&meta, "cannot read the outbox").await? {
            apply_journal(&mut entries, &journal);
        }
    }
    SEEN_COUNTER.with(|s| s.set(Some(counter)));
    Ok(entries)
}
