//! `logidx doctor`: checks the index ([`logidx::Index::check`]) and says what to do about what
//! it found; `--repair` deletes the incomplete runs for the next sync to fetch again.
//! Also where a panic of the read path (tantivy's, on a damaged file) becomes an error.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

use logidx::{Deletion, Index};
use serde::Serialize;

use super::Context;
use super::args::DoctorArgs;
use super::color::inert;
use logidx::json::write_line;

#[derive(Serialize)]
struct Doctor<'a> {
    #[serde(flatten)]
    report: &'a logidx::index::CheckReport,
    healthy: bool,
    /// Runs deleted by `--repair`.
    repaired_runs: Vec<u64>,
}

pub(crate) fn run(context: &Context, args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    // Not opened first: a damaged file would fail the opening, and that is what to report.
    let dir = context.existing_index_dir()?.clone();
    let report = Index::check(&dir)?;
    let mut repaired_runs = Vec::new();
    if args.repair && !report.incomplete_runs.is_empty() {
        let runs: BTreeSet<(String, u64)> = report
            .incomplete_runs
            .iter()
            .map(|run| (run.repo.clone(), run.run_id))
            .collect();
        let index = context.open_index_to_write()?;
        let mut writer = index.writer()?;
        for (repo, run_id) in runs {
            writer.delete(&Deletion::Run { repo, run_id })?;
            repaired_runs.push(run_id);
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let doctor = Doctor {
            report: &report,
            healthy: report.is_healthy(),
            repaired_runs,
        };
        write_line(&mut out, &doctor)?;
        return Ok(exit(&report));
    }
    writeln!(
        out,
        "index {}: {} files checked",
        dir.display(),
        report.files_checked
    )?;
    if report.is_healthy() {
        writeln!(
            out,
            "healthy: every file whole, every attempt's steps there"
        )?;
    }
    for damaged in &report.damaged_files {
        let file = if damaged.file.is_empty() {
            "the index".to_owned()
        } else {
            format!("`{}`", damaged.file)
        };
        writeln!(out, "damaged: {file}: {}", inert(&damaged.problem))?;
    }
    for run in &report.incomplete_runs {
        let attempts: Vec<String> = run.attempts.iter().map(u32::to_string).collect();
        let line = format!(
            "incomplete: {} run `{}` (attempts {}): {}; re-fetch it",
            run.repo,
            run.run_id,
            attempts.join(", "),
            run.problem
        );
        writeln!(out, "{}", inert(&line))?;
    }
    if !report.damaged_files.is_empty() {
        writeln!(
            out,
            "hint: texts are shared by every attempt, so the index must be rebuilt: delete `{}` and sync again",
            dir.display()
        )?;
    } else if !repaired_runs.is_empty() {
        writeln!(
            out,
            "repaired: deleted runs {}; the next `logidx sync` fetches them again",
            repaired_runs
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    } else if !report.incomplete_runs.is_empty() {
        writeln!(
            out,
            "hint: `logidx doctor --repair` deletes their runs, and the next `logidx sync` fetches them again"
        )?;
    }
    Ok(exit(&report))
}

fn exit(report: &logidx::index::CheckReport) -> ExitCode {
    if report.is_healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Where and why the last panic happened, as the hook of [`note_panics`] saw it.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Keeps each panic's message and place for [`panicked`] instead of printing it: the binary
/// turns a panic into an error with what to do. With `RUST_BACKTRACE` set, Rust's own report
/// is printed too, for whoever debugs it.
pub(crate) fn note_panics() {
    let report = std::panic::take_hook();
    let debugging = std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0");
    std::panic::set_hook(Box::new(move |info| {
        if debugging {
            report(info);
        }
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        let place = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        let mut last = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner());
        *last = Some(format!("{message}{place}"));
    }));
}

/// The error a panic of the command becomes.
pub(crate) fn panicked() -> anyhow::Error {
    let last = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
    anyhow::anyhow!(
        "logidx stopped on an internal error: {}\nhint: a damaged index file can cause it: `logidx doctor` checks the index; otherwise it is a bug in logidx, please report it",
        last.unwrap_or_else(|| "no message".to_owned())
    )
}
