//! Counts the live allocations of a test binary, for tests that check what code keeps alive.
//! Each test file installs it as its global allocator and holds one test, so nothing else
//! allocates meanwhile:
//!
//! ```ignore
//! #[path = "support/live_allocations.rs"]
//! mod live_allocations;
//! #[global_allocator]
//! static ALLOCATOR: live_allocations::Counting = live_allocations::Counting;
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(1, Ordering::SeqCst);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
        System.dealloc(ptr, layout)
    }
}

/// Allocations made and not freed yet.
pub fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}
