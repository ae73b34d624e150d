//! `logidx errors`: error signatures across runs, with a per-day sparkline.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use logidx::{ErrorGroup, Filter, Query, Sighting};
use serde::Serialize;

use super::Context;
use super::args::{ErrorSort, ErrorsArgs};
use super::color::inert;
use jiff::ToSpan;
use jiff::civil::Date;
use logidx::json::{rfc3339, write_line};

pub(crate) fn run(context: &Context, args: &ErrorsArgs) -> anyhow::Result<ExitCode> {
    let (since, until) = context.window(
        Some(args.since.as_deref().unwrap_or(super::DEFAULT_SINCE)),
        args.until.as_deref(),
    )?;
    let since = since.expect("a --since");
    let index = context.open_index()?;
    let mut query = Query::default().since(since).web_base(context.web_base());
    if let Some(until) = until {
        query = query.until(until);
    }
    let filters = [
        args.repo.clone().map(Filter::Repo),
        args.branch.clone().map(Filter::Branch),
        args.workflow.clone().map(Filter::Workflow),
        args.job.clone().map(Filter::Job),
    ];
    for filter in filters.into_iter().flatten() {
        query = query.filter(filter);
    }
    let mut groups = index.errors(&query)?;
    if args.sort == ErrorSort::Newest {
        groups.sort_by_key(|g| std::cmp::Reverse(g.first_seen.timestamp));
    }
    groups.truncate(args.limit);

    let mut out = BufWriter::new(std::io::stdout().lock());
    if args.json {
        for group in &groups {
            write_line(&mut out, &JsonGroup::of(group))?;
        }
    } else {
        let day = |at: jiff::Timestamp| jiff::tz::Offset::UTC.to_datetime(at).date();
        let from = day(since);
        let to = day(until.unwrap_or_else(jiff::Timestamp::now));
        let colors = context.stdout_colors();
        for group in &groups {
            let (first, last) = (&group.first_seen, &group.last_seen);
            let header = format!(
                "{} runs, {} lines · first {} · last {} · {}",
                group.runs,
                group.occurrences,
                seen(first, context),
                seen(last, context),
                sparkline(group, from, to),
            );
            writeln!(out, "{}", inert(&header))?;
            writeln!(out, "    {}", colors.error(&inert(&last.text)))?;
            writeln!(
                out,
                "    {}",
                colors.dim(&inert(&format!(
                    "jobs: {} · {}",
                    group.jobs.join(", "),
                    last.url
                )))
            )?;
        }
    }
    out.flush()?;
    Ok(super::found(!groups.is_empty()))
}

/// `2026-11-20 run #123 (4cd255c)`.
fn seen(sighting: &Sighting, context: &Context) -> String {
    let run = &sighting.run;
    format!(
        "{} #{} ({})",
        context.format_day(sighting.timestamp),
        run.run_number,
        run.head_sha.get(..7).unwrap_or(&run.head_sha)
    )
}

/// Lines per UTC day from `from` to `to`, one block per day, the last 60 days at most.
fn sparkline(group: &ErrorGroup, from: Date, to: Date) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let from = to
        .checked_sub(59.days())
        .map_or(from, |start| from.max(start));
    let counts: Vec<u64> = from
        .series(1.day())
        .take_while(|day| *day <= to)
        .map(|day| {
            group
                .days
                .iter()
                .find(|(d, _)| *d == day)
                .map_or(0, |(_, n)| *n)
        })
        .collect();
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    counts
        .iter()
        .map(|&n| match n {
            0 => '·',
            n => BLOCKS[((n * 8 - 1) / max).min(7) as usize],
        })
        .collect()
}

/// `errors --json`: one object per signature.
#[derive(Serialize)]
struct JsonGroup<'a> {
    signature: String,
    /// The text the signature is the hash of: numbers, hex, ids, paths and times masked.
    masked: String,
    runs: u64,
    occurrences: u64,
    first_seen: JsonSighting<'a>,
    last_seen: JsonSighting<'a>,
    days: Vec<JsonDay>,
    jobs: &'a [String],
}

#[derive(Serialize)]
struct JsonSighting<'a> {
    timestamp: String,
    repo: &'a str,
    run_id: u64,
    run_attempt: u32,
    run_number: u64,
    head_sha: &'a str,
    job_name: &'a str,
    text: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
struct JsonDay {
    day: String,
    count: u64,
}

impl<'a> JsonGroup<'a> {
    fn of(group: &'a ErrorGroup) -> JsonGroup<'a> {
        let sighting = |s: &'a Sighting| JsonSighting {
            timestamp: rfc3339(s.timestamp),
            repo: &s.run.repo,
            run_id: s.run.run_id,
            run_attempt: s.run.run_attempt,
            run_number: s.run.run_number,
            head_sha: &s.run.head_sha,
            job_name: &s.step.job_name,
            text: &s.text,
            url: &s.url,
        };
        JsonGroup {
            signature: format!("{:016x}", group.signature),
            masked: logidx::index::mask(&group.last_seen.text),
            runs: group.runs,
            occurrences: group.occurrences,
            first_seen: sighting(&group.first_seen),
            last_seen: sighting(&group.last_seen),
            days: group
                .days
                .iter()
                .map(|(day, count)| JsonDay {
                    day: day.to_string(),
                    count: *count,
                })
                .collect(),
            jobs: &group.jobs,
        }
    }
}
