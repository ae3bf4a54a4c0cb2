//! UTC calendar arithmetic on Unix milliseconds, for budget periods and
//! month-end projections.

const DAY_MS: u64 = 86_400_000;

/// The proleptic Gregorian date (year, month 1-12, day 1-31) of a day
/// number counted from 1970-01-01.
///
/// Shifts the year to start in March, so the leap day is the last day of
/// the shifted year, then splits days into 400-year eras of 146,097 days.
pub(crate) fn date_of_day(day: i64) -> (i64, u32, u32) {
    let shifted = day + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day_of_month = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day_of_month as u32)
}

/// The day number (from 1970-01-01) of a proleptic Gregorian date; the
/// inverse of [`date_of_day`].
pub(crate) fn day_of_date(year: i64, month: u32, day: u32) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The start and end (exclusive) in Unix milliseconds of the UTC calendar
/// month that contains `at_ms`.
pub(crate) fn month_bounds_ms(at_ms: u64) -> (u64, u64) {
    let day = (at_ms / DAY_MS) as i64;
    let (year, month, _) = date_of_day(day);
    let start = day_of_date(year, month, 1);
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let end = day_of_date(next_year, next_month, 1);
    (start as u64 * DAY_MS, end as u64 * DAY_MS)
}

/// The start and end (exclusive) of the UTC day that contains `at_ms`.
pub(crate) fn day_bounds_ms(at_ms: u64) -> (u64, u64) {
    let start = at_ms / DAY_MS * DAY_MS;
    (start, start + DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_convert() {
        assert_eq!(date_of_day(0), (1970, 1, 1));
        // 2024-02-29, a leap day: 19_782 days after the epoch.
        assert_eq!(date_of_day(19_782), (2024, 2, 29));
        assert_eq!(date_of_day(19_783), (2024, 3, 1));
        assert_eq!(day_of_date(2000, 1, 1), 10_957);
    }

    #[test]
    fn month_bounds_of_february() {
        // 2024-02-15T12:00:00Z
        let at = 1_707_998_400_000;
        let (start, end) = month_bounds_ms(at);
        assert_eq!(start, 1_706_745_600_000); // 2024-02-01
        assert_eq!(end, 1_709_251_200_000); // 2024-03-01
    }

    #[test]
    fn december_rolls_into_january() {
        // 2023-12-31T23:59:59Z
        let (start, end) = month_bounds_ms(1_704_067_199_000);
        assert_eq!(start, 1_701_388_800_000); // 2023-12-01
        assert_eq!(end, 1_704_067_200_000); // 2024-01-01
    }

    proptest::proptest! {
        #[test]
        fn day_round_trips(day in -1_000_000i64..1_000_000) {
            let (year, month, day_of_month) = date_of_day(day);
            proptest::prop_assert_eq!(day_of_date(year, month, day_of_month), day);
        }
    }
}
