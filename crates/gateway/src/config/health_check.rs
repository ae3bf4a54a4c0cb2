//! Active health checks: `[health.check]` for every deployment and
//! `health_check` for one, with durations written as text such as `"30s"`.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::GatewayError;

/// How often a deployment is checked without traffic, and how long a check
/// may take.
///
/// A check sends a one-token chat completion (`max_tokens = 1`, one user
/// message `ping`) straight to the deployment's backend, outside routing,
/// limits, budgets and records. A check that fails the way a call would eject
/// a deployment (server error, overload, rate limit, timeout, network,
/// authentication) ejects it at once. A passing check closes the breaker of
/// an ejected or probing deployment before its cooldown ends. On a paid API
/// each check costs a few prompt tokens and one output token.
///
/// ```toml
/// [health.check]                 # every deployment
/// interval = "30s"
/// timeout = "5s"
///
/// [[models.deployments]]
/// id = "vllm-a"
/// provider = "openai"
/// model = "m"
/// health_check = { interval = "10s", timeout = "2s" }   # this one
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthCheckConfig {
    /// Whether checks run; `false` turns off a default for one deployment.
    /// Default true.
    pub enabled: bool,
    /// The time between the end of one check and the start of the next,
    /// such as `"30s"`, `"500ms"` or `"2m"`. Default 30 s. The first check
    /// runs when the gateway is built.
    #[serde(serialize_with = "duration_out", deserialize_with = "duration_in")]
    pub interval: Duration,
    /// How long a check may take before it counts as failed. Default 5 s.
    #[serde(serialize_with = "duration_out", deserialize_with = "duration_in")]
    pub timeout: Duration,
}

impl Default for HealthCheckConfig {
    fn default() -> Self {
        HealthCheckConfig {
            enabled: true,
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
        }
    }
}

impl HealthCheckConfig {
    /// Creates checks every `interval` that time out after `timeout`.
    pub fn new(interval: Duration, timeout: Duration) -> Self {
        HealthCheckConfig {
            enabled: true,
            interval,
            timeout,
        }
    }

    /// Creates a setting that turns checks off, to exempt one deployment
    /// from `[health.check]`.
    pub fn disabled() -> Self {
        HealthCheckConfig {
            enabled: false,
            ..HealthCheckConfig::default()
        }
    }

    /// Checks that both durations are above 0.
    pub(crate) fn validate(&self, key: &str) -> Result<(), GatewayError> {
        for (field, value) in [("interval", self.interval), ("timeout", self.timeout)] {
            if value.is_zero() {
                return Err(GatewayError::config(
                    format!("{key}.{field}"),
                    format!("a {field} of 0 s is not allowed; use a duration such as \"5s\""),
                ));
            }
        }
        Ok(())
    }
}

/// Parses a duration written as an integer and a unit: `ms`, `s`, `m` or
/// `h`, such as `"250ms"` or `"30s"`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let invalid =
        || format!("{text:?} is not a duration; write it like \"30s\", \"500ms\" or \"2m\"");
    let value: u64 = number.parse().map_err(|_| invalid())?;
    let millis_per_unit: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(invalid()),
    };
    value
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{text:?} is too long a duration; use at most a few hours"))
}

/// Writes a duration in whole seconds when it has no milliseconds, else
/// in milliseconds.
fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis % 1_000 == 0 {
        format!("{}s", millis / 1_000)
    } else {
        format!("{millis}ms")
    }
}

fn duration_out<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_duration(*duration))
}

fn duration_in<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn durations_read_every_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration(" 2m "), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3_600)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn durations_without_unit_or_number_are_rejected() {
        for text in ["30", "s", "", "1.5s", "-1s", "5 parsecs", "３０s"] {
            let error = parse_duration(text).unwrap_err();
            assert!(error.contains("not a duration"), "{text}: {error}");
        }
        let error = parse_duration("99999999999999999999h").unwrap_err();
        assert!(error.contains("not a duration"), "{error}");
        let error = parse_duration("18446744073709551615h").unwrap_err();
        assert!(error.contains("too long"), "{error}");
    }

    #[test]
    fn zero_interval_names_its_key() {
        let config = HealthCheckConfig::new(Duration::ZERO, Duration::from_secs(1));
        let error = config.validate("health.check").unwrap_err().to_string();
        assert!(error.contains("health.check.interval"), "{error}");
    }

    proptest! {
        #[test]
        fn formatted_durations_read_back(millis in 0u64..100_000_000) {
            let duration = Duration::from_millis(millis);
            prop_assert_eq!(parse_duration(&format_duration(duration)), Ok(duration));
        }
    }
}
