//! The `created` filter of the list-runs endpoint, in GitHub's search syntax:
//! `2026-11-17`, `>=2026-11-17`, `<2026-11-17T08:00:00Z`, `2026-11-01..2026-11-07`, `*..D`,
//! `D..*`, with dates or date-times (`Z` or `+07:00`).

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;

/// A half-open interval of Unix seconds: `lo <= t < hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) lo: i64,
    pub(crate) hi: i64,
}

impl Window {
    pub(crate) fn contains(&self, second: i64) -> bool {
        self.lo <= second && second < self.hi
    }
}

/// A date covers its whole UTC day; a date-time is one instant.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: i64,
    /// Exclusive end.
    end: i64,
}

pub(crate) fn parse(text: &str) -> Result<Window, String> {
    let text = text.trim();
    let all = Window {
        lo: i64::MIN,
        hi: i64::MAX,
    };
    if let Some((a, b)) = text.split_once("..") {
        let lo = if a == "*" { all.lo } else { point(a)?.start };
        let hi = if b == "*" { all.hi } else { point(b)?.end };
        return Ok(Window { lo, hi });
    }
    type Make = fn(Span) -> Window;
    let ops: [(&str, Make); 4] = [
        (">=", |s| Window {
            lo: s.start,
            hi: i64::MAX,
        }),
        ("<=", |s| Window {
            lo: i64::MIN,
            hi: s.end,
        }),
        (">", |s| Window {
            lo: s.end,
            hi: i64::MAX,
        }),
        ("<", |s| Window {
            lo: i64::MIN,
            hi: s.start,
        }),
    ];
    for (op, make) in ops {
        if let Some(rest) = text.strip_prefix(op) {
            return Ok(make(point(rest)?));
        }
    }
    let span = point(text)?;
    Ok(Window {
        lo: span.start,
        hi: span.end,
    })
}

fn point(text: &str) -> Result<Span, String> {
    let text = text.trim();
    // jiff reads the date part of a date-time as a date too: only a bare date is a whole day.
    if let Some(date) = (text.len() == 10)
        .then(|| text.parse::<Date>().ok())
        .flatten()
    {
        let start = Offset::UTC
            .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
            .map_err(|e| e.to_string())?;
        return Ok(Span {
            start: start.as_second(),
            end: start.as_second() + 86_400,
        });
    }
    // An unencoded `+` in a query string arrives as a space.
    let fixed = match text.rfind(' ') {
        Some(i) if i > 10 => format!("{}+{}", &text[..i], &text[i + 1..]),
        _ => text.to_owned(),
    };
    if let Ok(ts) = fixed.parse::<Timestamp>() {
        return Ok(Span {
            start: ts.as_second(),
            end: ts.as_second() + 1,
        });
    }
    // A date-time without an offset is taken as UTC.
    if let Ok(dt) = fixed.parse::<DateTime>() {
        let ts = Offset::UTC.to_timestamp(dt).map_err(|e| e.to_string())?;
        return Ok(Span {
            start: ts.as_second(),
            end: ts.as_second() + 1,
        });
    }
    Err(format!(
        "`{text}` is not a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM:SSZ)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_second()
    }

    #[test]
    fn every_syntax_of_the_search_grammar() {
        let d17 = at("2026-11-17T00:00:00Z");
        let d18 = at("2026-11-18T00:00:00Z");
        let t8 = at("2026-11-17T08:00:00Z");
        let cases = [
            ("2026-11-17", Window { lo: d17, hi: d18 }),
            (
                ">=2026-11-17",
                Window {
                    lo: d17,
                    hi: i64::MAX,
                },
            ),
            (
                ">2026-11-17",
                Window {
                    lo: d18,
                    hi: i64::MAX,
                },
            ),
            (
                "<=2026-11-17",
                Window {
                    lo: i64::MIN,
                    hi: d18,
                },
            ),
            (
                "<2026-11-17",
                Window {
                    lo: i64::MIN,
                    hi: d17,
                },
            ),
            ("2026-11-17..2026-11-17", Window { lo: d17, hi: d18 }),
            (
                "*..2026-11-17",
                Window {
                    lo: i64::MIN,
                    hi: d18,
                },
            ),
            (
                "2026-11-17..*",
                Window {
                    lo: d17,
                    hi: i64::MAX,
                },
            ),
            (
                ">=2026-11-17T08:00:00Z",
                Window {
                    lo: t8,
                    hi: i64::MAX,
                },
            ),
            (
                ">2026-11-17T08:00:00Z",
                Window {
                    lo: t8 + 1,
                    hi: i64::MAX,
                },
            ),
            (
                "<2026-11-17T15:00:00+07:00",
                Window {
                    lo: i64::MIN,
                    hi: t8,
                },
            ),
            (
                "<2026-11-17T15:00:00 07:00",
                Window {
                    lo: i64::MIN,
                    hi: t8,
                },
            ),
            (
                "2026-11-17T08:00:00Z..2026-11-18",
                Window {
                    lo: t8,
                    hi: d18 + 86_400,
                },
            ),
            (
                "<=2026-11-17T08:00:00",
                Window {
                    lo: i64::MIN,
                    hi: t8 + 1,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn nonsense_is_an_error_naming_it() {
        for text in ["yesterday", ">=2026-13-01", "2026-11-01..soon"] {
            let err = parse(text).unwrap_err();
            assert!(err.contains('`'), "{text}: {err}");
        }
    }
}
