//! Measurements of one engine run, passed from the child process to the
//! driver as one JSON line on stdout.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Measurements from one engine run in a child process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EngineReport {
    /// Engine name: `llama.cpp` or `llmops-local`.
    pub(crate) engine: String,
    /// Threads the engine was configured to use.
    pub(crate) threads: usize,
    /// Time to load the model and build the inference context, in milliseconds.
    pub(crate) load_ms: f64,
    /// Tokens in the chat-formatted prompt.
    pub(crate) prompt_tokens: usize,
    /// Time from submitting the prompt to the first generated token, in
    /// milliseconds.
    pub(crate) ttft_ms: f64,
    /// Tokens generated, the first one included.
    pub(crate) generated_tokens: usize,
    /// Time from the first to the last generated token, in milliseconds.
    pub(crate) generation_ms: f64,
    /// Peak resident set size of the process (`VmHWM`), in KiB.
    pub(crate) peak_rss_kib: u64,
    /// The first 80 characters of the generated text, for checking that
    /// both engines generate the same way.
    pub(crate) text_head: String,
}

impl EngineReport {
    /// Prompt tokens per second, taking the time to first token as the
    /// prompt-processing time (it also includes one sampling step).
    pub(crate) fn prompt_tokens_per_s(&self) -> f64 {
        self.prompt_tokens as f64 / (self.ttft_ms / 1000.0)
    }

    /// Generated tokens per second after the first token.
    pub(crate) fn generation_tokens_per_s(&self) -> f64 {
        let steps = self.generated_tokens.saturating_sub(1) as f64;
        steps / (self.generation_ms / 1000.0)
    }
}

/// Converts a duration to fractional milliseconds.
pub(crate) fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Reads the peak resident set size (`VmHWM`) of this process from
/// `/proc/self/status`, in KiB.
pub(crate) fn peak_rss_kib() -> anyhow::Result<u64> {
    parse_vm_hwm(&std::fs::read_to_string("/proc/self/status")?)
}

/// Extracts the `VmHWM` value, in KiB, from the text of a
/// `/proc/<pid>/status` file.
fn parse_vm_hwm(status: &str) -> anyhow::Result<u64> {
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .ok_or_else(|| anyhow::anyhow!("VmHWM is missing from /proc/self/status"))?;
    let kib = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib)
}

/// Keeps the first `max_chars` characters of `text`.
pub(crate) fn head(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(
        prompt_tokens: usize,
        ttft_ms: f64,
        generated_tokens: usize,
        generation_ms: f64,
    ) -> EngineReport {
        EngineReport {
            engine: "test".into(),
            threads: 2,
            load_ms: 0.0,
            prompt_tokens,
            ttft_ms,
            generated_tokens,
            generation_ms,
            peak_rss_kib: 0,
            text_head: String::new(),
        }
    }

    #[test]
    fn vm_hwm_parsed_in_kib() {
        let status = "Name:\tbench\nVmPeak:\t  900 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(parse_vm_hwm(status).unwrap(), 123_456);
    }

    #[test]
    fn vm_hwm_missing_is_error() {
        assert!(parse_vm_hwm("Name:\tbench\nVmRSS:\t 1 kB\n").is_err());
    }

    #[test]
    fn own_peak_rss_is_positive() {
        assert!(peak_rss_kib().unwrap() > 0);
    }

    #[test]
    fn rates_count_tokens_after_first() {
        let report = report(300, 500.0, 129, 1000.0);
        assert_eq!(report.prompt_tokens_per_s(), 600.0);
        assert_eq!(report.generation_tokens_per_s(), 128.0);
    }

    #[test]
    fn head_counts_characters_not_bytes() {
        assert_eq!(head("안녕하세요", 2), "안녕");
        assert_eq!(head("", 3), "");
    }
}
