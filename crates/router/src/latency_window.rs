//! A small ring of recent request RTTs per region, for the hedge delay.
//!
//! Requests, not probes: `/health` is cheap while a command writes to a store, so only real
//! requests say how long the next one is likely to take. Bounded so memory and the sort in
//! [`LatencyWindow::percentile`] stay small whatever the traffic.

/// The last `capacity` samples, oldest overwritten first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyWindow {
    samples: Vec<i64>,
    next: usize,
    capacity: usize,
}

impl LatencyWindow {
    /// A window of at least one sample.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            samples: Vec::with_capacity(capacity),
            next: 0,
            capacity,
        }
    }

    pub fn push(&mut self, rtt_ms: i64) {
        let rtt = rtt_ms.max(0);
        if self.samples.len() < self.capacity {
            self.samples.push(rtt);
        } else {
            self.samples[self.next] = rtt;
        }
        self.next = (self.next + 1) % self.capacity;
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Nearest-rank percentile (`p` in 0..=100) of the samples held, `None` when empty.
    pub fn percentile(&self, p: f64) -> Option<i64> {
        if self.samples.is_empty() {
            return None;
        }
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let p = if p.is_finite() {
            p.clamp(0.0, 100.0)
        } else {
            100.0
        };
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        Some(sorted[rank.clamp(1, sorted.len()) - 1])
    }

    pub fn p95(&self) -> Option<i64> {
        self.percentile(95.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_has_no_percentile() {
        assert_eq!(LatencyWindow::new(8).p95(), None);
    }

    #[test]
    fn p95_is_nearest_rank() {
        let mut w = LatencyWindow::new(100);
        for ms in 1..=100 {
            w.push(ms);
        }
        assert_eq!(w.p95(), Some(95));
        assert_eq!(w.percentile(50.0), Some(50));
        assert_eq!(w.percentile(0.0), Some(1));
        assert_eq!(w.percentile(100.0), Some(100));
    }

    #[test]
    fn keeps_only_the_most_recent_samples() {
        let mut w = LatencyWindow::new(4);
        for ms in [900, 900, 900, 900, 10, 20, 30, 40] {
            w.push(ms);
        }
        assert_eq!(w.len(), 4);
        assert_eq!(w.p95(), Some(40), "old slow samples are gone");
    }

    #[test]
    fn one_outlier_in_twenty_is_not_the_p95() {
        let mut w = LatencyWindow::new(20);
        for _ in 0..19 {
            w.push(50);
        }
        w.push(5_000);
        assert_eq!(w.p95(), Some(50));
    }
}
