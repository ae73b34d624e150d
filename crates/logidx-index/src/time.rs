//! Time as the index keeps it, nanoseconds since the Unix epoch in an `i64` (storage and
//! per-line loops), and as users write it: ages, dates and RFC 3339 instants, one parser for
//! the command line's `--since`/`--until` and the query language's `date:`, `after:`, `before:`.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{Span, Timestamp};

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

/// What written times are relative to: now, for ages, and the time zone of days and
/// date-times written without an offset.
#[derive(Debug, Clone)]
pub struct TimeContext {
    /// The instant ages count back from.
    pub now: Timestamp,
    /// The zone a day (`2026-11-20`) or a date-time without offset is read in.
    pub tz: TimeZone,
}

impl TimeContext {
    /// Ages from `now`, days in `tz`.
    pub fn new(now: Timestamp, tz: TimeZone) -> TimeContext {
        TimeContext { now, tz }
    }
}

/// Ages from the moment it is made, days in UTC.
impl Default for TimeContext {
    fn default() -> TimeContext {
        TimeContext::new(Timestamp::now(), TimeZone::UTC)
    }
}

/// Which end of a time window a written time bounds. A day (`2026-11-20`) starts a window at
/// its first instant and ends one after its last, so that both ends include the days named:
/// `--since 2026-11-10 --until 2026-11-20` is `date:2026-11-10..2026-11-20`, eleven days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The first instant in the window (`--since`, `after:`, `date:FROM..`).
    Start,
    /// The first instant past the window (`--until`, `before:`, `date:..TO`).
    End,
}

/// A time as written: an instant, or a whole day in the context's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// An RFC 3339 instant, an age, or a date-time read in the zone.
    Instant(Timestamp),
    /// A date, `2024-01-31`.
    Day(Date),
}

impl Written {
    /// An age (`30min`, `12h`, `7d`, `2w`, `3mo`), an RFC 3339 instant (`2024-01-31T12:00:00Z`,
    /// `…+07:00`), a date-time without offset (`2024-01-31T12:00:00`, in the zone) or a date
    /// (`2024-01-31`).
    ///
    /// Only those forms of a date: jiff also reads `20240131`, and a date-time as its date,
    /// which would drop the time the user wrote.
    pub(crate) fn parse(text: &str, context: &TimeContext) -> Result<Written, TimeBoundError> {
        let text = text.trim();
        let error = |ambiguous| TimeBoundError {
            text: text.to_owned(),
            ambiguous,
        };
        if let Some(age) = age(text, context) {
            let ambiguous = text
                .strip_suffix('m')
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
            return age.map(Written::Instant).ok_or_else(|| error(ambiguous));
        }
        if let Ok(at) = text.parse::<Timestamp>() {
            return Ok(Written::Instant(at));
        }
        let day = text.get(..10).and_then(|d| d.parse::<Date>().ok());
        let day = day.filter(|_| text.as_bytes().get(4) == Some(&b'-'));
        match (day, text.as_bytes().get(10)) {
            (Some(day), None) => Ok(Written::Day(day)),
            (Some(_), Some(b'T' | b't' | b' ')) => text
                .parse::<DateTime>()
                .ok()
                .and_then(|at| context.tz.to_timestamp(at).ok())
                .map(Written::Instant)
                .ok_or_else(|| error(false)),
            _ => Err(error(false)),
        }
    }

    /// The instant bounding a window at `end`: a day's first instant in `tz`, or past its last.
    pub(crate) fn instant(self, end: End, tz: &TimeZone) -> Option<Timestamp> {
        match self {
            Written::Instant(at) => Some(at),
            Written::Day(date) => {
                let date = match end {
                    End::Start => date,
                    End::End => date.tomorrow().ok()?,
                };
                tz.to_timestamp(date.to_datetime(Time::midnight())).ok()
            }
        }
    }
}

/// An age back from the context's now, floored to the hour; `None` when `text` is no age,
/// `Some(None)` when it is one that cannot be (`1m`, out of range).
///
/// Floored so that a `--since 7d` sync lists the same `created` window, and gets GitHub's free
/// `304`s, for an hour.
fn age(text: &str, context: &TimeContext) -> Option<Option<Timestamp>> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (amount, unit) = text.split_at(digits);
    if digits == 0 || unit.is_empty() || !unit.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let amount: i64 = amount.parse().ok()?;
    let seconds = match unit_seconds(unit) {
        Some(seconds) => seconds,
        None if unit == "mo" => {
            // Calendar months, in the zone: `1mo` on March 31st is February's last day.
            let back = Span::new().try_months(amount).ok();
            let at = back.and_then(|span| {
                let local = context.tz.to_datetime(context.now).checked_sub(span).ok()?;
                context.tz.to_timestamp(local).ok()
            });
            return Some(at.and_then(floor_to_hour));
        }
        // `m` is minutes to some and months to others.
        None => return Some(None),
    };
    let back = amount.checked_mul(seconds)?;
    Some(
        context
            .now
            .as_second()
            .checked_sub(back)
            .and_then(|at| Timestamp::from_second(at).ok())
            .and_then(floor_to_hour),
    )
}

/// The fixed-length units an age and a duration share (`s`, `min`, `h`, `d`, `w`), in
/// seconds: the one table, so that `--since 5min` and `--watch 5min` read alike.
fn unit_seconds(unit: &str) -> Option<i64> {
    match unit {
        "s" => Some(1),
        "min" => Some(60),
        "h" => Some(3_600),
        "d" => Some(86_400),
        "w" => Some(7 * 86_400),
        _ => None,
    }
}

/// Parses a length of time as users write a period (`--watch 30s`): a whole number and a
/// unit of an age (`30s`, `5min`, `1h`, `1d`, `2w`; not `mo`, whose length varies), or a bare
/// number of seconds (a configuration file's `interval = 60`). `m` is refused as ambiguous,
/// as in an age.
///
/// ```
/// use logidx_index::parse_duration;
///
/// assert_eq!(parse_duration("5min").unwrap().as_secs(), 300);
/// assert_eq!(parse_duration("5m").unwrap_err().to_string(), "`5m` is ambiguous");
/// ```
pub fn parse_duration(text: &str) -> Result<std::time::Duration, DurationError> {
    let text = text.trim();
    let error = |ambiguous| DurationError {
        text: text.to_owned(),
        ambiguous,
    };
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (amount, unit) = text.split_at(digits);
    let amount: u64 = amount.parse().map_err(|_| error(false))?;
    let seconds = match unit {
        "" => 1,
        "m" => return Err(error(true)),
        unit => unit_seconds(unit).ok_or_else(|| error(false))?,
    };
    amount
        .checked_mul(seconds.unsigned_abs())
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| error(false))
}

/// A written length of time that is none of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is {}", if *.ambiguous { "ambiguous" } else { "not a duration" })]
pub struct DurationError {
    /// The value as written, trimmed.
    pub text: String,
    /// It ends in a bare `m`, minutes to some and months to others.
    pub ambiguous: bool,
}

impl DurationError {
    /// The forms a duration takes, or how to write minutes.
    pub fn hint(&self) -> Option<String> {
        Some(if self.ambiguous {
            let amount = self.text.trim_end_matches('m');
            format!("write `{amount}min` for minutes")
        } else {
            "use a whole number and a unit: `30s`, `5min`, `1h`, `1d`, `2w` (a bare number is \
             seconds)"
                .to_owned()
        })
    }
}

/// Whether a written time counts back from now (an age, `7d`), so that it means a later
/// instant as time passes, unlike a date or a date-time: a watch slides such a `--since`
/// with each cycle.
pub fn is_age(text: &str) -> bool {
    age(text.trim(), &TimeContext::default()).is_some()
}

fn floor_to_hour(at: Timestamp) -> Option<Timestamp> {
    let second = at.as_second();
    Timestamp::from_second(second - second.rem_euclid(3_600)).ok()
}

/// A written time that is none of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is {}", if *.ambiguous { "ambiguous" } else { "not a time" })]
pub struct TimeBoundError {
    /// The value as written, trimmed.
    pub text: String,
    /// It ends in `m`, minutes to some and months to others.
    pub ambiguous: bool,
}

impl TimeBoundError {
    /// The forms a time takes, or how to say which `m` was meant.
    pub fn hint(&self) -> Option<String> {
        if self.ambiguous {
            let amount = self.text.trim_end_matches('m');
            return Some(format!(
                "write `{amount}min` for minutes or `{amount}mo` for months"
            ));
        }
        Some(
            "use an age (`30min`, `12h`, `7d`, `2w`, `3mo`), a date (`2026-11-01`) or a \
             date-time (`2026-11-01T08:00:00Z`, or without an offset in --tz's zone)"
                .to_owned(),
        )
    }
}

/// Parses a time bound: an age back from the context's now (`30min`, `12h`, `7d`, `2w`,
/// `3mo`, floored to the hour), a date (in the context's zone, bounding the window at `end`
/// so that the day is in it) or a date-time (RFC 3339, or without offset in the zone).
///
/// ```
/// use logidx_index::{End, TimeContext, parse_time_bound};
///
/// let now: jiff::Timestamp = "2026-11-24T06:45:12Z".parse().unwrap();
/// let context = TimeContext::new(now, jiff::tz::TimeZone::UTC);
/// let since = parse_time_bound("7d", End::Start, &context).unwrap();
/// assert_eq!(since.to_string(), "2026-11-17T06:00:00Z");
/// let until = parse_time_bound("2026-11-20", End::End, &context).unwrap();
/// assert_eq!(until.to_string(), "2026-11-21T00:00:00Z");
/// ```
pub fn parse_time_bound(
    text: &str,
    end: End,
    context: &TimeContext,
) -> Result<Timestamp, TimeBoundError> {
    Written::parse(text, context)?
        .instant(end, &context.tz)
        .ok_or_else(|| TimeBoundError {
            text: text.trim().to_owned(),
            ambiguous: false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(now: &str) -> TimeContext {
        TimeContext::new(now.parse().unwrap(), TimeZone::UTC)
    }

    #[test]
    fn every_accepted_form() {
        let context = utc("2026-11-24T06:45:12Z");
        let berlin = TimeContext::new(context.now, TimeZone::fixed(jiff::tz::offset(1)));
        let cases = [
            ("7d", End::Start, &context, "2026-11-17T06:00:00Z"),
            ("12h", End::Start, &context, "2026-11-23T18:00:00Z"),
            ("30min", End::Start, &context, "2026-11-24T06:00:00Z"),
            ("2w", End::End, &context, "2026-11-10T06:00:00Z"),
            ("0d", End::Start, &context, "2026-11-24T06:00:00Z"),
            ("1mo", End::Start, &context, "2026-10-24T06:00:00Z"),
            ("2026-11-01", End::Start, &context, "2026-11-01T00:00:00Z"),
            ("2026-11-01", End::End, &context, "2026-11-02T00:00:00Z"),
            ("2026-11-01", End::Start, &berlin, "2026-10-31T23:00:00Z"),
            (
                "2026-11-01T08:00:00Z",
                End::End,
                &context,
                "2026-11-01T08:00:00Z",
            ),
            (
                "2026-11-01T15:00:00+07:00",
                End::Start,
                &context,
                "2026-11-01T08:00:00Z",
            ),
            (
                "2026-11-01T08:00:00",
                End::Start,
                &context,
                "2026-11-01T08:00:00Z",
            ),
            (
                "2026-11-01 08:00",
                End::Start,
                &berlin,
                "2026-11-01T07:00:00Z",
            ),
        ];
        for (text, end, context, want) in cases {
            assert_eq!(
                parse_time_bound(text, end, context).unwrap().to_string(),
                want,
                "{text} {end:?} in {:?}",
                context.tz.iana_name()
            );
        }
    }

    #[test]
    fn nonsense_is_named_with_a_hint() {
        let context = TimeContext::default();
        for text in [
            "",
            "7",
            "7y",
            "d",
            "-3d",
            "yesterday",
            "2026-13-01",
            "20260101",
            "2026-11-01X08:00:00",
            "+002024-01-31",
            "99999999999999999d",
        ] {
            let err = parse_time_bound(text, End::Start, &context).unwrap_err();
            let hint = err.hint().unwrap_or_default();
            assert!(
                err.to_string() == format!("`{}` is not a time", text.trim()) && !hint.is_empty(),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn a_bare_m_is_refused_as_ambiguous() {
        let err = parse_time_bound("3m", End::Start, &TimeContext::default()).unwrap_err();
        assert_eq!(err.to_string(), "`3m` is ambiguous");
        assert_eq!(
            err.hint().unwrap(),
            "write `3min` for minutes or `3mo` for months"
        );
    }

    #[test]
    fn durations_take_the_units_of_an_age_and_refuse_the_rest() {
        let secs = |text| parse_duration(text).map(|d| d.as_secs());
        for (text, want) in [
            ("30s", 30),
            ("5min", 300),
            ("1h", 3_600),
            ("1d", 86_400),
            ("2w", 14 * 86_400),
            ("45", 45),
            (" 10s ", 10),
            ("0s", 0),
        ] {
            assert_eq!(secs(text), Ok(want), "{text}");
        }
        let ambiguous = parse_duration("2m").unwrap_err();
        assert_eq!(ambiguous.to_string(), "`2m` is ambiguous");
        assert_eq!(ambiguous.hint().unwrap(), "write `2min` for minutes");
        for text in [
            "",
            "soon",
            "5days",
            "1mo",
            "-3s",
            "1.5h",
            "s",
            "99999999999999999999w",
        ] {
            let err = parse_duration(text).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("`{}` is not a duration", text.trim())
            );
            assert!(err.hint().unwrap().contains("`5min`"));
        }
    }

    #[test]
    fn ages_are_told_from_dates_and_take_seconds_too() {
        assert!(is_age("7d") && is_age("30min") && is_age("1mo") && is_age("90s"));
        assert!(!is_age("2026-11-01") && !is_age("2026-11-01T08:00:00Z") && !is_age("soon"));
        let context = utc("2026-11-24T06:45:12Z");
        let since = parse_time_bound("90s", End::Start, &context).unwrap();
        assert_eq!(since.to_string(), "2026-11-24T06:00:00Z");
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
