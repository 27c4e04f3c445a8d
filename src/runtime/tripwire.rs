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
    wakers: Vec<Waker>,
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
        wakers.into_iter().for_each(Waker::wake);
        true
    }

    pub fn reason(&self) -> Option<String> {
        self.0.borrow().reason.clone()
    }

    /// Resolves with the reason once tripped (at once if it already is).
    pub fn tripped(&self) -> Tripped {
        Tripped(self.clone())
    }
}

pub struct Tripped(Tripwire);

impl Future for Tripped {
    type Output = String;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<String> {
        let mut inner = self.0 .0.borrow_mut();
        if let Some(reason) = &inner.reason {
            return Poll::Ready(reason.clone());
        }
        if !inner.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            inner.wakers.push(cx.waker().clone());
        }
        Poll::Pending
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

    #[test]
    fn pending_until_tripped_then_wakes_and_resolves() {
        let wire = Tripwire::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
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
}
