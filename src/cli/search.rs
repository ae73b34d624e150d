//! `logidx search`: hits grouped by run, job and step like ripgrep groups by file; or counts;
//! or one JSON object per hit.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::ValueEnum;
use logidx::{Counts, Filter, GroupBy, GroupPlace, Hit, Level, Order, Query};
use serde::Serialize;

use super::args::{CountBy, SearchArgs, Sort};
use super::color::inert;
use super::{Colors, Context};
use logidx::json::{JsonLine, write_line};

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
        let order = group_order(args)?;
        let counts = index.count(&query, group_by)?;
        print_counts(&mut out, context, &counts, args, order)?;
        out.flush()?;
        return Ok(super::found(counts.total > 0));
    }

    let hits = index.search(&query)?;
    if args.json {
        for hit in &hits {
            write_line(&mut out, &JsonLine::of_hit(hit))?;
        }
    } else if !hits.is_empty() {
        let terms = highlight_terms(query.text_part());
        let links = Links {
            colors,
            hyperlinks: context.hyperlinks,
        };
        let web_base_of = |repo: &str| context.web_base_of(&index, repo);
        print_grouped(&mut out, &hits, &terms, links, context, web_base_of)?;
    }
    out.flush()?;
    if !args.json && !hits.is_empty() && !context.quiet {
        let total = if hits.len() < args.limit {
            (args.offset + hits.len()) as u64
        } else {
            index.count(&query, GroupBy::Nothing)?.total
        };
        // What was found is on stdout already; a closed stderr only loses the footer.
        let footer = footer(args.offset, hits.len(), total);
        let _ = super::say(&format!("\n{}", context.stderr_colors().dim(&footer)));
    }
    Ok(super::found(!hits.is_empty()))
}

/// `3 of 40 matching lines`, on stderr so that stdout holds only what was found.
fn footer(offset: usize, shown: usize, total: u64) -> String {
    let (offset, shown) = (offset as u64, shown as u64);
    if offset > 0 {
        let more = if offset + shown < total {
            format!(" (--offset {} for more)", offset + shown)
        } else {
            String::new()
        };
        format!(
            "{}-{} of {total} matching lines{more}",
            offset + 1,
            offset + shown
        )
    } else if shown < total {
        format!("{shown} of {total} matching lines (use -n to see more)")
    } else {
        format!("{total} matching line{}", if total == 1 { "" } else { "s" })
    }
}

/// The order of hits `--sort` asks for; a group order is refused (counts have none).
fn hit_order(args: &SearchArgs) -> anyhow::Result<Order> {
    if args.count || args.count_by.is_some() {
        return Ok(Order::NewestFirst);
    }
    Ok(match args.sort {
        None | Some(Sort::Newest) => Order::NewestFirst,
        Some(Sort::Oldest) => Order::OldestFirst,
        Some(Sort::Relevance) => Order::Relevance,
        Some(sort @ (Sort::Count | Sort::Key)) => anyhow::bail!(
            "`--sort {}` orders --count-by groups, not hits\nhint: hits sort by `newest`, `oldest` or `relevance`",
            sort_name(sort)
        ),
    })
}

/// How `--count-by` groups are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupOrder {
    /// Most lines first, then by key.
    Count,
    /// By key: ids as numbers, names and days as text.
    Key,
}

/// The order of groups `--sort` asks for: by count, except days, which read best in order.
fn group_order(args: &SearchArgs) -> anyhow::Result<GroupOrder> {
    Ok(match args.sort {
        // A total has no groups to order.
        _ if args.count_by.is_none() => GroupOrder::Count,
        None if args.count_by == Some(CountBy::Day) => GroupOrder::Key,
        None | Some(Sort::Count) => GroupOrder::Count,
        Some(Sort::Key) => GroupOrder::Key,
        Some(sort @ (Sort::Newest | Sort::Oldest | Sort::Relevance)) => anyhow::bail!(
            "`--sort {}` orders hits, not --count-by groups\nhint: groups sort by `count` or `key`",
            sort_name(sort)
        ),
    })
}

fn sort_name(sort: Sort) -> String {
    sort.to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}

fn build_query(context: &Context, args: &SearchArgs) -> anyhow::Result<Query> {
    let mut query = Query::parse_in(&args.query_text(), context.time())?;
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
    let (since, until) = context.window(args.since.as_deref(), args.until.as_deref())?;
    if let Some(since) = since {
        query = query.since(since);
    }
    if let Some(until) = until {
        query = query.until(until);
    }
    if let (Some(since), Some(until)) = query.time_range()
        && since >= until
    {
        anyhow::bail!(
            "the time window is empty: the query and --since/--until leave nothing between `{since}` and `{until}`"
        );
    }
    let before = args.before_context.or(args.context).unwrap_or(0);
    let after = args.after_context.or(args.context).unwrap_or(0);
    let order = hit_order(args)?;
    Ok(query
        .context(before, after)
        .limit(args.limit)
        .offset(args.offset)
        .order(order)
        .web_base(context.web_base()))
}

fn print_counts(
    out: &mut impl Write,
    context: &Context,
    counts: &Counts,
    args: &SearchArgs,
    order: GroupOrder,
) -> anyhow::Result<()> {
    let Some(count_by) = args.count_by else {
        if args.json {
            write_line(out, &serde_json::json!({ "total": counts.total }))?;
        } else {
            writeln!(out, "{}", counts.total)?;
        }
        return Ok(());
    };
    let mut groups: Vec<&(String, u64)> = counts.groups.iter().collect();
    match order {
        GroupOrder::Count => {
            groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| by_key(&a.0, &b.0)));
        }
        GroupOrder::Key => groups.sort_by(|a, b| by_key(&a.0, &b.0)),
    }
    let shown: Vec<&(String, u64)> = groups
        .iter()
        .copied()
        .skip(args.offset)
        .take(args.limit)
        .collect();
    let place = |key: &str| match count_by {
        CountBy::Run | CountBy::Job | CountBy::Step => counts.places.get(key),
        CountBy::Branch | CountBy::Day => None,
    };
    if args.json {
        let groups = shown
            .iter()
            .map(|(key, count)| JsonGroup {
                key,
                count: *count,
                place: place(key).map(|p| JsonPlace::of(p, count_by)),
            })
            .collect();
        let json = JsonCounts {
            total: counts.total,
            groups,
        };
        write_line(out, &json)?;
    } else {
        let repos: HashSet<&str> = counts
            .places
            .values()
            .map(|p| p.run.repo.as_str())
            .collect();
        for (key, count) in &shown {
            let name = match place(key) {
                Some(place) => group_name(place, count_by, repos.len() > 1),
                None => key.clone(),
            };
            writeln!(out, "{}\t{count}", inert(&name))?;
        }
    }
    if shown.len() < groups.len() && !context.quiet {
        let from = args.offset.min(groups.len());
        let range = if from > 0 {
            format!("{}-{}", from + 1, from + shown.len())
        } else {
            shown.len().to_string()
        };
        let hint = if from + shown.len() < groups.len() {
            " (use -n or --offset to see more)"
        } else {
            ""
        };
        let note = format!("{range} of {} groups{hint}", groups.len());
        let _ = super::say(&context.stderr_colors().dim(&note));
    }
    Ok(())
}

/// Keys in order: `:`-separated parts, numbers as numbers (run and job ids, `job:step`).
fn by_key(a: &str, b: &str) -> Ordering {
    let parts = |key: &str| -> Vec<(u64, String)> {
        key.split(':')
            .map(|part| match part.parse::<u64>() {
                Ok(n) => (n, String::new()),
                Err(_) => (u64::MAX, part.to_owned()),
            })
            .collect()
    };
    parts(a).cmp(&parts(b))
}

/// A group as people name it: `CI #12`, `test (ubuntu) · CI #12`, `test › 3 Build · CI #12`;
/// with the attempt when it is not the first, with the repository when there are several.
fn group_name(place: &GroupPlace, count_by: CountBy, with_repo: bool) -> String {
    let run = &place.run;
    let step = &place.step;
    let repo = if with_repo {
        format!("{} · ", run.repo)
    } else {
        String::new()
    };
    let attempt = if run.run_attempt > 1 {
        format!(" attempt {}", run.run_attempt)
    } else {
        String::new()
    };
    let of_run = format!("{repo}{} #{}", run.workflow_name, run.run_number);
    match count_by {
        CountBy::Run => of_run,
        CountBy::Job => format!("{} · {of_run}{attempt}", step.job_name),
        _ => format!(
            "{} › {} {} · {of_run}{attempt}",
            step.job_name, step.step_number, step.step_name
        ),
    }
}

/// `--count-by --json`: every matching line, and the groups shown.
#[derive(Serialize)]
struct JsonCounts<'a> {
    total: u64,
    groups: Vec<JsonGroup<'a>>,
}

/// A `--count-by` group in `--json`: its stable key, its lines, and what it names.
#[derive(Serialize)]
struct JsonGroup<'a> {
    key: &'a str,
    count: u64,
    #[serde(flatten)]
    place: Option<JsonPlace<'a>>,
}

/// The names of a run, job or step group (the job's fields for jobs and steps, the step's for
/// steps).
#[derive(Serialize)]
struct JsonPlace<'a> {
    repo: &'a str,
    workflow_name: &'a str,
    run_id: u64,
    run_number: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step_number: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step_name: Option<&'a str>,
}

impl<'a> JsonPlace<'a> {
    fn of(place: &'a GroupPlace, count_by: CountBy) -> JsonPlace<'a> {
        let (run, step) = (&place.run, &place.step);
        let job = matches!(count_by, CountBy::Job | CountBy::Step);
        let of_step = count_by == CountBy::Step;
        JsonPlace {
            repo: &run.repo,
            workflow_name: &run.workflow_name,
            run_id: run.run_id,
            run_number: run.run_number,
            run_attempt: job.then_some(run.run_attempt),
            job_id: job.then_some(step.job_id),
            job_name: job.then_some(step.job_name.as_str()),
            step_number: of_step.then_some(step.step_number),
            step_name: of_step.then_some(step.step_name.as_str()),
        }
    }
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
    links: Links,
    context: &Context,
    web_base_of: impl Fn(&str) -> String,
) -> anyhow::Result<()> {
    let colors = links.colors;
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
            colors.header(&inert(&attempt_header(
                group[0],
                &web_base_of(&group[0].run.repo),
                context
            )))
        )?;
        for mut lines in grouped(group.into_iter(), step_key) {
            lines.sort_by_key(|hit| hit.line_number);
            let step = &lines[0].step;
            let conclusion = super::conclusion_suffix(&step.job_conclusion);
            let title = format!(
                "  {}{conclusion} › {} {}",
                step.job_name, step.step_number, step.step_name
            );
            writeln!(out, "{}", colors.step(&inert(&title)))?;
            print_step_lines(out, &lines, terms, links)?;
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

fn attempt_header(hit: &Hit, web_base: &str, context: &Context) -> String {
    let run = &hit.run;
    let date = context.format_time(run.run_created_at);
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
    links: Links,
) -> anyhow::Result<()> {
    let colors = links.colors;
    let hit_lines: std::collections::HashMap<u32, &str> = hits
        .iter()
        .map(|h| (h.line_number, h.url.as_str()))
        .collect();
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
            if let Some(url) = hit_lines.get(&number) {
                let number = format!("{number:>6}");
                let text = highlight(&inert(text), terms, colors);
                let url = super::color::inert_url(url);
                if links.hyperlinks {
                    let number = super::color::hyperlink(&url, &colors.number(&number));
                    writeln!(out, "{number}: {text}")?;
                } else {
                    let (number, url) = (colors.number(&number), colors.dim(&url));
                    writeln!(out, "{number}: {text}  {url}")?;
                }
            } else {
                let text = inert(text);
                writeln!(out, "{}", colors.dim(&format!("{number:>6}- {text}")))?;
            }
        }
    }
    Ok(())
}

/// How hit lines show their links: as OSC 8 hyperlinks on the line number, or as text.
#[derive(Debug, Clone, Copy)]
struct Links {
    colors: Colors,
    hyperlinks: bool,
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
    fn keys_order_ids_as_numbers_and_names_as_text() {
        let mut keys = vec!["10:2", "9:10", "9:2", "main", "feat/x", "2024-01-31", "100"];
        keys.sort_by(|a, b| by_key(a, b));
        assert_eq!(
            keys,
            ["9:2", "9:10", "10:2", "100", "2024-01-31", "feat/x", "main"]
        );
    }

    #[test]
    fn the_footer_says_which_hits_of_how_many() {
        assert_eq!(footer(0, 1, 1), "1 matching line");
        assert_eq!(footer(0, 3, 3), "3 matching lines");
        assert_eq!(
            footer(0, 3, 40),
            "3 of 40 matching lines (use -n to see more)"
        );
        assert_eq!(
            footer(10, 10, 40),
            "11-20 of 40 matching lines (--offset 20 for more)"
        );
        assert_eq!(footer(30, 10, 40), "31-40 of 40 matching lines");
    }

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
