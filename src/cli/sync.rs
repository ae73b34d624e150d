//! `logidx sync`: the library's sync with a token, progress, signals and a summary.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};

use anyhow::Context as _;
use logidx::fetch::{AppKey, GitHubApp, Installation};
use logidx::notify::{Message, Notifier, NotifyReporter};
use logidx::owners::{OwnerFilter, SkipReason, Target};
use logidx::{
    BudgetPolicy, Cancel, Client, RunFilter, SlidingSince, SyncOptions, SyncSummary, WatchOptions,
    WatchSummary,
};

use super::args::SyncArgs;
use indicatif::HumanCount;

use super::color::inert;
use super::progress::{Progress, mebibytes};
use super::{Context, FAILED, one_of};

pub(crate) fn run(context: &Context, args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let targets = args
        .repos
        .iter()
        .map(|r| r.parse::<Target>())
        .collect::<Result<Vec<_>, _>>()?;
    let (since, until) = context.window(
        Some(args.since.as_deref().unwrap_or(super::DEFAULT_SINCE)),
        args.until.as_deref(),
    )?;
    let filter = RunFilter {
        since,
        // The listing's `created` range includes its end; the window excludes it.
        until: until.map(|u| u - jiff::SignedDuration::from_nanos(1)),
        branch: args.branch.clone(),
        event: args
            .event
            .as_deref()
            .map(|e| one_of("--event", e, logidx::index::EVENTS))
            .transpose()?,
        workflow: args.workflow.clone(),
        status: args
            .status
            .as_deref()
            .map(|s| one_of("--status", s, logidx::fetch::RUN_STATUSES))
            .transpose()?,
        actor: args.actor.clone(),
    };
    let app = github_app(args, &targets)?;
    let index = context.open_or_create_index()?;
    let client = Client::builder()
        .api_url(context.api_url())
        .download_concurrency(usize::from(args.jobs))
        .etag_dir(index.path().join("etags"))
        .budget(BudgetPolicy {
            reserve_percent: args.reserve,
            max_rate: args.max_rate,
            // A watch runs for hours: it spreads its requests over each window.
            even: args.watch.is_some(),
        });
    let client = match app {
        Some(app) => client.app(app),
        None => client.token(logidx::discover_token(Some(&context.token_host()))?),
    };
    let (mut repos, mut owners) = (Vec::new(), Vec::new());
    for target in targets {
        match target {
            Target::Repo(repo) => repos.push(repo),
            Target::Owner(owner) => owners.push(owner),
        }
    }
    let mut options = SyncOptions::new(repos, client);
    options.owners = owners;
    options.owner_filter = OwnerFilter {
        exclude: args.exclude.clone(),
        include_archived: args.include_archived,
        include_forks: args.include_forks,
    };
    options.filter = filter;
    options.downloads = usize::from(args.jobs);
    options.commit_interval = std::time::Duration::from_secs(args.commit_every);
    options.retry_gone = args.retry_gone;
    options.retry_failed = args.retry_failed;
    options.limits = logidx::extract::Limits {
        max_entry_bytes: args.max_entry_size,
        max_archive_bytes: args.max_archive_size,
    };
    let signalled = stop_on_signals(options.cancel.clone())?;
    // Started first, so that what an earlier sync could not deliver goes out meanwhile.
    let notifier = (!args.notify.is_empty())
        .then(|| {
            let reporter = Arc::new(NotifyReport {
                verbose: context.verbose,
                quiet: context.quiet,
            });
            Notifier::start(args.notify.clone(), index.path(), reporter).map(Arc::new)
        })
        .transpose()?;

    let live = std::io::stderr().is_terminal() && !context.quiet;
    let progress = Arc::new(Progress::new(
        live,
        context.stderr_colors(),
        context.verbose,
        context.quiet,
        options.cancel.clone(),
    ));
    if let Some(interval) = args.watch {
        let watch = WatchOptions {
            interval,
            since: SlidingSince::of(
                args.since.as_deref().unwrap_or(super::DEFAULT_SINCE),
                context.time.tz.clone(),
            ),
            ..WatchOptions::default()
        };
        progress.watching();
        if let Some(notifier) = notifier.clone() {
            let (dir, web_base) = (index.path().to_path_buf(), context.web_base());
            progress.after_each_cycle(Box::new(move |progress, cycle| {
                let queued = queue_notifications(&dir, &notifier, &cycle.summary, &web_base);
                if let Err(error) = queued {
                    let error = anyhow::Error::new(error);
                    progress.warn(&format!("cannot notify: {error:#}"));
                }
            }));
        }
        let result = logidx::watch(&index, &options, &watch, progress.clone());
        drop(progress.take_cycle_hook());
        if let Some(notifier) = notifier.and_then(Arc::into_inner) {
            finish_notifications(context, notifier);
        }
        progress.finish();
        let summary = result?;
        let mut out = std::io::stdout().lock();
        if args.json {
            logidx::json::write_line(&mut out, &summary)?;
        } else if !context.quiet {
            print_watch_summary(&mut out, &summary)?;
        }
        // Stopped by a signal is how a watch ends.
        return Ok(match progress.stderr_gone() {
            Some(gone) if gone != std::io::ErrorKind::BrokenPipe => ExitCode::from(FAILED),
            _ => ExitCode::SUCCESS,
        });
    }
    let result = logidx::sync(&index, &options, progress.clone());
    progress.finish();
    let summary = result?;
    if let Some(notifier) = notifier.and_then(Arc::into_inner) {
        let queued = queue_notifications(index.path(), &notifier, &summary, &context.web_base());
        if let Err(error) = queued {
            context.warn(&format!("cannot notify: {:#}", anyhow::Error::new(error)));
        }
        finish_notifications(context, notifier);
    }

    let mut out = std::io::stdout().lock();
    if args.json {
        logidx::json::write_line(&mut out, &summary)?;
    } else if !context.quiet || summary.has_failures() {
        print_summary(&mut out, context, &summary)?;
    }
    let signalled = signalled.load(Ordering::SeqCst);
    Ok(if summary.cancelled && signalled != 0 {
        ExitCode::from(signalled)
    } else if let Some(gone) = progress.stderr_gone() {
        // Like a closed stdout: the reader left, nothing was wrong. A full disk is an error.
        if gone == std::io::ErrorKind::BrokenPipe {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(FAILED)
        }
    } else if summary.has_failures() {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The GitHub App of `--app-id` and `--app-key`, working as `--installation` or the one on
/// the first target. The key's file is named in errors; what is in it never is.
fn github_app(args: &SyncArgs, targets: &[Target]) -> anyhow::Result<Option<GitHubApp>> {
    let (Some(id), Some(path)) = (&args.app_id, &args.app_key) else {
        return Ok(None);
    };
    let pem = std::fs::read(path)
        .with_context(|| format!("cannot read the GitHub App's key `{}`", path.display()))?;
    let key = AppKey::from_pem(&pem)
        .with_context(|| format!("cannot use the GitHub App's key `{}`", path.display()))?;
    let installation = match (args.installation, targets.first()) {
        (Some(id), _) => Installation::Id(id),
        (None, Some(Target::Owner(owner))) => Installation::Owner(owner.clone()),
        (None, Some(Target::Repo(repo))) => Installation::Repo(repo.clone()),
        (None, None) => anyhow::bail!("nothing to sync"),
    };
    Ok(Some(GitHubApp::new(id.trim(), key, installation)))
}

/// How long a sync waits at its end for webhooks to take its messages.
const NOTIFY_FLUSH: Duration = Duration::from_secs(5);

/// Queues the messages of what a sync (or a watch cycle) indexed, from the index at `dir` as
/// last committed; how many messages were queued.
fn queue_notifications(
    dir: &std::path::Path,
    notifier: &Notifier,
    summary: &logidx::SyncSummary,
    web_base: &str,
) -> Result<usize, logidx::notify::NotifyError> {
    let indexed = &summary.indexed;
    for (repo, branch) in &summary.default_branches {
        notifier.set_default_branch(repo, branch);
    }
    if indexed.is_empty() {
        return Ok(0);
    }
    let index = logidx::Index::open_read_only(dir)?;
    notifier.notify(&index, indexed, web_base)
}

/// Waits a bounded time for webhooks to take the messages queued, and says what is left.
/// Failing to notify never fails the sync: it is said on stderr.
fn finish_notifications(context: &Context, notifier: Notifier) {
    let done = notifier.finish(NOTIFY_FLUSH);
    if context.verbose {
        context.note(&format!("notify: {} messages sent", done.sent));
    }
    if done.pending > 0 {
        context.warn(&format!(
            "notify: {} messages not delivered yet; the next sync sends them",
            done.pending
        ));
    }
    if done.dropped > 0 {
        context.warn(&format!(
            "notify: {} messages dropped: more than a thousand were waiting",
            done.dropped
        ));
    }
}

/// Says how webhooks answer: failures on stderr (unless `--quiet`), deliveries with `-v`.
struct NotifyReport {
    verbose: bool,
    quiet: bool,
}

impl NotifyReporter for NotifyReport {
    fn on_sent(&self, url: &str, message: &Message) {
        if self.verbose {
            let what = format!(
                "notified {url}: {} run {} job {}",
                message.repo, message.run_id, message.job_name
            );
            let _ = super::say(&inert(&what));
        }
    }

    fn on_failed(&self, url: &str, _message: &Message, error: &str, retry: bool) {
        if !self.quiet {
            let then = if retry { "retrying" } else { "giving up on it" };
            let _ = super::say(&inert(&format!("warning: notify {url}: {error} ({then})")));
        }
    }
}

fn print_summary(
    out: &mut impl Write,
    context: &Context,
    summary: &SyncSummary,
) -> std::io::Result<()> {
    let colors = context.stdout_colors();
    let verb = if summary.cancelled {
        "interrupted after"
    } else {
        "synced in"
    };
    writeln!(
        out,
        "{verb} {:.1} s: {} runs; {} attempts indexed ({} lines, {} of archives), {} already indexed, {} in progress, {} gone, {} not found, {} not ready, {} failed",
        summary.seconds,
        HumanCount(summary.runs),
        HumanCount(summary.attempts_indexed),
        HumanCount(summary.lines),
        mebibytes(summary.bytes),
        HumanCount(summary.attempts_skipped),
        summary.attempts_in_progress,
        summary.attempts_gone,
        summary.attempts_not_found,
        summary.attempts_not_ready,
        summary.attempts_failed,
    )?;
    if summary.requests + summary.requests_free > 0 {
        let left = summary
            .budget_left
            .map(|left| format!("; {} left of the budget this hour", HumanCount(left)))
            .unwrap_or_default();
        writeln!(
            out,
            "API requests: {} counted, {} answered 304 (free){left}",
            HumanCount(summary.requests),
            HumanCount(summary.requests_free),
        )?;
    }
    if !summary.repos_skipped.is_empty() {
        // Counted by reason, in the order first met; -v named each on stderr.
        let mut counts: Vec<(String, usize)> = Vec::new();
        for skipped in &summary.repos_skipped {
            let label = match &skipped.reason {
                SkipReason::Excluded { .. } => "excluded",
                SkipReason::Archived => "archived",
                SkipReason::Fork => "fork",
                SkipReason::NoActions => "without Actions",
                SkipReason::NoRuns => "without runs",
                _ => "other",
            }
            .to_owned();
            match counts.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => counts.push((label, 1)),
            }
        }
        let counts: Vec<String> = counts.iter().map(|(l, n)| format!("{n} {l}")).collect();
        writeln!(
            out,
            "{} repositories synced; skipped: {}",
            summary.repos_synced,
            counts.join(", ")
        )?;
    }
    for failure in &summary.failures {
        let what = match (failure.run_id, failure.attempt) {
            (Some(run), Some(attempt)) => format!("{} run {run} attempt {attempt}", failure.repo),
            _ => failure.repo.clone(),
        };
        let failed = format!("{what}: {}", failure.error);
        writeln!(out, "{} {}", colors.error("failed:"), inert(&failed))?;
    }
    if summary.downloads_stopped.is_some() {
        // Its reason was said on stderr when it happened.
        writeln!(
            out,
            "{} downloads stopped: {} attempts are left for the next sync",
            colors.error("failed:"),
            summary.attempts_deferred
        )?;
    }
    if summary.cancelled {
        writeln!(
            out,
            "what was indexed is committed; the next sync resumes from there"
        )?;
    }
    Ok(())
}

fn print_watch_summary(out: &mut impl Write, summary: &WatchSummary) -> std::io::Result<()> {
    writeln!(
        out,
        "watched for {:.1} s: {} cycles ({} failed); {} attempts indexed ({} lines); API requests: {} counted, {} answered 304 (free)",
        summary.seconds,
        summary.cycles,
        summary.cycles_failed,
        HumanCount(summary.attempts_indexed),
        HumanCount(summary.lines),
        HumanCount(summary.requests),
        HumanCount(summary.requests_free),
    )?;
    writeln!(
        out,
        "what was indexed is committed; the next sync or watch goes on from there"
    )
}

/// First SIGINT (Ctrl-C), SIGTERM or SIGHUP: stop and commit, then exit with 128 + its
/// number as if it had killed us (130, 143, 129), which the returned code holds. A second: leave
/// at once (the index stays consistent; the uncommitted batch is lost). The handlers are in
/// place when this returns.
fn stop_on_signals(cancel: Cancel) -> anyhow::Result<Arc<AtomicU8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut signals = {
        let _entered = runtime.enter();
        let [int, term, hup] = [
            (SignalKind::interrupt(), "Ctrl-C"),
            (SignalKind::terminate(), "SIGTERM"),
            (SignalKind::hangup(), "SIGHUP"),
        ]
        .map(|(kind, name)| {
            let code = 128 + u8::try_from(kind.as_raw_value()).expect("a small signal number");
            signal(kind).map(|stream| (stream, name, code))
        });
        [int?, term?, hup?]
    };
    let caught = Arc::new(AtomicU8::new(0));
    let code = caught.clone();
    std::thread::spawn(move || {
        runtime.block_on(async {
            let (name, first) = next_signal(&mut signals).await;
            code.store(first, Ordering::SeqCst);
            let again = if name == "Ctrl-C" {
                "Ctrl-C again"
            } else {
                "a second signal"
            };
            // Said before cancelling, so that it comes before the summary; stderr may be gone.
            let _ = super::say(&format!(
                "interrupted by {name}: committing what is indexed ({again} to quit now)"
            ));
            cancel.cancel();
            let (_, second) = next_signal(&mut signals).await;
            std::process::exit(i32::from(second));
        });
    });
    Ok(caught)
}

/// The next of `signals` to arrive: its name and exit code.
async fn next_signal(signals: &mut [(Signal, &'static str, u8); 3]) -> (&'static str, u8) {
    let [(int, ..), (term, ..), (hup, ..)] = signals;
    let which = tokio::select! {
        _ = int.recv() => 0,
        _ = term.recv() => 1,
        _ = hup.recv() => 2,
    };
    (signals[which].1, signals[which].2)
}
