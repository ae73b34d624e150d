//! Time as the index keeps it, nanoseconds since the Unix epoch in an `i64` (storage and
//! per-line loops), and as users write it: ages, dates and RFC 3339 instants, one parser for
//! the command line's `--since`/`--until` and the query language's `date:`, `after:`, `before:`.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::Offset;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Nanoseconds in a UTC day.
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;

/// The UTC day of `nanos`, numbered from the epoch: lines are grouped by it per line, and only
/// each group's day made a [`Date`] ([`date_of_day`]).
#[inline]
pub(crate) fn day_of(nanos: i64) -> i64 {
    nanos.div_euclid(NANOS_PER_DAY)
}

/// `at` in nanoseconds since the epoch, saturating past the years 1677 and 2262 (as far as an
/// `i64` reaches). No `i128`: the writer converts every line.
#[inline]
pub(crate) fn to_nanos(at: Timestamp) -> i64 {
    at.as_second()
        .saturating_mul(NANOS_PER_SECOND)
        .saturating_add(i64::from(at.subsec_nanosecond()))
}

/// The instant `nanos` after the epoch.
#[inline]
pub(crate) fn from_nanos(nanos: i64) -> Timestamp {
    let (second, nanosecond) = (
        nanos.div_euclid(NANOS_PER_SECOND),
        nanos.rem_euclid(NANOS_PER_SECOND) as i32,
    );
    Timestamp::new(second, nanosecond).expect("an i64 of nanoseconds is within jiff's range")
}

/// The UTC day of a day numbered from the epoch.
pub(crate) fn date_of_day(day: i64) -> Date {
    Offset::UTC
        .to_datetime(from_nanos(day * NANOS_PER_DAY))
        .date()
}

/// A time as written: an instant, or a whole UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// An RFC 3339 instant, with `Z` or an offset.
    Instant(Timestamp),
    /// A date, `2024-01-31`.
    Day(Date),
}

impl Written {
    /// An RFC 3339 instant (`2024-01-31T12:00:00Z`, `…+07:00`) or a date (`2024-01-31`).
    ///
    /// Only that form of a date: jiff also reads `20240131`, and a date-time without an
    /// offset as its date, which would drop the time the user wrote.
    pub(crate) fn parse(text: &str) -> Option<Written> {
        if let Ok(at) = text.parse::<Timestamp>() {
            return Some(Written::Instant(at));
        }
        let date = text.parse::<Date>().ok().filter(|_| text.len() == 10)?;
        Some(Written::Day(date))
    }

    /// The instant; a day's start (midnight UTC), or with `end_of_day` its end (the next).
    pub(crate) fn instant(self, end_of_day: bool) -> Option<Timestamp> {
        match self {
            Written::Instant(at) => Some(at),
            Written::Day(date) => {
                let date = if end_of_day {
                    date.tomorrow().ok()?
                } else {
                    date
                };
                Offset::UTC
                    .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
                    .ok()
            }
        }
    }
}

/// A `--since`/`--until` value that is none of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a time")]
pub struct TimeBoundError {
    /// The value as written, trimmed.
    pub text: String,
}

impl TimeBoundError {
    /// The forms a time bound takes.
    pub fn hint(&self) -> Option<String> {
        Some(
            "use an age (`30m`, `12h`, `7d`, `2w`), a date (`2026-11-01`) or a date-time \
             (`2026-11-01T08:00:00Z`)"
                .to_owned(),
        )
    }
}

/// Parses a time bound relative to `now`: an age (`30m`, `12h`, `7d`, `2w`), a date (midnight
/// UTC) or an RFC 3339 date-time (with `Z` or an offset).
///
/// Ages count back from `now` and are floored to the hour, so that a `--since 7d` sync lists
/// the same `created` window, and gets GitHub's free `304`s, for an hour.
///
/// ```
/// let now: jiff::Timestamp = "2026-11-24T06:45:12Z".parse().unwrap();
/// let since = logidx_index::parse_time_bound("7d", now).unwrap();
/// assert_eq!(since.to_string(), "2026-11-17T06:00:00Z");
/// ```
pub fn parse_time_bound(text: &str, now: Timestamp) -> Result<Timestamp, TimeBoundError> {
    let text = text.trim();
    let error = || TimeBoundError {
        text: text.to_owned(),
    };
    let age = text.char_indices().last().filter(|&(i, c)| {
        c.is_ascii_alphabetic() && i > 0 && text[..i].bytes().all(|b| b.is_ascii_digit())
    });
    if let Some((i, unit)) = age {
        let amount: i64 = text[..i].parse().map_err(|_| error())?;
        let seconds = match unit {
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(error()),
        };
        let back = amount
            .checked_mul(seconds)
            .filter(|s| *s >= 0)
            .ok_or_else(error)?;
        let at = now.as_second().checked_sub(back).ok_or_else(error)?;
        return Timestamp::from_second(at - at.rem_euclid(3_600)).map_err(|_| error());
    }
    Written::parse(text)
        .and_then(|written| written.instant(false))
        .ok_or_else(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_form() {
        let now: Timestamp = "2026-11-24T06:45:12Z".parse().unwrap();
        let cases = [
            ("7d", "2026-11-17T06:00:00Z"),
            ("12h", "2026-11-23T18:00:00Z"),
            ("30m", "2026-11-24T06:00:00Z"),
            ("2w", "2026-11-10T06:00:00Z"),
            ("0d", "2026-11-24T06:00:00Z"),
            ("2026-11-01", "2026-11-01T00:00:00Z"),
            ("2026-11-01T08:00:00Z", "2026-11-01T08:00:00Z"),
            ("2026-11-01T15:00:00+07:00", "2026-11-01T08:00:00Z"),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_time_bound(text, now).unwrap().to_string(),
                want,
                "{text}"
            );
        }
    }

    #[test]
    fn nonsense_is_named_with_a_hint() {
        let now = Timestamp::now();
        for text in [
            "",
            "7",
            "7y",
            "d",
            "-3d",
            "yesterday",
            "2026-13-01",
            "2026-11-01T08:00:00",
            "99999999999999999d",
        ] {
            let err = parse_time_bound(text, now).unwrap_err();
            let hint = err.hint().unwrap_or_default();
            assert!(
                err.to_string().contains(&format!("`{}`", text.trim())) && !hint.is_empty(),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn a_day_is_written_only_as_a_whole_date() {
        let day = |text| Written::parse(text).and_then(|w| w.instant(false));
        assert_eq!(
            day("2024-01-31").unwrap().to_string(),
            "2024-01-31T00:00:00Z"
        );
        for text in [
            "20240131",
            "2024-01-31T12:00:00",
            "2024-01-31 12:00",
            "+002024-01-31",
        ] {
            assert_eq!(Written::parse(text), None, "{text}");
        }
    }

    #[test]
    fn nanoseconds_round_trip_and_saturate() {
        for nanos in [0, 1, -1, 1_706_470_046_054_762_800, i64::MIN, i64::MAX] {
            let at = from_nanos(nanos);
            assert_eq!(at.as_nanosecond(), i128::from(nanos));
            assert_eq!(to_nanos(at), nanos);
        }
        assert_eq!(to_nanos(Timestamp::MAX), i64::MAX);
        assert_eq!(to_nanos(Timestamp::MIN), i64::MIN);
    }

    #[test]
    fn days_are_named_by_their_utc_date() {
        assert_eq!(date_of_day(0).to_string(), "1970-01-01");
        assert_eq!(date_of_day(19_753).to_string(), "2024-01-31");
        assert_eq!(date_of_day(-1).to_string(), "1969-12-31");
    }
}
