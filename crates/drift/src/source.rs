//! Inputs of stored windows, and how windows are cut.

use std::collections::BTreeMap;

use async_trait::async_trait;
use llmops_store::Store;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;

use crate::error::{DriftError, Result};
use crate::store::WindowSpan;
use crate::window::Window;

/// One stored input with its time and numeric signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// When the call ended, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The input text.
    pub text: String,
    /// Numeric signals by name.
    pub features: BTreeMap<String, f64>,
}

/// Where the inputs of a window come from.
#[async_trait]
pub trait InputSource: Send + Sync {
    /// Returns the inputs with `span.start_ms <= at_ms < span.end_ms`, in
    /// time order.
    ///
    /// # Errors
    ///
    /// Returns an error when the backing store fails.
    async fn inputs(&self, span: WindowSpan) -> Result<Vec<InputRecord>>;

    /// Returns the inputs of `span` as a [`Window`].
    ///
    /// # Errors
    ///
    /// As [`InputSource::inputs`].
    async fn window(&self, span: WindowSpan) -> Result<Window> {
        let records = self.inputs(span).await?;
        Ok(records_to_window(records))
    }
}

/// Collects texts and per-signal values from records.
pub(crate) fn records_to_window(records: Vec<InputRecord>) -> Window {
    let mut window = Window::default();
    for record in records {
        window.texts.push(record.text);
        for (name, value) in record.features {
            window.features.entry(name).or_default().push(value);
        }
    }
    window
}

/// The calls that `llmops-registry` logged, read from its `registry_calls`
/// table: the input text, and `latency_ms`, `prompt_tokens`,
/// `completion_tokens` and `cost_usd` as signals.
///
/// The input is the logged `input` JSON: a string as is, and otherwise the
/// string values of the object joined by newlines, in key order.
// NOTE: this reads the registry's table directly because the registry has
// no API that lists calls; a change to `registry_calls` must be mirrored here.
#[derive(Debug, Clone)]
pub struct RegistryCalls {
    store: Store,
    prompt: Option<String>,
}

impl RegistryCalls {
    /// Reads calls of every prompt.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            prompt: None,
        }
    }

    /// Reads only the calls of `prompt`.
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }
}

#[async_trait]
impl InputSource for RegistryCalls {
    async fn inputs(&self, span: WindowSpan) -> Result<Vec<InputRecord>> {
        let d = self.store.dialect();
        let mut sql = format!(
            "SELECT input, latency_ms, prompt_tokens, completion_tokens, cost_nano_usd, at_ms \
             FROM registry_calls WHERE at_ms >= {} AND at_ms < {}",
            d.placeholder(1),
            d.placeholder(2)
        );
        if self.prompt.is_some() {
            sql.push_str(&format!(" AND prompt = {}", d.placeholder(3)));
        }
        sql.push_str(" ORDER BY at_ms, id");

        let mut query = sqlx::query(&sql).bind(span.start_ms).bind(span.end_ms);
        if let Some(prompt) = &self.prompt {
            query = query.bind(prompt);
        }
        let rows = query
            .fetch_all(self.store.pool())
            .await
            .map_err(|source| self.store.error(source))?;

        let store_error = |source| DriftError::Store(self.store.error(source));
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            let input: String = row.try_get("input").map_err(store_error)?;
            let signal = |column: &str| -> Result<f64> {
                let value: i64 = row.try_get(column).map_err(store_error)?;
                Ok(value as f64)
            };
            let features = BTreeMap::from([
                ("latency_ms".to_string(), signal("latency_ms")?),
                ("prompt_tokens".to_string(), signal("prompt_tokens")?),
                (
                    "completion_tokens".to_string(),
                    signal("completion_tokens")?,
                ),
                ("cost_usd".to_string(), signal("cost_nano_usd")? / 1e9),
            ]);
            records.push(InputRecord {
                at_ms: row.try_get("at_ms").map_err(store_error)?,
                text: input_text(&input),
                features,
            });
        }
        Ok(records)
    }
}

/// Turns a logged `input` JSON value into the text that is embedded.
fn input_text(input: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(input) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(serde_json::Value::Object(map)) => {
            let parts: Vec<&str> = map.values().filter_map(|v| v.as_str()).collect();
            parts.join("\n")
        }
        _ => input.to_string(),
    }
}

/// How windows are cut from time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WindowPlan {
    /// The `length_ms` before `now`.
    Rolling {
        /// Window length in milliseconds.
        length_ms: i64,
    },
    /// Whole UTC days, or whole weeks starting Monday 00:00 UTC.
    Calendar {
        /// Days per window: 1 for daily, 7 for weekly (aligned to Monday).
        days: i64,
    },
}

const DAY_MS: i64 = 86_400_000;
/// 1970-01-01 was a Thursday, so Mondays fall 4 days after the epoch.
const MONDAY_OFFSET_MS: i64 = 4 * DAY_MS;

impl WindowPlan {
    /// Returns the last complete window before `now_ms` (rolling windows end
    /// at `now_ms`).
    ///
    /// # Errors
    ///
    /// Returns [`DriftError::InvalidParameter`] for a length of zero or less.
    ///
    /// ```
    /// use llmops_drift::{WindowPlan, WindowSpan};
    ///
    /// // Wednesday 2026-12-02 12:00 UTC; the last whole week began Monday 2026-11-23.
    /// let now = 1_796_212_800_000;
    /// let week = WindowPlan::Calendar { days: 7 }.last_complete(now).unwrap();
    /// assert_eq!(week, WindowSpan { start_ms: 1_795_392_000_000, end_ms: 1_795_996_800_000 });
    /// ```
    pub fn last_complete(&self, now_ms: i64) -> Result<WindowSpan> {
        match *self {
            Self::Rolling { length_ms } if length_ms > 0 => Ok(WindowSpan {
                start_ms: now_ms - length_ms,
                end_ms: now_ms,
            }),
            Self::Calendar { days } if days > 0 => {
                let length = days * DAY_MS;
                let offset = if days == 7 { MONDAY_OFFSET_MS } else { 0 };
                let end = (now_ms - offset).div_euclid(length) * length + offset;
                Ok(WindowSpan {
                    start_ms: end - length,
                    end_ms: end,
                })
            }
            _ => Err(DriftError::InvalidParameter {
                name: "window",
                value: format!("{self:?}"),
                reason: "use a positive length",
            }),
        }
    }

    /// Returns the window just before `span`, of the same length.
    pub fn previous(&self, span: WindowSpan) -> WindowSpan {
        let length = span.end_ms - span.start_ms;
        WindowSpan {
            start_ms: span.start_ms - length,
            end_ms: span.start_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{InputRecord, WindowPlan, input_text, records_to_window};
    use crate::store::WindowSpan;
    use std::collections::BTreeMap;

    #[test]
    fn input_text_reads_strings_and_objects() {
        assert_eq!(input_text("\"hello\""), "hello");
        assert_eq!(
            input_text(r#"{"a": "one", "b": 2, "c": "three"}"#),
            "one\nthree"
        );
        assert_eq!(input_text("not json"), "not json");
    }

    #[test]
    fn daily_window_is_aligned_to_midnight() {
        let now = 1_796_212_800_000; // 2026-12-02 12:00 UTC
        let day = WindowPlan::Calendar { days: 1 }.last_complete(now).unwrap();
        assert_eq!(day.end_ms % 86_400_000, 0);
        assert_eq!(day.end_ms - day.start_ms, 86_400_000);
        assert!(day.end_ms <= now && now - day.end_ms < 86_400_000);
    }

    #[test]
    fn rolling_window_ends_now() {
        let span = WindowPlan::Rolling { length_ms: 1000 }
            .last_complete(5000)
            .unwrap();
        assert_eq!(
            span,
            WindowSpan {
                start_ms: 4000,
                end_ms: 5000
            }
        );
        let previous = WindowPlan::Rolling { length_ms: 1000 }.previous(span);
        assert_eq!(
            previous,
            WindowSpan {
                start_ms: 3000,
                end_ms: 4000
            }
        );
    }

    #[test]
    fn zero_length_window_is_rejected() {
        assert!(WindowPlan::Calendar { days: 0 }.last_complete(0).is_err());
        assert!(
            WindowPlan::Rolling { length_ms: -5 }
                .last_complete(0)
                .is_err()
        );
    }

    #[test]
    fn records_become_window_signals() {
        let record = |text: &str, latency: f64| InputRecord {
            at_ms: 0,
            text: text.to_string(),
            features: BTreeMap::from([("latency_ms".to_string(), latency)]),
        };
        let window = records_to_window(vec![record("a", 10.0), record("b", 20.0)]);
        assert_eq!(window.texts, ["a", "b"]);
        assert_eq!(window.features["latency_ms"], [10.0, 20.0]);
    }
}
