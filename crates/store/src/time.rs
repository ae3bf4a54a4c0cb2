//! Times as the stores keep them: milliseconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last instant RFC 3339 can write, 9999-12-31T23:59:59.999Z, in
/// milliseconds since the Unix epoch.
const MAX_RFC3339_MS: u64 = 253_402_300_799_999;

/// Returns the current time in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Formats a stored time as RFC 3339 in UTC with milliseconds, or as a
/// count of milliseconds for times outside the years 1970 to 9999.
///
/// ```
/// assert_eq!(llmops_store::utc_time(0), "1970-01-01T00:00:00.000Z");
/// assert_eq!(llmops_store::utc_time(-5), "-5 ms since the Unix epoch");
/// ```
pub fn utc_time(at_ms: i64) -> String {
    match u64::try_from(at_ms) {
        Ok(ms) if ms <= MAX_RFC3339_MS => {
            let at = UNIX_EPOCH + Duration::from_millis(ms);
            humantime::format_rfc3339_millis(at).to_string()
        }
        _ => format!("{at_ms} ms since the Unix epoch"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc3339_range_ends_at_year_9999() {
        assert_eq!(utc_time(MAX_RFC3339_MS as i64), "9999-12-31T23:59:59.999Z");
        assert_eq!(
            utc_time(MAX_RFC3339_MS as i64 + 1),
            "253402300800000 ms since the Unix epoch"
        );
        assert_eq!(
            utc_time(i64::MIN),
            format!("{} ms since the Unix epoch", i64::MIN)
        );
    }
}
