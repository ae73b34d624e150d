//! `logidx flaky`: jobs that both failed and passed on one commit.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use logidx::FlakyJob;
use serde::Serialize;

use super::Context;
use super::args::FlakyArgs;
use super::color::inert;
use logidx::index::End;
use logidx::json::{rfc3339, write_line};

pub(crate) fn run(context: &Context, args: &FlakyArgs) -> anyhow::Result<ExitCode> {
    let since = context.time_bound(
        "--since",
        args.since.as_deref().unwrap_or(super::DEFAULT_SINCE),
        End::Start,
    )?;
    let index = context.open_index()?;
    let filter = logidx::FlakyFilter {
        repo: args.repo.clone(),
        since: Some(since),
        branch: args.branch.clone(),
        workflow: args.workflow.clone(),
        job: args.job.clone(),
    };
    let mut jobs = logidx::flaky_jobs(&index, &filter)?;
    jobs.truncate(args.limit);
    let mut out = BufWriter::new(std::io::stdout().lock());
    let colors = context.stdout_colors();
    for job in &jobs {
        let run = &job.last_flake;
        let web_base = context.web_base_of(&index, &run.repo);
        let url = logidx::urls::job_url(&web_base, &run.repo, run.run_id, job.last_flake_job_id);
        if args.json {
            write_line(&mut out, &JsonFlaky::of(job, &url))?;
            continue;
        }
        let title = format!("{} · {} · {}", job.job_name, job.workflow_name, job.repo);
        writeln!(
            out,
            "{}: flaky on {} of {} commits ({:.0}%), {} passed on re-run, last {} #{} attempt {}",
            colors.header(&inert(&title)),
            job.flaky_commits,
            job.commits,
            job.flake_rate() * 100.0,
            job.passed_on_rerun,
            &context.format_day(run.run_created_at),
            run.run_number,
            run.run_attempt,
        )?;
        for (text, count) in job.signatures.iter().take(3) {
            writeln!(
                out,
                "    {} {}",
                colors.error(&inert(text)),
                colors.dim(&format!("(×{count})"))
            )?;
        }
        writeln!(out, "    {}", colors.dim(&inert(&url)))?;
    }
    out.flush()?;
    Ok(super::found(!jobs.is_empty()))
}

/// `flaky --json`: one object per job.
#[derive(Serialize)]
struct JsonFlaky<'a> {
    repo: &'a str,
    workflow_name: &'a str,
    job_name: &'a str,
    commits: u64,
    flaky_commits: u64,
    flake_rate: f64,
    passed_on_rerun: u64,
    last_flake: JsonRun<'a>,
    signatures: Vec<JsonSignature<'a>>,
}

#[derive(Serialize)]
struct JsonRun<'a> {
    run_id: u64,
    run_attempt: u32,
    run_number: u64,
    head_branch: &'a str,
    head_sha: &'a str,
    created_at: String,
    url: &'a str,
}

#[derive(Serialize)]
struct JsonSignature<'a> {
    example: &'a str,
    occurrences: u64,
}

impl<'a> JsonFlaky<'a> {
    fn of(job: &'a FlakyJob, url: &'a str) -> JsonFlaky<'a> {
        let run = &job.last_flake;
        JsonFlaky {
            repo: &job.repo,
            workflow_name: &job.workflow_name,
            job_name: &job.job_name,
            commits: job.commits,
            flaky_commits: job.flaky_commits,
            flake_rate: job.flake_rate(),
            passed_on_rerun: job.passed_on_rerun,
            last_flake: JsonRun {
                run_id: run.run_id,
                run_attempt: run.run_attempt,
                run_number: run.run_number,
                head_branch: &run.head_branch,
                head_sha: &run.head_sha,
                created_at: rfc3339(run.run_created_at),
                url,
            },
            signatures: job
                .signatures
                .iter()
                .map(|(example, occurrences)| JsonSignature {
                    example,
                    occurrences: *occurrences,
                })
                .collect(),
        }
    }
}
