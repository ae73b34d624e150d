//! `watch`: keeps an index fresh, one [`sync`](crate::sync()) after another, until cancelled.
//!
//! Every cycle is a sync through one client kept for the whole watch, so that its request
//! budget paces across cycles and its `etag`s turn an unchanged listing into a free `304`: an
//! idle cycle costs no request GitHub counts. What is done is in the index (its attempt
//! records), so a watch stopped and started again goes on where it was, and an attempt that
//! completed while a cycle ran is the next cycle's. A cycle that fails as a whole (GitHub
//! unreachable, answering 5xx for every listing, blob storage down) does not end the watch:
//! the next waits twice as long, up to [`WatchOptions::max_backoff`], until one succeeds. A
//! token GitHub refuses, and an index that cannot be written, end it with their error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::sync::{SyncError, SyncOptions, SyncReporter, SyncSummary, sync_with};

/// How often a watch syncs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOptions {
    /// From the start of a cycle to the start of the next (default a minute).
    pub interval: Duration,
    /// The longest wait between cycles while GitHub is down (default ten minutes).
    pub max_backoff: Duration,
    /// A `--since` written as an age (`7d`), read again at each cycle's start so that the
    /// window slides with the watch; `None` keeps `SyncOptions::filter.since` as it is (a date
    /// stays where it was written).
    pub since: Option<SlidingSince>,
}

/// An age (`7d`, `12h`: [`crate::is_age`]) back from each cycle's start: a week-long watch
/// with `--since 7d` lists the last seven days on its last day too, not two weeks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlidingSince {
    age: String,
    tz: jiff::tz::TimeZone,
}

impl SlidingSince {
    /// `written` when it is an age (months counted in `tz`); `None` for a date or a
    /// date-time, which mean the same instant at every cycle.
    pub fn of(written: &str, tz: jiff::tz::TimeZone) -> Option<SlidingSince> {
        crate::is_age(written).then(|| SlidingSince {
            age: written.trim().to_owned(),
            tz,
        })
    }

    /// The instant the age means at `now` (floored to the hour, as a sync reads it), or
    /// `None` when it cannot be (out of range).
    pub fn at(&self, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
        let context = logidx_index::TimeContext::new(now, self.tz.clone());
        crate::parse_time_bound(&self.age, logidx_index::End::Start, &context).ok()
    }
}

impl Default for WatchOptions {
    fn default() -> WatchOptions {
        WatchOptions {
            interval: Duration::from_secs(60),
            max_backoff: Duration::from_secs(600),
            since: None,
        }
    }
}

/// One cycle of a watch, as told to [`WatchReporter::on_cycle`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Cycle {
    /// From 1.
    pub number: u64,
    /// What its sync did (empty when it failed as a whole).
    pub summary: SyncSummary,
    /// Why it failed as a whole, if it did: the next cycle waits longer.
    pub error: Option<String>,
    /// The wait before the next cycle.
    pub next_in: Duration,
}

/// Hears what a watch is doing: each cycle's sync through [`SyncReporter`], and each cycle
/// as it ends.
pub trait WatchReporter: SyncReporter {
    /// A cycle ended.
    fn on_cycle(&self, _cycle: &Cycle) {}
}

/// What a watch did, once stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct WatchSummary {
    /// Cycles run, the one cut short by the stop included.
    pub cycles: u64,
    /// Cycles that failed as a whole.
    pub cycles_failed: u64,
    /// Attempts indexed, in all cycles.
    pub attempts_indexed: u64,
    /// Lines indexed.
    pub lines: u64,
    /// API requests GitHub counted.
    pub requests: u64,
    /// API requests answered `304`, not counted.
    pub requests_free: u64,
    /// Wall time.
    pub seconds: f64,
}

/// Syncs `options.repos` into `index` every [`WatchOptions::interval`] until
/// `options.cancel` is cancelled: see the module's documentation. Blocks; a cancel stops the
/// cycle under way (committing what it indexed) or the wait, at once.
///
/// Returns an error only when watching cannot go on: the token is refused, the index cannot
/// be written.
pub fn watch(
    index: &logidx_index::Index,
    options: &SyncOptions,
    watch: &WatchOptions,
    reporter: Arc<dyn WatchReporter>,
) -> Result<WatchSummary, SyncError> {
    let started = Instant::now();
    let sync_reporter: Arc<dyn SyncReporter> = reporter.clone();
    let client = options
        .client
        .clone()
        .reporter(sync_reporter.clone())
        .build()?;
    let mut total = WatchSummary::default();
    let mut failed_in_a_row = 0u32;
    let mut options = options.clone();
    while !options.cancel.is_cancelled() {
        let cycle_start = Instant::now();
        total.cycles += 1;
        slide(&mut options, watch, jiff::Timestamp::now());
        let (summary, error) = match sync_with(index, &options, &client, sync_reporter.clone()) {
            Ok(summary) => {
                let down = github_down(&summary, &options);
                (summary, down)
            }
            Err(SyncError::Fetch(e)) if passing(&e) => {
                let error = crate::sync::failure_of(&e, e.hint());
                (SyncSummary::default(), Some(error))
            }
            Err(e) => return Err(e),
        };
        total.attempts_indexed += summary.attempts_indexed;
        total.lines += summary.lines;
        total.requests += summary.requests;
        total.requests_free += summary.requests_free;
        failed_in_a_row = if error.is_some() {
            total.cycles_failed += 1;
            failed_in_a_row + 1
        } else {
            0
        };
        let wait = next_wait(watch, failed_in_a_row).saturating_sub(cycle_start.elapsed());
        reporter.on_cycle(&Cycle {
            number: total.cycles,
            summary,
            error,
            next_in: wait,
        });
        options.cancel.sleep(wait);
    }
    total.seconds = started.elapsed().as_secs_f64();
    Ok(total)
}

/// Moves a sliding `--since` to what it means `now`; a fixed one stays.
fn slide(options: &mut SyncOptions, watch: &WatchOptions, now: jiff::Timestamp) {
    if let Some(since) = watch.since.as_ref().and_then(|s| s.at(now)) {
        options.filter.since = Some(since);
    }
}

/// From one cycle's start to the next: the interval, doubled for each cycle in a row that
/// failed, up to the longest backoff (or the interval, if longer).
fn next_wait(watch: &WatchOptions, failed_in_a_row: u32) -> Duration {
    let doubled = watch.interval.saturating_mul(1 << failed_in_a_row.min(16));
    doubled.min(watch.max_backoff.max(watch.interval))
}

/// Whether a sync that ended without an error still found GitHub down: every repository's
/// listing failed, or blob storage stopped the downloads.
fn github_down(summary: &SyncSummary, options: &SyncOptions) -> Option<String> {
    if let Some(stopped) = &summary.downloads_stopped {
        return Some(stopped.clone());
    }
    let listings_failed: Vec<&str> = summary
        .failures
        .iter()
        .filter(|f| f.run_id.is_none())
        .map(|f| f.error.as_str())
        .collect();
    (!options.repos.is_empty() && listings_failed.len() >= options.repos.len())
        .then(|| listings_failed[0].to_owned())
}

/// Whether a sync's fatal error may pass by the next cycle (GitHub unreachable or failing),
/// unlike a refused token or a bad API URL.
fn passing(error: &logidx_fetch::Error) -> bool {
    !matches!(
        error,
        logidx_fetch::Error::Unauthorized { .. }
            | logidx_fetch::Error::NoToken
            | logidx_fetch::Error::BadBaseUrl(_)
            | logidx_fetch::Error::Client(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_cycles_back_off_doubling_up_to_the_longest_wait() {
        let watch = WatchOptions {
            interval: Duration::from_secs(30),
            max_backoff: Duration::from_secs(300),
            since: None,
        };
        let waits: Vec<u64> = (0..8).map(|n| next_wait(&watch, n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 300, 300, 300, 300]);
        // An interval longer than the backoff stays the interval.
        let slow = WatchOptions {
            interval: Duration::from_secs(900),
            ..watch.clone()
        };
        assert_eq!(next_wait(&slow, 3), Duration::from_secs(900));
    }

    #[test]
    fn an_age_slides_with_each_cycle_and_a_date_stays() {
        let client = logidx_fetch::Client::builder();
        let mut options = SyncOptions::new(Vec::new(), client);
        let fixed: jiff::Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
        options.filter.since = Some(fixed);
        let utc = jiff::tz::TimeZone::UTC;
        let day =
            |d: &str| -> jiff::Timestamp { format!("2026-11-{d}T09:30:00Z").parse().unwrap() };

        // A date: no sliding since, the window's start stays at every cycle.
        let dated = WatchOptions {
            since: SlidingSince::of("2026-11-01", utc.clone()),
            ..WatchOptions::default()
        };
        assert_eq!(dated.since, None);
        for now in [day("20"), day("27")] {
            slide(&mut options, &dated, now);
            assert_eq!(options.filter.since, Some(fixed));
        }

        // `7d`: seven days back from each cycle's start, floored to the hour.
        let aged = WatchOptions {
            since: SlidingSince::of(" 7d", utc),
            ..WatchOptions::default()
        };
        let mut starts = Vec::new();
        for now in [
            day("20"),
            day("20") + jiff::SignedDuration::from_mins(20),
            day("27"),
        ] {
            slide(&mut options, &aged, now);
            starts.push(options.filter.since.unwrap().to_string());
        }
        assert_eq!(
            starts,
            [
                "2026-11-13T09:00:00Z",
                "2026-11-13T09:00:00Z",
                "2026-11-20T09:00:00Z"
            ]
        );
    }
}
