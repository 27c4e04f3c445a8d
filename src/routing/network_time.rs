//! How long the network took for a request, from the browser's Resource Timing: the time until
//! the shell's code runs again after an answer also counts every task the main thread ran
//! meanwhile (the page drawing itself, an app starting), and a region's round trips feed the
//! router's choices (faster regions, hedge delays). Probes and command requests are timed so.
//!
//! The entries come from a `PerformanceObserver`, not from the page's entry buffer: that buffer
//! keeps 250 entries by default and is shared with the apps, so a page open for an hour would
//! find it full and lose the network's time for good; an observer is handed every entry. Only
//! the entries of URLs a request is waiting on are kept, a few per URL, and dropped with the
//! last [`Timing`] of their URL. Where the observer cannot be made, the buffer is read instead.

use std::cell::RefCell;

use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;
use web_sys::{PerformanceEntry, PerformanceObserver, PerformanceObserverEntryList};

/// Entries kept per watched URL: a few requests of one URL (a region's `/commands`) can be
/// under way at once. Past this many, the oldest goes: a request asks for its entry as soon as
/// its answer is in, so eight later answers of its URL do not come first in practice.
const KEPT_PER_URL: usize = 8;

/// One Resource Timing entry of a watched URL: when its request started and how long it took.
#[derive(Clone, Copy)]
struct Seen {
    start: f64,
    duration: f64,
}

/// A URL requests are waiting on: how many are waiting, and the entries seen for it. A page
/// waits on a few at a time (a probe and a request or two per region), so a list will do.
struct Watched {
    url: String,
    waiting: usize,
    seen: Vec<Seen>,
}

/// The observer and its callback, which must live as long as it does.
struct Observer {
    observer: PerformanceObserver,
    _callback: Closure<dyn FnMut(PerformanceObserverEntryList)>,
}

thread_local! {
    static WATCHED: RefCell<Vec<Watched>> = const { RefCell::new(Vec::new()) };
    /// Made on first use; `None` where the browser has no `PerformanceObserver`.
    static OBSERVER: Option<Observer> = observe();
}

fn observe() -> Option<Observer> {
    let callback = Closure::<dyn FnMut(PerformanceObserverEntryList)>::new(
        |list: PerformanceObserverEntryList| note(&list.get_entries()),
    );
    let observer = PerformanceObserver::new(callback.as_ref().unchecked_ref()).ok()?;
    let types = js_sys::Array::of1(&"resource".into());
    observer.observe(&web_sys::PerformanceObserverInit::new(&types));
    Some(Observer {
        observer,
        _callback: callback,
    })
}

/// Keeps the entries of watched URLs.
fn note(entries: &js_sys::Array) {
    WATCHED.with_borrow_mut(|watched| {
        for entry in entries.iter() {
            let entry: PerformanceEntry = entry.unchecked_into();
            let name = entry.name();
            if let Some(Watched { seen, .. }) = watched.iter_mut().find(|w| w.url == name) {
                if seen.len() == KEPT_PER_URL {
                    seen.remove(0);
                }
                seen.push(Seen {
                    start: entry.start_time(),
                    duration: entry.duration(),
                });
            }
        }
    });
}

/// The network's time for the request of one URL: made right before the request starts, asked
/// once its answer (body included) is in.
pub struct Timing {
    url: String,
    started: f64,
}

/// Starts watching `url` for a request about to be made.
pub fn start(url: &str) -> Timing {
    let url = resolved(url);
    let observing = OBSERVER.with(Option::is_some);
    if observing {
        WATCHED.with_borrow_mut(|watched| match watched.iter_mut().find(|w| w.url == url) {
            Some(w) => w.waiting += 1,
            None => watched.push(Watched {
                url: url.clone(),
                waiting: 1,
                seen: Vec::new(),
            }),
        });
    }
    Timing {
        url,
        started: crate::clock::monotonic_ms(),
    }
}

impl Timing {
    /// How long the browser's network stack took for this request: the `duration` of its
    /// own entry (see [`own_entry`]; a cross-origin answer exposes it too). `None` when the
    /// browser has no such entry (not there yet, or no observer and a full buffer).
    pub fn network_ms(&self) -> Option<f64> {
        let observed = OBSERVER.with(|o| {
            o.as_ref()
                .map(|o| note(&o.observer.take_records()))
                .is_some()
        });
        if !observed {
            return from_buffer(&self.url, self.started);
        }
        WATCHED.with_borrow(|watched| {
            let w = watched.iter().find(|w| w.url == self.url)?;
            own_entry(w.seen.iter().copied(), self.started)
        })
    }
}

impl Drop for Timing {
    fn drop(&mut self) {
        WATCHED.with_borrow_mut(|watched| {
            if let Some(i) = watched.iter().position(|w| w.url == self.url) {
                watched[i].waiting -= 1;
                if watched[i].waiting == 0 {
                    watched.swap_remove(i);
                }
            }
        });
    }
}

/// `url` as the browser names its entry: resolved, so a region configured as
/// `https://EU.example.com:443/` still finds the entries of `https://eu.example.com/health`.
fn resolved(url: &str) -> String {
    web_sys::Url::new(url).map_or_else(|_| url.to_string(), |u| u.href())
}

/// How soon after [`start`] a request's own entry starts: the request is made in the same task,
/// after at most building its body. A later entry of the same URL is another request's.
const STARTS_WITHIN_MS: f64 = 1_000.0;

/// The duration of this request's own entry: of the entries of its URL that started from
/// `started` on (the clock is coarsened a little, so 1 ms early too) and within
/// [`STARTS_WITHIN_MS`], the first to start. An older entry, or a later request's that
/// finished first, is not taken.
fn own_entry(seen: impl Iterator<Item = Seen>, started: f64) -> Option<f64> {
    seen.filter(|s| {
        s.start >= started - 1.0 && s.start <= started + STARTS_WITHIN_MS && s.duration > 0.0
    })
    .min_by(|a, b| a.start.total_cmp(&b.start))
    .map(|s| s.duration)
}

/// The same from the page's entry buffer, where no observer could be made.
fn from_buffer(url: &str, started: f64) -> Option<f64> {
    let performance = web_sys::window()?.performance()?;
    let entries = performance.get_entries_by_name_with_entry_type(url, "resource");
    let seen = entries.iter().map(|entry| {
        let entry: PerformanceEntry = entry.unchecked_into();
        Seen {
            start: entry.start_time(),
            duration: entry.duration(),
        }
    });
    own_entry(seen, started)
}
