//! Time bounds as users write them: `7d`, `12h`, `2026-11-01`, `2026-11-01T08:00:00Z`.

use jiff::{Timestamp, tz::Offset};

/// A `--since`/`--until` value that is none of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a time")]
pub struct TimeBoundError(String);

impl TimeBoundError {
    /// The forms a time bound can take.
    pub fn hint(&self) -> Option<String> {
        Some(
            "use an age (`30m`, `12h`, `7d`, `2w`), a date (`2026-11-01`) or a date-time (`2026-11-01T08:00:00Z`)"
                .to_owned(),
        )
    }
}

/// Parses a time bound relative to `now`.
///
/// Ages count back from `now` and are floored to the hour, so that a `--since 7d` sync lists
/// the same `created` window, and gets GitHub's free `304`s, for an hour. A date is midnight
/// UTC; a date-time needs `Z` or an offset.
pub fn parse_time_bound(text: &str, now: Timestamp) -> Result<Timestamp, TimeBoundError> {
    let error = || TimeBoundError(text.to_owned());
    let text = text.trim();
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
    if text.len() == 10 {
        let date: jiff::civil::Date = text.parse().map_err(|_| error())?;
        return Offset::UTC
            .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
            .map_err(|_| error());
    }
    text.parse::<Timestamp>().map_err(|_| error())
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
            assert!(
                err.to_string().contains(&format!("`{}`", text.trim())) && err.hint().is_some(),
                "{text}: {err}"
            );
        }
    }
}
