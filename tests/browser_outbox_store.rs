//! Browser tests of the IndexedDB outbox store (headless Chromium via wasm-bindgen-test):
//! durability across close/reopen, the v1 → v2 schema upgrade, quarantine of corrupt records,
//! and concurrent writers.
#![cfg(target_arch = "wasm32")]

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use mfe_contract::{Command, CommandStatus};
use mfe_outbox::{Change, Entry};
use mfe_shell::outbox::store::{self, DB_NAME, OUTBOX};
use serde::Serialize;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn command(id: &str, title: &str) -> Command {
    Command {
        id: id.into(),
        client_id: "client".into(),
        seq: 0,
        stream: "tasks".into(),
        kind: "task.add".into(),
        app: "tasks".into(),
        payload: serde_json::json!({ "title": title }),
        created_at: 1,
    }
}

/// Starts each test from no database at all.
async fn fresh() {
    store::close();
    Database::delete_by_name(DB_NAME)
        .expect("delete request")
        .await
        .expect("deleted");
}

async fn put_raw(db: &Database, key: &str, value: JsValue) {
    let tx = db
        .transaction(OUTBOX)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .expect("tx");
    tx.object_store(OUTBOX)
        .expect("store")
        .put(value)
        .with_key(key.to_string())
        .primitive()
        .expect("put");
    tx.commit().await.expect("commit");
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
    let entry = Entry::new(command("old", "from v1"), 5);
    let value = entry
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("encode");
    put_raw(&db, "old", value).await;
    db.close();

    let loaded = store::load().await.expect("upgraded");
    assert_eq!(loaded.entries.len(), 1);
    assert_eq!(loaded.entries[0].id(), "old");
    // The v2 counter works after the upgrade.
    let next = store::save_new(command("new", "after"), 6)
        .await
        .expect("saved");
    assert_eq!(next.command.seq, 1);
}
