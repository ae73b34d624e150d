//! Times as GitHub writes them: whole seconds in the API, 100 ns ticks in log lines.

use jiff::Timestamp;

/// Log timestamps have 7 fractional digits: one tick is 100 ns.
pub(crate) const TICKS_PER_SEC: i64 = 10_000_000;

/// A log-line instant in 100 ns ticks since the Unix epoch.
pub(crate) type Ticks = i64;

#[cfg(test)]
pub(crate) fn ticks_of(ts: Timestamp) -> Ticks {
    ts.as_second() * TICKS_PER_SEC + i64::from(ts.subsec_nanosecond()) / 100
}

pub(crate) fn second_of(ticks: Ticks) -> i64 {
    ticks.div_euclid(TICKS_PER_SEC)
}

pub(crate) fn ts_of_second(second: i64) -> Timestamp {
    Timestamp::from_second(second).expect("generated times are within jiff's range")
}

/// `2024-01-28T19:27:26Z`: how the API writes run, job and step times.
pub(crate) fn api_time(second: i64) -> String {
    ts_of_second(second).to_string()
}

/// `2020-01-20T09:42:40.000-08:00`: the other shape GitHub's documented examples use for step
/// times, which clients must read as well.
pub(crate) fn api_time_with_offset(second: i64, offset_hours: i8) -> String {
    let offset = jiff::tz::Offset::constant(offset_hours);
    let dt = offset.to_datetime(ts_of_second(second));
    format!(
        "{}.000{}",
        dt.strftime("%Y-%m-%dT%H:%M:%S"),
        offset_string(offset_hours)
    )
}

fn offset_string(hours: i8) -> String {
    let sign = if hours < 0 { '-' } else { '+' };
    format!("{sign}{:02}:00", hours.unsigned_abs())
}

/// Writes `2024-01-28T19:27:26.0547628Z ` prefixes, formatting each second's date once.
#[derive(Default)]
pub(crate) struct LineClock {
    second: Option<i64>,
    prefix: String,
}

impl LineClock {
    pub(crate) fn write(&mut self, ticks: Ticks, out: &mut Vec<u8>) {
        let second = second_of(ticks);
        if self.second != Some(second) {
            self.prefix = ts_of_second(second)
                .strftime("%Y-%m-%dT%H:%M:%S.")
                .to_string();
            self.second = Some(second);
        }
        out.extend_from_slice(self.prefix.as_bytes());
        let frac = ticks.rem_euclid(TICKS_PER_SEC);
        let mut digits = [b'0'; 7];
        let mut f = frac;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (f % 10) as u8;
            f /= 10;
        }
        out.extend_from_slice(&digits);
        out.extend_from_slice(b"Z ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_prefix_has_seven_fraction_digits() {
        let ts: Timestamp = "2024-01-28T19:27:26.0547628Z".parse().unwrap();
        let mut out = Vec::new();
        LineClock::default().write(ticks_of(ts), &mut out);
        assert_eq!(out, b"2024-01-28T19:27:26.0547628Z ");
    }

    #[test]
    fn offset_times_name_the_same_instant() {
        let second = 1_579_542_160; // 2020-01-20T17:42:40Z
        let text = api_time_with_offset(second, -8);
        assert_eq!(text, "2020-01-20T09:42:40.000-08:00");
        let parsed: Timestamp = text.parse().unwrap();
        assert_eq!(parsed.as_second(), second);
    }
}
