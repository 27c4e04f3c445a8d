//! Retry budget in the style of gRPC retry throttling (gRFC A6): a bucket of tokens that
//! failed attempts drain and successful ones slowly refill. Retries are allowed only while the
//! bucket is more than half full, so when a region is sick the clients back off as a group
//! instead of multiplying its load. Kept in thousandths of a token, as gRPC does, so `0.1`
//! refills add up exactly.

const MILLI: u64 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryBudget {
    milli_tokens: u64,
    max_milli: u64,
    refill_milli: u64,
}

impl RetryBudget {
    /// A full bucket of `max_tokens`; each success gives back `token_ratio` of a token.
    pub fn new(max_tokens: u32, token_ratio: f64) -> Self {
        let max_milli = u64::from(max_tokens.max(1)) * MILLI;
        let ratio = if token_ratio.is_finite() {
            token_ratio.max(0.0)
        } else {
            0.0
        };
        let refill_milli = ((ratio * MILLI as f64).round() as u64).min(max_milli);
        Self {
            milli_tokens: max_milli,
            max_milli,
            refill_milli,
        }
    }

    /// Tokens left, for display.
    pub fn tokens(&self) -> f64 {
        self.milli_tokens as f64 / MILLI as f64
    }

    /// Whether a retry may go out now: strictly more than half the bucket is left.
    pub fn allows_retry(&self) -> bool {
        self.milli_tokens * 2 > self.max_milli
    }

    /// A failed attempt costs one token (never below zero).
    pub fn on_failure(&mut self) {
        self.milli_tokens = self.milli_tokens.saturating_sub(MILLI);
    }

    /// A successful attempt gives back a fraction of a token (never above the maximum).
    pub fn on_success(&mut self) {
        self.milli_tokens = (self.milli_tokens + self.refill_milli).min(self.max_milli);
    }

    /// For optional extra sends such as hedges: spend one token if retries are allowed now.
    pub fn try_spend(&mut self) -> bool {
        if self.allows_retry() {
            self.on_failure();
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_drain_until_half_then_throttle() {
        let mut b = RetryBudget::new(10, 0.1);
        assert_eq!(b.tokens(), 10.0);
        for _ in 0..4 {
            b.on_failure();
        }
        assert!(b.allows_retry(), "6 tokens > 5");
        b.on_failure();
        assert_eq!(b.tokens(), 5.0);
        assert!(!b.allows_retry(), "5 is not more than half of 10");
        for _ in 0..20 {
            b.on_failure();
        }
        assert_eq!(b.tokens(), 0.0);
    }

    #[test]
    fn successes_refill_by_a_tenth_up_to_max() {
        let mut b = RetryBudget::new(10, 0.1);
        for _ in 0..5 {
            b.on_failure();
        }
        b.on_success();
        assert!(b.allows_retry(), "5.1 > 5");
        assert!((b.tokens() - 5.1).abs() < 1e-9);
        for _ in 0..1_000 {
            b.on_success();
        }
        assert_eq!(b.tokens(), 10.0);
    }

    #[test]
    fn hedges_spend_from_the_same_bucket() {
        let mut b = RetryBudget::new(10, 0.1);
        let spent = (0..20).filter(|_| b.try_spend()).count();
        assert_eq!(spent, 5);
        assert!(!b.allows_retry());
    }
}
