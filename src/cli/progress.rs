//! Sync progress on stderr: one live line on a terminal, plain lines otherwise. When stderr
//! is closed or full, the sync stops (committing what it indexed) and says nothing more.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use logidx::owners::SkipReason;
use logidx::{
    AttemptDone, BudgetStatus, Cancel, Cycle, Outcome, RepoName, Reporter, SyncReporter,
    WatchReporter,
};

use super::Colors;
use super::color::inert;

/// Tells the user what a sync is doing.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    colors: Colors,
    verbose: bool,
    quiet: bool,
    /// Set to stop the sync when stderr is gone.
    cancel: Cancel,
    /// How the first failed write to stderr failed; nothing is written after it.
    stderr_gone: OnceLock<std::io::ErrorKind>,
    runs: AtomicU64,
    archives: AtomicU64,
    bytes: AtomicU64,
    lines: AtomicU64,
    /// API requests GitHub counted, and what is left of the budget (`u64::MAX`: not known).
    requests: AtomicU64,
    budget_left: AtomicU64,
    /// A watch: each cycle's sync says its plain lines only with -v.
    watching: AtomicBool,
    /// What runs after each watch cycle (the command's notifications).
    after_cycle: std::sync::Mutex<Option<CycleHook>>,
}

/// Runs after a watch cycle, with the progress to warn through.
pub(crate) type CycleHook = Box<dyn Fn(&Progress, &Cycle) + Send + Sync>;

impl Progress {
    /// A live line when `live` (stderr is a terminal and not `--quiet`), else plain lines;
    /// `cancel` stops the sync if stderr goes away.
    pub(crate) fn new(
        live: bool,
        colors: Colors,
        verbose: bool,
        quiet: bool,
        cancel: Cancel,
    ) -> Progress {
        let bar = live.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .expect("the template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            colors,
            verbose,
            quiet,
            cancel,
            stderr_gone: OnceLock::new(),
            runs: AtomicU64::new(0),
            archives: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            lines: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            budget_left: AtomicU64::new(u64::MAX),
            watching: AtomicBool::new(false),
            after_cycle: std::sync::Mutex::new(None),
        }
    }

    /// Runs `hook` after each watch cycle from now on, until [`Progress::take_cycle_hook`].
    pub(crate) fn after_each_cycle(&self, hook: CycleHook) {
        *self.after_cycle.lock().expect("hook lock") = Some(hook);
    }

    /// Stops running the hook after cycles, and gives it back (with what it holds).
    pub(crate) fn take_cycle_hook(&self) -> Option<CycleHook> {
        self.after_cycle.lock().expect("hook lock").take()
    }

    /// From now on, progress of a watch: a line per cycle with -v, and the plain lines of
    /// each cycle's sync only with -v.
    pub(crate) fn watching(&self) {
        self.watching.store(true, Ordering::Relaxed);
    }

    /// Whether a sync's plain progress lines are said: without a live line (and not in a
    /// watch), or with -v.
    fn plain(&self) -> bool {
        !self.quiet
            && ((self.bar.is_none() && !self.watching.load(Ordering::Relaxed)) || self.verbose)
    }

    /// ` · 120 API requests (3,880 left)`, once a request was made.
    fn budget(&self) -> String {
        let requests = self.requests.load(Ordering::Relaxed);
        if requests == 0 {
            return String::new();
        }
        match self.budget_left.load(Ordering::Relaxed) {
            u64::MAX => format!(" · {} API requests", HumanCount(requests)),
            left => format!(
                " · {} API requests ({} left)",
                HumanCount(requests),
                HumanCount(left)
            ),
        }
    }

    /// Removes the live line.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// How writing to stderr failed, if it did.
    pub(crate) fn stderr_gone(&self) -> Option<std::io::ErrorKind> {
        self.stderr_gone.get().copied()
    }

    fn say(&self, line: &str) {
        if self.stderr_gone.get().is_some() {
            return;
        }
        match &self.bar {
            // A terminal that goes away hangs up: SIGHUP stops the sync.
            Some(bar) => bar.println(line),
            None => {
                if let Err(e) = super::say(line)
                    && self.stderr_gone.set(e.kind()).is_ok()
                {
                    self.cancel.cancel();
                }
            }
        }
    }

    /// Says `line` after `warning:`; `line` may quote GitHub's names and is made inert.
    pub(crate) fn warn(&self, line: &str) {
        if !self.quiet {
            self.say(&format!(
                "{} {}",
                self.colors.warning("warning:"),
                inert(line)
            ));
        }
    }

    /// Says `line` after `failed:`; `line` may quote GitHub's names and is made inert.
    fn fail(&self, line: &str) {
        self.say(&format!("{} {}", self.colors.error("failed:"), inert(line)));
    }

    fn refresh(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{} runs listed · {} archives ({}) · {} lines indexed{}",
                self.runs.load(Ordering::Relaxed),
                self.archives.load(Ordering::Relaxed),
                mebibytes(self.bytes.load(Ordering::Relaxed)),
                HumanCount(self.lines.load(Ordering::Relaxed)),
                self.budget(),
            ));
        }
    }
}

impl Reporter for Progress {
    fn on_runs_listed(&self, runs: usize) {
        self.runs.fetch_add(runs as u64, Ordering::Relaxed);
        self.refresh();
    }

    fn on_rate_limited(&self, resume_at: jiff::Timestamp) {
        let at = resume_at.strftime("%H:%M:%S UTC");
        self.warn(&format!("rate limited, resuming at {at}"));
    }

    fn on_budget(&self, budget: &BudgetStatus) {
        self.requests.store(budget.spent, Ordering::Relaxed);
        let left = budget.left.unwrap_or(u64::MAX);
        self.budget_left.store(left, Ordering::Relaxed);
    }

    fn on_retry(&self, what: &str, try_number: u32, reason: &str, wait: Duration) {
        if self.verbose {
            self.say(&inert(&format!(
                "retrying {what} (try {try_number}) in {:.1} s: {reason}",
                wait.as_secs_f64()
            )));
        }
    }

    fn on_download_progress(&self, _run_id: u64, _attempt: u32, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.refresh();
    }
}

impl SyncReporter for Progress {
    fn on_attempts_queued(&self, repo: &RepoName, attempts: usize) {
        if self.plain() {
            let runs = self.runs.load(Ordering::Relaxed);
            self.say(&inert(&format!(
                "{repo}: {runs} runs listed, {attempts} attempts to fetch"
            )));
        }
    }

    fn on_attempt_done(&self, done: &AttemptDone) {
        let what = format!("{} run {} attempt {}", done.repo, done.run_id, done.attempt);
        match &done.outcome {
            Outcome::Indexed {
                lines, warnings, ..
            } => {
                self.archives.fetch_add(1, Ordering::Relaxed);
                self.lines.fetch_add(*lines, Ordering::Relaxed);
                if self.verbose {
                    self.say(&inert(&format!("{what}: {} lines", HumanCount(*lines))));
                    for warning in warnings {
                        self.warn(&format!("{what}: {warning}"));
                    }
                }
                self.refresh();
            }
            Outcome::Gone { status } if self.verbose => {
                self.say(&inert(&format!("{what}: logs gone (HTTP {status})")));
            }
            Outcome::NotFound { syncs } if self.verbose => self.say(&inert(&format!(
                "{what}: logs not found (HTTP 404, {syncs} syncs so far); the next sync asks again"
            ))),
            Outcome::NotReady => self.warn(&format!(
                "{what}: logs not ready yet; the next sync will fetch them"
            )),
            // Listed in the summary; as they happen only with -v, so each is printed once.
            Outcome::Failed { error } if self.verbose => {
                self.fail(&format!("{what}: {error}"));
            }
            // Quiet, or an outcome added later without words here yet.
            _ => {}
        }
    }

    fn on_repo_failed(&self, repo: &RepoName, error: &str) {
        if self.verbose {
            self.fail(&format!("{repo}: {error}"));
        }
    }

    fn on_repo_skipped(&self, repo: &str, reason: &SkipReason) {
        if self.verbose {
            self.say(&inert(&format!("skipped {repo}: {reason}")));
        }
    }

    fn on_downloads_stopped(&self, reason: &str) {
        // Said even with -q: the sync ends with work left undone.
        self.fail(&format!(
            "{reason}; stopping downloads: the remaining attempts are left for the next sync"
        ));
    }

    fn on_committed(&self, lines: u64) {
        // Without a live line, each commit is the plain progress line.
        if self.plain() {
            self.say(&format!(
                "indexed {} archives ({}), {} lines; committed{}",
                self.archives.load(Ordering::Relaxed),
                mebibytes(self.bytes.load(Ordering::Relaxed)),
                HumanCount(lines),
                self.budget(),
            ));
        }
    }
}

impl WatchReporter for Progress {
    fn on_cycle(&self, cycle: &Cycle) {
        if let Some(hook) = &*self.after_cycle.lock().expect("hook lock") {
            hook(self, cycle);
        }
        let next = format!("next in {:.0} s", cycle.next_in.as_secs_f64().ceil());
        if let Some(error) = &cycle.error {
            // GitHub is down: said without -v too, since the watch slows down.
            self.warn(&format!("cycle {} failed: {error}; {next}", cycle.number));
            return;
        }
        if self.verbose {
            let s = &cycle.summary;
            let left = s
                .budget_left
                .map(|left| format!(", {} left", HumanCount(left)))
                .unwrap_or_default();
            self.say(&inert(&format!(
                "cycle {}: {} runs listed, {} attempts indexed ({} lines), {} in progress, {} failed; {} API requests ({} free{left}) in {:.2} s; {next}",
                cycle.number,
                HumanCount(s.runs),
                HumanCount(s.attempts_indexed),
                HumanCount(s.lines),
                s.attempts_in_progress,
                s.attempts_failed,
                HumanCount(s.requests),
                HumanCount(s.requests_free),
                s.seconds,
            )));
        }
    }
}

/// Bytes as `12.3 MiB`: the README's wording (indicatif's `HumanBytes` says `12.30 MiB`).
pub(crate) fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        let thousands = |n| HumanCount(n).to_string();
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
