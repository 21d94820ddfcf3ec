//! Calendar billing periods. The free quota belongs to a UTC calendar month and resets on the
//! 1st; a period is named by its `YYYY-MM` key so a stored value can be compared to "now".

use chrono::{DateTime, Datelike, TimeZone, Utc};

/// `YYYY-MM` of the UTC month containing `at`.
pub fn month_key(at: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

/// Midnight UTC on the 1st of the month after the one containing `at`.
pub fn next_month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if at.month() == 12 { (at.year() + 1, 1) } else { (at.year(), at.month() + 1) };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single().expect("the first of a month at midnight UTC always exists")
}

/// Midnight UTC on the 1st of the month containing `at`.
pub fn month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0)
        .single()
        .expect("the first of a month at midnight UTC always exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_keys_and_resets_follow_the_utc_calendar() {
        let last_second = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(month_key(last_second), "2026-12");
        assert_eq!(next_month_start(last_second), Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
        let first = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(month_key(first), "2027-01");
        assert_eq!(next_month_start(first), Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap());
        assert_eq!(month_start(last_second), Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
    }
}
