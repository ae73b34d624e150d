//! `logidx new`: the error lines of a failed run that its branch's last success did not have.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use logidx::NewInFailure;

use super::Context;
use super::args::NewArgs;
use super::color::inert;
use logidx::json::JsonLine;

pub(crate) fn run(context: &Context, args: &NewArgs) -> anyhow::Result<ExitCode> {
    let index = context.open_index()?;
    let repo = super::repo_of_run(&index, args.run, args.repo.as_deref())?;
    let web_base = context.web_base_of(&index, &repo);
    let failures = logidx::new_in_failures(
        &index,
        &repo,
        args.run,
        args.attempt,
        args.job.as_deref(),
        &web_base,
    )?;
    if failures.is_empty() {
        anyhow::bail!(
            "run `{}` has no failed job{} in the index",
            args.run,
            args.job
                .as_ref()
                .map(|j| format!(" `{j}`"))
                .unwrap_or_default()
        );
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    let colors = context.stdout_colors();
    for failure in &failures {
        if args.json {
            for line in &failure.lines {
                let json = JsonLine::of_line(
                    &failure.run,
                    &line.step,
                    line.line_number,
                    line.timestamp,
                    &line.text,
                    line.url.clone(),
                );
                logidx::json::write_line(&mut out, &json)?;
            }
            continue;
        }
        writeln!(out, "{}", colors.header(&inert(&header(failure, context))))?;
        for line in &failure.lines {
            let title = format!("{} {}", line.step.step_number, line.step.step_name);
            let number = format!("{:>6}", line.line_number);
            writeln!(
                out,
                "{}: {}  {}",
                colors.number(&number),
                colors.error(&inert(&line.text)),
                colors.dim(&inert(&format!("({title})")))
            )?;
        }
        writeln!(out)?;
    }
    out.flush()?;
    let any = failures.iter().any(|f| !f.lines.is_empty());
    Ok(super::found(any))
}

fn header(failure: &NewInFailure, context: &Context) -> String {
    let run = &failure.run;
    let against = match &failure.baseline {
        Some((base, _)) => format!(
            "compared with {} #{} attempt {} on {} ({})",
            base.workflow_name,
            base.run_number,
            base.run_attempt,
            base.head_branch,
            context.format_day(base.run_created_at)
        ),
        None => "no earlier success of this job on the branch or main: every error line".to_owned(),
    };
    format!(
        "{} · {} #{} · attempt {} · {} · job `{}` failed; {} new error lines, {against}",
        run.repo,
        run.workflow_name,
        run.run_number,
        run.run_attempt,
        run.head_branch,
        failure.job_name,
        failure.lines.len(),
    )
}
