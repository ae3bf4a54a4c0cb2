//! Markdown and HTML renderings of a drift report, with a topic-share chart.

use std::fmt::Write as _;

use crate::null_quantile::ThresholdBasis;
use crate::report::{DriftReport, MeasureResult};
use crate::stats::Measurement;

/// Renders the report as Markdown: verdict, measures, topic shares, and new
/// and vanished topics with examples.
pub fn render_markdown(report: &DriftReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Drift report\n");
    let _ = writeln!(
        out,
        "Severity: **{}**. {} current inputs against {} reference inputs, embedded with `{}`.\n",
        report.severity.as_str(),
        report.current_inputs,
        report.reference_inputs,
        report.embedding_model
    );

    let _ = writeln!(
        out,
        "## Measures\n\n| Measure | Value | p-value | Severity |\n|---|---|---|---|"
    );
    for result in &report.measures {
        let (value, p_value) = cells(result);
        let _ = writeln!(
            out,
            "| {} | {value} | {p_value} | {} |",
            markdown_cell(&result.measure.name()),
            result.severity.as_str()
        );
    }
    let raised = raised_thresholds(report);
    if !raised.is_empty() {
        let _ = writeln!(out, "\nThresholds raised for these window sizes:\n");
        for line in raised {
            let _ = writeln!(out, "- {}", markdown_cell(&line));
        }
    }

    let _ = writeln!(
        out,
        "\n## Topic shares\n\n| Topic | Reference | Current |\n|---|---|---|"
    );
    for share in &report.topic_shares {
        let _ = writeln!(
            out,
            "| {} | {:.1}% | {:.1}% |",
            markdown_cell(&share.label),
            share.reference_share * 100.0,
            share.current_share * 100.0
        );
    }

    if !report.new_topics.is_empty() {
        let _ = writeln!(out, "\n## New topics\n");
        for topic in &report.new_topics {
            let terms: Vec<&str> = topic
                .terms
                .iter()
                .take(6)
                .map(|t| t.term.as_str())
                .collect();
            let _ = writeln!(
                out,
                "- {} inputs: {}",
                topic.size,
                markdown_cell(&terms.join(", "))
            );
            for example in &topic.examples {
                let _ = writeln!(out, "  - \"{}\"", markdown_cell(example));
            }
        }
    }
    if !report.vanished_topics.is_empty() {
        let _ = writeln!(out, "\n## Vanished topics\n");
        for topic in &report.vanished_topics {
            let _ = writeln!(
                out,
                "- {} ({:.1}% of the reference)",
                markdown_cell(&topic.label),
                topic.reference_share * 100.0
            );
        }
    }
    out
}

/// Renders the report as a standalone HTML page with an inline SVG chart of
/// reference and current topic shares. Every report text is escaped.
pub fn render_html(report: &DriftReport) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Drift report</title>");
    out.push_str("<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem}.alert{color:#b00020}.warning{color:#a15c00}</style></head><body>\n");
    let _ = writeln!(
        out,
        "<h1>Drift report</h1><p>Severity: <strong class=\"{0}\">{0}</strong>. {1} current inputs against {2} reference inputs, embedded with <code>{3}</code>.</p>",
        report.severity.as_str(),
        report.current_inputs,
        report.reference_inputs,
        escape(&report.embedding_model)
    );

    out.push_str("<h2>Topic shares</h2>\n");
    out.push_str(&topic_share_svg(report));

    out.push_str("<h2>Measures</h2><table><tr><th>Measure</th><th>Value</th><th>p-value</th><th>Severity</th></tr>\n");
    for result in &report.measures {
        let (value, p_value) = cells(result);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{value}</td><td>{p_value}</td><td class=\"{1}\">{1}</td></tr>",
            escape(&result.measure.name()),
            result.severity.as_str()
        );
    }
    out.push_str("</table>\n");
    let raised = raised_thresholds(report);
    if !raised.is_empty() {
        out.push_str("<p>Thresholds raised for these window sizes:</p><ul>\n");
        for line in raised {
            let _ = writeln!(out, "<li>{}</li>", escape(&line));
        }
        out.push_str("</ul>\n");
    }

    if !report.new_topics.is_empty() {
        out.push_str("<h2>New topics</h2><ul>\n");
        for topic in &report.new_topics {
            let terms: Vec<&str> = topic
                .terms
                .iter()
                .take(6)
                .map(|t| t.term.as_str())
                .collect();
            let _ = write!(
                out,
                "<li>{} inputs: {}<ul>",
                topic.size,
                escape(&terms.join(", "))
            );
            for example in &topic.examples {
                let _ = write!(out, "<li>{}</li>", escape(example));
            }
            out.push_str("</ul></li>\n");
        }
        out.push_str("</ul>\n");
    }
    if !report.vanished_topics.is_empty() {
        out.push_str("<h2>Vanished topics</h2><ul>\n");
        for topic in &report.vanished_topics {
            let _ = writeln!(
                out,
                "<li>{} ({:.1}% of the reference)</li>",
                escape(&topic.label),
                topic.reference_share * 100.0
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// A horizontal bar chart: per topic, a grey reference bar above a blue
/// current bar, both scaled to the largest share.
pub fn topic_share_svg(report: &DriftReport) -> String {
    const LABEL_WIDTH: f64 = 260.0;
    const BAR_WIDTH: f64 = 360.0;
    const ROW_HEIGHT: f64 = 30.0;
    let shares = &report.topic_shares;
    let largest = shares
        .iter()
        .flat_map(|s| [s.reference_share, s.current_share])
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let height = ROW_HEIGHT * shares.len() as f64 + 30.0;
    let width = LABEL_WIDTH + BAR_WIDTH + 70.0;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"Topic shares, reference and current\">"
    );
    let _ = writeln!(
        svg,
        "<rect x=\"{LABEL_WIDTH}\" y=\"2\" width=\"10\" height=\"10\" fill=\"#9e9e9e\"/><text x=\"{}\" y=\"11\">reference</text><rect x=\"{}\" y=\"2\" width=\"10\" height=\"10\" fill=\"#1565c0\"/><text x=\"{}\" y=\"11\">current</text>",
        LABEL_WIDTH + 14.0,
        LABEL_WIDTH + 90.0,
        LABEL_WIDTH + 104.0
    );
    for (row, share) in shares.iter().enumerate() {
        let y = 20.0 + row as f64 * ROW_HEIGHT;
        let reference = share.reference_share / largest * BAR_WIDTH;
        let current = share.current_share / largest * BAR_WIDTH;
        let label: String = share.label.chars().take(40).collect();
        let _ = writeln!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LABEL_WIDTH - 6.0,
            y + 17.0,
            escape(&label)
        );
        let _ = writeln!(
            svg,
            "<rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{reference:.1}\" height=\"11\" fill=\"#9e9e9e\"/><rect x=\"{LABEL_WIDTH}\" y=\"{:.1}\" width=\"{current:.1}\" height=\"11\" fill=\"#1565c0\"/><text x=\"{:.1}\" y=\"{:.1}\">{:.1}% → {:.1}%</text>",
            y + 12.0,
            LABEL_WIDTH + reference.max(current) + 4.0,
            y + 17.0,
            share.reference_share * 100.0,
            share.current_share * 100.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn cells(result: &MeasureResult) -> (String, String) {
    match result.measurement {
        Measurement::Value { statistic, p_value } => (
            format!("{statistic:.4}"),
            p_value.map_or_else(|| "–".to_string(), |p| format!("{p:.4}")),
        ),
        Measurement::InsufficientData {
            required,
            reference,
            current,
        } => (
            format!("insufficient data ({reference} and {current}, need {required})"),
            "–".to_string(),
        ),
    }
}

/// Describes, one line per measure, each threshold raised to a no-drift
/// quantile above the fixed one, naming both.
fn raised_thresholds(report: &DriftReport) -> Vec<String> {
    let describe = |applied: f64, basis: ThresholdBasis, quantile: f64, fixed: f64| match basis {
        ThresholdBasis::NullQuantile => {
            format!("{applied:.4} (the {quantile} quantile under no drift; fixed {fixed})")
        }
        _ => format!("{applied:.4} (fixed)"),
    };
    report
        .measures
        .iter()
        .filter_map(|result| {
            let t = result.thresholds?;
            let raised = t.warning_basis == ThresholdBasis::NullQuantile
                || t.alert_basis == ThresholdBasis::NullQuantile;
            raised.then(|| {
                format!(
                    "{}: warning at {}, alert at {}",
                    result.measure.name(),
                    describe(
                        t.warning,
                        t.warning_basis,
                        t.warning_quantile,
                        t.fixed_warning
                    ),
                    describe(t.alert, t.alert_basis, t.alert_quantile, t.fixed_alert),
                )
            })
        })
        .collect()
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Keeps a value on one Markdown table row: pipes escaped, newlines as
/// spaces.
fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::{escape, markdown_cell, render_html, render_markdown};
    use crate::null_quantile::{AppliedThresholds, ThresholdBasis};
    use crate::policy::Severity;
    use crate::report::{DriftReport, Measure, MeasureResult, TopicShare};
    use crate::stats::Measurement;

    fn report() -> DriftReport {
        DriftReport {
            embedding_model: "m".into(),
            reference_inputs: 10,
            current_inputs: 10,
            severity: Severity::Warning,
            measures: Vec::new(),
            topic_shares: vec![TopicShare {
                topic: Some(0),
                label: "<script>alert(1)</script> | x".into(),
                reference_count: 5.0,
                current_count: 10.0,
                reference_share: 0.5,
                current_share: 1.0,
            }],
            new_topics: Vec::new(),
            vanished_topics: Vec::new(),
        }
    }

    #[test]
    fn html_escapes_labels() {
        let html = render_html(&report());
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<svg"));
        assert!(html.contains("50.0% → 100.0%"));
    }

    #[test]
    fn markdown_keeps_table_rows_whole() {
        let markdown = render_markdown(&report());
        assert!(markdown.contains("\\| x | 50.0% | 100.0% |"), "{markdown}");
        assert_eq!(markdown_cell("a\nb|c"), "a b\\|c");
    }

    #[test]
    fn raised_thresholds_are_listed() {
        let applied = AppliedThresholds {
            warning: 0.19,
            alert: 0.24,
            warning_basis: ThresholdBasis::NullQuantile,
            alert_basis: ThresholdBasis::Fixed,
            fixed_warning: 0.12,
            fixed_alert: 0.24,
            null_warning: 0.19,
            null_alert: 0.22,
            warning_quantile: 0.99,
            alert_quantile: 0.999,
            resamples: 2_000,
        };
        let result = |thresholds| MeasureResult {
            measure: Measure::TopicJensenShannon,
            measurement: Measurement::Value {
                statistic: 0.15,
                p_value: None,
            },
            severity: Severity::None,
            thresholds,
        };
        let mut raised = report();
        raised.measures = vec![result(Some(applied))];
        let markdown = render_markdown(&raised);
        assert!(
            markdown.contains(
                "- topic shares: Jensen-Shannon: warning at 0.1900 (the 0.99 quantile under no drift; fixed 0.12), alert at 0.2400 (fixed)"
            ),
            "{markdown}"
        );
        assert!(
            render_html(&raised).contains("<li>topic shares: Jensen-Shannon: warning at 0.1900")
        );

        let fixed = AppliedThresholds {
            warning: 0.12,
            warning_basis: ThresholdBasis::Fixed,
            ..applied
        };
        for thresholds in [None, Some(fixed)] {
            let mut plain = report();
            plain.measures = vec![result(thresholds)];
            assert!(!render_markdown(&plain).contains("Thresholds raised"));
            assert!(!render_html(&plain).contains("Thresholds raised"));
        }
    }

    #[test]
    fn escape_covers_quotes() {
        assert_eq!(escape("\"'&"), "&quot;&#39;&amp;");
    }
}
