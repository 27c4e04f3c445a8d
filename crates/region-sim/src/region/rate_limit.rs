//! Per-client token buckets for the command writes (`POST /commands`, `/commands:batch`).
//!
//! A region must stay usable for every client while one of them misbehaves (a retry loop
//! without backoff, a drainer that lost its Web Lock): each client gets its own bucket, keyed
//! by the `client_id` of its commands, or by its address when the body carries none. A refused
//! request learns when a token will be back (`Retry-After`), which the outbox honours as a
//! floor. One request costs one token whatever its size: the body limits bound the size.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients tracked at once. Beyond it, buckets that have refilled completely are forgotten
/// (such a bucket is indistinguishable from a new one); if none has, newcomers share one
/// overflow bucket, so memory stays bounded whatever a client puts in `client_id`.
const MAX_CLIENTS: usize = 10_000;
/// Key of the shared bucket used when [`MAX_CLIENTS`] is reached.
const OVERFLOW_KEY: &str = "\u{0}overflow";
/// Longest key kept verbatim; longer `client_id`s are cut (they are still distinct enough).
const MAX_KEY_LEN: usize = 128;

/// Rate and burst of every bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second; 0 turns limiting off.
    pub per_second: f64,
    /// Bucket capacity: requests a quiet client may send at once.
    pub burst: u32,
}

impl RateLimit {
    /// Generous enough for every browser test and for draining 1,000 commands in batches.
    pub const DEFAULT: Self = Self {
        per_second: 200.0,
        burst: 400,
    };

    /// Refuses values that would make the limiter meaningless or undefined.
    pub fn validate(&self) -> Result<(), String> {
        if !self.per_second.is_finite() || self.per_second < 0.0 {
            return Err(format!(
                "the rate limit must be a finite number of requests per second >= 0 \
                 (0 = off), got {}",
                self.per_second
            ));
        }
        if self.burst == 0 {
            return Err("the rate burst must be at least 1 request".into());
        }
        Ok(())
    }

    pub fn is_off(&self) -> bool {
        self.per_second == 0.0
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of one region.
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from `key`'s bucket; `Err(wait)` when it is empty, with the time until
    /// the next token.
    pub fn admit(&self, key: &str) -> Result<(), Duration> {
        self.admit_at(key, Instant::now())
    }

    fn admit_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.limit.is_off() {
            return Ok(());
        }
        let key = truncate(key);
        let capacity = f64::from(self.limit.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(key) && buckets.len() >= MAX_CLIENTS {
            self.forget_full(&mut buckets, now);
        }
        let key = if buckets.contains_key(key) || buckets.len() < MAX_CLIENTS {
            key
        } else {
            OVERFLOW_KEY
        };
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.limit.per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err(Duration::from_secs_f64(missing / self.limit.per_second))
        }
    }

    /// Drops every bucket that would be full by now.
    fn forget_full(&self, buckets: &mut HashMap<String, Bucket>, now: Instant) {
        let capacity = f64::from(self.limit.burst);
        let rate = self.limit.per_second;
        buckets.retain(|_, b| {
            let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
            b.tokens + elapsed * rate < capacity
        });
    }

    /// Clients currently tracked (for tests).
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

fn truncate(key: &str) -> &str {
    if key.len() <= MAX_KEY_LEN {
        return key;
    }
    let mut end = MAX_KEY_LEN;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}

/// Whole seconds for `Retry-After`, rounded up and at least 1 (0 would invite a busy retry).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: f64, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimit { per_second, burst })
    }

    #[test]
    fn a_burst_passes_then_the_rate_applies() {
        let l = limiter(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.admit_at("a", t0).is_ok());
        }
        let wait = l.admit_at("a", t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert!(l.admit_at("a", t0 + Duration::from_millis(499)).is_err());
        assert!(l.admit_at("a", t0 + Duration::from_millis(1000)).is_ok());
    }

    #[test]
    fn clients_do_not_share_buckets() {
        let l = limiter(1.0, 1);
        let t0 = Instant::now();
        assert!(l.admit_at("a", t0).is_ok());
        assert!(l.admit_at("a", t0).is_err());
        assert!(l.admit_at("b", t0).is_ok());
    }

    #[test]
    fn zero_rate_is_off() {
        let l = limiter(0.0, 1);
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert!(l.admit_at("a", t0).is_ok());
        }
        assert_eq!(l.tracked(), 0);
    }

    #[test]
    fn memory_stays_bounded() {
        let l = limiter(1.0, 1);
        let t0 = Instant::now();
        for i in 0..MAX_CLIENTS + 50 {
            let _ = l.admit_at(&format!("client-{i}"), t0);
        }
        assert_eq!(
            l.tracked(),
            MAX_CLIENTS + 1,
            "every client plus the overflow bucket"
        );
        // Newcomers share the overflow bucket: one passes, the next waits.
        assert!(l.admit_at("late-1", t0).is_err());
        // Once the old buckets have refilled they are forgotten and newcomers get their own.
        let later = t0 + Duration::from_secs(2);
        assert!(l.admit_at("late-2", later).is_ok());
        assert!(l.tracked() < 10);
    }

    #[test]
    fn long_keys_are_cut_on_a_char_boundary() {
        let key = "é".repeat(100);
        assert!(truncate(&key).len() <= MAX_KEY_LEN);
        assert!(key.starts_with(truncate(&key)));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }

    #[test]
    fn validation() {
        assert!(RateLimit::DEFAULT.validate().is_ok());
        assert!(RateLimit {
            per_second: f64::NAN,
            burst: 1
        }
        .validate()
        .is_err());
        assert!(RateLimit {
            per_second: 1.0,
            burst: 0
        }
        .validate()
        .is_err());
    }
}
