//! `logidx stats`: what the index holds, per repository.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use logidx::AttemptState;
use serde::Serialize;

use super::Context;
use super::args::StatsArgs;
use super::color::inert;
use indicatif::HumanCount;

use super::progress::mebibytes;
use logidx::json::rfc3339;

/// One repository's share of the index.
#[derive(Debug, Default, Serialize)]
struct RepoStats {
    repo: String,
    runs: u64,
    attempts_indexed: u64,
    attempts_gone: u64,
    attempts_failed: u64,
    /// Failed the same way in [`logidx::GIVE_UP_AFTER`] syncs in a row: not fetched again but
    /// by `sync --retry-failed` (not counted in `attempts_failed`).
    attempts_given_up: u64,
    /// Why they were given up on, the most frequent reason first.
    given_up: Vec<GivenUp>,
    lines: u64,
    first_run: String,
    last_run: String,
    #[serde(skip)]
    run_ids: HashSet<u64>,
    #[serde(skip)]
    created: Option<(jiff::Timestamp, jiff::Timestamp)>,
    #[serde(skip)]
    given_up_reasons: BTreeMap<String, u64>,
}

/// A reason attempts were given up on, and how many.
#[derive(Debug, Serialize)]
struct GivenUp {
    reason: String,
    attempts: u64,
}

/// The whole index.
#[derive(Debug, Serialize)]
struct IndexStats {
    index: String,
    bytes_on_disk: u64,
    repos: Vec<RepoStats>,
}

pub(crate) fn run(context: &Context, args: &StatsArgs) -> anyhow::Result<ExitCode> {
    let index = context.open_index()?;
    let mut repos: BTreeMap<String, RepoStats> = BTreeMap::new();
    for record in index.attempts(None)? {
        let run = &record.attempt;
        let stats = repos.entry(run.repo.to_lowercase()).or_default();
        stats.repo.clone_from(&run.repo);
        stats.run_ids.insert(run.run_id);
        let (lo, hi) = stats
            .created
            .unwrap_or((jiff::Timestamp::MAX, jiff::Timestamp::MIN));
        stats.created = Some((lo.min(run.run_created_at), hi.max(run.run_created_at)));
        if logidx::given_up(&record.state, logidx::GIVE_UP_AFTER)
            && let AttemptState::Failed { reason, .. } = record.state
        {
            stats.attempts_given_up += 1;
            *stats.given_up_reasons.entry(reason).or_default() += 1;
            continue;
        }
        match record.state {
            AttemptState::Indexed { lines, .. } => {
                stats.attempts_indexed += 1;
                stats.lines += lines;
            }
            AttemptState::Gone { .. } => stats.attempts_gone += 1,
            // Not indexed, and asked for again by the next sync, as a failed one is.
            AttemptState::Failed { .. } | AttemptState::NotFound { .. } => {
                stats.attempts_failed += 1;
            }
        }
    }
    let repos: Vec<RepoStats> = repos
        .into_values()
        .map(|mut stats| {
            stats.runs = stats.run_ids.len() as u64;
            let reasons = std::mem::take(&mut stats.given_up_reasons);
            stats.given_up = reasons
                .into_iter()
                .map(|(reason, attempts)| GivenUp { reason, attempts })
                .collect();
            stats
                .given_up
                .sort_by_key(|g| std::cmp::Reverse(g.attempts));
            if let Some((first, last)) = stats.created {
                stats.first_run = rfc3339(first);
                stats.last_run = rfc3339(last);
            }
            stats
        })
        .collect();
    let stats = IndexStats {
        index: index.path().display().to_string(),
        bytes_on_disk: size_on_disk(index.path()),
        repos,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        logidx::json::write_line(&mut out, &stats)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "index {} ({} on disk)",
        stats.index,
        mebibytes(stats.bytes_on_disk)
    )?;
    if stats.repos.is_empty() {
        writeln!(out, "no runs yet: `logidx sync OWNER/REPO` adds some")?;
    }
    let day = |at: Option<jiff::Timestamp>| at.map_or("?".to_owned(), |at| context.format_day(at));
    for repo in &stats.repos {
        writeln!(
            out,
            "{}: {} runs, {} attempts indexed ({} lines), {} gone, {} failed; runs from {} to {}",
            inert(&repo.repo),
            HumanCount(repo.runs),
            HumanCount(repo.attempts_indexed),
            HumanCount(repo.lines),
            repo.attempts_gone,
            repo.attempts_failed,
            day(repo.created.map(|(first, _)| first)),
            day(repo.created.map(|(_, last)| last)),
        )?;
        if repo.attempts_given_up > 0 {
            writeln!(
                out,
                "  {} attempts given up on after failing the same way in {} syncs in a row:",
                repo.attempts_given_up,
                logidx::GIVE_UP_AFTER
            )?;
            for given_up in &repo.given_up {
                let line = format!("    {} × {}", given_up.attempts, given_up.reason);
                writeln!(out, "{}", inert(&line))?;
            }
            writeln!(out, "  hint: `logidx sync --retry-failed` tries them again")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Bytes of every file under `dir`.
pub(crate) fn size_on_disk(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => size_on_disk(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}
