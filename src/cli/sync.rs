//! `logidx sync`: the library's sync with a token, progress, Ctrl-C and a summary.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use logidx::{Cancel, Client, RepoName, RunFilter, SyncOptions, SyncSummary};

use super::args::SyncArgs;
use indicatif::HumanCount;

use super::progress::{Progress, mebibytes};
use super::{Context, FAILED, INTERRUPTED, time_bound};

pub(crate) fn run(context: &Context, args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let repos = args
        .repos
        .iter()
        .map(|r| RepoName::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    let filter = RunFilter {
        since: Some(time_bound(
            "--since",
            args.since.as_deref().unwrap_or(super::DEFAULT_SINCE),
        )?),
        until: args
            .until
            .as_deref()
            .map(|u| time_bound("--until", u))
            .transpose()?,
        branch: args.branch.clone(),
        event: args.event.clone(),
        workflow: args.workflow.clone(),
        status: args.status.clone(),
        actor: args.actor.clone(),
    };
    let token = logidx::discover_token(Some(&context.token_host()))?;
    let index = context.open_or_create_index()?;
    let client = Client::builder()
        .api_url(context.api_url())
        .token(token)
        .download_concurrency(usize::from(args.jobs))
        .etag_dir(index.path().join("etags"));
    let mut options = SyncOptions::new(repos, client);
    options.filter = filter;
    options.downloads = usize::from(args.jobs);
    options.commit_interval = std::time::Duration::from_secs(args.commit_every);
    options.retry_gone = args.retry_gone;
    stop_on_ctrl_c(options.cancel.clone());

    let live = std::io::stderr().is_terminal() && !context.quiet;
    let progress = Arc::new(Progress::new(
        live,
        context.stderr_colors(),
        context.verbose,
        context.quiet,
    ));
    let result = logidx::sync(&index, &options, progress.clone());
    progress.finish();
    let summary = result?;

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &summary)?;
        writeln!(out)?;
    } else if !context.quiet || summary.has_failures() {
        print_summary(&mut out, context, &summary)?;
    }
    Ok(if summary.cancelled {
        ExitCode::from(INTERRUPTED)
    } else if summary.has_failures() {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    })
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
    for failure in &summary.failures {
        let what = match (failure.run_id, failure.attempt) {
            (Some(run), Some(attempt)) => format!("{} run {run} attempt {attempt}", failure.repo),
            _ => failure.repo.clone(),
        };
        writeln!(out, "{} {what}: {}", colors.error("failed:"), failure.error)?;
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

/// First Ctrl-C: stop and commit. Second: leave at once (the index stays consistent; the
/// uncommitted batch is lost).
fn stop_on_ctrl_c(cancel: Cancel) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: committing what is indexed (Ctrl-C again to quit now)");
                cancel.cancel();
            }
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(INTERRUPTED));
            }
        });
    });
}
