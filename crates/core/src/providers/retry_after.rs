//! The wait a provider requests in `Retry-After` style headers.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// Reads the wait a provider asked for from response headers.
///
/// `retry-after-ms` (milliseconds, as OpenAI sends it) wins over
/// `Retry-After`, which is either delay seconds or an HTTP date (RFC 9110). A date in the past gives a zero wait. Unparsable or
/// negative values are ignored.
pub fn retry_after_from_headers(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());

    if let Some(wait) = header("retry-after-ms").and_then(parse_seconds_or_ms(1000.0)) {
        return Some(wait);
    }
    let value = header("retry-after")?.trim();
    if let Some(wait) = parse_seconds_or_ms(1.0)(value) {
        return Some(wait);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Returns a parser of a non-negative decimal number of units, where `per_second`
/// units make one second.
fn parse_seconds_or_ms(per_second: f64) -> impl Fn(&str) -> Option<Duration> {
    move |value| {
        let number: f64 = value.trim().parse().ok()?;
        if !number.is_finite() || number < 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(number / per_second).ok()
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn seconds_and_fractional_seconds() {
        assert_eq!(
            retry_after_from_headers(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after_from_headers(&headers(&[("retry-after", "1.5")])),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn milliseconds_header_wins() {
        let map = headers(&[("retry-after", "20"), ("retry-after-ms", "250")]);
        assert_eq!(
            retry_after_from_headers(&map),
            Some(Duration::from_millis(250))
        );
    }

    #[test]
    fn http_date_future_and_past() {
        let future = SystemTime::now() + Duration::from_secs(120);
        let map = headers(&[("retry-after", &httpdate::fmt_http_date(future))]);
        let wait = retry_after_from_headers(&map).unwrap();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );

        let map = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after_from_headers(&map), Some(Duration::ZERO));
    }

    #[test]
    fn invalid_values_ignored() {
        for value in ["-3", "soon", "", "NaN", "inf"] {
            assert_eq!(
                retry_after_from_headers(&headers(&[("retry-after", value)])),
                None,
                "{value}"
            );
        }
        assert_eq!(retry_after_from_headers(&HeaderMap::new()), None);
    }
}
