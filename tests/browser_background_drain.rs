//! Browser tests of the drain the service worker runs (`mfe_outbox_web::background`), in a page
//! of headless Chromium (the same code, reached through the global scope): it stands back while
//! someone else holds the drain lock, and when no region answers it records the attempt durably
//! and reports the command as still waiting, so the browser tries the sync again; a region whose
//! answer says it is switched off gets the rest of the wake-up's work only after the others.
#![cfg(target_arch = "wasm32")]

mod support;

use indexed_db_futures::database::Database;
use mfe_contract::{Command, CommandStatus};
use mfe_outbox_web::background;
use mfe_outbox_web::store::{self, DB_NAME};
use mfe_outbox_web::tabs;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// Regions answered from memory: every command acknowledged, and every answer from the host
// `switched_off` marked `Region-Health: unhealthy`. Records `host/path` of each request.
#[wasm_bindgen(inline_js = r#"
export function regions_acknowledge_all(switched_off) {
  globalThis.__realFetch ??= globalThis.fetch;
  globalThis.__asked = [];
  globalThis.fetch = async (request) => {
    const url = new URL(request.url);
    globalThis.__asked.push(url.host + url.pathname);
    const body = await request.json();
    const ack = (id) => ({ id, region: url.host, accepted_at: Date.now() });
    const batch = url.pathname.endsWith(':batch');
    const answer = batch
      ? { results: body.commands.map((c) => ({ id: c.id, status: 201, ack: ack(c.id) })) }
      : ack(body.id);
    const headers = new Headers({ 'Content-Type': 'application/json' });
    if (url.host === switched_off) headers.set('Region-Health', 'unhealthy');
    return new Response(JSON.stringify(answer), { status: batch ? 200 : 201, headers });
  };
}
export function restore_fetch() {
  if (globalThis.__realFetch) globalThis.fetch = globalThis.__realFetch;
}
export function asked() {
  return globalThis.__asked ?? [];
}
"#)]
extern "C" {
    fn regions_acknowledge_all(switched_off: &str);
    fn restore_fetch();
    fn asked() -> Vec<String>;
}

fn now() -> i64 {
    js_sys::Date::now() as i64
}

fn command(id: &str) -> Command {
    support::task_command(id, id, now())
}

async fn fresh() {
    store::close();
    Database::delete_by_name(DB_NAME)
        .expect("delete request")
        .await
        .expect("deleted");
}

/// A region URL nothing listens on: the connection is refused at once.
fn nowhere() -> Vec<(String, String)> {
    vec![("nowhere".into(), "http://127.0.0.1:9".into())]
}

#[wasm_bindgen_test]
async fn stands_back_while_a_page_holds_the_drain_lock() {
    fresh().await;
    store::save_new(command("held"), now())
        .await
        .expect("saved");
    let (release, released) = futures::channel::oneshot::channel::<()>();
    let (locked, is_locked) = futures::channel::oneshot::channel::<()>();
    wasm_bindgen_futures::spawn_local(async move {
        tabs::exclusive(tabs::DRAIN_LOCK, move || async move {
            let _ = locked.send(());
            let _ = released.await;
        })
        .await;
    });
    is_locked.await.expect("the page holds the lock");

    let report = background::drain(nowhere()).await;
    assert!(!report.ran, "{report:?}");
    let entry = &store::load().await.expect("loaded").entries[0];
    assert_eq!((entry.status, entry.attempts), (CommandStatus::Pending, 0));
    let _ = release.send(());
}

#[wasm_bindgen_test]
async fn with_no_region_answering_the_attempt_is_recorded_and_the_command_waits() {
    fresh().await;
    store::save_new(command("waiting"), now())
        .await
        .expect("saved");
    let report = background::drain(nowhere()).await;
    assert!(report.ran, "{report:?}");
    assert_eq!((report.delivered, report.waiting), (0, 1), "{report:?}");
    assert_eq!(report.error, None);

    store::close();
    let entry = &store::load().await.expect("loaded").entries[0];
    assert_eq!(
        entry.status,
        CommandStatus::Pending,
        "ready for the next try"
    );
    assert_eq!(entry.attempts, 1);
    assert!(entry.last_error.is_some(), "the reason is kept: {entry:?}");
    assert!(entry.next_at > entry.enqueued_at, "backed off: {entry:?}");
}

#[wasm_bindgen_test]
async fn a_region_that_answers_switched_off_gets_the_next_work_after_the_others() {
    fresh().await;
    // One stream of 501: a full batch of 500 in the first round, the last one in the next.
    for seq in 0..=mfe_contract::MAX_BATCH_COMMANDS as u64 {
        let mut c = command(&format!("c-{seq:03}"));
        c.seq = seq;
        store::save_new(c, now()).await.expect("saved");
    }
    regions_acknowledge_all("a.test");
    let regions = ["a", "b"]
        .iter()
        .map(|n| (n.to_string(), format!("http://{n}.test")))
        .collect();
    let report = background::drain(regions).await;
    restore_fetch();
    assert!(report.ran, "{report:?}");
    assert_eq!((report.delivered, report.waiting), (501, 0), "{report:?}");
    // The switched-off region still took the batch it was sent (its answer counts); the next
    // work went to the other region first.
    assert_eq!(asked(), ["a.test/commands:batch", "b.test/commands"]);
    store::close();
    let entries = store::load().await.expect("loaded").entries;
    assert!(entries.iter().all(|e| e.status == CommandStatus::Delivered));
}
