//! Markdown rendering of a [`Report`].

use std::fmt::Write as _;

use super::Report;

pub(super) fn render(report: &Report) -> String {
    let mut out = String::new();
    let info = &report.info;
    let _ = writeln!(out, "# Evaluation `{}`\n", info.run_id);
    let _ = writeln!(
        out,
        "Dataset `{}` (version `{}`), model `{}`, prompt version {}; {} cases, {} failed.\n",
        info.dataset,
        short_hash(&info.dataset_version),
        info.model,
        info.prompt_version
            .as_deref()
            .map_or("not recorded".to_owned(), |v| format!("`{v}`")),
        report.cases,
        report.failed_cases
    );

    let _ = writeln!(out, "| metric | mean | interval | scored | undetermined |");
    let _ = writeln!(out, "| --- | ---: | --- | ---: | ---: |");
    for summary in &report.metrics {
        let (mean, interval) = match &summary.mean {
            Some(ci) => (
                format!("{:.4}", ci.estimate),
                format!("{:.4} to {:.4} ({:.0}%)", ci.low, ci.high, ci.level * 100.0),
            ),
            None => ("n/a".to_owned(), "n/a".to_owned()),
        };
        let _ = writeln!(
            out,
            "| {} | {mean} | {interval} | {} | {} |",
            summary.metric, summary.determined, summary.undetermined
        );
    }

    for summary in &report.metrics {
        if !summary.per_tag.is_empty() {
            let _ = writeln!(out, "\n## {} by tag\n", summary.metric);
            let _ = writeln!(out, "| tag | mean | cases |");
            let _ = writeln!(out, "| --- | ---: | ---: |");
            for (tag, tag_summary) in &summary.per_tag {
                let _ = writeln!(
                    out,
                    "| {tag} | {:.4} | {} |",
                    tag_summary.mean, tag_summary.cases
                );
            }
        }
        if !summary.worst.is_empty() {
            let _ = writeln!(out, "\n## {}: worst cases\n", summary.metric);
            for worst in &summary.worst {
                let _ = writeln!(out, "- `{}`: {:.4}", worst.case_id, worst.value);
            }
        }
        if let Some(agreement) = &summary.agreement {
            let _ = writeln!(out, "\n## {}: judge agreement\n", summary.metric);
            let _ = writeln!(
                out,
                "Mean agreement {:.4} over {} cases. Lowest:\n",
                agreement.mean, agreement.cases
            );
            for case in &agreement.lowest {
                let _ = writeln!(
                    out,
                    "- `{}`: {:.4}{}",
                    case.case_id,
                    case.agreement,
                    samples_note(case.samples)
                );
            }
        }
    }
    out
}

pub(super) fn samples_note(samples: Option<u32>) -> String {
    samples.map_or_else(String::new, |samples| format!(" ({samples} samples)"))
}

pub(super) fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
