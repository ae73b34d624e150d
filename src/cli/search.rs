//! `logidx search`: hits grouped by run, job and step like ripgrep groups by file; or counts;
//! or one JSON object per hit.

use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use logidx::{Counts, Filter, GroupBy, Hit, Level, Order, Query};

use super::args::{CountBy, SearchArgs, Sort};
use super::{Colors, Context, NO_MATCH, time_bound};
use logidx::json::JsonLine;

pub(crate) fn run(context: &Context, args: &SearchArgs) -> anyhow::Result<ExitCode> {
    let query = build_query(context, args)?;
    for note in query.notes() {
        context.note(note);
    }
    let index = context.open_index()?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let colors = context.stdout_colors();

    if args.count || args.count_by.is_some() {
        let group_by = match args.count_by {
            None => GroupBy::Nothing,
            Some(CountBy::Run) => GroupBy::Run,
            Some(CountBy::Job) => GroupBy::Job,
            Some(CountBy::Step) => GroupBy::Step,
            Some(CountBy::Branch) => GroupBy::Branch,
            Some(CountBy::Day) => GroupBy::Day,
        };
        let counts = index.count(&query, group_by)?;
        print_counts(&mut out, &counts, args)?;
        out.flush()?;
        return Ok(exit_code(counts.total > 0));
    }

    let hits = index.search(&query)?;
    if args.json {
        for hit in &hits {
            serde_json::to_writer(&mut out, &JsonLine::of_hit(hit))?;
            out.write_all(b"\n")?;
        }
    } else if !hits.is_empty() {
        let terms = highlight_terms(query.text_part());
        print_grouped(&mut out, &hits, &terms, colors, &context.web_base())?;
        let total = if hits.len() < args.limit {
            hits.len() as u64
        } else {
            index.count(&query, GroupBy::Nothing)?.total
        };
        let shown = hits.len() as u64;
        let summary = if shown < total {
            format!("{shown} of {total} matching lines (use -n to see more)")
        } else {
            format!("{total} matching line{}", if total == 1 { "" } else { "s" })
        };
        writeln!(out, "\n{}", colors.dim(&summary))?;
    }
    out.flush()?;
    Ok(exit_code(!hits.is_empty()))
}

fn exit_code(matched: bool) -> ExitCode {
    if matched {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(NO_MATCH)
    }
}

fn build_query(context: &Context, args: &SearchArgs) -> anyhow::Result<Query> {
    let mut query = Query::parse(&args.query_text())?;
    let filters = [
        args.repo.clone().map(Filter::Repo),
        args.run.map(Filter::Run),
        args.attempt.map(Filter::Attempt),
        args.job.clone().map(Filter::Job),
        args.step.clone().map(Filter::Step),
        args.branch.clone().map(Filter::Branch),
    ];
    for filter in filters.into_iter().flatten() {
        query = query.filter(filter);
    }
    if let Some(level) = &args.level {
        let level = level.parse::<Level>().ok().with_context(|| {
            format!("invalid value `{level}` for `--level`\nhint: use one of error, warning, notice, debug, info")
        })?;
        query = query.filter(Filter::Level(level));
    }
    if let Some(since) = &args.since {
        query = query.since(time_bound("--since", since)?);
    }
    if let Some(until) = &args.until {
        query = query.until(time_bound("--until", until)?);
    }
    let before = args.before_context.or(args.context).unwrap_or(0);
    let after = args.after_context.or(args.context).unwrap_or(0);
    let order = match args.sort {
        Sort::Newest => Order::NewestFirst,
        Sort::Oldest => Order::OldestFirst,
        Sort::Relevance => Order::Relevance,
    };
    Ok(query
        .context(before, after)
        .limit(args.limit)
        .order(order)
        .web_base(context.web_base()))
}

fn print_counts(out: &mut impl Write, counts: &Counts, args: &SearchArgs) -> anyhow::Result<()> {
    if args.json {
        let groups: Vec<_> = counts
            .groups
            .iter()
            .map(|(key, count)| serde_json::json!({ "key": key, "count": count }))
            .collect();
        let value = match args.count_by {
            None => serde_json::json!({ "total": counts.total }),
            Some(_) => serde_json::json!({ "total": counts.total, "groups": groups }),
        };
        serde_json::to_writer(&mut *out, &value)?;
        writeln!(out)?;
    } else if args.count_by.is_none() {
        writeln!(out, "{}", counts.total)?;
    } else {
        // Days read best in order; runs, jobs, steps and branches most frequent first.
        let mut groups: Vec<&(String, u64)> = counts.groups.iter().collect();
        if args.count_by != Some(CountBy::Day) {
            groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
        for (key, count) in groups {
            writeln!(out, "{key}\t{count}")?;
        }
    }
    Ok(())
}

/// The lowercased words of the query's positive text (not `-word`, `NOT word`, operators).
fn highlight_terms(text: &str) -> HashSet<String> {
    Query::text(text).map_or_else(
        |_| HashSet::new(),
        |query| {
            query
                .positive_tokens()
                .into_iter()
                .map(str::to_owned)
                .collect()
        },
    )
}

/// Hits grouped by attempt, then job and step, lines in order within a step; each group's
/// place is that of its first hit in the query's order.
fn print_grouped<'h>(
    out: &mut impl Write,
    hits: &'h [Hit],
    terms: &HashSet<String>,
    colors: Colors,
    web_base: &str,
) -> anyhow::Result<()> {
    let key = |hit: &'h Hit| (hit.run.repo.as_str(), hit.run.run_id, hit.run.run_attempt);
    let step_key = |hit: &'h Hit| {
        let step = &hit.step;
        (step.job_id, step.step_number, step.job_name.as_str())
    };
    for (i, group) in grouped(hits.iter(), key).into_iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}",
            colors.header(&attempt_header(group[0], web_base))
        )?;
        for mut lines in grouped(group.into_iter(), step_key) {
            lines.sort_by_key(|hit| hit.line_number);
            let step = &lines[0].step;
            let conclusion = super::conclusion_suffix(&step.job_conclusion);
            let title = format!(
                "  {}{conclusion} › {} {}",
                step.job_name, step.step_number, step.step_name
            );
            writeln!(out, "{}", colors.step(&title))?;
            print_step_lines(out, &lines, terms, colors)?;
        }
    }
    Ok(())
}

/// `items` in groups of equal `key`, each group where its first item was, items in order.
fn grouped<'h, K: std::hash::Hash + Eq>(
    items: impl Iterator<Item = &'h Hit>,
    key: impl Fn(&'h Hit) -> K,
) -> Vec<Vec<&'h Hit>> {
    let mut groups: Vec<Vec<&Hit>> = Vec::new();
    let mut at: std::collections::HashMap<K, usize> = std::collections::HashMap::new();
    for item in items {
        let index = *at.entry(key(item)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[index].push(item);
    }
    groups
}

fn attempt_header(hit: &Hit, web_base: &str) -> String {
    let run = &hit.run;
    let date = run
        .run_created_at
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string();
    let link = logidx::urls::attempt_url(web_base, &run.repo, run.run_id, run.run_attempt);
    format!(
        "{} · {} #{} · attempt {} · {} · {date} · {link}",
        run.repo, run.workflow_name, run.run_number, run.run_attempt, run.head_branch,
    )
}

/// A step's hits with their context, each line once, `--` between runs of lines that do not
/// touch (as grep).
fn print_step_lines(
    out: &mut impl Write,
    hits: &[&Hit],
    terms: &HashSet<String>,
    colors: Colors,
) -> anyhow::Result<()> {
    let hit_lines: HashSet<u32> = hits.iter().map(|h| h.line_number).collect();
    let mut printed_up_to = 0u32;
    for hit in hits {
        let lines = hit
            .before
            .iter()
            .map(|l| (l.line_number, l.text.as_str()))
            .chain([(hit.line_number, hit.text.as_str())])
            .chain(hit.after.iter().map(|l| (l.line_number, l.text.as_str())));
        for (number, text) in lines {
            if number <= printed_up_to {
                continue;
            }
            if printed_up_to > 0 && number > printed_up_to + 1 {
                writeln!(out, "    {}", colors.dim("--"))?;
            }
            printed_up_to = number;
            if hit_lines.contains(&number) {
                let number = format!("{number:>6}");
                let text = highlight(text, terms, colors);
                writeln!(out, "{}: {text}", colors.number(&number))?;
            } else {
                writeln!(out, "{}", colors.dim(&format!("{number:>6}- {text}")))?;
            }
        }
    }
    Ok(())
}

/// `text` with the words of `terms` painted.
fn highlight(text: &str, terms: &HashSet<String>, colors: Colors) -> String {
    if !colors.is_on() || terms.is_empty() {
        return text.to_owned();
    }
    let mut painted = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for (span, token) in logidx::index::token_spans(text) {
        if terms.contains(&token) {
            painted.push_str(&text[at..span.start]);
            painted.push_str(&colors.matched(&text[span.clone()]));
            at = span.end;
        }
    }
    painted.push_str(&text[at..]);
    painted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_words_are_highlighted() {
        let terms = highlight_terms("\"panicked at\" AND NOT flaky -skip (Error OR timeout)");
        let mut terms: Vec<_> = terms.into_iter().collect();
        terms.sort();
        assert_eq!(terms, ["at", "error", "panicked", "timeout"]);
    }

    #[test]
    fn highlighting_paints_whole_tokens_case_insensitively() {
        let terms = highlight_terms("error");
        let colors = Colors::new(true);
        assert_eq!(
            highlight("Error: errors error", &terms, colors),
            "\x1b[1;31mError\x1b[0m: errors \x1b[1;31merror\x1b[0m"
        );
        assert_eq!(highlight("Error", &terms, Colors::new(false)), "Error");
    }
}
