//! Budget periods in UTC: the span that contains a moment, its label and
//! its end.

use super::budget::BudgetPeriod;

const DAY_MS: u64 = 86_400_000;

/// The period of a budget that contains one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeriodWindow {
    /// A label unique per period, such as `2026-12-04`, `2026-12` or `total`.
    pub(crate) label: String,
    /// Unix milliseconds when the period ends; none for `total`.
    pub(crate) end_ms: Option<u64>,
}

impl PeriodWindow {
    /// Returns the period of `period` that contains `now_ms`.
    pub(crate) fn containing(period: BudgetPeriod, now_ms: u64) -> Self {
        let day = now_ms / DAY_MS;
        let (year, month, day_of_month) = civil_from_days(day);
        match period {
            BudgetPeriod::Day => PeriodWindow {
                label: format!("{year:04}-{month:02}-{day_of_month:02}"),
                end_ms: Some((day + 1) * DAY_MS),
            },
            BudgetPeriod::Month => {
                let (next_year, next_month) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                PeriodWindow {
                    label: format!("{year:04}-{month:02}"),
                    end_ms: Some(days_from_civil(next_year, next_month, 1) * DAY_MS),
                }
            }
            BudgetPeriod::Total => PeriodWindow {
                label: "total".to_owned(),
                end_ms: None,
            },
        }
    }
}

/// Converts days since 1970-01-01 to a (year, month, day) of the proleptic
/// Gregorian calendar, by counting 400-year eras of 146,097 days whose
/// years start on 1 March, so the leap day falls at the end of a year.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // 719,468 days separate 0000-03-01 from 1970-01-01.
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March, each run of five months lasting 153 days.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Converts a date from 1970 on to days since 1970-01-01; the inverse of
/// [`civil_from_days`].
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year % 400;
    let month_from_march = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).saturating_sub(719_468)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// 2024-02-29T13:00:00Z.
    const LEAP_DAY_MS: u64 = 1_709_211_600_000;

    #[test]
    fn day_period_ends_at_utc_midnight() {
        let window = PeriodWindow::containing(BudgetPeriod::Day, LEAP_DAY_MS);
        assert_eq!(window.label, "2024-02-29");
        assert_eq!(
            window.end_ms,
            Some(1_709_251_200_000),
            "2024-03-01T00:00:00Z"
        );
    }

    #[test]
    fn month_period_ends_at_next_month() {
        let window = PeriodWindow::containing(BudgetPeriod::Month, LEAP_DAY_MS);
        assert_eq!(window.label, "2024-02");
        assert_eq!(window.end_ms, Some(1_709_251_200_000));
    }

    #[test]
    fn december_rolls_into_january() {
        // 2026-12-31T23:59:59.999Z.
        let window = PeriodWindow::containing(BudgetPeriod::Month, 1_798_761_599_999);
        assert_eq!(window.label, "2026-12");
        assert_eq!(
            window.end_ms,
            Some(1_798_761_600_000),
            "2027-01-01T00:00:00Z"
        );
    }

    #[test]
    fn epoch_is_first_of_january_1970() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }

    #[test]
    fn total_period_never_ends() {
        let window = PeriodWindow::containing(BudgetPeriod::Total, LEAP_DAY_MS);
        assert_eq!(window.label, "total");
        assert_eq!(window.end_ms, None);
    }

    proptest! {
        #[test]
        fn civil_round_trips(days in 0u64..2_000_000) {
            let (year, month, day) = civil_from_days(days);
            prop_assert!((1..=12).contains(&month));
            prop_assert!((1..=31).contains(&day));
            prop_assert_eq!(days_from_civil(year, month, day), days);
        }

        #[test]
        fn moment_lies_inside_its_period(now in 0u64..4_000_000_000_000) {
            for period in [BudgetPeriod::Day, BudgetPeriod::Month] {
                let window = PeriodWindow::containing(period, now);
                let end = window.end_ms.unwrap_or(u64::MAX);
                prop_assert!(end > now);
                prop_assert!(end - now <= 31 * DAY_MS);
                prop_assert_eq!(end % DAY_MS, 0);
            }
        }
    }
}
