//! `logidx prune`: delete old runs, or a repository's, and say what that freed.

use std::io::Write;
use std::process::ExitCode;

use logidx::Deletion;
use serde::Serialize;

use super::args::PruneArgs;
use super::progress::mebibytes;
use super::stats::size_on_disk;
use super::{Context, time_bound};

#[derive(Debug, Serialize)]
struct Pruned {
    steps: u64,
    attempts: u64,
    texts: u64,
    bytes_freed: u64,
}

pub(crate) fn run(context: &Context, args: &PruneArgs) -> anyhow::Result<ExitCode> {
    let before = args
        .older_than
        .as_deref()
        .map(|age| time_bound("--older-than", age))
        .transpose()?;
    let deletion = match (&args.repo, before) {
        (None, None) => anyhow::bail!(
            "nothing to prune\nhint: pass --older-than AGE (such as 90d), --repo OWNER/REPO, or both"
        ),
        (Some(repo), None) => Deletion::Repo(repo.clone()),
        (None, Some(before)) => Deletion::CreatedBefore(before),
        (Some(repo), Some(before)) => Deletion::RepoCreatedBefore {
            repo: repo.clone(),
            before,
        },
    };
    let index = context.open_index_to_write()?;
    let size_before = size_on_disk(index.path());
    let stats = index.writer()?.delete(&deletion)?;
    let pruned = Pruned {
        steps: stats.steps,
        attempts: stats.attempts,
        texts: stats.texts,
        bytes_freed: size_before.saturating_sub(size_on_disk(index.path())),
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &pruned)?;
        writeln!(out)?;
    } else if !context.quiet {
        writeln!(
            out,
            "pruned {} attempts ({} steps, {} distinct lines no longer used); {} freed on disk so far (more once segments merge)",
            pruned.attempts,
            pruned.steps,
            pruned.texts,
            mebibytes(pruned.bytes_freed)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
