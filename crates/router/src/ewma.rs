//! Exponentially weighted moving average of a region's probe RTT.
//!
//! The first sample replaces the prior instead of being blended with it (as TCP's SRTT does):
//! blending with a made-up 1000 ms would keep a 20 ms region looking slow for minutes at a
//! 30 s probe period, and ranking would depend on how many probes each region happened to get.
//! Until that first sample the caller uses its prior (see [`Ewma::value_or`]).

/// Running average; `None` until the first sample.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Ewma {
    value: Option<f64>,
}

impl Ewma {
    pub const fn new() -> Self {
        Self { value: None }
    }

    /// Folds one sample in with weight `alpha`. Non-finite samples are ignored and negative
    /// ones count as 0, so a bad clock cannot poison the average.
    pub fn observe(&mut self, sample_ms: f64, alpha: f64) {
        if !sample_ms.is_finite() {
            return;
        }
        let sample = sample_ms.max(0.0);
        let next = match self.value {
            None => sample,
            Some(old) => {
                let blended = old + alpha * (sample - old);
                // Rounding must never push the average outside the two values it mixes.
                blended.clamp(old.min(sample), old.max(sample))
            }
        };
        self.value = Some(next);
    }

    /// The average, or `None` when the region was never measured.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// The average, or `prior` when the region was never measured.
    pub fn value_or(&self, prior: f64) -> f64 {
        self.value.unwrap_or(prior)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmeasured_uses_the_prior() {
        let e = Ewma::new();
        assert_eq!(e.value(), None);
        assert_eq!(e.value_or(1000.0), 1000.0);
    }

    #[test]
    fn first_sample_replaces_the_prior_then_blends() {
        let mut e = Ewma::new();
        e.observe(100.0, 0.3);
        assert_eq!(e.value(), Some(100.0));
        e.observe(200.0, 0.3);
        assert!((e.value().unwrap() - 130.0).abs() < 1e-9);
        e.observe(130.0, 0.3);
        assert!((e.value().unwrap() - 130.0).abs() < 1e-9);
    }

    #[test]
    fn converges_towards_a_new_level() {
        let mut e = Ewma::new();
        e.observe(50.0, 0.3);
        for _ in 0..20 {
            e.observe(150.0, 0.3);
        }
        let v = e.value().unwrap();
        assert!(v > 149.0 && v <= 150.0, "{v}");
    }

    #[test]
    fn ignores_nan_and_floors_negative() {
        let mut e = Ewma::new();
        e.observe(f64::NAN, 0.3);
        assert_eq!(e.value(), None);
        e.observe(-5.0, 0.3);
        assert_eq!(e.value(), Some(0.0));
    }
}
