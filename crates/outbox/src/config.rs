//! Tunables of the outbox, with the numbers DESIGN §3.4 asks for as defaults.

use mfe_contract::MAX_BATCH_COMMANDS;

/// The longest floor period a configuration may set (a day): beyond it the floor is off in
/// all but name, and times computed from it stay far from overflowing.
pub const MAX_HEDGE_FLOOR_MS: i64 = 86_400_000;

/// Everything the outbox lets a host tune. Durations are milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// First backoff ceiling; the n-th failure waits a random time below
    /// `min(cap, base * 2^(n-1))` (full jitter).
    pub backoff_base_ms: i64,
    /// Largest backoff ceiling, so a long outage still retries about once a minute.
    pub backoff_cap_ms: i64,
    /// Delay after a 409 (same key still executing elsewhere, e.g. a hedge or another tab):
    /// the answer is coming, so wait briefly instead of backing off. Jittered ±50 %.
    pub conflict_delay_ms: i64,
    /// Upper bound on any wait the outbox schedules, including a server's `Retry-After`. It
    /// also bounds how long a backward clock jump can hold work back.
    pub max_delay_ms: i64,
    /// A command not delivered within this time of entering the queue becomes a dead letter
    /// with reason `expired`. Keep it at or below the server's idempotency-key lifetime, so a
    /// resend can never be mistaken for a new command.
    pub retention_ms: i64,
    /// How long delivered entries stay so `commandStatus(id)` can still answer; then they are
    /// deleted.
    pub keep_delivered_ms: i64,
    /// A send with no reported result after this long is treated as a timeout. The adapter
    /// normally reports its own (shorter) fetch timeout; this is the safety net that keeps an
    /// entry from staying `inflight` forever if a result is lost.
    pub inflight_lease_ms: i64,
    /// Most commands in one request. 1 when the region has no `POST /commands:batch`; the
    /// regional API takes up to [`MAX_BATCH_COMMANDS`] per batch, the default, so a long queue
    /// costs as few requests (and rounds of IndexedDB writes) as the regions allow. A region
    /// that answers 413 to a batch gets smaller ones (see `Outbox::complete`).
    pub max_batch: usize,
    /// Most streams with a request outstanding at once.
    pub max_streams_in_flight: usize,
    /// Retry budget size (gRPC retry throttling `maxTokens`).
    pub budget_max_tokens: u32,
    /// Tokens a successful request gives back (gRPC `tokenRatio`).
    pub budget_token_ratio: f64,
    /// Whatever the budget holds, one hedge may go out per this many ms (Finagle's
    /// `minRetriesPerSec`), so a region that stops answering after a run of slow answers costs
    /// its hedge delay and up to this much more, not the send timeout. The allowance is one
    /// per outbox: with several streams waiting at once, the k-th waits up to k periods.
    /// At most a day ([`MAX_HEDGE_FLOOR_MS`]).
    pub hedge_floor_every_ms: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            backoff_base_ms: 1_000,
            backoff_cap_ms: 60_000,
            conflict_delay_ms: 1_000,
            max_delay_ms: 60 * 60 * 1_000,
            retention_ms: 24 * 60 * 60 * 1_000,
            keep_delivered_ms: 60 * 60 * 1_000,
            inflight_lease_ms: 2 * 60 * 1_000,
            max_batch: MAX_BATCH_COMMANDS,
            max_streams_in_flight: 4,
            budget_max_tokens: 10,
            budget_token_ratio: 0.1,
            hedge_floor_every_ms: 500,
        }
    }
}

impl Config {
    /// The same configuration with nonsense values pulled into range, so no setting can stall
    /// the queue (a zero batch size) or make it spin (a zero delay).
    pub fn sanitized(&self) -> Self {
        let base = self.backoff_base_ms.max(1);
        let cap = self.backoff_cap_ms.max(base);
        Self {
            backoff_base_ms: base,
            backoff_cap_ms: cap,
            conflict_delay_ms: self.conflict_delay_ms.max(1),
            max_delay_ms: self.max_delay_ms.max(cap),
            retention_ms: self.retention_ms.max(1),
            keep_delivered_ms: self.keep_delivered_ms.max(0),
            inflight_lease_ms: self.inflight_lease_ms.max(1),
            max_batch: self.max_batch.max(1),
            max_streams_in_flight: self.max_streams_in_flight.max(1),
            budget_max_tokens: self.budget_max_tokens.max(1),
            budget_token_ratio: if self.budget_token_ratio.is_finite() {
                self.budget_token_ratio.max(0.0)
            } else {
                0.0
            },
            hedge_floor_every_ms: self.hedge_floor_every_ms.clamp(1, MAX_HEDGE_FLOOR_MS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_design() {
        let c = Config::default();
        assert_eq!(c.backoff_base_ms, 1_000);
        assert_eq!(c.backoff_cap_ms, 60_000);
        assert_eq!(c.retention_ms, 86_400_000);
        assert_eq!(c.budget_max_tokens, 10);
        assert!((c.budget_token_ratio - 0.1).abs() < 1e-12);
        assert_eq!(c.hedge_floor_every_ms, 500);
        assert_eq!(c.max_batch, 500);
        assert_eq!(c.sanitized(), c);
    }

    #[test]
    fn sanitized_repairs_nonsense() {
        let c = Config {
            backoff_base_ms: 0,
            backoff_cap_ms: -5,
            conflict_delay_ms: 0,
            max_delay_ms: 0,
            retention_ms: 0,
            keep_delivered_ms: -1,
            inflight_lease_ms: 0,
            max_batch: 0,
            max_streams_in_flight: 0,
            budget_max_tokens: 0,
            budget_token_ratio: f64::NAN,
            hedge_floor_every_ms: -3,
        }
        .sanitized();
        let huge = Config {
            hedge_floor_every_ms: i64::MAX,
            ..Config::default()
        };
        assert_eq!(huge.sanitized().hedge_floor_every_ms, MAX_HEDGE_FLOOR_MS);
        assert_eq!(c.backoff_base_ms, 1);
        assert_eq!(c.backoff_cap_ms, 1);
        assert_eq!(c.max_batch, 1);
        assert_eq!(c.max_streams_in_flight, 1);
        assert_eq!(c.budget_max_tokens, 1);
        assert_eq!(c.budget_token_ratio, 0.0);
        assert_eq!(c.hedge_floor_every_ms, 1);
        assert_eq!(c.keep_delivered_ms, 0);
    }
}
