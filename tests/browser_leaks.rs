//! Memory kept by views that come and go, in a real browser (`vendor/reactive_graph/PATCHED.md`):
//! a view reading a signal that outlives it (the current path, app-wide state) is mounted and
//! unmounted 500 times each, as navigation does, and the count of live allocations must stay flat.
//! Upstream each mount kept one allocation alive in the signal's subscriber set for good.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use std::time::Duration;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/live_allocations.rs"]
mod live_allocations;
use live_allocations::live;

#[global_allocator]
static ALLOCATOR: live_allocations::Counting = live_allocations::Counting;

/// A page that reads app-wide state through a reactive text node and a memo, like the
/// shell's pages do.
#[component]
fn Page(app_wide: RwSignal<u32>) -> impl IntoView {
    let doubled = Memo::new(move |_| app_wide.get() * 2);
    view! { <p data-probe="page">{move || app_wide.get()} " / " {move || doubled.get()}</p> }
}

async fn toggle(shown: RwSignal<bool>, times: usize) {
    for _ in 0..times {
        shown.update(|s| *s = !*s);
        // Lets the render effects run, as a navigation's task would.
        gloo_timers::future::sleep(Duration::from_millis(0)).await;
    }
}

#[wasm_bindgen_test]
async fn views_mounted_and_unmounted_keep_no_memory() {
    let app_wide = RwSignal::new(1u32);
    let shown = RwSignal::new(true);
    let body = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .body()
        .unwrap();
    let _mounted = leptos::mount::mount_to(body, move || {
        move || {
            if shown.get() {
                view! { <Page app_wide/> }.into_any()
            } else {
                ().into_any()
            }
        }
    });
    toggle(shown, 200).await;
    let before = live();
    toggle(shown, 1_000).await;
    let page = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .query_selector("[data-probe=page]")
        .unwrap()
        .expect("the page is shown after an even number of toggles");
    // The page on screen still follows the signal whose subscriber set was swept many times.
    app_wide.set(7);
    gloo_timers::future::sleep(Duration::from_millis(0)).await;
    assert_eq!(
        page.text_content().as_deref(),
        Some("7 / 14"),
        "the mounted page follows the signal"
    );
    let grown = live() - before;
    // Upstream ≈ 1,000: every mount kept allocations of its memo and render effects alive.
    assert!(grown < 64, "500 mounts kept {grown} allocations alive");
}
