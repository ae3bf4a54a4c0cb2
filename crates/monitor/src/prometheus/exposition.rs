//! Writing families and samples in the text exposition format 0.0.4.

use std::fmt::Write as _;

use crate::totals::Histogram;

/// Builds the exposition text.
pub(super) struct Exposition {
    pub(super) out: String,
}

impl Exposition {
    pub(super) fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    pub(super) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (index, (label, label_value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.out.push(',');
                }
                self.out.push_str(label);
                self.out.push_str("=\"");
                escape_into(&mut self.out, label_value);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        push_value(&mut self.out, value);
        self.out.push('\n');
    }

    pub(super) fn histogram(&mut self, name: &str, labels: &[(&str, &str)], histogram: &Histogram) {
        let bucket_name = format!("{name}_bucket");
        let bounds: Vec<String> = histogram.bounds.iter().map(f64::to_string).collect();
        let mut cumulative = 0;
        for (bound, count) in bounds.iter().zip(&histogram.counts) {
            cumulative += count;
            let mut with_le: Vec<(&str, &str)> = labels.to_vec();
            with_le.push(("le", bound));
            self.sample(&bucket_name, &with_le, cumulative as f64);
        }
        let mut with_le: Vec<(&str, &str)> = labels.to_vec();
        with_le.push(("le", "+Inf"));
        self.sample(&bucket_name, &with_le, histogram.count as f64);
        self.sample(&format!("{name}_sum"), labels, histogram.sum);
        self.sample(&format!("{name}_count"), labels, histogram.count as f64);
    }
}

/// Escapes a label value as the text format requires: backslash, double
/// quote and line feed. Other characters, non-ASCII included, pass as
/// UTF-8.
pub(crate) fn escape_into(out: &mut String, value: &str) {
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
}

fn push_value(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value == f64::INFINITY {
        out.push_str("+Inf");
    } else if value == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_handles_specials_and_unicode() {
        let mut out = String::new();
        escape_into(&mut out, "a\"b\\c\nd é 模型");
        assert_eq!(out, "a\\\"b\\\\c\\nd é 模型");
    }

    #[test]
    fn values_print_special_floats() {
        for (value, text) in [
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (2.5, "2.5"),
            (3.0, "3"),
        ] {
            let mut out = String::new();
            push_value(&mut out, value);
            assert_eq!(out, text);
        }
    }
}
