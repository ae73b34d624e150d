//! `logidx show`: a run's indexed log, in order, grouped like the web UI.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use logidx::{Level, Selection, ShownStep, line_url};

use super::args::ShowArgs;
use super::{Colors, Context};
use logidx::json::JsonLine;

pub(crate) fn run(context: &Context, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let index = context.open_index()?;
    let repo = super::repo_of_run(&index, args.run, args.repo.as_deref())?;
    let selection = Selection {
        repo,
        run_id: args.run,
        run_attempt: args.attempt,
        job_id: None,
        step_number: args.step,
    };
    let mut steps = index.show(&selection)?;
    if let Some(job) = &args.job {
        steps.retain(|s| {
            s.step.job_id.to_string() == *job || s.step.job_name.eq_ignore_ascii_case(job)
        });
        if steps.is_empty() {
            anyhow::bail!("run `{}` has no job `{job}` in the index", args.run);
        }
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
                serde_json::to_writer(&mut out, &json)?;
                out.write_all(b"\n")?;
            }
        }
    } else {
        print_steps(&mut out, &steps, context.stdout_colors())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_steps(out: &mut impl Write, steps: &[ShownStep], colors: Colors) -> anyhow::Result<()> {
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
                &run.head_sha[..run.head_sha.len().min(12)]
            );
            writeln!(out, "{}", colors.header(&header))?;
        }
        if job != Some(step.step.job_id) {
            job = Some(step.step.job_id);
            let conclusion = super::conclusion_suffix(&step.step.job_conclusion);
            writeln!(
                out,
                "{}",
                colors.step(&format!("{}{conclusion}", step.step.job_name))
            )?;
        }
        let conclusion = super::conclusion_suffix(&step.step.step_conclusion);
        writeln!(
            out,
            "  ▸ {} {}{conclusion}",
            step.step.step_number, step.step.step_name
        )?;
        for (i, line) in step.lines.iter().enumerate() {
            let number = format!("{:>6}", i + 1);
            let number = colors.number(&number);
            let text = match Level::of(&line.text) {
                Level::Error => colors.error(&line.text),
                Level::Warning => colors.warning(&line.text),
                _ => line.text.as_str().into(),
            };
            writeln!(out, "{number}  {text}")?;
        }
    }
    Ok(())
}
