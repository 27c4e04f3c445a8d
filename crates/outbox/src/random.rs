//! Randomness as an input. The core never reaches for OS entropy: the browser adapter passes
//! `Math.random`, tests pass a seeded generator, and the same seed replays the same schedule.

/// A source of uniform numbers in `[0, 1)`.
pub trait Random {
    /// The next number; values outside `[0, 1)` are clamped by the caller's consumers.
    fn unit(&mut self) -> f64;
}

/// Any closure returning `f64` works, e.g. `|| js_sys::Math::random()`.
impl<F: FnMut() -> f64> Random for F {
    fn unit(&mut self) -> f64 {
        self()
    }
}

/// A fixed value, for tests that need an exact delay (0.0 = shortest, 0.999… = longest).
#[derive(Debug, Clone, Copy)]
pub struct Fixed(pub f64);

impl Random for Fixed {
    fn unit(&mut self) -> f64 {
        self.0
    }
}

/// SplitMix64: tiny, seedable and good enough for jitter. Deterministic on every target,
/// so a failing simulation seed reproduces anywhere.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Random for SplitMix64 {
    fn unit(&mut self) -> f64 {
        // 53 random bits → exactly representable, strictly below 1.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Clamp a caller-supplied number into `[0, 1)`; NaN counts as 0.
pub(crate) fn clamp_unit(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        0.0
    } else if x >= 1.0 {
        1.0 - f64::EPSILON
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_deterministic_and_in_range() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..1_000 {
            let x = a.unit();
            assert_eq!(x, b.unit());
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn closures_and_fixed_are_sources() {
        let mut f = || 0.25;
        assert_eq!(Random::unit(&mut f), 0.25);
        assert_eq!(Fixed(0.5).unit(), 0.5);
    }

    #[test]
    fn clamp_unit_handles_out_of_range() {
        assert_eq!(clamp_unit(f64::NAN), 0.0);
        assert_eq!(clamp_unit(-1.0), 0.0);
        assert!(clamp_unit(1.0) < 1.0);
        assert!(clamp_unit(f64::INFINITY) < 1.0);
        assert_eq!(clamp_unit(0.3), 0.3);
    }
}
