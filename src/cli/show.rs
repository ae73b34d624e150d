//! `logidx show`: a run's indexed log, in order, grouped like the web UI.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use logidx::{AttemptState, Index, Level, NamePattern, Selection, ShownStep, line_url};

use super::Context;
use super::args::ShowArgs;
use super::color::inert;
use logidx::json::{JsonLine, write_line};

pub(crate) fn run(context: &Context, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let index = context.open_index()?;
    let repo = super::repo_of_run(&index, args.run, args.repo.as_deref())?;
    // A step number is selected by the index; a name, as `search --step` takes it, here.
    let step_number = args.step.as_deref().and_then(|s| s.parse::<u32>().ok());
    let selection = Selection {
        repo,
        run_id: args.run,
        run_attempt: args.attempt,
        job_id: None,
        step_number,
    };
    let mut steps = index.show(&selection)?;
    steps.retain(|s| of_job(s, args.job.as_deref()) && of_step(s, args.step.as_deref()));
    if steps.is_empty() {
        return Err(missing(&index, &selection, args, context));
    }
    let web_base = context.web_base_of(&index, &selection.repo);
    let mut out = BufWriter::new(std::io::stdout().lock());
    if args.json {
        for step in &steps {
            for (i, line) in step.lines.iter().enumerate() {
                let number = i as u32 + 1;
                let url = line_url(&web_base, &step.run, &step.step, number);
                let json = JsonLine::of_line(
                    &step.run,
                    &step.step,
                    number,
                    line.timestamp,
                    &line.text,
                    url,
                );
                write_line(&mut out, &json)?;
            }
        }
    } else {
        print_steps(&mut out, &steps, context, args.timestamps)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Whether `step` is of the job `--job` names (as `search --job` takes it), if it names one.
fn of_job(step: &ShownStep, job: Option<&str>) -> bool {
    job.is_none_or(|job| NamePattern::job(job).matches(step.step.job_id, &step.step.job_name))
}

/// Whether `step` is the one `--step` names, if it names one; a number is selected by the
/// index already, a name (as `search --step` takes it) here.
fn of_step(step: &ShownStep, name: Option<&str>) -> bool {
    name.is_none_or(|name| {
        NamePattern::step(name).matches(u64::from(step.step.step_number), &step.step.step_name)
    })
}

/// Why nothing was selected, naming what the index has instead: the run's attempts, the
/// attempt's jobs, the job's steps.
fn missing(
    index: &Index,
    selection: &Selection,
    args: &ShowArgs,
    context: &Context,
) -> anyhow::Error {
    let run = selection.run_id;
    let records: Vec<_> = match index.attempts(Some(&selection.repo)) {
        Ok(records) => records
            .into_iter()
            .filter(|r| r.attempt.run_id == run)
            .collect(),
        Err(error) => return error.into(),
    };
    let numbers = |records: &[logidx::AttemptRecord]| {
        let numbers: Vec<String> = records
            .iter()
            .map(|r| r.attempt.run_attempt.to_string())
            .collect();
        numbers.join(", ")
    };
    let of_attempt = |n: u32| records.iter().find(|r| r.attempt.run_attempt == n);
    if let Some(attempt) = args.attempt {
        match of_attempt(attempt).map(|r| &r.state) {
            None => {
                return anyhow::anyhow!(
                    "no attempt `{attempt}` of run `{run}` in the index: run `{run}` has attempts {}",
                    numbers(&records)
                );
            }
            Some(AttemptState::Gone { reason }) => {
                return anyhow::anyhow!(
                    "attempt `{attempt}` of run `{run}` has no logs: they are gone ({reason})"
                );
            }
            Some(AttemptState::NotFound { since, syncs }) => {
                return anyhow::anyhow!(
                    "attempt `{attempt}` of run `{run}` is not indexed: its logs answered 404 in {syncs} syncs since {}\nhint: `logidx sync` asks again",
                    context.format_time(*since)
                );
            }
            Some(state @ AttemptState::Failed { reason, syncs }) => {
                let retry = if logidx::given_up(state, logidx::GIVE_UP_AFTER) {
                    "`logidx sync --retry-failed` retries it"
                } else {
                    "`logidx sync` retries it"
                };
                return anyhow::anyhow!(
                    "attempt `{attempt}` of run `{run}` is not indexed: it failed in {syncs} syncs in a row ({reason})\nhint: {retry}"
                );
            }
            Some(AttemptState::Indexed { .. }) => {}
        }
    }
    let place = match args.attempt {
        Some(attempt) => format!("attempt `{attempt}` of run `{run}`"),
        None => format!("run `{run}`"),
    };
    // What there is without the job and step asked for.
    let all = Selection {
        step_number: None,
        ..selection.clone()
    };
    let steps = match index.show(&all) {
        Ok(steps) => steps,
        Err(error) => return error.into(),
    };
    if steps.is_empty() {
        return anyhow::anyhow!("{place} has no lines in the index");
    }
    let names = |names: Vec<String>| {
        let mut unique: Vec<String> = Vec::new();
        for name in names {
            if !unique.contains(&name) {
                unique.push(name);
            }
        }
        unique.join(", ")
    };
    if let Some(job) = &args.job
        && !steps.iter().any(|s| of_job(s, Some(job)))
    {
        let jobs = steps.iter().map(|s| s.step.job_name.clone()).collect();
        return anyhow::anyhow!("{place} has no job `{job}`; its jobs: {}", names(jobs));
    }
    let step = args.step.as_deref().unwrap_or_default();
    let place = match &args.job {
        Some(job) => format!("job `{job}` of {place}"),
        None => place,
    };
    let of_place = steps
        .iter()
        .filter(|s| of_job(s, args.job.as_deref()))
        .map(|s| format!("{} {}", s.step.step_number, s.step.step_name))
        .collect();
    anyhow::anyhow!(
        "{place} has no step `{step}`; its steps: {}",
        names(of_place)
    )
}

fn print_steps(
    out: &mut impl Write,
    steps: &[ShownStep],
    context: &Context,
    timestamps: bool,
) -> anyhow::Result<()> {
    let colors = context.stdout_colors();
    let mut attempt = None;
    let mut job = None;
    for step in steps {
        let run = &step.run;
        if attempt != Some(run.run_attempt) {
            attempt = Some(run.run_attempt);
            job = None;
            let header = format!(
                "{} · {} #{} · attempt {} · {} · {}",
                run.repo,
                run.workflow_name,
                run.run_number,
                run.run_attempt,
                run.head_branch,
                run.head_sha.get(..12).unwrap_or(&run.head_sha)
            );
            writeln!(out, "{}", colors.header(&inert(&header)))?;
        }
        if job != Some(step.step.job_id) {
            job = Some(step.step.job_id);
            let conclusion = super::conclusion_suffix(&step.step.job_conclusion);
            writeln!(
                out,
                "{}",
                colors.step(&inert(&format!("{}{conclusion}", step.step.job_name)))
            )?;
        }
        let conclusion = super::conclusion_suffix(&step.step.step_conclusion);
        writeln!(
            out,
            "  ▸ {} {}{}",
            step.step.step_number,
            inert(&step.step.step_name),
            inert(&conclusion)
        )?;
        for (i, line) in step.lines.iter().enumerate() {
            let number = format!("{:>6}", i + 1);
            let number = colors.number(&number);
            let text = inert(&line.text);
            let text = match Level::of(&line.text) {
                Level::Error => colors.error(&text).into_owned(),
                Level::Warning => colors.warning(&text).into_owned(),
                _ => text.into_owned(),
            };
            if timestamps {
                let at = colors
                    .dim(&context.format_instant(line.timestamp))
                    .into_owned();
                writeln!(out, "{number}  {at}  {text}")?;
            } else {
                writeln!(out, "{number}  {text}")?;
            }
        }
    }
    Ok(())
}
