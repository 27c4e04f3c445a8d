//! The one place the deployer reads the clock; everything below takes the time as an argument.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time as RFC 3339 (UTC, milliseconds), for `generated_at`.
pub fn now_rfc3339() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    mfe_manifest::timestamp_from_unix_ms(ms).unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_rfc3339() {
        let now = super::now_rfc3339();
        assert!(mfe_manifest::check_timestamp(&now).is_ok(), "{now}");
        assert!(now.as_str() > "2024", "{now}");
    }
}
