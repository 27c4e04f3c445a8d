//! Browser tests of the IndexedDB outbox store (headless Chromium via wasm-bindgen-test):
//! durability across close/reopen, the v1 → v2 schema upgrade, quarantine of corrupt records,
//! concurrent writers, finding another tab's saves by the shared counter, and the database
//! being taken away from under the page: an upgrade
//! blocked by an older tab, a newer version opened elsewhere, and the database deleted.
//!
//! The "other tab" is a raw IndexedDB connection made in JavaScript, as a tab running other
//! code would make it.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use futures::future::{select, Either};
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use mfe_contract::{Command, CommandStatus};
use mfe_outbox::{Change, Config, Entry, Outbox};
use mfe_shell::outbox::store::{self, StoreEvent, DB_NAME, DB_VERSION, META, OUTBOX, QUARANTINE};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
// An older tab: holds the database open at `version` (creating `outbox` with `records` on the
// way) and never answers versionchange, so it blocks upgrades and deletions until closed.
export function hold_old(name, version, records) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name, version);
    open.onupgradeneeded = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox');
      const store = open.transaction.objectStore('outbox');
      for (const [key, value] of records) store.put(value, key);
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
    open.onblocked = () => reject(new Error('the old tab itself was blocked'));
  });
}
// A newer tab: opens at `version` and says whether it ever had to wait for us.
export function open_raw(name, version) {
  return new Promise((resolve, reject) => {
    let blocked = false;
    const open = indexedDB.open(name, version);
    open.onblocked = () => { blocked = true; };
    open.onsuccess = () => resolve({ db: open.result, blocked, version: open.result.version });
    open.onerror = () => reject(open.error);
  });
}
// Devtools or another tab deleting the database; resolves with whether it had to wait.
export function delete_raw(name) {
  return new Promise((resolve, reject) => {
    let blocked = false;
    const request = indexedDB.deleteDatabase(name);
    request.onblocked = () => { blocked = true; };
    request.onsuccess = () => resolve(blocked);
    request.onerror = () => reject(request.error);
  });
}
export function keys_of(db, store) {
  return new Promise((resolve, reject) => {
    const request = db.transaction(store).objectStore(store).getAllKeys();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
export function close_db(db) { db.close(); }
// Runs `work(tx)` in a read-write transaction on a connection of its own, as another tab
// (or the service worker) would, and resolves once it committed.
function as_other_tab(name, work) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(['outbox', 'meta'], 'readwrite');
      work(tx.objectStore('outbox'), tx.objectStore('meta'));
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    };
  });
}
// Another tab saving a command: a copy of the record at `from` under `id`, with the next seq,
// and the shared counter raised, in one transaction (what every save does).
export function save_as_other_tab(name, from, id) {
  return as_other_tab(name, (outbox, meta) => {
    const counter = meta.get('seq');
    counter.onsuccess = () => {
      const seq = (counter.result ?? 0) + 1;
      const record = outbox.get(from);
      record.onsuccess = () => {
        outbox.put({ ...record.result, id, seq }, id);
        meta.put(seq, 'seq');
      };
    };
  });
}
// Another tab or the service worker recording an outcome: the record at `id` delivered, and
// the shared `rev` counter raised, in one transaction (what every change of a record does).
export function deliver_as_other_writer(name, id) {
  return as_other_tab(name, (outbox, meta) => {
    const record = outbox.get(id);
    record.onsuccess = () => {
      outbox.put({ ...record.result, status: 'delivered', delivered_at: 5, region: 'eu-west' }, id);
      const rev = meta.get('rev');
      rev.onsuccess = () => meta.put((rev.result ?? 0) + 1, 'rev');
    };
  });
}
"#)]
extern "C" {
    fn deliver_as_other_writer(name: &str, id: &str) -> js_sys::Promise;
    fn hold_old(name: &str, version: u32, records: &js_sys::Array) -> js_sys::Promise;
    fn open_raw(name: &str, version: u32) -> js_sys::Promise;
    fn delete_raw(name: &str) -> js_sys::Promise;
    fn keys_of(db: &JsValue, store: &str) -> js_sys::Promise;
    fn close_db(db: &JsValue);
    fn save_as_other_tab(name: &str, from: &str, id: &str) -> js_sys::Promise;
}

fn command(id: &str, title: &str) -> Command {
    support::task_command(id, title, 1)
}

/// Starts each test from no database at all, no hooks and the default open wait.
async fn fresh() {
    store::clear_hooks();
    store::set_open_wait(Duration::from_secs(10));
    store::close();
    Database::delete_by_name(DB_NAME)
        .expect("delete request")
        .await
        .expect("deleted");
}

/// Fails the test instead of hanging when `fut` does not finish within 15 s.
async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    let timeout = gloo_timers::future::sleep(Duration::from_secs(15));
    match select(Box::pin(fut), Box::pin(timeout)).await {
        Either::Left((value, _)) => value,
        Either::Right(_) => panic!("{what} did not finish within 15 s"),
    }
}

async fn js(what: &str, promise: js_sys::Promise) -> JsValue {
    within(what, JsFuture::from(promise))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

fn field(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &name.into()).expect("field")
}

type Events = Rc<RefCell<Vec<StoreEvent>>>;

/// Records what the store reports.
fn record_events() -> Events {
    let events: Events = Default::default();
    let sink = events.clone();
    store::on_event(move |event| sink.borrow_mut().push(event));
    events
}

/// Waits until the store has reported an event `matches` accepts.
async fn reported(events: &Events, what: &str, matches: impl Fn(&StoreEvent) -> bool) {
    within(what, async {
        while !events.borrow().iter().any(&matches) {
            gloo_timers::future::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

fn ids(entries: &[Entry]) -> Vec<String> {
    let mut ids: Vec<String> = entries.iter().map(|e| e.id().to_string()).collect();
    ids.sort();
    ids
}

async fn put_raw(db: &Database, key: &str, value: JsValue) {
    put_raw_in(db, OUTBOX, key, value).await;
}

async fn put_raw_in(db: &Database, store_name: &str, key: &str, value: JsValue) {
    let tx = db
        .transaction(store_name)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .expect("tx");
    tx.object_store(store_name)
        .expect("store")
        .put(value)
        .with_key(key.to_string())
        .primitive()
        .expect("put");
    tx.commit().await.expect("commit");
}

/// A stored value as another reader of the database sees it (undefined when absent).
async fn get_raw(store_name: &str, key: &str) -> JsValue {
    let db = Database::open(DB_NAME).await.expect("open");
    let value: Option<JsValue> = {
        let tx = db.transaction(store_name).build().expect("tx");
        let store = tx.object_store(store_name).expect("store");
        store
            .get(key.to_string())
            .primitive()
            .expect("get")
            .await
            .expect("read")
    };
    db.close();
    value.unwrap_or(JsValue::UNDEFINED)
}

/// Status and attempts of a record as stored (not as the store reads it back).
async fn raw_state(id: &str) -> (String, u32) {
    let raw = get_raw(OUTBOX, id).await;
    let status = field(&raw, "status").as_string().unwrap_or_default();
    let attempts = field(&raw, "attempts").as_f64().unwrap_or(-1.0) as u32;
    (status, attempts)
}

fn marked(entry: &Entry) -> Entry {
    Entry {
        status: CommandStatus::Inflight,
        attempts: entry.attempts + 1,
        ..entry.clone()
    }
}

fn states(entries: &[Entry]) -> Vec<(String, CommandStatus, u32)> {
    let mut states: Vec<_> = entries
        .iter()
        .map(|e| (e.id().to_string(), e.status, e.attempts))
        .collect();
    states.sort_by(|a, b| a.0.cmp(&b.0));
    states
}

#[wasm_bindgen_test]
async fn saved_commands_survive_close_and_reopen_with_increasing_seq() {
    fresh().await;
    let a = store::save_new(command("a", "first"), 10).await.expect("a");
    let b = store::save_new(command("b", "second"), 11)
        .await
        .expect("b");
    assert!(b.command.seq > a.command.seq, "seq increases");

    store::close();
    let loaded = store::load().await.expect("reopened");
    let ids: Vec<_> = loaded.entries.iter().map(|e| e.id().to_string()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"a".to_string()) && ids.contains(&"b".to_string()));
    let b_loaded = loaded.entries.iter().find(|e| e.id() == "b").unwrap();
    assert_eq!(b_loaded, &b, "stored exactly as saved");
    assert_eq!(b_loaded.status, CommandStatus::Pending);

    // A change set (delivered + delete) lands in one transaction.
    let mut delivered = a.clone();
    delivered.status = CommandStatus::Delivered;
    delivered.delivered_at = Some(20);
    delivered.region = Some("eu-west".into());
    store::apply(&[Change::Put(delivered.clone()), Change::Delete("b".into())])
        .await
        .expect("applied");
    store::close();
    let loaded = store::load().await.expect("reopened again");
    assert_eq!(loaded.quarantined, vec![]);
    assert_eq!(loaded.entries, vec![delivered]);
}

#[wasm_bindgen_test]
async fn concurrent_writers_get_distinct_seq_and_lose_nothing() {
    fresh().await;
    let writes = (0..20).map(|i| store::save_new(command(&format!("c{i:02}"), "x"), i));
    let saved: Vec<Entry> = futures::future::join_all(writes)
        .await
        .into_iter()
        .map(|r| r.expect("saved"))
        .collect();
    let mut seqs: Vec<u64> = saved.iter().map(|e| e.command.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 20, "every writer got its own seq");
    assert_eq!(store::load().await.expect("loaded").entries.len(), 20);
}

#[wasm_bindgen_test]
async fn corrupt_records_are_quarantined_and_listed_not_dropped() {
    fresh().await;
    store::save_new(command("good", "ok"), 1)
        .await
        .expect("saved");
    let db = Database::open(DB_NAME).await.expect("open");
    put_raw(&db, "bad", JsValue::from_str("not a command")).await;
    db.close();

    let loaded = store::load().await.expect("loaded");
    assert_eq!(loaded.entries.len(), 1);
    assert_eq!(loaded.quarantined.len(), 1);
    assert_eq!(loaded.quarantined[0].key, "bad");
    // Still listed on the next start, from the quarantine store.
    store::close();
    let again = store::load().await.expect("loaded again");
    assert_eq!(again.entries.len(), 1);
    assert_eq!(again.quarantined.len(), 1, "kept aside, not dropped");
}

#[wasm_bindgen_test]
async fn a_version_1_database_is_upgraded_with_its_commands_intact() {
    fresh().await;
    // What the first schema looked like: one `outbox` store.
    let db = Database::open(DB_NAME)
        .with_version(1u8)
        .with_on_upgrade_needed(|_, db| {
            db.create_object_store(OUTBOX).build()?;
            Ok(())
        })
        .await
        .expect("v1");
    let mut old = command("old", "from v1");
    old.seq = 7;
    let entry = Entry::new(old, 5);
    let value = entry
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("encode");
    put_raw(&db, "old", value).await;
    db.close();

    let loaded = store::load().await.expect("upgraded");
    assert_eq!(loaded.entries.len(), 1);
    assert_eq!(loaded.entries[0].id(), "old");
    // The v2 counter starts above what v1 stored, so no two commands share a seq.
    let next = store::save_new(command("new", "after"), 6)
        .await
        .expect("saved");
    assert_eq!(next.command.seq, 8);
}

#[wasm_bindgen_test]
async fn a_version_2_database_is_upgraded_with_its_commands_counter_and_marks_intact() {
    fresh().await;
    // What the previous build left: the three stores, a command handed out (its mark in the
    // journal), and the seq counter.
    let db = Database::open(DB_NAME)
        .with_version(2u8)
        .with_on_upgrade_needed(|_, db| {
            for name in [OUTBOX, META, QUARANTINE] {
                db.create_object_store(name).build()?;
            }
            Ok(())
        })
        .await
        .expect("v2");
    let mut old = command("old", "from v2");
    old.seq = 4;
    let value = Entry::new(old, 5)
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("encode");
    put_raw(&db, "old", value).await;
    put_raw_in(&db, META, "seq", JsValue::from(4)).await;
    let marks = js_sys::Object::new();
    js_sys::Reflect::set(&marks, &"old".into(), &JsValue::from(1)).unwrap();
    put_raw_in(&db, META, "inflight", marks.into()).await;
    db.close();

    let loaded = store::load().await.expect("upgraded");
    assert_eq!(loaded.entries.len(), 1);
    assert_eq!(
        loaded.entries[0].status,
        CommandStatus::Inflight,
        "its mark was read"
    );
    assert_eq!(loaded.entries[0].attempts, 1);
    assert!(loaded.quarantined.is_empty());
    let next = store::save_new(command("new", "after"), 6)
        .await
        .expect("saved");
    assert_eq!(next.command.seq, 5, "the counter carried over");
}

#[wasm_bindgen_test]
async fn an_upgrade_blocked_by_an_older_tab_is_reported_bounded_and_completes_when_it_closes() {
    fresh().await;
    let events = record_events();
    // An older tab of the app created the database at version 1, saved a command, and keeps
    // the connection open without listening for versionchange.
    let old = Entry::new(command("from-v1", "saved by the old tab"), 5);
    let value = old
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("encode");
    let records = js_sys::Array::of1(&js_sys::Array::of2(&"from-v1".into(), &value));
    let held = js("hold the old version", hold_old(DB_NAME, 1, &records)).await;

    // A call during the block waits at most the bound, then refuses with the reason, before
    // writing anything.
    store::set_open_wait(Duration::from_millis(500));
    let refused = store::save_new(command("too-early", "refused"), 6)
        .await
        .expect_err("the upgrade is blocked");
    assert!(
        refused.0.contains("another tab") && refused.0.contains("close it"),
        "plain reason: {refused}"
    );
    assert!(events.borrow().contains(&StoreEvent::Blocked), "{events:?}");

    // The open goes on in the background: a call now waits, and completes once the old tab
    // lets go.
    store::set_open_wait(Duration::from_secs(10));
    let release = async {
        gloo_timers::future::sleep(Duration::from_millis(300)).await;
        close_db(&held);
    };
    let (loaded, ()) = within("load after the old tab closed", async {
        futures::join!(store::load(), release)
    })
    .await;
    let loaded = loaded.expect("opened once the old tab closed");
    assert_eq!(loaded.entries, vec![old], "the old tab's command, intact");
    assert!(
        events.borrow().contains(&StoreEvent::Unblocked),
        "{events:?}"
    );
    // The refused command was never written, and the upgraded schema works.
    let next = store::save_new(command("after", "saved"), 7)
        .await
        .expect("saved after the upgrade");
    assert_eq!(next.command.seq, 1);
    let loaded = store::load().await.expect("loaded");
    assert_eq!(ids(&loaded.entries), ["after", "from-v1"]);
}

#[wasm_bindgen_test]
async fn a_newer_version_opened_elsewhere_is_not_blocked_and_this_page_stops_writing() {
    fresh().await;
    let events = record_events();
    let saved = store::save_new(command("a", "saved before"), 1)
        .await
        .expect("saved");

    // A tab with a newer build opens the next version while this page holds its own open.
    let next = u32::from(DB_VERSION) + 1;
    let newer = js("open a newer version", open_raw(DB_NAME, next)).await;
    assert_eq!(
        field(&newer, "blocked"),
        JsValue::FALSE,
        "this page let go at once"
    );
    assert_eq!(field(&newer, "version").as_f64(), Some(f64::from(next)));
    reported(&events, "the outdated report", |e| {
        *e == StoreEvent::Outdated
    })
    .await;

    // This page refuses to write, in plain words; what it had saved is in the newer database.
    let refused = store::save_new(command("b", "refused"), 2)
        .await
        .expect_err("outdated");
    assert!(
        refused.0.contains("updated in another tab") && refused.0.contains("reload"),
        "plain reason: {refused}"
    );
    let db = field(&newer, "db");
    let keys = js("keys of the newer database", keys_of(&db, OUTBOX)).await;
    let keys: Vec<String> = js_sys::Array::from(&keys)
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    assert_eq!(keys, [saved.id().to_string()]);
    close_db(&db);

    // A page of this (older) build that opens only now finds version 3 and says the same.
    store::close();
    events.borrow_mut().clear();
    let refused = store::load().await.expect_err("older than the database");
    assert!(
        refused.0.contains("updated in another tab"),
        "plain reason: {refused}"
    );
    assert_eq!(*events.borrow(), vec![StoreEvent::Outdated]);
    store::close();
}

#[wasm_bindgen_test]
async fn a_database_deleted_under_the_page_is_recreated_with_every_held_command_written_back() {
    fresh().await;
    let events = record_events();
    // What the page's outbox holds: three saved commands, one of them a dead letter.
    let outbox = Rc::new(RefCell::new(Outbox::new(Config::default())));
    let mut saved = Vec::new();
    for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
        let entry = store::save_new(command(id, id), i as i64)
            .await
            .expect("saved");
        outbox.borrow_mut().adopt(entry.clone(), i as i64);
        saved.push(entry);
    }
    let mut dead = saved[2].clone();
    dead.status = CommandStatus::Dead;
    dead.dead_reason = Some("HTTP 422: rejected".into());
    store::apply(&[Change::Put(dead.clone())])
        .await
        .expect("dead");
    outbox
        .borrow_mut()
        .restore(vec![saved[0].clone(), saved[1].clone(), dead.clone()], 10);
    let held = outbox.clone();
    store::rescue_from(move || held.borrow().rescue());

    // Devtools (or another tab) deletes the database while a save is under way. As
    // `dispatch` does, the saved entry joins the page's outbox as soon as the save returns.
    let deletion = JsFuture::from(delete_raw(DB_NAME));
    let memory = outbox.clone();
    let racing = async move {
        let saved = store::save_new(command("racing", "saved as it was deleted"), 11).await;
        if let Ok(entry) = &saved {
            memory.borrow_mut().adopt(entry.clone(), 11);
        }
        saved
    };
    let (racing, deleted) = within("save and delete", async {
        futures::join!(racing, deletion)
    })
    .await;
    let racing = racing.expect("the racing save is acknowledged");
    assert_eq!(
        deleted.expect("deleted"),
        JsValue::FALSE,
        "this page let the deletion go on at once"
    );
    reported(&events, "the restore", |e| {
        matches!(e, StoreEvent::Restored { .. })
    })
    .await;
    assert!(events.borrow().contains(&StoreEvent::Lost), "{events:?}");
    // Three held, or four if the racing save committed (and joined memory) before the
    // deletion reached this page; either way all of them were rewritten.
    assert!(
        events.borrow().iter().any(|e| matches!(
            e,
            StoreEvent::Restored { unsent, written } if *unsent == *written && (3..=4).contains(unsent)
        )),
        "{events:?}"
    );

    // Everything the page held, and the save that raced the deletion, with the same ids, seqs
    // and states.
    let loaded = store::load().await.expect("reopened");
    assert_eq!(loaded.quarantined, vec![]);
    let mut expected = vec![saved[0].clone(), saved[1].clone(), dead, racing.clone()];
    expected.sort_by(|x, y| x.id().cmp(y.id()));
    let mut got = loaded.entries.clone();
    got.sort_by(|x, y| x.id().cmp(y.id()));
    assert_eq!(got, expected);
    // The counter restarted above every seq handed out, so the stream keeps its order.
    let next = store::save_new(command("next", "after the restore"), 12)
        .await
        .expect("saved");
    let highest = expected.iter().map(|e| e.command.seq).max().unwrap();
    assert!(
        next.command.seq > highest,
        "seq {} after {highest}",
        next.command.seq
    );
}

#[wasm_bindgen_test]
async fn another_tabs_save_is_found_by_the_counter_and_this_pages_own_saves_are_not_reread() {
    fresh().await;
    let first = store::save_new(command("own-1", "first"), 1)
        .await
        .expect("save");
    let own = |ids: &'static [&'static str]| move |id: &str| ids.contains(&id);
    // The first look reads every key: only what this page holds is there.
    let found = store::load_unknown(own(&["own-1"])).await.expect("look");
    assert!(found.is_empty(), "{:?}", ids(&found));

    // This page's own save moves the counter by one: nothing unknown, whatever `known` says
    // (the shortcut does not read the keys at all).
    store::save_new(command("own-2", "second"), 2)
        .await
        .expect("save");
    let found = store::load_unknown(own(&[])).await.expect("look");
    assert!(found.is_empty(), "{:?}", ids(&found));

    // Another tab saves: its record and the raised counter are found at the next look.
    js(
        "the other tab's save",
        save_as_other_tab(DB_NAME, first.id(), "other-1"),
    )
    .await;
    let found = store::load_unknown(own(&["own-1", "own-2"]))
        .await
        .expect("look");
    assert_eq!(ids(&found), ["other-1"]);
    assert_eq!(found[0].command.seq, 3);

    // Seen once, it is not reported again; the next own save gets the seq after it.
    let found = store::load_unknown(own(&["own-1", "own-2", "other-1"]))
        .await
        .expect("look");
    assert!(found.is_empty(), "{:?}", ids(&found));
    let next = store::save_new(command("own-3", "third"), 3)
        .await
        .expect("save");
    assert_eq!(next.command.seq, 4);
}

#[wasm_bindgen_test]
async fn the_rev_counter_tells_whether_anyone_else_changed_a_record_since_the_last_read() {
    fresh().await;
    let first = store::save_new(command("own-1", "first"), 1)
        .await
        .expect("save");
    // Never read: nothing can be vouched for.
    assert!(!store::unchanged_since_last_read().await.expect("look"));
    let loaded = store::load().await.expect("read");
    assert_eq!(loaded.entries.len(), 1);
    assert!(store::unchanged_since_last_read().await.expect("look"));

    // This page's own changes and saves keep it in step.
    let mut inflight = first.clone();
    inflight.status = CommandStatus::Inflight;
    store::apply(&[Change::Put(inflight)]).await.expect("apply");
    store::save_new(command("own-2", "second"), 2)
        .await
        .expect("save");
    assert!(store::unchanged_since_last_read().await.expect("look"));

    // Another writer records an outcome: the next look says so, and keeps saying so after this
    // page's own change, until it reads every record again.
    js(
        "the other writer's change",
        deliver_as_other_writer(DB_NAME, first.id()),
    )
    .await;
    assert!(!store::unchanged_since_last_read().await.expect("look"));
    let mut again = first.clone();
    again.attempts = 1;
    store::apply(&[Change::Put(again)]).await.expect("apply");
    assert!(!store::unchanged_since_last_read().await.expect("look"));
    store::load().await.expect("read");
    assert!(store::unchanged_since_last_read().await.expect("look"));

    // A lost database: nothing is vouched for until the next read.
    store::close();
    assert!(!store::unchanged_since_last_read().await.expect("look"));
}

#[wasm_bindgen_test]
async fn in_flight_marks_are_kept_in_the_journal_and_every_reader_sees_them() {
    fresh().await;
    let a = store::save_new(command("a", "first"), 1)
        .await
        .expect("save");
    let b = store::save_new(command("b", "second"), 2)
        .await
        .expect("save");
    store::apply(&[Change::Mark(marked(&a)), Change::Mark(marked(&b))])
        .await
        .expect("apply");
    // The records are as saved; the marks are one record in `meta`.
    assert_eq!(raw_state("a").await, ("pending".to_string(), 0));
    let journal = get_raw(store::META, "inflight").await;
    assert_eq!(field(&journal, "a").as_f64(), Some(1.0));
    assert_eq!(field(&journal, "b").as_f64(), Some(1.0));
    let inflight = |id: &str, attempts| (id.to_string(), CommandStatus::Inflight, attempts);
    let loaded = store::load().await.expect("load");
    assert_eq!(
        states(&loaded.entries),
        [inflight("a", 1), inflight("b", 1)]
    );

    // An outcome is written in full and ends its mark; the other mark stays, also across a
    // restart of the page.
    let delivered = Entry {
        status: CommandStatus::Delivered,
        delivered_at: Some(5),
        region: Some("eu-west".into()),
        ..marked(&a)
    };
    store::apply(&[Change::Put(delivered)])
        .await
        .expect("apply");
    assert_eq!(raw_state("a").await, ("delivered".to_string(), 1));
    let journal = get_raw(store::META, "inflight").await;
    assert!(field(&journal, "a").is_undefined());
    store::close();
    let loaded = store::load().await.expect("load after a restart");
    assert_eq!(
        states(&loaded.entries),
        [
            ("a".to_string(), CommandStatus::Delivered, 1),
            inflight("b", 1)
        ]
    );

    // A command another tab saved, marked by this page, is found in flight by the counter.
    js("another tab's save", save_as_other_tab(DB_NAME, "b", "c")).await;
    let c = store::load_unknown(|id| id != "c").await.expect("unknown");
    assert_eq!(states(&c), [("c".to_string(), CommandStatus::Pending, 0)]);
    store::apply(&[Change::Mark(marked(&c[0]))])
        .await
        .expect("apply");
    js("another tab's save", save_as_other_tab(DB_NAME, "b", "d")).await;
    let found = store::load_unknown(|id| id == "a" || id == "b")
        .await
        .expect("unknown");
    assert_eq!(
        states(&found),
        [
            inflight("c", 1),
            ("d".to_string(), CommandStatus::Pending, 0)
        ],
        "d is a copy of b's stored record: b's mark is not d's"
    );
}

#[wasm_bindgen_test]
async fn a_journal_that_does_not_read_is_set_aside_and_the_records_stay_as_written() {
    fresh().await;
    let a = store::save_new(command("a", "first"), 1)
        .await
        .expect("save");
    let db = Database::open(DB_NAME).await.expect("open");
    put_raw_in(
        &db,
        store::META,
        "inflight",
        JsValue::from_str("not a journal"),
    )
    .await;
    db.close();

    let loaded = store::load().await.expect("load");
    assert_eq!(
        states(&loaded.entries),
        [("a".to_string(), CommandStatus::Pending, 0)]
    );
    let aside: Vec<&str> = loaded.quarantined.iter().map(|q| q.key.as_str()).collect();
    assert_eq!(aside, ["inflight"]);
    assert!(
        loaded.quarantined[0].reason.contains("in-flight journal"),
        "{}",
        loaded.quarantined[0].reason
    );
    assert!(get_raw(store::META, "inflight").await.is_undefined());
    let kept = get_raw(store::QUARANTINE, "inflight").await;
    assert_eq!(
        field(&kept, "record").as_string().as_deref(),
        Some("not a journal")
    );

    // Marks work again afterwards.
    store::apply(&[Change::Mark(marked(&a))])
        .await
        .expect("apply");
    let loaded = store::load().await.expect("load");
    assert_eq!(
        states(&loaded.entries),
        [("a".to_string(), CommandStatus::Inflight, 1)]
    );
}
