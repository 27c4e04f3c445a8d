//! `Retry-After` (RFC 9110 §10.2.3): either delta-seconds or an HTTP-date. The outbox treats
//! it as a floor under its own backoff, never as the exact time to retry, so many clients
//! told the same date still spread out after it.

use std::time::{Duration, UNIX_EPOCH};

/// The earliest time (ms since the Unix epoch) the server allows the next attempt, or `None`
/// when the value is neither form. A date in the past yields a time before `now_ms`, which
/// then simply has no effect. Huge values saturate instead of overflowing.
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<i64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Any run of digits is valid; a value too large for u64 still means "a long time".
        let seconds: u64 = value.parse().unwrap_or(u64::MAX);
        let ms = i64::try_from(seconds)
            .unwrap_or(i64::MAX)
            .saturating_mul(1_000);
        return Some(now_ms.saturating_add(ms));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    match when.duration_since(UNIX_EPOCH) {
        Ok(after) => Some(duration_ms(after)),
        // Before 1970: certainly in the past.
        Err(before) => Some(duration_ms(before.duration()).saturating_neg()),
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

    #[test]
    fn delta_seconds() {
        assert_eq!(parse_retry_after("120", NOW), Some(NOW + 120_000));
        assert_eq!(parse_retry_after(" 0 ", NOW), Some(NOW));
        assert_eq!(
            parse_retry_after("99999999999999999999999", NOW),
            Some(i64::MAX)
        );
    }

    #[test]
    fn http_date_in_the_future_and_the_past() {
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:15:00 GMT", NOW),
            Some(NOW + 100_000)
        );
        let past = parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", NOW).unwrap();
        assert_eq!(past, 784_111_777_000);
        assert!(past < NOW);
        // The obsolete formats RFC 9110 still requires recipients to accept.
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", NOW),
            Some(784_111_777_000)
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:37 1994", NOW),
            Some(784_111_777_000)
        );
    }

    #[test]
    fn garbage_is_ignored() {
        for v in [
            "",
            "  ",
            "-5",
            "1.5",
            "soon",
            "Tue, 99 Nov 2023 22:15:00 GMT",
        ] {
            assert_eq!(parse_retry_after(v, NOW), None, "{v:?}");
        }
    }
}
