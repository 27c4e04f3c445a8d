//! Browser test of the IndexedDB outbox adapter (headless Chromium via wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use mfe_contract::{Command, CommandStatus};
use mfe_shell::outbox_store::{self, StoredCommand, OUTBOX};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn record(id: &str, seq: u64) -> StoredCommand {
    StoredCommand {
        command: Command {
            id: id.into(),
            client_id: "client".into(),
            seq,
            stream: "tasks".into(),
            kind: "task.add".into(),
            app: "tasks".into(),
            payload: serde_json::json!({ "title": format!("task {seq}") }),
            created_at: 1,
        },
        status: CommandStatus::Pending,
        attempts: 0,
        last_error: None,
        region: None,
        enqueued_at: 1,
        delivered_at: None,
    }
}

#[wasm_bindgen_test]
async fn commands_survive_a_round_trip_in_order_and_corrupt_records_are_reported() {
    outbox_store::put_all(&[record("b", 2), record("a", 1)])
        .await
        .expect("saved");

    // A record written by something else, which does not decode: it must be reported, not lost.
    let db = Database::open("mfe-shell").await.expect("open");
    let tx = db
        .transaction(OUTBOX)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .expect("tx");
    let store = tx.object_store(OUTBOX).expect("store");
    store
        .put(JsValue::from_str("not a command"))
        .with_key("zzz".to_string())
        .primitive()
        .expect("put");
    tx.commit().await.expect("commit");

    let snapshot = outbox_store::load_all().await.expect("loaded");
    let ids: Vec<_> = snapshot
        .commands
        .iter()
        .map(|c| c.command.id.as_str())
        .collect();
    assert_eq!(ids, ["a", "b"], "ordered by seq");
    assert_eq!(snapshot.commands[1], record("b", 2));
    assert_eq!(snapshot.unreadable.len(), 1, "corrupt record reported");
}
