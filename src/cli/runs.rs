//! `logidx runs`: the indexed runs, newest first, with each attempt's state and jobs: what
//! `show`, `new` and `search --run` can be asked about.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use logidx::{AttemptRecord, AttemptState};
use serde::Serialize;

use super::Context;
use super::args::RunsArgs;
use super::color::inert;
use logidx::json::{rfc3339, write_line};

pub(crate) fn run(context: &Context, args: &RunsArgs) -> anyhow::Result<ExitCode> {
    let index = context.open_index()?;
    // Records come by repository, run and attempt: one group per run, attempts in order.
    let mut runs: BTreeMap<(String, u64), Vec<AttemptRecord>> = BTreeMap::new();
    for record in index.attempts(args.repo.as_deref())? {
        let key = (record.attempt.repo.to_lowercase(), record.attempt.run_id);
        runs.entry(key).or_default().push(record);
    }
    let mut runs: Vec<Vec<AttemptRecord>> = runs.into_values().collect();
    runs.sort_by_key(|attempts| {
        let run = &attempts[0].attempt;
        std::cmp::Reverse((run.run_created_at, run.run_id))
    });
    runs.truncate(args.limit);

    let mut out = BufWriter::new(std::io::stdout().lock());
    let colors = context.stdout_colors();
    for attempts in &runs {
        let json = JsonRun::of(attempts);
        if args.json {
            write_line(&mut out, &json)?;
            continue;
        }
        let header = format!(
            "{} · {} #{} · {} · {} · {} · {} · run {}",
            json.repo,
            json.workflow_name,
            json.run_number,
            json.head_branch,
            json.head_sha.get(..7).unwrap_or(json.head_sha),
            json.event,
            context.format_time(attempts[0].attempt.run_created_at),
            json.run_id,
        );
        writeln!(out, "{}", colors.header(&inert(&header)))?;
        for attempt in &json.attempts {
            let state = match (attempt.state, attempt.reason.as_deref()) {
                ("indexed", _) => format!("{} lines", attempt.lines),
                (state, Some(reason)) => format!("{state}: {reason}"),
                (state, None) => state.to_owned(),
            };
            let jobs: Vec<String> = attempt
                .jobs
                .iter()
                .map(|j| format!("{}{}", j.job_name, super::conclusion_suffix(j.conclusion)))
                .collect();
            let line = format!(
                "  attempt {} ({state}){}{}",
                attempt.run_attempt,
                if jobs.is_empty() { "" } else { ": " },
                jobs.join(", ")
            );
            writeln!(out, "{}", inert(&line))?;
        }
    }
    out.flush()?;
    Ok(super::found(!runs.is_empty()))
}

/// `runs --json`: one object per run (README.md documents the fields).
#[derive(Serialize)]
struct JsonRun<'a> {
    repo: &'a str,
    run_id: u64,
    run_number: u64,
    workflow_name: &'a str,
    workflow_path: &'a str,
    head_branch: &'a str,
    head_sha: &'a str,
    event: &'a str,
    actor: &'a str,
    created_at: String,
    attempts: Vec<JsonAttempt<'a>>,
}

#[derive(Serialize)]
struct JsonAttempt<'a> {
    run_attempt: u32,
    /// `indexed`, `gone`, `not_found`, `failed` or `given_up`.
    state: &'static str,
    /// Lines indexed (0 unless indexed).
    lines: u64,
    /// Why it is gone or failed.
    reason: Option<std::borrow::Cow<'a, str>>,
    jobs: Vec<JsonJob<'a>>,
}

#[derive(Serialize)]
struct JsonJob<'a> {
    job_id: u64,
    job_name: &'a str,
    conclusion: &'a str,
}

impl<'a> JsonRun<'a> {
    /// A run from its attempts' records (at least one).
    fn of(attempts: &'a [AttemptRecord]) -> JsonRun<'a> {
        let run = &attempts[0].attempt;
        JsonRun {
            repo: &run.repo,
            run_id: run.run_id,
            run_number: run.run_number,
            workflow_name: &run.workflow_name,
            workflow_path: &run.workflow_path,
            head_branch: &run.head_branch,
            head_sha: &run.head_sha,
            event: &run.event,
            actor: &run.actor,
            created_at: rfc3339(run.run_created_at),
            attempts: attempts
                .iter()
                .map(|record| {
                    let (state, lines, reason, jobs) = match &record.state {
                        AttemptState::Indexed { lines, jobs, .. } => {
                            ("indexed", *lines, None, jobs.as_slice())
                        }
                        AttemptState::Gone { reason } => {
                            ("gone", 0, Some(reason.as_str().into()), &[][..])
                        }
                        AttemptState::NotFound { since, syncs } => {
                            let reason = format!("404 in {syncs} syncs since {}", rfc3339(*since));
                            ("not_found", 0, Some(reason.into()), &[][..])
                        }
                        state @ AttemptState::Failed { reason, syncs } => {
                            let reason = format!("{syncs} syncs in a row: {reason}");
                            let given_up = logidx::given_up(state, logidx::GIVE_UP_AFTER);
                            let state = if given_up { "given_up" } else { "failed" };
                            (state, 0, Some(reason.into()), &[][..])
                        }
                    };
                    JsonAttempt {
                        run_attempt: record.attempt.run_attempt,
                        state,
                        lines,
                        reason,
                        jobs: jobs
                            .iter()
                            .map(|j| JsonJob {
                                job_id: j.job_id,
                                job_name: &j.job_name,
                                conclusion: &j.conclusion,
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }
}
