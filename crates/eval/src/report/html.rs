//! HTML rendering of a [`Report`], with an inline SVG bar chart.

use std::fmt::Write as _;

use super::Report;
use super::markdown::short_hash;

const BAR_WIDTH: f64 = 360.0;
const ROW_HEIGHT: f64 = 28.0;
const LABEL_WIDTH: f64 = 160.0;

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
            other => out.push(other),
        }
    }
    out
}

pub(super) fn render(report: &Report) -> String {
    let info = &report.info;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Evaluation {}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child{{text-align:left}}</style>\
         </head><body>\n",
        escape(&info.run_id)
    );
    let _ = writeln!(
        out,
        "<h1>Evaluation {}</h1>\n<p>Dataset {} (version {}), model {}, prompt version {}; {} cases, {} failed.</p>",
        escape(&info.run_id),
        escape(&info.dataset),
        escape(short_hash(&info.dataset_version)),
        escape(&info.model),
        escape(info.prompt_version.as_deref().unwrap_or("not recorded")),
        report.cases,
        report.failed_cases
    );
    out.push_str(&chart(report));
    out.push_str("<table><tr><th>metric</th><th>mean</th><th>low</th><th>high</th><th>scored</th><th>undetermined</th></tr>\n");
    for summary in &report.metrics {
        let cells = match &summary.mean {
            Some(ci) => format!(
                "<td>{:.4}</td><td>{:.4}</td><td>{:.4}</td>",
                ci.estimate, ci.low, ci.high
            ),
            None => "<td>n/a</td><td>n/a</td><td>n/a</td>".to_owned(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td>{cells}<td>{}</td><td>{}</td></tr>",
            escape(&summary.metric),
            summary.determined,
            summary.undetermined
        );
    }
    out.push_str("</table>\n");
    out.push_str(&agreement_tables(report));
    out.push_str("</body></html>\n");
    out
}

/// One table per judge metric with sample agreement: the mean, then the
/// cases with the lowest agreement.
fn agreement_tables(report: &Report) -> String {
    let mut out = String::new();
    for summary in &report.metrics {
        let Some(agreement) = &summary.agreement else {
            continue;
        };
        let _ = writeln!(
            out,
            "<h2>{}: judge agreement</h2>\n<p>Mean agreement {:.4} over {} cases.</p>\n<table><tr><th>lowest cases</th><th>agreement</th><th>samples</th></tr>",
            escape(&summary.metric),
            agreement.mean,
            agreement.cases
        );
        for case in &agreement.lowest {
            let samples = case.samples.map_or("n/a".to_owned(), |s| s.to_string());
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{:.4}</td><td>{samples}</td></tr>",
                escape(&case.case_id),
                case.agreement
            );
        }
        out.push_str("</table>\n");
    }
    out
}

/// Draws one bar per metric: the mean as a share of the metric's range,
/// with the interval as a line.
fn chart(report: &Report) -> String {
    let height = ROW_HEIGHT * report.metrics.len() as f64 + 10.0;
    let width = LABEL_WIDTH + BAR_WIDTH + 80.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"metric means\">\n"
    );
    for (row, summary) in report.metrics.iter().enumerate() {
        let y = row as f64 * ROW_HEIGHT + 5.0;
        let _ = writeln!(
            svg,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"13\">{}</text>",
            y + 16.0,
            escape(&summary.metric)
        );
        let Some(ci) = &summary.mean else {
            continue;
        };
        let span = summary.range.max - summary.range.min;
        let scale = |value: f64| {
            if span > 0.0 {
                ((value - summary.range.min) / span).clamp(0.0, 1.0) * BAR_WIDTH
            } else {
                0.0
            }
        };
        let _ = writeln!(
            svg,
            "<rect x=\"{LABEL_WIDTH}\" y=\"{:.1}\" width=\"{:.1}\" height=\"18\" fill=\"#4a7fb5\"/>",
            y + 2.0,
            scale(ci.estimate)
        );
        let _ = writeln!(
            svg,
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#222\" stroke-width=\"2\"/>",
            LABEL_WIDTH + scale(ci.low),
            LABEL_WIDTH + scale(ci.high),
            y + 11.0,
            y + 11.0
        );
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{:.3}</text>",
            LABEL_WIDTH + BAR_WIDTH + 8.0,
            y + 16.0,
            ci.estimate
        );
    }
    svg.push_str("</svg>\n");
    svg
}
