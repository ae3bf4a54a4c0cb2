//! Tail probabilities in log space, so tiny p-values do not underflow.
//!
//! A tail probability below about 1e-308 does not fit in an `f64`: the
//! normal tail reaches it near z = 37.5. These functions return the natural
//! logarithm of the tail directly, from an asymptotic series and from
//! continued fractions evaluated with a log-space prefactor. `statrs` 0.18
//! supplies `erfc`, whose relative error near z = 1.96 is about 1e-11, and
//! `ln_gamma`.

use statrs::function::erf::{erfc, erfc_inv};
use statrs::function::gamma::ln_gamma;

const MAX_ITERATIONS: usize = 100_000;
const EPSILON: f64 = 1e-15;
const TINY: f64 = 1e-300;

/// Returns ln P(Z > z) for a standard normal Z.
pub(crate) fn ln_normal_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    if z < 0.0 {
        return (-0.5 * erfc(-z / std::f64::consts::SQRT_2)).ln_1p();
    }
    if z < 30.0 {
        return (0.5 * erfc(z / std::f64::consts::SQRT_2)).ln();
    }

    // Mills ratio series: sf(z) = φ(z)/z · (1 - 1/z² + 3/z⁴ - 15/z⁶ + 105/z⁸ - ...).
    // At z ≥ 30 the first omitted term is below 1e-12 relative.
    let inverse_square = 1.0 / (z * z);
    let series = 1.0
        - inverse_square
            * (1.0
                - 3.0
                    * inverse_square
                    * (1.0 - 5.0 * inverse_square * (1.0 - 7.0 * inverse_square)));
    let ln_density = -0.5 * z * z - 0.5 * (2.0 * std::f64::consts::PI).ln();
    ln_density - z.ln() + series.ln()
}

/// Returns ln of the two-sided normal p-value 2·P(Z > |z|), at most 0.
pub(crate) fn ln_normal_two_sided(z: f64) -> f64 {
    (std::f64::consts::LN_2 + ln_normal_sf(z.abs())).min(0.0)
}

/// Returns the standard normal quantile of `probability` in (0, 1).
pub(crate) fn normal_quantile(probability: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * probability)
}

/// Returns ln of the two-sided Student t p-value 2·P(T > |t|) with `df`
/// degrees of freedom, at most 0.
///
/// The two-sided tail equals the regularized incomplete beta
/// I_x(df/2, 1/2) with x = df / (df + t²).
pub(crate) fn ln_t_two_sided(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df > 1e7 {
        return ln_normal_two_sided(t);
    }
    let square = t * t;
    let ln_x = df.ln() - (df + square).ln();
    let ln_one_minus_x = square.ln() - (df + square).ln();
    ln_beta_regularized(0.5 * df, 0.5, ln_x, ln_one_minus_x).min(0.0)
}

/// Returns ln Q(k/2, x/2), the upper tail of a chi-square distribution with
/// `k` degrees of freedom at `x`.
pub(crate) fn ln_chi_square_sf(x: f64, k: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    ln_gamma_upper_regularized(0.5 * k, 0.5 * x)
}

/// Returns ln I_x(a, b), given ln x and ln(1 - x) so both stay accurate
/// when x is near 0 or 1.
fn ln_beta_regularized(a: f64, b: f64, ln_x: f64, ln_one_minus_x: f64) -> f64 {
    let x = ln_x.exp();
    if x == 0.0 && ln_x == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if ln_one_minus_x == f64::NEG_INFINITY {
        return 0.0;
    }
    let ln_beta = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);

    // The continued fraction converges quickly for x < (a + 1) / (a + b + 2);
    // above that, I_x(a, b) = 1 - I_{1-x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0) {
        let ln_front = a * ln_x + b * ln_one_minus_x - ln_beta - a.ln();
        ln_front + beta_continued_fraction(a, b, x).ln()
    } else {
        let ln_front = b * ln_one_minus_x + a * ln_x - ln_beta - b.ln();
        let complement = (ln_front + beta_continued_fraction(b, a, 1.0 - x).ln()).exp();
        (-complement).ln_1p()
    }
}

/// Evaluates the continued fraction of the incomplete beta function by the
/// modified Lentz method.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut result = d;
    for m in 1..MAX_ITERATIONS {
        let m = m as f64;
        let two_m = 2.0 * m;

        let even = m * (b - m) * x / ((a + two_m - 1.0) * (a + two_m));
        d = 1.0 + even * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + even / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        result *= d * c;

        let odd = -(a + m) * (a + b + m) * x / ((a + two_m) * (a + two_m + 1.0));
        d = 1.0 + odd * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + odd / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let step = d * c;
        result *= step;
        if (step - 1.0).abs() < EPSILON {
            break;
        }
    }
    result
}

/// Returns ln Q(a, x), the regularized upper incomplete gamma function.
fn ln_gamma_upper_regularized(a: f64, x: f64) -> f64 {
    let ln_front = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        // Series for the lower function P, then Q = 1 - P.
        let mut term = 1.0 / a;
        let mut sum = term;
        let mut denominator = a;
        for _ in 0..MAX_ITERATIONS {
            denominator += 1.0;
            term *= x / denominator;
            sum += term;
            if term.abs() < sum.abs() * EPSILON {
                break;
            }
        }
        let lower = (ln_front + sum.ln()).exp();
        return (-lower).ln_1p();
    }

    // Continued fraction for Q by the modified Lentz method.
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut result = d;
    for i in 1..MAX_ITERATIONS {
        let i = i as f64;
        let an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        d = if d.abs() < TINY { TINY } else { d };
        c = b + an / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let step = d * c;
        result *= step;
        if (step - 1.0).abs() < EPSILON {
            break;
        }
    }
    ln_front + result.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_tail_matches_known_values() {
        // scipy.stats.norm.logsf, scipy 1.17.1.
        assert!((ln_normal_sf(0.0) - 0.5f64.ln()).abs() < 1e-14);
        // statrs 0.18 erfc has a relative error near 1e-11 here.
        let tail = ln_normal_sf(1.959963984540054);
        assert!((tail - 0.025f64.ln()).abs() < 1e-10, "{tail}");
        assert!((ln_normal_sf(40.0) - (-804.6084420137539)).abs() < 1e-9);
        assert!((ln_normal_sf(30.0) - ln_normal_sf(29.999999999)).abs() < 1e-7);
    }

    #[test]
    fn normal_tail_is_continuous_at_switch() {
        let below = ln_normal_sf(30.0 - 1e-9);
        let above = ln_normal_sf(30.0);
        assert!((below - above).abs() < 1e-6, "{below} {above}");
    }

    #[test]
    fn normal_quantile_inverts_tail() {
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-12);
        assert!((normal_quantile(0.5)).abs() < 1e-15);
    }

    #[test]
    fn far_t_tail_matches_mpmath() {
        // mpmath 1.3.0: ln betainc(1.5, 0.5, 0, 3 / (3 + 1e40), regularized=True),
        // the two-sided tail at t = 1e20 with 3 degrees of freedom.
        let ours = ln_t_two_sided(1e20, 3.0);
        assert!((ours - (-137.3642349600382)).abs() < 1e-9, "{ours}");
        assert!(ln_normal_two_sided(60.0).is_finite());
    }

    #[test]
    fn chi_square_tail_matches_known_values() {
        // scipy.stats.chi2.logsf(3.841458820694124, 1) = ln 0.05.
        assert!((ln_chi_square_sf(3.841458820694124, 1.0) - 0.05f64.ln()).abs() < 1e-10);
        // mpmath 1.3.0, ln of gammainc(1.5, 1000, inf, regularized=True); scipy 1.17.1 returns -inf here.
        assert!((ln_chi_square_sf(2000.0, 3.0) - (-996.4248404973332)).abs() < 1e-8);
        assert_eq!(ln_chi_square_sf(0.0, 2.0), 0.0);
    }
}
