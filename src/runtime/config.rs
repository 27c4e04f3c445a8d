//! Runtime settings: lifecycle timeouts (DESIGN §3.1) and the LOAD_ERROR retry schedule.
//! A deployment may override them in `regions.json` under `"runtime"`.

use std::time::Duration;

use serde::Deserialize;

/// Timeouts in milliseconds; absent fields keep DESIGN §3.1's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    pub load_ms: u64,
    pub bootstrap_ms: u64,
    pub mount_ms: u64,
    pub unmount_ms: u64,
    /// First automatic retry after a LOAD_ERROR; doubles each time up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Automatic retries before the slot waits for "Try again".
    pub retry_attempts: u32,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            load_ms: 10_000,
            bootstrap_ms: 4_000,
            mount_ms: 3_000,
            unmount_ms: 3_000,
            retry_base_ms: 5_000,
            retry_max_ms: 60_000,
            retry_attempts: 3,
        }
    }
}

impl RuntimeConfig {
    pub fn load(&self) -> Duration {
        Duration::from_millis(self.load_ms)
    }
    pub fn bootstrap(&self) -> Duration {
        Duration::from_millis(self.bootstrap_ms)
    }
    pub fn mount(&self) -> Duration {
        Duration::from_millis(self.mount_ms)
    }
    pub fn unmount(&self) -> Duration {
        Duration::from_millis(self.unmount_ms)
    }

    /// Delay before automatic retry number `attempt` (0-based) after a LOAD_ERROR, or `None`
    /// once the automatic retries are spent. Exponential and capped; no jitter is needed here
    /// because each tab retries its own static files, not a shared API.
    pub fn retry_delay(&self, attempt: u32) -> Option<Duration> {
        if attempt >= self.retry_attempts {
            return None;
        }
        let factor = 1u64.checked_shl(attempt).unwrap_or(u64::MAX);
        let ms = self
            .retry_base_ms
            .saturating_mul(factor)
            .min(self.retry_max_ms);
        Some(Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_design() {
        let c = RuntimeConfig::default();
        assert_eq!(c.load(), Duration::from_secs(10));
        assert_eq!(c.bootstrap(), Duration::from_secs(4));
        assert_eq!(c.mount(), Duration::from_secs(3));
        assert_eq!(c.unmount(), Duration::from_secs(3));
    }

    #[test]
    fn partial_settings_keep_the_rest() {
        let c: RuntimeConfig = serde_json::from_str(r#"{"mount_ms": 500}"#).unwrap();
        assert_eq!(c.mount_ms, 500);
        assert_eq!(c.load_ms, 10_000);
        assert!(serde_json::from_str::<RuntimeConfig>(r#"{"mount": 1}"#).is_err());
    }

    #[test]
    fn retries_back_off_and_stop() {
        let c = RuntimeConfig {
            retry_base_ms: 1_000,
            retry_max_ms: 3_000,
            retry_attempts: 4,
            ..RuntimeConfig::default()
        };
        let delays: Vec<_> = (0..6).map(|a| c.retry_delay(a)).collect();
        assert_eq!(
            delays,
            [
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(3)),
                Some(Duration::from_secs(3)),
                None,
                None
            ]
        );
        let huge = RuntimeConfig {
            retry_attempts: 200,
            ..c
        };
        assert_eq!(huge.retry_delay(150), Some(Duration::from_secs(3)));
    }
}
