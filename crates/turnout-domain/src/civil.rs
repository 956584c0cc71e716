//! Dates and times of day as the API writes them, parsed strictly: the
//! forms the OpenAPI document's patterns describe and nothing else, so that
//! what the document refuses the server refuses too.

use jiff::civil::{Date, Time};

/// A wall-clock time written `HH:MM`, 24-hour, and nothing else: the one
/// form the API documents (seconds or a single-digit hour are refused).
pub fn parse_clock(text: &str) -> Result<Time, String> {
    let refuse = || "Use HH:MM, 24-hour".to_owned();
    let bytes = text.as_bytes();
    if bytes.len() != 5 || bytes[2] != b':' || !bytes.iter().enumerate().all(|(i, b)| i == 2 || b.is_ascii_digit()) {
        return Err(refuse());
    }
    let hour: i8 = text[..2].parse().map_err(|_| refuse())?;
    let minute: i8 = text[3..].parse().map_err(|_| refuse())?;
    Time::new(hour, minute, 0, 0).map_err(|_| refuse())
}

/// What [`parse_clock`] accepts, as a JSON Schema pattern.
pub const CLOCK_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

/// A calendar date written `YYYY-MM-DD` (RFC 3339's full-date), and nothing
/// else.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let refuse = || "Use YYYY-MM-DD".to_owned();
    let bytes = text.as_bytes();
    let digits_at = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    if bytes.len() != 10
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !digits_at(0..4)
        || !digits_at(5..7)
        || !digits_at(8..10)
    {
        return Err(refuse());
    }
    let year: i16 = text[..4].parse().map_err(|_| refuse())?;
    let month: i8 = text[5..7].parse().map_err(|_| refuse())?;
    let day: i8 = text[8..].parse().map_err(|_| refuse())?;
    Date::new(year, month, day).map_err(|_| refuse())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_are_hh_mm_and_nothing_else() {
        assert_eq!(parse_clock("08:30"), Ok(Time::constant(8, 30, 0, 0)));
        assert_eq!(parse_clock("23:59"), Ok(Time::constant(23, 59, 0, 0)));
        for refused in [
            "8:30", "08:30:00", "24:00", "12:60", "ab:cd", " 08:30", "08-30", "+1:30",
        ] {
            assert!(parse_clock(refused).is_err(), "{refused} was accepted");
        }
    }

    #[test]
    fn dates_are_full_dates_that_exist() {
        assert_eq!(parse_date("2026-02-28"), Ok(Date::constant(2026, 2, 28)));
        assert_eq!(parse_date("2028-02-29"), Ok(Date::constant(2028, 2, 29)));
        for refused in [
            "2026-02-29",
            "20260228",
            "2026-2-28",
            "2026-13-01",
            "0000-01-01x",
            "+2026-02-28",
        ] {
            assert!(parse_date(refused).is_err(), "{refused} was accepted");
        }
    }
}
