//! The gateway's event counters in the Prometheus text format, under
//! `llmops_gateway_` names.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::counters::GatewayCounters;
use crate::limits::ScopeKind;

/// Every scope kind, so each rejection and alert series exists from the
/// start at 0.
const SCOPE_KINDS: [ScopeKind; 4] = [
    ScopeKind::Key,
    ScopeKind::User,
    ScopeKind::Team,
    ScopeKind::Model,
];

/// Appends every gateway counter to `out`.
pub(crate) fn render(out: &mut String, counts: &GatewayCounters) {
    header(
        out,
        "llmops_gateway_cache_lookups_total",
        "counter",
        "Response-cache lookups, by result.",
    );
    for (result, count) in [("hit", counts.cache_hits), ("miss", counts.cache_misses)] {
        let _ = writeln!(
            out,
            "llmops_gateway_cache_lookups_total{{result=\"{result}\"}} {count}"
        );
    }
    if let Some(ratio) = counts.cache_hit_ratio() {
        header(
            out,
            "llmops_gateway_cache_hit_ratio",
            "gauge",
            "Response-cache hits divided by lookups since the gateway started.",
        );
        let _ = writeln!(out, "llmops_gateway_cache_hit_ratio {ratio}");
    }
    header(
        out,
        "llmops_gateway_semantic_cache_lookups_total",
        "counter",
        "Semantic-cache lookups, by result.",
    );
    let semantic = [
        ("hit", counts.semantic_cache_hits),
        ("miss", counts.semantic_cache_misses),
    ];
    for (result, count) in semantic {
        let _ = writeln!(
            out,
            "llmops_gateway_semantic_cache_lookups_total{{result=\"{result}\"}} {count}"
        );
    }

    by_scope(
        out,
        "llmops_gateway_rate_limit_rejections_total",
        "Admissions rejected by a rate limit, by the kind of scope whose limit rejected them; a model scope counts each request that passed the model over for its fallbacks.",
        &counts.rate_limit_rejections,
    );
    by_scope(
        out,
        "llmops_gateway_budget_rejections_total",
        "Admissions rejected because a scope's spend reached its budget (hard stop), by scope kind.",
        &counts.budget_rejections,
    );
    by_scope(
        out,
        "llmops_gateway_budget_alerts_total",
        "Budget alert shares crossed by spend (soft alerts).",
        &counts.budget_alerts,
    );

    by_label(
        out,
        "llmops_gateway_fallbacks_total",
        "Requests that moved on to a fallback model, by that model.",
        "model",
        &counts.fallbacks,
    );
    by_label(
        out,
        "llmops_gateway_ejections_total",
        "Deployments ejected by their circuit breaker.",
        "deployment",
        &counts.ejections,
    );

    header(
        out,
        "llmops_gateway_health_checks_total",
        "counter",
        "Active health checks, by deployment and result.",
    );
    for (result, map) in [
        ("passed", &counts.health_checks_passed),
        ("failed", &counts.health_checks_failed),
    ] {
        for (deployment, count) in map {
            let _ = writeln!(
                out,
                "llmops_gateway_health_checks_total{{deployment=\"{}\",result=\"{result}\"}} {count}",
                super::metrics::escape(deployment)
            );
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn by_scope(out: &mut String, name: &str, help: &str, counts: &BTreeMap<ScopeKind, u64>) {
    header(out, name, "counter", help);
    for kind in SCOPE_KINDS {
        let count = counts.get(&kind).copied().unwrap_or(0);
        let _ = writeln!(out, "{name}{{scope=\"{}\"}} {count}", kind.as_str());
    }
}

fn by_label(out: &mut String, name: &str, help: &str, label: &str, counts: &BTreeMap<String, u64>) {
    header(out, name, "counter", help);
    for (value, count) in counts {
        let _ = writeln!(
            out,
            "{name}{{{label}=\"{}\"}} {count}",
            super::metrics::escape(value)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_kind_has_a_series() {
        let mut counts = GatewayCounters::default();
        counts.budget_rejections.insert(ScopeKind::Team, 3);
        counts.ejections.insert("eu\"west".to_owned(), 2);
        counts.semantic_cache_hits = 4;
        let mut out = String::new();
        render(&mut out, &counts);
        assert!(
            out.contains("llmops_gateway_budget_rejections_total{scope=\"team\"} 3\n"),
            "{out}"
        );
        assert!(
            out.contains("llmops_gateway_budget_rejections_total{scope=\"key\"} 0\n"),
            "{out}"
        );
        assert!(
            out.contains("llmops_gateway_ejections_total{deployment=\"eu\\\"west\"} 2\n"),
            "{out}"
        );
        assert!(!out.contains("cache_hit_ratio"), "no lookups, no ratio");
        assert!(
            out.contains("llmops_gateway_semantic_cache_lookups_total{result=\"hit\"} 4\n"),
            "{out}"
        );
        assert!(
            out.contains("llmops_gateway_semantic_cache_lookups_total{result=\"miss\"} 0\n"),
            "{out}"
        );
    }
}
