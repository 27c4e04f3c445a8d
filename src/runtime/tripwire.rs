//! A one-shot "this app instance crashed" signal. Lifecycle calls race against it, so an
//! uncaught error attributed to an instance while its `bootstrap`, `mount` or `unmount` is
//! pending (e.g. a panic in a task the call started) fails that call at once instead of at
//! its timeout. Plain Rust (std futures only), tested natively.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct Inner {
    reason: Option<String>,
    /// The waker of each waiting [`Tripped`], by its number.
    wakers: Vec<(u64, Waker)>,
    next_waiter: u64,
}

/// Cheap to clone; every clone sees the same trip.
#[derive(Clone, Default)]
pub struct Tripwire(Rc<RefCell<Inner>>);

impl Tripwire {
    /// Trips with `reason`; the first trip wins. Returns whether this call tripped it.
    pub fn trip(&self, reason: impl Into<String>) -> bool {
        let wakers = {
            let mut inner = self.0.borrow_mut();
            if inner.reason.is_some() {
                return false;
            }
            inner.reason = Some(reason.into());
            std::mem::take(&mut inner.wakers)
        };
        wakers.into_iter().for_each(|(_, waker)| waker.wake());
        true
    }

    pub fn reason(&self) -> Option<String> {
        self.0.borrow().reason.clone()
    }

    /// Resolves with the reason once tripped (at once if it already is).
    pub fn tripped(&self) -> Tripped {
        let waiter = {
            let mut inner = self.0.borrow_mut();
            inner.next_waiter += 1;
            inner.next_waiter
        };
        Tripped {
            wire: self.clone(),
            waiter,
        }
    }

    /// Wakers kept for waiting [`Tripped`] futures.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.0.borrow().wakers.len()
    }
}

/// Waits for a [`Tripwire`]. It is usually the loser of a race with a lifecycle call, and is
/// dropped unresolved: dropping it takes its waker back. The wire of a pooled instance lives
/// across many calls, and a waker left in it kept the calling task alive for good (two per
/// mount and unmount cycle).
pub struct Tripped {
    wire: Tripwire,
    waiter: u64,
}

impl Future for Tripped {
    type Output = String;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<String> {
        let waiter = self.waiter;
        // A replaced waker is dropped after the wire is let go: dropping a waker can drop a
        // task, and with it another waiter of this wire.
        let _replaced = {
            let mut inner = self.wire.0.borrow_mut();
            if let Some(reason) = &inner.reason {
                return Poll::Ready(reason.clone());
            }
            match inner.wakers.iter_mut().find(|(w, _)| *w == waiter) {
                Some((_, kept)) if kept.will_wake(cx.waker()) => None,
                Some((_, kept)) => Some(std::mem::replace(kept, cx.waker().clone())),
                None => {
                    inner.wakers.push((waiter, cx.waker().clone()));
                    None
                }
            }
        };
        Poll::Pending
    }
}

impl Drop for Tripped {
    fn drop(&mut self) {
        let waiter = self.waiter;
        // Taken out under the borrow, dropped after it (see `poll`). Nothing holds the borrow
        // while a waker or a task is dropped, so it is free here.
        let removed = match self.wire.0.try_borrow_mut() {
            Ok(mut inner) => inner
                .wakers
                .iter()
                .position(|(w, _)| *w == waiter)
                .map(|at| inner.wakers.remove(at)),
            Err(_) => {
                debug_assert!(
                    false,
                    "a tripwire was borrowed while one of its waiters dropped"
                );
                None
            }
        };
        drop(removed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A waker that counts its wakes.
    fn counting_waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        (count, waker)
    }

    #[test]
    fn pending_until_tripped_then_wakes_and_resolves() {
        let wire = Tripwire::default();
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut waiting = std::pin::pin!(wire.tripped());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        // Polling again with the same waker does not pile up wakers.
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        assert!(wire.clone().trip("RuntimeError: unreachable"));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            waiting.as_mut().poll(&mut cx),
            Poll::Ready("RuntimeError: unreachable".to_string())
        );
    }

    #[test]
    fn the_first_trip_wins_and_late_waiters_resolve_at_once() {
        let wire = Tripwire::default();
        assert_eq!(wire.reason(), None);
        assert!(wire.trip("first"));
        assert!(!wire.trip("second"));
        assert_eq!(wire.reason().as_deref(), Some("first"));
        let mut cx = Context::from_waker(Waker::noop());
        let mut late = std::pin::pin!(wire.tripped());
        assert_eq!(
            late.as_mut().poll(&mut cx),
            Poll::Ready("first".to_string())
        );
    }

    #[test]
    fn a_waiter_dropped_before_the_trip_leaves_no_waker_behind() {
        let wire = Tripwire::default();
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        // What `guarded` does on every lifecycle call of a pooled instance: race the wire and
        // drop it when the call wins.
        for _ in 0..1_000 {
            let mut waiting = Box::pin(wire.tripped());
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
            assert_eq!(wire.waiting(), 1);
            drop(waiting);
        }
        assert_eq!(wire.waiting(), 0);
        assert_eq!(
            Arc::strong_count(&count),
            2,
            "only `waker` and `count` hold it"
        );
        // Two waiters at once: each keeps its own waker, and a trip wakes both.
        let mut first = Box::pin(wire.tripped());
        let mut second = Box::pin(wire.tripped());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert_eq!(wire.waiting(), 2);
        drop(first);
        assert_eq!(wire.waiting(), 1);
        assert!(wire.trip("gone"));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            second.as_mut().poll(&mut cx),
            Poll::Ready("gone".to_string())
        );
    }
}
