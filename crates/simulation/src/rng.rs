//! The one source of randomness of a run. Everything random in a seed (the plan, the network,
//! the regions, the outbox's jitter) is drawn from generators derived from the seed, so a seed
//! replays exactly, on any machine.

use mfe_outbox::{Random, SplitMix64};

/// A seeded generator with the few helpers the simulation needs.
#[derive(Debug, Clone)]
pub struct Rng(SplitMix64);

impl Rng {
    /// A generator for one purpose (`stream`) of one seed: the plan and the run draw from
    /// different streams, so a change in how the run consumes numbers does not change the plan
    /// a seed stands for.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut mix = SplitMix64::new(seed ^ stream.wrapping_mul(0xA24B_AED4_963E_E407));
        Rng(SplitMix64::new(mix.next_u64()))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        self.0.unit()
    }

    /// Uniform in `[0, n)`; 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform in `[lo, hi]` (both ends included); `lo` when the range is empty.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo + 1) as u64) as i64
        }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// An index drawn with the given weights (all zero: the first).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut x = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if x < u64::from(w) {
                return i;
            }
            x -= u64::from(w);
        }
        0
    }
}

/// The outbox takes its jitter from the same seeded stream as the rest of the run.
impl Random for Rng {
    fn unit(&mut self) -> f64 {
        Rng::unit(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_stay_in_range_and_replay() {
        let mut a = Rng::new(7, 1);
        let mut b = Rng::new(7, 1);
        for _ in 0..1_000 {
            let x = a.between(-3, 5);
            assert_eq!(x, b.between(-3, 5));
            assert!((-3..=5).contains(&x));
            assert!(a.below(4) < 4);
            b.below(4);
        }
        assert_eq!(a.between(5, 5), 5);
        assert_eq!(a.below(0), 0);
        assert_ne!(Rng::new(7, 1).next_u64(), Rng::new(7, 2).next_u64());
        assert_eq!(a.weighted(&[0, 0, 3]), 2);
    }
}
