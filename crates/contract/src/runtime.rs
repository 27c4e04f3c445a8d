//! Micro-app runtime settings: lifecycle timeouts (DESIGN §3.1) and the LOAD_ERROR retry
//! schedule. A deployment may override them in `regions.json` under `"runtime"`. Both the shell
//! and the boot module (which makes a page's first attempt before the shell is up) read them,
//! so an attempt is held to the same limits whichever of the two makes it.

use std::time::Duration;

use serde::{de::Error as _, Deserialize, Deserializer};

/// The longest time a setting may name: a day. Browser timers take at most 2^31 − 1 ms
/// (24.8 days) and fire at once beyond that, so a larger value would end every wait at once.
pub const MAX_MS: u64 = 86_400_000;

/// Timeouts in milliseconds, each from 1 to [`MAX_MS`]; absent fields keep DESIGN §3.1's
/// defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    #[serde(deserialize_with = "milliseconds")]
    pub load_ms: u64,
    #[serde(deserialize_with = "milliseconds")]
    pub bootstrap_ms: u64,
    #[serde(deserialize_with = "milliseconds")]
    pub mount_ms: u64,
    #[serde(deserialize_with = "milliseconds")]
    pub unmount_ms: u64,
    /// First automatic retry after a LOAD_ERROR; doubles each time up to `retry_max_ms`.
    #[serde(deserialize_with = "milliseconds")]
    pub retry_base_ms: u64,
    #[serde(deserialize_with = "milliseconds")]
    pub retry_max_ms: u64,
    /// Automatic retries before the slot waits for "Try again".
    pub retry_attempts: u32,
}

/// A time setting: a whole number of milliseconds from 1 to [`MAX_MS`].
fn milliseconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let ms = u64::deserialize(deserializer)?;
    if (1..=MAX_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(D::Error::custom(format_args!(
            "{ms} ms is not a usable time: from 1 to {MAX_MS} ms (a day)"
        )))
    }
}

/// `ms` as a wait no longer than [`MAX_MS`]: a value built in code is held to the same bound
/// as one read from a file.
const fn bounded(ms: u64) -> Duration {
    Duration::from_millis(if ms > MAX_MS { MAX_MS } else { ms })
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl RuntimeConfig {
    /// DESIGN §3.1's defaults, usable in constants.
    pub const DEFAULT: Self = Self {
        load_ms: 10_000,
        bootstrap_ms: 4_000,
        mount_ms: 3_000,
        unmount_ms: 3_000,
        retry_base_ms: 5_000,
        retry_max_ms: 60_000,
        retry_attempts: 3,
    };

    pub const fn load(&self) -> Duration {
        bounded(self.load_ms)
    }
    pub const fn bootstrap(&self) -> Duration {
        bounded(self.bootstrap_ms)
    }
    pub const fn mount(&self) -> Duration {
        bounded(self.mount_ms)
    }
    pub const fn unmount(&self) -> Duration {
        bounded(self.unmount_ms)
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
        Some(bounded(ms))
    }
}

/// The `"runtime"` settings of a `regions.json` text: the defaults when the file sets none.
/// The shell and the boot module both read them so, and the rest of the file is not checked
/// here: settings that cannot be used do not keep the regions from being used, nor the
/// reverse.
pub fn settings_in_regions_file(text: &str) -> Result<RuntimeConfig, String> {
    #[derive(Deserialize)]
    struct Deployment {
        #[serde(default)]
        runtime: RuntimeConfig,
    }
    serde_json::from_str::<Deployment>(text)
        .map(|d| d.runtime)
        .map_err(|e| format!("\"runtime\" in regions.json is invalid: {e}"))
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

    #[test]
    fn settings_are_read_from_a_whole_regions_file() {
        let file = r#"{
            "regions": [{"name": "eu-west", "url": "http://127.0.0.1:8081"}],
            "router": {"probe_interval_ms": 500},
            "runtime": {"bootstrap_ms": 9000, "mount_ms": 250}
        }"#;
        let c = settings_in_regions_file(file).unwrap();
        assert_eq!((c.bootstrap_ms, c.mount_ms), (9_000, 250));
        assert_eq!(c.load_ms, RuntimeConfig::DEFAULT.load_ms);
        assert_eq!(
            settings_in_regions_file(r#"{"regions": []}"#),
            Ok(RuntimeConfig::DEFAULT)
        );
    }

    #[test]
    fn times_a_browser_timer_cannot_wait_are_refused() {
        for ms in [0, MAX_MS + 1, 2_147_483_648, 3_000_000_000, u64::MAX] {
            let text = format!(r#"{{"runtime": {{"mount_ms": {ms}}}}}"#);
            let e = settings_in_regions_file(&text).unwrap_err();
            assert!(e.contains(&format!("{ms} ms is not a usable time")), "{e}");
        }
        let text = format!(r#"{{"runtime": {{"retry_max_ms": {MAX_MS}, "load_ms": 1}}}}"#);
        let c = settings_in_regions_file(&text).unwrap();
        assert_eq!((c.retry_max_ms, c.load_ms), (MAX_MS, 1));
    }

    #[test]
    fn waits_built_in_code_stay_within_a_day() {
        let c = RuntimeConfig {
            mount_ms: u64::MAX,
            retry_base_ms: u64::MAX,
            retry_max_ms: u64::MAX,
            ..RuntimeConfig::DEFAULT
        };
        assert_eq!(c.mount(), Duration::from_millis(MAX_MS));
        assert_eq!(c.retry_delay(2), Some(Duration::from_millis(MAX_MS)));
    }

    proptest::proptest! {
        /// Whatever numbers a file names, what it yields is a wait a browser timer can make.
        #[test]
        fn any_settings_read_are_waits_a_timer_can_make(ms in proptest::num::u64::ANY, attempt in 0u32..64) {
            let text = format!(r#"{{"runtime": {{"bootstrap_ms": {ms}, "retry_base_ms": {ms}}}}}"#);
            if let Ok(c) = settings_in_regions_file(&text) {
                proptest::prop_assert!((1..=MAX_MS).contains(&ms));
                proptest::prop_assert!(c.bootstrap() <= Duration::from_millis(MAX_MS));
                if let Some(delay) = c.retry_delay(attempt) {
                    proptest::prop_assert!(delay <= Duration::from_millis(MAX_MS));
                }
            }
        }
    }

    #[test]
    fn unreadable_settings_are_an_error_not_the_defaults() {
        for text in [
            r#"{"runtime": {"mount": 1}}"#,
            r#"{"runtime": {"mount_ms": -1}}"#,
            r#"{"runtime": "fast"}"#,
            "not json",
            "",
        ] {
            let e = settings_in_regions_file(text).unwrap_err();
            assert!(
                e.starts_with("\"runtime\" in regions.json is invalid"),
                "{text}: {e}"
            );
        }
    }
}
