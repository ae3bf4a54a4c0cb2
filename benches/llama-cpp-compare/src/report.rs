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
    /// CPU time of all threads of the process during generation (first to
    /// last generated token), in milliseconds, with 10 ms resolution.
    pub(crate) generation_cpu_ms: f64,
    /// Peak resident set size of the process (`VmHWM`), in KiB.
    pub(crate) peak_rss_kib: u64,
    /// Resident set size after generation (`VmRSS`), in KiB.
    pub(crate) final_rss_kib: u64,
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

    /// CPU milliseconds per generated token after the first. Unlike the
    /// rates, this barely grows when other processes compete for the cores.
    pub(crate) fn generation_cpu_ms_per_token(&self) -> f64 {
        self.generation_cpu_ms / self.generated_tokens.saturating_sub(1) as f64
    }
}

/// Converts a duration to fractional milliseconds.
pub(crate) fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Reads the peak resident set size (`VmHWM`) of this process from
/// `/proc/self/status`, in KiB.
pub(crate) fn peak_rss_kib() -> anyhow::Result<u64> {
    parse_status_kib(&std::fs::read_to_string("/proc/self/status")?, "VmHWM")
}

/// Reads the current resident set size (`VmRSS`) of this process, in KiB.
pub(crate) fn current_rss_kib() -> anyhow::Result<u64> {
    parse_status_kib(&std::fs::read_to_string("/proc/self/status")?, "VmRSS")
}

/// Reads the user plus system CPU time of all threads of this process from
/// `/proc/self/stat`, in milliseconds.
pub(crate) fn process_cpu_ms() -> anyhow::Result<f64> {
    parse_stat_cpu_ms(&std::fs::read_to_string("/proc/self/stat")?)
}

/// Extracts `utime + stime` from the text of a `/proc/<pid>/stat` file.
/// The command name in brackets may contain spaces, so fields are counted
/// after its closing bracket: `utime` and `stime` are fields 14 and 15, in
/// clock ticks of 10 ms (`USER_HZ` is 100 on Linux).
fn parse_stat_cpu_ms(stat: &str) -> anyhow::Result<f64> {
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("invalid /proc/self/stat: no command name"))?;
    // Field 3 (state) is the first after the name, so field N is at N - 3.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |field: usize| -> anyhow::Result<u64> {
        let value = fields
            .get(field - 3)
            .ok_or_else(|| anyhow::anyhow!("invalid /proc/self/stat: field {field} is missing"))?;
        Ok(value.parse()?)
    };
    Ok((ticks(14)? + ticks(15)?) as f64 * 10.0)
}

/// Extracts the value of `key`, in KiB, from the text of a
/// `/proc/<pid>/status` file.
fn parse_status_kib(status: &str, key: &str) -> anyhow::Result<u64> {
    let prefix = format!("{key}:");
    let line = status
        .lines()
        .find(|line| line.starts_with(&prefix))
        .ok_or_else(|| anyhow::anyhow!("{key} is missing from /proc/self/status"))?;
    let kib = line
        .trim_start_matches(&prefix)
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
            generation_cpu_ms: 2560.0,
            peak_rss_kib: 0,
            final_rss_kib: 0,
            text_head: String::new(),
        }
    }

    #[test]
    fn vm_hwm_parsed_in_kib() {
        let status = "Name:\tbench\nVmPeak:\t  900 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM").unwrap(), 123_456);
        assert_eq!(parse_status_kib(status, "VmRSS").unwrap(), 1);
    }

    #[test]
    fn vm_hwm_missing_is_error() {
        assert!(parse_status_kib("Name:\tbench\nVmRSS:\t 1 kB\n", "VmHWM").is_err());
    }

    #[test]
    fn stat_cpu_sums_utime_stime() {
        // The command name contains a space and a bracket.
        let stat = "4242 (a b) c) S 1 2 3 4 5 6 7 8 9 10 250 30 0 0 20 0";
        assert_eq!(parse_stat_cpu_ms(stat).unwrap(), 2800.0);
    }

    #[test]
    fn stat_cpu_truncated_is_error() {
        assert!(parse_stat_cpu_ms("4242 (bench) S 1 2").is_err());
        assert!(parse_stat_cpu_ms("no name").is_err());
    }

    #[test]
    fn own_cpu_time_readable() {
        assert!(process_cpu_ms().unwrap() >= 0.0);
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
        assert_eq!(report.generation_cpu_ms_per_token(), 20.0);
    }

    #[test]
    fn head_counts_characters_not_bytes() {
        assert_eq!(head("안녕하세요", 2), "안녕");
        assert_eq!(head("", 3), "");
    }
}
