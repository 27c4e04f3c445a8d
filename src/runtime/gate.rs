//! Small time-based decisions with the clock passed in: how often a navigation re-reads the
//! manifest or looks for a new shell build, and which apps are worth preloading while the
//! browser is idle.

use std::collections::BTreeSet;

/// Do something on navigation (re-read `manifest.json`, look for a new shell build), but at most
/// once per `min_interval_ms`, and never while the last one is still under way: two reads
/// overlapping could end in the wrong order and put an older manifest back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefreshGate {
    min_interval_ms: f64,
    last_ms: Option<f64>,
    in_flight: bool,
}

impl RefreshGate {
    pub fn new(min_interval_ms: f64) -> Self {
        Self {
            min_interval_ms,
            last_ms: None,
            in_flight: false,
        }
    }

    /// Whether a re-read is due at `now_ms`; if so, counts it as started, and under way until
    /// [`RefreshGate::finish`].
    pub fn try_start(&mut self, now_ms: f64) -> bool {
        let due = !self.in_flight
            && self
                .last_ms
                .is_none_or(|last| now_ms - last >= self.min_interval_ms || now_ms < last);
        if due {
            self.last_ms = Some(now_ms);
            self.in_flight = true;
        }
        due
    }

    /// A read that must happen whatever the gate says (the boot's): counts as started and
    /// under way, so no refresh overlaps it.
    pub fn start_anyway(&mut self, now_ms: f64) {
        self.last_ms = Some(now_ms);
        self.in_flight = true;
    }

    /// The read that started last has ended (applied, failed or dropped).
    pub fn finish(&mut self) {
        self.in_flight = false;
    }
}

/// Apps to fetch and compile while the browser is idle: those not on screen and not prepared
/// yet, and none at all while any load is in progress (a preload must never compete with
/// what the user is waiting for). At most `limit` per idle period.
pub fn preload_candidates<'a>(
    all: impl IntoIterator<Item = &'a str>,
    on_screen: &BTreeSet<String>,
    prepared: &BTreeSet<String>,
    loads_in_progress: usize,
    limit: usize,
) -> Vec<String> {
    if loads_in_progress > 0 {
        return Vec::new();
    }
    all.into_iter()
        .filter(|key| !on_screen.contains(*key) && !prepared.contains(*key))
        .take(limit)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_at_most_every_interval() {
        let mut gate = RefreshGate::new(3_000.0);
        assert!(gate.try_start(100.0));
        gate.finish();
        assert!(!gate.try_start(1_000.0));
        assert!(!gate.try_start(3_099.0));
        assert!(gate.try_start(3_100.0));
        // A clock that went backwards (e.g. a restored page) never blocks refreshes for good.
        gate.finish();
        assert!(gate.try_start(50.0));
    }

    #[test]
    fn no_read_starts_while_one_is_under_way() {
        let mut gate = RefreshGate::new(3_000.0);
        gate.start_anyway(0.0);
        assert!(
            !gate.try_start(10_000.0),
            "the boot's read is still under way"
        );
        gate.finish();
        assert!(gate.try_start(10_000.0));
        assert!(
            !gate.try_start(20_000.0),
            "a slow refresh is still under way"
        );
        gate.finish();
        assert!(gate.try_start(20_000.0));
    }

    #[test]
    fn preload_skips_what_is_shown_or_ready_and_waits_for_loads() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let all = ["catalog@1.0.0", "notes@1.0.0", "tasks@1.0.0"];
        let on_screen = set(&["tasks@1.0.0"]);
        let prepared = set(&["notes@1.0.0"]);
        assert_eq!(
            preload_candidates(all, &on_screen, &prepared, 0, 5),
            ["catalog@1.0.0"]
        );
        assert!(preload_candidates(all, &on_screen, &prepared, 1, 5).is_empty());
        assert_eq!(preload_candidates(all, &set(&[]), &set(&[]), 0, 2).len(), 2);
    }
}
