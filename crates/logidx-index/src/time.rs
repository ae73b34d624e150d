//! Time as the index keeps it (nanoseconds since the Unix epoch) and as users write it.

/// Nanoseconds in a day: lines are grouped by UTC day numbered from the epoch.
pub(crate) const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// The `2024-01-31` name of a day numbered from the epoch.
pub(crate) fn day_name(day: i64) -> String {
    jiff::Timestamp::from_second(day * 86_400)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| day.to_string())
}
