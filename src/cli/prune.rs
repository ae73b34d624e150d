//! `logidx prune`: delete old runs, or a repository's, and say what that freed.

use std::io::Write;
use std::process::ExitCode;

use logidx::Deletion;
use serde::Serialize;

use super::Context;
use super::args::PruneArgs;
use super::progress::mebibytes;
use super::stats::size_on_disk;
use logidx::index::End;
use logidx::json::write_line;

#[derive(Debug, Serialize)]
struct Pruned {
    /// Nothing was deleted: the counts are what would be (`texts` and `bytes_freed` 0).
    dry_run: bool,
    steps: u64,
    attempts: u64,
    texts: u64,
    bytes_freed: u64,
}

pub(crate) fn run(context: &Context, args: &PruneArgs) -> anyhow::Result<ExitCode> {
    let before = args
        .older_than
        .as_deref()
        .map(|age| context.time_bound("--older-than", age, End::Start))
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
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        let stats = index.would_delete(&deletion)?;
        let pruned = Pruned {
            dry_run: true,
            steps: stats.steps,
            attempts: stats.attempts,
            texts: 0,
            bytes_freed: 0,
        };
        if args.json {
            write_line(&mut out, &pruned)?;
        } else {
            writeln!(
                out,
                "would prune {} attempts ({} steps); nothing deleted (--dry-run)",
                pruned.attempts, pruned.steps
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let size_before = size_on_disk(index.path());
    let stats = index.writer()?.delete(&deletion)?;
    let pruned = Pruned {
        dry_run: false,
        steps: stats.steps,
        attempts: stats.attempts,
        texts: stats.texts,
        bytes_freed: size_before.saturating_sub(size_on_disk(index.path())),
    };
    if args.json {
        write_line(&mut out, &pruned)?;
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
