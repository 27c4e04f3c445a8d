//! Time enters this crate only as text: the caller owns the clock (browser `Date.now()`, the
//! deployer's system time), which keeps every function deterministic and testable.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::ManifestError;

/// Checks that `text` is an RFC 3339 timestamp such as `2026-11-26T08:00:00Z`.
pub fn check_timestamp(text: &str) -> Result<(), ManifestError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|_| ())
        .map_err(|_| ManifestError::InvalidTime(text.to_string()))
}

/// Formats milliseconds since the Unix epoch as RFC 3339 in UTC, for callers whose clock
/// gives numbers (`Date.now()`, `SystemTime`). `None` when outside years 0000–9999.
pub fn timestamp_from_unix_ms(ms: i64) -> Option<String> {
    let nanos = i128::from(ms).checked_mul(1_000_000)?;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc3339_with_zone_or_offset() {
        for ok in [
            "2026-11-26T08:00:00Z",
            "2026-11-26T08:00:00.123Z",
            "2026-11-26T08:00:00+02:00",
        ] {
            assert!(check_timestamp(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in [
            "",
            "yesterday",
            "2026-11-26",
            "2026-11-26 08:00:00",
            "1764144000000",
        ] {
            assert_eq!(
                check_timestamp(bad),
                Err(ManifestError::InvalidTime(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn formats_milliseconds() {
        assert_eq!(timestamp_from_unix_ms(0).unwrap(), "1970-01-01T00:00:00Z");
        let t = timestamp_from_unix_ms(1_764_144_000_123).unwrap();
        assert_eq!(t, "2025-11-26T08:00:00.123Z");
        assert!(check_timestamp(&t).is_ok());
        assert_eq!(timestamp_from_unix_ms(i64::MAX), None);
    }
}
