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

/// Midnight UTC on the 1st of the month a `YYYY-MM` key names; `None` for anything else.
pub fn parse_month_key(key: &str) -> Option<DateTime<Utc>> {
    let date = chrono::NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d").ok()?;
    let start = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?);
    // The round trip refuses near misses such as `2026-1`.
    (month_key(start) == key).then_some(start)
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

    #[test]
    fn month_keys_parse_back_to_the_first_of_their_month_and_nothing_else_parses() {
        assert_eq!(parse_month_key("2026-11"), Some(Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()));
        for bad in ["2026-13", "2026-1", "26-11", "2026-11-01", "", "november"] {
            assert_eq!(parse_month_key(bad), None, "{bad:?}");
        }
    }
}
