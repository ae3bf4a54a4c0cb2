#!/usr/bin/env python3
"""Compute reference values for the experiment statistics with SciPy,
statsmodels and mpmath, and store them as JSON test vectors.

The Rust test `tests/experiment_stats.rs` checks llmops against them.
Regenerate with:

    python3 crates/registry/tests/data/stats_vectors.py > crates/registry/tests/data/stats_vectors.json

Log p-values come from mpmath at 50 digits, because SciPy returns -inf once
a tail drops below about 1e-308. The mSPRT and delta-method values follow
the formulas in their Rust doc comments, evaluated in NumPy.
"""

import json
import platform
import sys

import mpmath
import numpy as np
import scipy
import statsmodels
from scipy import integrate, stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

mpmath.mp.dps = 50


def ln_t_two_sided(t, df):
    x = mpmath.mpf(df) / (mpmath.mpf(df) + mpmath.mpf(t) ** 2)
    return float(mpmath.log(mpmath.betainc(mpmath.mpf(df) / 2, mpmath.mpf(1) / 2, 0, x, regularized=True)))


def ln_normal_two_sided(z):
    return float(mpmath.log(mpmath.erfc(abs(mpmath.mpf(z)) / mpmath.sqrt(2))))


def ln_chi_square_sf(x, k):
    return float(mpmath.log(mpmath.gammainc(mpmath.mpf(k) / 2, mpmath.mpf(x) / 2, mpmath.inf, regularized=True)))


def welch_cases(rng):
    datasets = [
        ("normal_unequal_variance", rng.normal(10, 2, 40), rng.normal(11, 5, 55)),
        ("small_samples", np.array([1.0, 2.0, 4.0]), np.array([2.0, 3.5, 5.0, 6.5])),
        ("no_difference", rng.normal(0, 1, 200), rng.normal(0, 1, 200)),
        ("negative_values", rng.normal(-3, 1, 30), rng.normal(-3.4, 0.5, 25)),
        ("tiny_p_value", rng.normal(0, 1, 400), rng.normal(5, 1, 400)),
        ("extreme_separation", np.array([0.0, 0.001, -0.001, 0.0005]), np.array([1000.0, 1000.001, 999.999, 1000.0005])),
        ("skewed_latency", rng.lognormal(0, 1, 150), rng.lognormal(0.2, 1, 120)),
    ]
    cases = []
    for name, control, treatment in datasets:
        result = stats.ttest_ind(treatment, control, equal_var=False)
        interval = result.confidence_interval(0.95)
        cases.append({
            "name": name,
            "control": control.tolist(),
            "treatment": treatment.tolist(),
            "statistic": float(result.statistic),
            "degrees_of_freedom": float(result.df),
            "p_value": float(result.pvalue),
            "ln_p_value": ln_t_two_sided(result.statistic, result.df),
            "ci_lower": float(interval.low),
            "ci_upper": float(interval.high),
        })
    return cases


def proportion_cases():
    counts = [
        ("typical", (400, 5000), (460, 5000)),
        ("unequal_sizes", (30, 200), (55, 310)),
        ("small", (1, 12), (4, 11)),
        ("zero_successes_one_arm", (0, 50), (6, 50)),
        ("tiny_p_value", (1000, 100000), (3000, 100000)),
        ("huge_effect", (10, 1000000), (900000, 1000000)),
    ]
    cases = []
    for name, (s1, n1), (s2, n2) in counts:
        z, p = proportions_ztest([s2, s1], [n2, n1])
        wilson_control = proportion_confint(s1, n1, alpha=0.05, method="wilson")
        wilson_treatment = proportion_confint(s2, n2, alpha=0.05, method="wilson")
        low, high = confint_proportions_2indep(s2, n2, s1, n1, method="newcomb", compare="diff", alpha=0.05)
        cases.append({
            "name": name,
            "control": [s1, n1],
            "treatment": [s2, n2],
            "statistic": float(z),
            "p_value": float(p),
            "ln_p_value": ln_normal_two_sided(z),
            "wilson_control": [float(v) for v in wilson_control],
            "wilson_treatment": [float(v) for v in wilson_treatment],
            "newcombe": [float(low), float(high)],
        })
    return cases


def delta_variance(x, y):
    n = len(x)
    ratio = x.mean() / y.mean()
    covariance = np.cov(x, y, ddof=1)
    return ratio, (covariance[0, 0] - 2 * ratio * covariance[0, 1] + ratio**2 * covariance[1, 1]) / (n * y.mean() ** 2)


def ratio_cases(rng):
    cases = []
    for name, shift in [("clicks_per_session", 0.0), ("with_lift", 0.15)]:
        sessions_c = rng.poisson(5, 300).astype(float) + 1
        sessions_t = rng.poisson(5, 280).astype(float) + 1
        clicks_c = rng.binomial(sessions_c.astype(int), 0.3).astype(float)
        clicks_t = rng.binomial(sessions_t.astype(int), 0.3 + shift).astype(float)
        r1, v1 = delta_variance(clicks_c, sessions_c)
        r2, v2 = delta_variance(clicks_t, sessions_t)
        se = np.sqrt(v1 + v2)
        z = (r2 - r1) / se
        cases.append({
            "name": name,
            "control_numerators": clicks_c.tolist(),
            "control_denominators": sessions_c.tolist(),
            "treatment_numerators": clicks_t.tolist(),
            "treatment_denominators": sessions_t.tolist(),
            "estimate": float(r2 - r1),
            "standard_error": float(se),
            "p_value": float(2 * stats.norm.sf(abs(z))),
            "ln_p_value": ln_normal_two_sided(z),
        })
    return cases


def srm_cases():
    cases = []
    for name, counts, weights in [
        ("balanced_ok", [5012, 4988], [1, 1]),
        ("broken_split", [5400, 4600], [1, 1]),
        ("three_arms_weighted", [2480, 2530, 4990], [1, 1, 2]),
        ("extreme_mismatch", [1000000, 10], [1, 1]),
    ]:
        total = sum(counts)
        expected = [total * w / sum(weights) for w in weights]
        statistic, p = stats.chisquare(counts, expected)
        cases.append({
            "name": name,
            "counts": counts,
            "weights": weights,
            "chi_square": float(statistic),
            "p_value": float(p),
            "ln_p_value": ln_chi_square_sf(statistic, len(counts) - 1),
        })
    return cases


def msprt_cases():
    cases = []
    for name, estimate, variance, n1, n2, scale, alpha in [
        ("null_like", 0.01, 0.0004, 1000, 1000, 0.1, 0.05),
        ("strong_effect", 0.5, 0.0004, 1000, 1000, 0.1, 0.05),
        ("wide_mixing", 0.05, 0.0001, 5000, 4000, 1.0, 0.01),
    ]:
        sigma_square = variance / (1 / n1 + 1 / n2)
        tau_square = (scale**2) * sigma_square
        total = variance + tau_square
        ln_lambda = 0.5 * np.log(variance / total) + tau_square * estimate**2 / (2 * variance * total)
        half_width = np.sqrt(variance * total / tau_square * (np.log(total / variance) - 2 * np.log(alpha)))
        cases.append({
            "name": name,
            "estimate": estimate,
            "variance": variance,
            "sizes": [n1, n2],
            "mixing_scale": scale,
            "alpha": alpha,
            "ln_likelihood_ratio": float(ln_lambda),
            "ln_p_value": float(min(0.0, -ln_lambda)),
            "cs_lower": float(estimate - half_width),
            "cs_upper": float(estimate + half_width),
        })
    return cases


def probability_best(pdfs, cdfs, lower, upper):
    results = []
    for i, pdf in enumerate(pdfs):
        def integrand(x, i=i, pdf=pdf):
            value = pdf(x)
            for j, cdf in enumerate(cdfs):
                if j != i:
                    value *= cdf(x)
            return value
        results.append(float(integrate.quad(integrand, lower, upper, limit=500, epsabs=1e-12)[0]))
    return results


def bayes_cases():
    cases = []
    for name, arms in [
        ("two_arms", [(40, 500), (55, 500)]),
        ("three_arms", [(120, 1000), (130, 1000), (110, 1000)]),
        ("identical", [(50, 400), (50, 400)]),
    ]:
        posteriors = [stats.beta(1 + s, 1 + n - s) for s, n in arms]
        cases.append({
            "name": name,
            "kind": "binary",
            "arms": arms,
            "probability_best": probability_best([p.pdf for p in posteriors], [p.cdf for p in posteriors], 0.0, 1.0),
        })
    for name, means, errors in [
        ("normal_two_arms", [1.0, 1.1], [0.05, 0.06]),
        ("normal_three_arms", [0.0, 0.02, -0.01], [0.01, 0.015, 0.01]),
    ]:
        posteriors = [stats.norm(m, e) for m, e in zip(means, errors)]
        low = min(means) - 12 * max(errors)
        high = max(means) + 12 * max(errors)
        cases.append({
            "name": name,
            "kind": "normal",
            "means": means,
            "standard_errors": errors,
            "probability_best": probability_best([p.pdf for p in posteriors], [p.cdf for p in posteriors], low, high),
        })
    return cases


def bootstrap_cases(rng):
    cases = []
    for name, control, treatment in [
        ("normal", rng.normal(5, 2, 80), rng.normal(5.8, 2, 90)),
        ("skewed", rng.exponential(1.0, 60), rng.exponential(1.5, 70)),
    ]:
        result = stats.bootstrap(
            (treatment, control),
            lambda t, c, axis: np.mean(t, axis=axis) - np.mean(c, axis=axis),
            method="percentile",
            n_resamples=50000,
            confidence_level=0.95,
            rng=np.random.default_rng(1),
        )
        cases.append({
            "name": name,
            "control": control.tolist(),
            "treatment": treatment.tolist(),
            "ci_lower": float(result.confidence_interval.low),
            "ci_upper": float(result.confidence_interval.high),
        })
    return cases


def main():
    rng = np.random.default_rng(20261204)
    vectors = {
        "generator": "stats_vectors.py",
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "statsmodels_version": statsmodels.__version__,
        "mpmath_version": mpmath.__version__,
        "welch": welch_cases(rng),
        "proportions": proportion_cases(),
        "ratio": ratio_cases(rng),
        "srm": srm_cases(),
        "msprt": msprt_cases(),
        "bayes": bayes_cases(),
        "bootstrap": bootstrap_cases(rng),
    }
    json.dump(vectors, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
