//! Retry budget in the style of gRPC retry throttling (gRFC A6): a bucket of tokens that
//! failed attempts drain and successful ones slowly refill. Retries are allowed only while the
//! bucket is more than half full, so when a region is sick the clients back off as a group
//! instead of multiplying its load. Kept in thousandths of a token, as gRPC does, so `0.1`
//! refills add up exactly.
//!
//! Hedges also have a floor, as Finagle's retry budget does (`minRetriesPerSec`): one hedge
//! may go out per floor period whatever the bucket holds. Without it, a run of slow answers
//! (a latency spike, a busy page) spends the bucket, and a region that then stops answering
//! holds each command for the whole send timeout. One extra request per period cannot
//! overload anyone.

const MILLI: u64 = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryBudget {
    milli_tokens: u64,
    max_milli: u64,
    refill_milli: u64,
    floor_every_ms: i64,
    /// When the floor last let a hedge out.
    floor_spent_at: Option<i64>,
}

/// What a host may do about a hedge it wants to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HedgeVerdict {
    /// Send it: a token (or the floor's allowance) was spent.
    Send,
    /// Not now: the bucket is at half or below and the floor was used less than a period ago.
    /// Ask again at this time (the request may have been answered by then).
    AskAgainAt(i64),
    /// Not for this request: the device is offline ([`crate::Outbox::try_spend_hedge`]; the
    /// bucket alone never says this).
    No,
}

impl RetryBudget {
    /// A full bucket of `max_tokens`; each success gives back `token_ratio` of a token; one
    /// hedge per `floor_every_ms` whatever the bucket holds.
    pub fn new(max_tokens: u32, token_ratio: f64, floor_every_ms: i64) -> Self {
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
            floor_every_ms: floor_every_ms.max(1),
            floor_spent_at: None,
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

    /// For a hedge at `now`: spend one token if retries are allowed, or else the floor's
    /// allowance if a period has passed since it was last used. A clock that went back since
    /// then counts as a period passed, so it cannot hold hedges back.
    pub fn try_spend_hedge(&mut self, now: i64) -> HedgeVerdict {
        if self.allows_retry() {
            self.on_failure();
            return HedgeVerdict::Send;
        }
        match self.floor_spent_at {
            Some(at) if now >= at && now - at < self.floor_every_ms => {
                HedgeVerdict::AskAgainAt(at.saturating_add(self.floor_every_ms))
            }
            _ => {
                self.floor_spent_at = Some(now);
                HedgeVerdict::Send
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_drain_until_half_then_throttle() {
        let mut b = RetryBudget::new(10, 0.1, 500);
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
        let mut b = RetryBudget::new(10, 0.1, 500);
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
        let mut b = RetryBudget::new(10, 0.1, 500);
        let spent = (0..5)
            .filter(|_| b.try_spend_hedge(0) == HedgeVerdict::Send)
            .count();
        assert_eq!(spent, 5);
        assert!(!b.allows_retry());
        assert_eq!(b.tokens(), 5.0);
    }

    #[test]
    fn a_spent_bucket_still_lets_one_hedge_out_per_floor_period() {
        let mut b = RetryBudget::new(10, 0.1, 500);
        for _ in 0..5 {
            assert_eq!(b.try_spend_hedge(1_000), HedgeVerdict::Send);
        }
        // The bucket is at half: the floor's allowance, once per period, without a token.
        assert_eq!(b.try_spend_hedge(1_000), HedgeVerdict::Send);
        assert_eq!(b.tokens(), 5.0);
        assert_eq!(b.try_spend_hedge(1_000), HedgeVerdict::AskAgainAt(1_500));
        assert_eq!(b.try_spend_hedge(1_499), HedgeVerdict::AskAgainAt(1_500));
        assert_eq!(b.try_spend_hedge(1_500), HedgeVerdict::Send);
        assert_eq!(b.try_spend_hedge(1_600), HedgeVerdict::AskAgainAt(2_000));
        // Retries after failures get no floor: they have their own backoff.
        assert!(!b.allows_retry());
    }

    #[test]
    fn a_clock_gone_back_does_not_hold_hedges_back() {
        let mut b = RetryBudget::new(2, 0.0, 500);
        assert_eq!(b.try_spend_hedge(10_000), HedgeVerdict::Send);
        assert_eq!(b.try_spend_hedge(10_000), HedgeVerdict::Send);
        assert_eq!(b.try_spend_hedge(10_001), HedgeVerdict::AskAgainAt(10_500));
        assert_eq!(b.try_spend_hedge(3_000), HedgeVerdict::Send);
        assert_eq!(b.try_spend_hedge(3_100), HedgeVerdict::AskAgainAt(3_500));
    }

    #[test]
    fn a_huge_floor_does_not_overflow() {
        let mut b = RetryBudget::new(1, 0.0, i64::MAX);
        assert_eq!(b.try_spend_hedge(5), HedgeVerdict::Send);
        assert_eq!(b.try_spend_hedge(5), HedgeVerdict::Send);
        assert_eq!(b.try_spend_hedge(6), HedgeVerdict::AskAgainAt(i64::MAX));
    }

    #[test]
    fn a_floor_of_zero_is_one_millisecond() {
        let mut b = RetryBudget::new(1, 0.0, 0);
        assert_eq!(b.try_spend_hedge(5), HedgeVerdict::Send);
        assert_eq!(b.try_spend_hedge(5), HedgeVerdict::Send);
        assert_eq!(b.try_spend_hedge(5), HedgeVerdict::AskAgainAt(6));
    }
}
