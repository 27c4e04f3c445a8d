//! Browser tests of how the delivery transport reads a region's answer beyond its status: an
//! answer marked `Region-Health: unhealthy` (the region's kill switch) is still the command's
//! answer, and it is reported as switched off so the router can take the region out before
//! its next probe. `fetch` is replaced for each test by one that answers from memory, so the
//! very request the transport built goes through the browser's `Response` and `Headers`. A
//! wait for an answer that a deployment set longer than a browser timer can wait still waits,
//! and a probe's round trip is timed by the network, not by a busy main thread.
#![cfg(target_arch = "wasm32")]

mod support;

use mfe_contract::{
    BatchItemResult, BatchResponse, Command, CommandAck, REGION_HEALTH_HEADER, SWITCHED_OFF,
};
use mfe_outbox::{Outcome, Work};
use mfe_outbox_web::transport::{self, Answer};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function answer_every_fetch(status, body, name, value) {
  globalThis.__realFetch ??= globalThis.fetch;
  globalThis.__seenUrls = [];
  globalThis.fetch = async (request) => {
    globalThis.__seenUrls.push(typeof request === 'string' ? request : request.url);
    const headers = new Headers({ 'Content-Type': 'application/json' });
    if (name) headers.set(name, value);
    return new Response(body, { status, headers });
  };
}
export function stall_every_body() {
  globalThis.__realFetch ??= globalThis.fetch;
  globalThis.fetch = async (request) => {
    // The headers come at once; the body never does, until the request is aborted.
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"id":'));
        request.signal?.addEventListener('abort', () =>
          controller.error(new DOMException('The request was aborted', 'AbortError')),
        );
      },
    });
    return new Response(body, { status: 200, headers: { 'Content-Type': 'application/json' } });
  };
}
export function restore_fetch() {
  if (globalThis.__realFetch) globalThis.fetch = globalThis.__realFetch;
}
export function seen_urls() {
  return globalThis.__seenUrls ?? [];
}
"#)]
extern "C" {
    fn answer_every_fetch(status: u16, body: &str, name: &str, value: &str);
    fn stall_every_body();
    fn restore_fetch();
    fn seen_urls() -> Vec<String>;
}

fn command(id: &str) -> Command {
    support::task_command(id, id, 1_700_000_000_000)
}

fn ack(id: &str) -> CommandAck {
    CommandAck {
        id: id.into(),
        region: "eu-west".into(),
        accepted_at: 1_700_000_000_001,
    }
}

fn work(ids: &[&str]) -> Work {
    Work {
        id: 1,
        commands: ids.iter().map(|id| command(id)).collect(),
    }
}

async fn send_answered_by(
    work: &Work,
    status: u16,
    body: &str,
    header: Option<&str>,
) -> transport::Reply {
    let (name, value) = header.map_or(("", ""), |v| (REGION_HEALTH_HEADER, v));
    answer_every_fetch(status, body, name, value);
    let reply = transport::send(work, "http://eu-west.test").await;
    restore_fetch();
    reply
}

#[wasm_bindgen_test]
async fn an_acknowledgement_from_a_switched_off_region_counts_and_says_so() {
    let work = work(&["c-1"]);
    let body = serde_json::to_string(&ack("c-1")).unwrap();
    let reply = send_answered_by(&work, 201, &body, Some(SWITCHED_OFF)).await;
    assert_eq!(seen_urls(), ["http://eu-west.test/commands"]);
    assert!(reply.switched_off);
    match reply.answer {
        Answer::Whole(outcome) => assert!(
            matches!(outcome, Outcome::Http { status: 201, .. }),
            "{outcome:?}"
        ),
        Answer::Items(_) => panic!("a single command gets one answer"),
    }
}

#[wasm_bindgen_test]
async fn a_batch_answer_from_a_switched_off_region_keeps_every_item() {
    let work = work(&["c-1", "c-2"]);
    let results = ["c-1", "c-2"]
        .iter()
        .map(|id| BatchItemResult {
            id: (*id).into(),
            status: 201,
            ack: Some(ack(id)),
            error: None,
        })
        .collect();
    let body = serde_json::to_string(&BatchResponse { results }).unwrap();
    let reply = send_answered_by(&work, 200, &body, Some("Unhealthy")).await;
    assert_eq!(seen_urls(), ["http://eu-west.test/commands:batch"]);
    assert!(
        reply.switched_off,
        "the value is read without regard to case"
    );
    match reply.answer {
        Answer::Items(items) => {
            let ids: Vec<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
            assert_eq!(ids, ["c-1", "c-2"]);
            assert!(
                items
                    .iter()
                    .all(|(_, o)| matches!(o, Outcome::Http { status: 201, .. })),
                "{items:?}"
            );
        }
        Answer::Whole(_) => panic!("a batch answer has one outcome per command"),
    }
}

#[wasm_bindgen_test]
async fn an_unmarked_answer_or_another_value_is_not_switched_off() {
    let work = work(&["c-1"]);
    let body = serde_json::to_string(&ack("c-1")).unwrap();
    assert!(!send_answered_by(&work, 201, &body, None).await.switched_off);
    assert!(
        !send_answered_by(&work, 201, &body, Some("degraded"))
            .await
            .switched_off
    );
    // A refusal from a switched-off region says so too; its outcome is the refusal.
    let refused = send_answered_by(
        &work,
        503,
        r#"{"error":"x","message":"busy"}"#,
        Some(SWITCHED_OFF),
    )
    .await;
    assert!(refused.switched_off);
    assert!(matches!(
        refused.answer,
        Answer::Whole(Outcome::Http { status: 503, .. })
    ));
}

/// A wait for an answer longer than a browser timer can make (past 2^31 − 1 ms `setTimeout`
/// fires at once, and past u32 ms the timer cannot even be set) still waits for the answer,
/// whatever a deployment's settings asked for.
#[wasm_bindgen_test]
async fn a_wait_longer_than_a_timer_can_make_still_waits() {
    use mfe_outbox_web::fetch::within;
    use std::time::Duration;
    for ms in [3_000_000_000u64, 10_000_000_000_000, u64::MAX] {
        let answer = async {
            gloo_timers::future::sleep(Duration::from_millis(30)).await;
            "answered"
        };
        assert_eq!(
            within(answer, Duration::from_millis(ms)).await,
            Some("answered"),
            "{ms} ms"
        );
    }
}

/// A region (or a proxy on the way) that sends an answer's headers and then stalls its body:
/// the request's deadline covers the body too, so reading it fails once the deadline passes
/// instead of holding the drain (or a query) for good, and a command's delivery ends in an
/// outcome that fails over.
#[wasm_bindgen_test]
async fn a_body_that_stalls_after_the_headers_ends_at_the_deadline() {
    use gloo_net::http::Request;
    use mfe_outbox_web::fetch::{send_with_timeout, within};
    use std::time::Duration;
    stall_every_body();
    let started = js_sys::Date::now();
    let answer = send_with_timeout(
        Request::get("http://eu-west.test/q/tasks"),
        None,
        Duration::from_millis(300),
    )
    .await
    .expect("the headers came");
    let read = within(answer.text(), Duration::from_secs(3)).await;
    let waited = js_sys::Date::now() - started;
    restore_fetch();
    assert!(
        matches!(read, Some(Err(_))),
        "the body read must fail at the deadline, not hang (waited {waited} ms)"
    );
    assert!(waited < 1_500.0, "waited {waited} ms for a 300 ms deadline");
}

/// Busy-waits the main thread for `ms`, as a page drawing itself or an app starting does.
fn keep_main_thread_busy(ms: f64) {
    let until = js_sys::Date::now() + ms;
    while js_sys::Date::now() < until {}
}

/// Waits for the answer of a `fetch` already made, body included.
async fn answer_of(request: js_sys::Promise) {
    let response: web_sys::Response = wasm_bindgen_futures::JsFuture::from(request)
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    wasm_bindgen_futures::JsFuture::from(response.text().unwrap())
        .await
        .unwrap();
}

/// Fetches `url` while the main thread is kept busy for `busy_ms`, timed as the router's requests
/// are; answers the time until this code ran again and the network's own time.
async fn timed_fetch_on_a_busy_page(url: &str, busy_ms: f64) -> (f64, Option<f64>) {
    use mfe_shell::routing::network_time;
    let performance = web_sys::window().unwrap().performance().unwrap();
    let timing = network_time::start(url);
    let started = performance.now();
    let request = web_sys::window().unwrap().fetch_with_str(url);
    keep_main_thread_busy(busy_ms);
    answer_of(request).await;
    (performance.now() - started, timing.network_ms())
}

/// A probe's round trip is the network's, not the main thread's: an answer that came while the
/// page was busy for 300 ms is timed by the browser's Resource Timing entry, and an entry that
/// started before a request is never taken for it.
#[wasm_bindgen_test]
async fn a_probes_round_trip_leaves_out_a_busy_main_thread() {
    use mfe_shell::routing::network_time;
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let url = format!("{origin}/?probe-timing={}", js_sys::Math::random());
    // Watched from before the request to after the check, so its entry is still kept when a
    // later request of the same URL asks.
    let watching = network_time::start(&url);
    let (resumed, network) = timed_fetch_on_a_busy_page(&url, 300.0).await;
    let network = network.expect("the browser's entry for the request");
    assert!(resumed >= 300.0, "resumed after {resumed} ms");
    assert!(
        network > 0.0 && network < 200.0,
        "network {network} ms, resumed {resumed} ms"
    );
    assert!(
        watching.network_ms().is_some(),
        "the earlier watch holds the entry"
    );
    // A request of the same URL that starts now has no entry yet: the earlier one is not its.
    assert_eq!(network_time::start(&url).network_ms(), None);
}

/// Of two requests of one URL under way together, each takes its own entry: not an older one,
/// and not a later one that is also in by the time it asks.
#[wasm_bindgen_test]
async fn overlapping_requests_of_one_url_each_take_their_own_entry() {
    use mfe_shell::routing::network_time;
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let url = format!("{origin}/?overlap={}", js_sys::Math::random());
    let fetch = |url: &str| answer_of(web_sys::window().unwrap().fetch_with_str(url));
    let first = network_time::start(&url);
    let first_request = fetch(&url);
    gloo_timers::future::sleep(std::time::Duration::from_millis(20)).await;
    let second = network_time::start(&url);
    fetch(&url).await;
    let second_ms = second.network_ms().expect("the second request's entry");
    first_request.await;
    let first_ms = first.network_ms().expect("the first request's entry");
    // The browser lists them by start: the first request's, then the second's.
    let entries = web_sys::window()
        .unwrap()
        .performance()
        .unwrap()
        .get_entries_by_name_with_entry_type(&url, "resource");
    let starts: Vec<f64> = entries
        .iter()
        .map(|e| e.unchecked_into::<web_sys::PerformanceEntry>())
        .map(|e| e.start_time())
        .collect();
    assert_eq!(starts.len(), 2, "{starts:?}");
    let durations: Vec<f64> = entries
        .iter()
        .map(|e| e.unchecked_into::<web_sys::PerformanceEntry>().duration())
        .collect();
    assert_eq!(
        (first_ms, second_ms),
        (durations[0], durations[1]),
        "starts {starts:?}"
    );
}

/// The browser names an entry by its resolved URL; a region's address written another way
/// (here `/./` and `..`; an upper-case host and the default port resolve the same way) still
/// finds it.
#[wasm_bindgen_test]
async fn a_url_written_another_way_still_finds_its_entry() {
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let url = format!(
        "{origin}/./dir/../?probe-resolved={}",
        js_sys::Math::random()
    );
    let (resumed, network) = timed_fetch_on_a_busy_page(&url, 200.0).await;
    let network = network.expect("the entry of the resolved URL");
    assert!(
        network < 150.0,
        "network {network} ms, resumed {resumed} ms"
    );
}

/// A page open for long fills the browser's buffer of entries (250 by default, shared with the
/// apps); the network's time is still there for every request after that.
#[wasm_bindgen_test]
async fn a_full_entry_buffer_does_not_lose_the_networks_time() {
    let performance = web_sys::window().unwrap().performance().unwrap();
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    // Full from the start: no entry is kept in it.
    performance.clear_resource_timings();
    performance.set_resource_timing_buffer_size(0);
    let mut timed = Vec::new();
    for i in 0..3 {
        let url = format!("{origin}/?full-buffer={i}-{}", js_sys::Math::random());
        let (resumed, network) = timed_fetch_on_a_busy_page(&url, 200.0).await;
        let in_buffer = performance
            .get_entries_by_name_with_entry_type(&url, "resource")
            .length();
        timed.push((resumed, network, in_buffer));
    }
    performance.set_resource_timing_buffer_size(250);
    for (resumed, network, in_buffer) in timed {
        assert_eq!(in_buffer, 0, "the buffer kept an entry");
        let network = network.expect("the observer's entry for the request");
        assert!(resumed >= 200.0, "resumed after {resumed} ms");
        assert!(
            network > 0.0 && network < 150.0,
            "network {network} ms, resumed {resumed} ms"
        );
    }
}
