//! Full-jitter exponential backoff ("Exponential Backoff And Jitter", AWS architecture blog):
//! the wait is uniform in `[0, min(cap, base · 2^(n-1)))`. Spreading retries over the whole
//! window, rather than around its edge, is what keeps many clients that failed together from
//! coming back together.

use crate::random::clamp_unit;

/// The ceiling of the wait after the `failures`-th consecutive failure (1-based; 0 is treated
/// as 1). Saturates instead of overflowing for any count.
pub fn ceiling_ms(failures: u32, base_ms: i64, cap_ms: i64) -> i64 {
    let base = base_ms.max(1);
    let cap = cap_ms.max(base);
    let doublings = failures.saturating_sub(1).min(62);
    base.checked_mul(1i64 << doublings).unwrap_or(cap).min(cap)
}

/// The wait after the `failures`-th consecutive failure, given a uniform draw `unit` in
/// `[0, 1)`. Always in `[0, ceiling)`.
pub fn full_jitter_ms(failures: u32, base_ms: i64, cap_ms: i64, unit: f64) -> i64 {
    let ceiling = ceiling_ms(failures, base_ms, cap_ms);
    let delay = (clamp_unit(unit) * ceiling as f64).floor() as i64;
    delay.clamp(0, ceiling.saturating_sub(1).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_from_base_to_cap() {
        let got: Vec<i64> = (1..=8).map(|n| ceiling_ms(n, 1_000, 60_000)).collect();
        assert_eq!(
            got,
            vec![1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]
        );
        assert_eq!(ceiling_ms(0, 1_000, 60_000), 1_000);
        assert_eq!(ceiling_ms(u32::MAX, 1_000, 60_000), 60_000);
        assert_eq!(ceiling_ms(64, i64::MAX / 2, i64::MAX), i64::MAX);
    }

    #[test]
    fn full_jitter_stays_within_bounds() {
        for n in 0..100u32 {
            for unit in [0.0, 0.1, 0.5, 0.999_999, 1.0, -3.0, f64::NAN] {
                let d = full_jitter_ms(n, 1_000, 60_000, unit);
                assert!(d >= 0, "{n} {unit} {d}");
                assert!(d < ceiling_ms(n, 1_000, 60_000), "{n} {unit} {d}");
                assert!(d < 60_000);
            }
        }
        assert_eq!(full_jitter_ms(1, 1_000, 60_000, 0.0), 0);
        assert_eq!(full_jitter_ms(3, 1_000, 60_000, 0.5), 2_000);
        assert_eq!(full_jitter_ms(10, 1_000, 60_000, 0.999_999_9), 59_999);
    }
}
