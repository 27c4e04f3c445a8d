//! The patched reactive graph (`vendor/reactive_graph/PATCHED.md`), natively: a memo dropped
//! without running again must not keep memory alive in the subscriber set of a signal that
//! outlives it (the current path, app-wide state). Upstream, each such memo kept its
//! allocation for as long as the signal lived.
#![cfg(not(target_arch = "wasm32"))]

use leptos::prelude::*;

#[path = "support/live_allocations.rs"]
mod live_allocations;
use live_allocations::live;

#[global_allocator]
static ALLOCATOR: live_allocations::Counting = live_allocations::Counting;

/// Builds, reads and drops one memo over `signal`: what a view that reads app-wide state does
/// each time it is mounted and unmounted.
fn one_view(signal: &ArcRwSignal<u32>) {
    let source = signal.clone();
    let memo = ArcMemo::new(move |_| source.get() + 1);
    assert_eq!(memo.get(), signal.get_untracked() + 1);
}

#[test]
fn memos_dropped_without_running_again_keep_no_memory() {
    let signal = ArcRwSignal::new(1u32);
    // Memos that stay alive and subscribed through every sweep of the signal's set.
    let kept: Vec<ArcMemo<u32>> = (0..24u32)
        .map(|k| {
            let source = signal.clone();
            ArcMemo::new(move |_| source.get() * 100 + k)
        })
        .collect();
    for (k, memo) in kept.iter().enumerate() {
        assert_eq!(memo.get(), 100 + k as u32);
    }
    // Warm up: the set's first sweeps and every lazily built static are behind us.
    for _ in 0..1_000 {
        one_view(&signal);
    }
    let before = live();
    for round in 0..10_000u32 {
        one_view(&signal);
        if round % 1_000 == 999 {
            // The signal changes now and then, as app-wide state does; the kept memos follow.
            signal.set(round);
            for (k, memo) in kept.iter().enumerate() {
                assert_eq!(memo.get(), round * 100 + k as u32, "memo {k} after {round}");
            }
        }
    }
    let grown = live() - before;
    // Upstream 0.2.16 this is ≈ 10,000 (one kept allocation per dropped memo). Swept, the set
    // keeps about its live subscribers.
    assert!(
        grown < 64,
        "10,000 dropped memos kept {grown} allocations alive"
    );
}
