//! The runner's timestamp prefix, `2024-01-28T19:27:26.0547628Z `, parsed fast.
//!
//! Consecutive lines mostly share their minute, and often their second: a cache keeps the last
//! of each, so most lines only parse their fraction. A minute met for the first time is
//! checked by `jiff` (no February 30th), so an impossible date is no timestamp at all.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Parses the runner's prefix `2024-01-28T19:27:26.0547628Z ` (1 to 9 fractional digits, or
/// none; the space may be missing at the end of the line, before a CR or line feed). Returns
/// the instant and the prefix's length.
///
/// Impossible dates (`2024-02-30`, hour 24) are refused, and so are instants outside
/// 1677–2262, which nanoseconds since the epoch in an `i64` cannot hold.
pub fn parse_timestamp(line: &[u8]) -> Option<(Timestamp, usize)> {
    let (nanos, len) = parse_nanos(line)?;
    Some((timestamp_of(nanos)?, len))
}

/// [`parse_timestamp`] as nanoseconds since the epoch, without the cache.
pub(crate) fn parse_nanos(line: &[u8]) -> Option<(i64, usize)> {
    let minute = parse_minute(line)?;
    let (within, len) = parse_second(line)?;
    Some((minute.checked_add(within)?, len))
}

/// The instant `nanos` nanoseconds after the epoch: two `i64` operations by a constant and
/// `Timestamp::new`, cheap enough for every line.
///
/// Never `None` (jiff's years -9999 to 9999 hold every `i64` of nanoseconds), but an `Option`
/// rather than a panic lets the compiler drop the work where a line's time goes unread.
#[inline]
pub(crate) fn timestamp_of(nanos: i64) -> Option<Timestamp> {
    let (second, nanosecond) = (
        nanos.div_euclid(NANOS_PER_SECOND),
        nanos.rem_euclid(NANOS_PER_SECOND),
    );
    Timestamp::new(second, nanosecond as i32).ok()
}

/// Remembers the last minute `YYYY-MM-DDTHH:MM:` and second `YYYY-MM-DDTHH:MM:SS` seen:
/// consecutive lines mostly share the minute, and often the second, so only what follows
/// needs parsing.
#[derive(Default)]
pub(crate) struct StampCache {
    minute: [u8; MINUTE_LEN],
    minute_nanos: Option<i64>,
    second: [u8; SECOND_LEN],
    second_nanos: Option<i64>,
}

const MINUTE_LEN: usize = 17;
const SECOND_LEN: usize = MINUTE_LEN + 2;
/// The runner's `.fffffffZ ` after the second.
const RUNNER_FRACTION_LEN: usize = 10;

impl StampCache {
    /// [`parse_nanos`], remembering the minute and second for the next line.
    pub(crate) fn parse(&mut self, line: &[u8]) -> Option<(i64, usize)> {
        if let Some(second_nanos) = self.second_nanos
            && let Some(&[b'.', f0, f1, f2, f3, f4, f5, f6, b'Z', b' ']) =
                line.get(SECOND_LEN..SECOND_LEN + RUNNER_FRACTION_LEN)
            && line[..SECOND_LEN] == self.second
            && let Some(fraction) = eight_digits([f0, f1, f2, f3, f4, f5, f6, b'0'])
        {
            return Some((
                second_nanos.checked_add(fraction * 10)?,
                SECOND_LEN + RUNNER_FRACTION_LEN,
            ));
        }
        let prefix: &[u8; MINUTE_LEN] = line.get(..MINUTE_LEN)?.try_into().ok()?;
        let minute = match self.minute_nanos {
            Some(nanos) if *prefix == self.minute => nanos,
            _ => {
                let nanos = parse_minute(line)?;
                self.minute.copy_from_slice(prefix);
                self.minute_nanos = Some(nanos);
                nanos
            }
        };
        let (within, len) = parse_second(line)?;
        let nanos = minute.checked_add(within)?;
        self.second.copy_from_slice(&line[..SECOND_LEN]);
        self.second_nanos = Some(nanos - within % NANOS_PER_SECOND);
        Some((nanos, len))
    }
}

/// `YYYY-MM-DDTHH:MM:` to nanoseconds since the epoch; `None` unless it is a real minute.
fn parse_minute(line: &[u8]) -> Option<i64> {
    if line.len() < MINUTE_LEN || line[4] != b'-' || line[7] != b'-' || line[10] != b'T' {
        return None;
    }
    if line[13] != b':' || line[16] != b':' {
        return None;
    }
    let field = |range: std::ops::Range<usize>| digits(&line[range]);
    let year = i16::try_from(field(0..4)?).ok()?;
    let [month, day, hour, minute] =
        [field(5..7)?, field(8..10)?, field(11..13)?, field(14..16)?].map(|n| n as i8);
    // Once per minute met, not per line: jiff's checks (month lengths, leap years) are cheap.
    let start = DateTime::new(year, month, day, hour, minute, 0, 0).ok()?;
    let second = Offset::UTC.to_timestamp(start).ok()?.as_second();
    // Nanoseconds in an i64 end in 2262: a later year is no timestamp (a corrupt or odd line).
    second.checked_mul(NANOS_PER_SECOND)
}

/// `SS.fffffffZ ` after the minute: nanoseconds within the minute and the prefix's length.
fn parse_second(line: &[u8]) -> Option<(i64, usize)> {
    // The runner writes `SS.fffffffZ `: its nine digits read as one number, most at once.
    if let Some(&[s0, s1, b'.', f0, f1, f2, f3, f4, f5, f6, b'Z', b' ']) =
        line.get(MINUTE_LEN..MINUTE_LEN + 12)
        && let Some(leading) = eight_digits([s0, s1, f0, f1, f2, f3, f4, f5])
        && f6.is_ascii_digit()
    {
        // Seconds and 100-nanosecond ticks.
        let ticks = leading * 10 + i64::from(f6 - b'0');
        return (ticks < 61 * 10_000_000).then_some((ticks * 100, MINUTE_LEN + 12));
    }
    let second = digits(line.get(MINUTE_LEN..MINUTE_LEN + 2)?)?;
    if second > 60 {
        return None;
    }
    let mut i = MINUTE_LEN + 2;
    let mut nanos = 0;
    if line.get(i) == Some(&b'.') {
        i += 1;
        let digits_start = i;
        while i < line.len() && line[i].is_ascii_digit() && i - digits_start < 9 {
            nanos = nanos * 10 + i64::from(line[i] - b'0');
            i += 1;
        }
        let count = i - digits_start;
        if count == 0 {
            return None;
        }
        nanos *= 10_i64.pow(9 - count as u32);
    }
    if line.get(i) != Some(&b'Z') {
        return None;
    }
    i += 1;
    match line.get(i) {
        Some(b' ') => i += 1,
        None | Some(b'\r' | b'\n') => {}
        Some(_) => return None,
    }
    Some((second * NANOS_PER_SECOND + nanos, i))
}

/// Eight ASCII digits as a number, all at once.
#[inline]
fn eight_digits(bytes: [u8; 8]) -> Option<i64> {
    const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    let word = u64::from_le_bytes(bytes);
    // Each byte is 0x30..=0x39: its high nibble is 3, and adding 6 does not change that.
    let is_digits = word & HIGH_NIBBLES == ZEROS
        && word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES == ZEROS;
    if !is_digits {
        return None;
    }
    // Neighbouring digits to numbers of two, then four, then eight digits, in their lanes.
    let mut value = word - ZEROS;
    value = (value * 10 + (value >> 8)) & 0x00ff_00ff_00ff_00ff;
    value = (value * 100 + (value >> 16)) & 0x0000_ffff_0000_ffff;
    value = (value * 10_000 + (value >> 32)) & 0xffff_ffff;
    Some(value as i64)
}

fn digits(bytes: &[u8]) -> Option<i64> {
    bytes.iter().try_fold(0, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::Lines;
    use proptest::prelude::*;

    #[test]
    fn timestamps_match_jiff() {
        let cases = [
            "2024-01-28T19:27:26.0547628Z",
            "1970-01-01T00:00:00.0000000Z",
            "2000-02-29T23:59:59.9999999Z",
            "2026-11-24T07:00:00Z",
            "2024-03-01T00:00:00.5Z",
        ];
        for case in cases {
            let want: Timestamp = case.parse().unwrap();
            let (stamp, len) = parse_timestamp(case.as_bytes()).unwrap();
            assert_eq!(stamp, want, "{case}");
            assert_eq!(len, case.len());
        }
        assert_eq!(
            parse_timestamp(b"2024-01-28T19:27:26.0547628Z hello").map(|t| t.1),
            Some(29)
        );
        let mut cache = StampCache::default();
        for case in cases.iter().chain(&cases) {
            assert_eq!(cache.parse(case.as_bytes()), parse_nanos(case.as_bytes()));
        }
    }

    #[test]
    fn non_timestamps_are_refused() {
        for case in [
            "",
            "log line 1",
            "2024-01-28T19:27:26.0547628",
            "2024-13-28T19:27:26.0547628Z x",
            "2024-01-28T24:27:26.0547628Z x",
            "2024-01-28T19:27:26.Z x",
            "2024-01-28T19:27:26.0547628Zx",
            "2024-01-28 19:27:26.0547628Z x",
            // Past what nanoseconds in an i64 hold (2262), or before year 0 of them (1677).
            "9999-01-28T19:27:26.0547628Z x",
            "2262-04-11T23:47:16.9999999Z x",
            "0000-01-28T19:27:26.0547628Z x",
        ] {
            assert_eq!(parse_timestamp(case.as_bytes()), None, "{case:?}");
        }
    }

    #[test]
    fn impossible_dates_are_no_timestamps() {
        let cases = [
            ("2024-02-30T10:00:00.0000000Z x", false),
            ("2023-02-29T10:00:00.0000000Z x", false),
            ("2024-02-29T10:00:00.0000000Z x", true),
            ("2024-04-31T10:00:00.0000000Z x", false),
            ("2024-13-01T10:00:00.0000000Z x", false),
            ("2024-00-01T10:00:00.0000000Z x", false),
            ("2024-01-00T10:00:00.0000000Z x", false),
            ("2024-01-28T24:00:00.0000000Z x", false),
            ("2024-01-28T10:60:00.0000000Z x", false),
        ];
        for (case, valid) in cases {
            let line = case.as_bytes();
            assert_eq!(parse_timestamp(line).is_some(), valid, "{case}");
            // Whether the cache is cold, holds another minute, or that very minute's line.
            let mut cache = StampCache::default();
            assert_eq!(cache.parse(line).is_some(), valid, "{case}");
            assert_eq!(cache.parse(line).is_some(), valid, "{case}");
            cache.parse(b"2024-02-29T10:00:00.0000000Z x");
            assert_eq!(cache.parse(line).is_some(), valid, "{case}");
            // An impossible stamp is text on a continuation line, as a malformed one is.
            let raw = format!("2024-01-28T19:27:26.0547628Z before\n{case}\n");
            let lines = Lines::parse(raw.as_bytes());
            let (before, line) = (lines.get(0), lines.get(1));
            if valid {
                assert_eq!(line.text, "x");
                assert_ne!(line.timestamp, before.timestamp);
            } else {
                assert_eq!(line.text, case, "{case}");
                assert_eq!(line.timestamp, before.timestamp, "{case}");
            }
        }
    }

    #[test]
    fn a_cached_second_does_not_overflow_past_2262() {
        // The last nanosecond an i64 holds is 2262-04-11T23:47:16.854775807.
        let first = b"2262-04-11T23:47:16.0000000Z x";
        let second = b"2262-04-11T23:47:16.9999999Z y";
        let mut cache = StampCache::default();
        assert_eq!(cache.parse(first), parse_nanos(first));
        assert!(cache.parse(first).is_some());
        assert_eq!(cache.parse(second), None);
        let lines =
            Lines::parse(b"2262-04-11T23:47:16.0000000Z x\n2262-04-11T23:47:16.9999999Z y\n");
        assert_eq!(lines.get(1).text, "2262-04-11T23:47:16.9999999Z y");
        assert_eq!(lines.get(1).timestamp, lines.get(0).timestamp);
    }

    #[test]
    fn a_timestamp_ends_at_a_space_a_cr_or_a_line_feed() {
        let stamp = "2024-01-28T19:27:26.0547628Z";
        for (after, len) in [(" x", Some(29)), ("\r\n", Some(28)), ("\nnext", Some(28))] {
            let line = format!("{stamp}{after}");
            assert_eq!(
                parse_timestamp(line.as_bytes()).map(|t| t.1),
                len,
                "{after:?}"
            );
        }
        assert_eq!(parse_timestamp(format!("{stamp}\tx").as_bytes()), None);
        // A line that stops inside its timestamp does not borrow the next line's bytes.
        let lines = Lines::parse(b"2024-01-28T19:27\n:26.0547628Z x\n");
        let texts: Vec<&str> = lines.iter().map(|l| l.text).collect();
        assert_eq!(texts, ["2024-01-28T19:27", ":26.0547628Z x"]);
        assert!(lines.iter().all(|l| l.timestamp.is_none()));
    }

    #[test]
    fn nanoseconds_become_the_same_instant() {
        for nanos in [0, 1, -1, 999_999_999, -1_000_000_001, i64::MIN, i64::MAX] {
            assert_eq!(
                timestamp_of(nanos).map(Timestamp::as_nanosecond),
                Some(i128::from(nanos)),
                "{nanos}"
            );
        }
    }

    proptest! {
        #[test]
        fn the_stamp_cache_reads_as_parsing_afresh(stamps in proptest::collection::vec((0i64..2, 0i64..3, 0i64..10_000_000, 0usize..3), 1..40)) {
            let mut cache = StampCache::default();
            for (minute, second, ticks, form) in stamps {
                let stamp = Timestamp::new(1_706_000_000 + minute * 60 + second, (ticks * 100) as i32).unwrap();
                let format = ["%Y-%m-%dT%H:%M:%S%.7fZ x", "%Y-%m-%dT%H:%M:%S%.3fZ x", "%Y-%m-%dT%H:%M:%S%.7fZ"][form];
                let line = stamp.strftime(format).to_string();
                prop_assert_eq!(cache.parse(line.as_bytes()), parse_nanos(line.as_bytes()), "{}", line);
            }
        }

        #[test]
        fn eight_digits_read_as_a_byte_loop_would(bytes in proptest::array::uniform8(prop_oneof![4 => 0x30u8..=0x39, 1 => any::<u8>()])) {
            prop_assert_eq!(eight_digits(bytes), digits(&bytes));
        }
    }
}
