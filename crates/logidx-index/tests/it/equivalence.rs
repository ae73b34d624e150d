//! The index gives exactly the hits of a one-document-per-line evaluation, on random corpora
//! and random queries: boolean text queries with NOT, `-` and `!` in every position, AND and
//! OR nested, checked against a brute-force evaluation of every line's tokens (a bare sha-like
//! word also holds on every line of the runs whose head sha starts with it).

use jiff::Timestamp;
use proptest::prelude::*;

use logidx_index::{
    Filter, GroupBy, Index, Level, Line, Order, Query, RunAttempt, Step, StepMeta, WriterOptions,
    tokenize,
};

use crate::{at, nanos};
use logidx_test_support::{self as support, Corpus, PerLine};

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "Gamma",
    "panicked",
    "at",
    "E0425",
    "0x7ff",
    "ModuleNotFoundError",
    "or",
    "not",
    // Sha-like: prefixes of some runs' shas (`HEAD_SHAS`), also in texts, in any case.
    "44875c6",
    "44875C6E",
    "abcdef0",
    // All digits: a plain word, even where a sha starts with it.
    "1234567",
];

/// The runs' head shas (run `n` has the `n % 3`th), as 40 hex digits.
const HEAD_SHAS: &[&str] = &[
    "44875c6e00000000000000000000000000000001",
    "44875c6f00000000000000000000000000000002",
    "1234567abcdef000000000000000000000000003",
];

fn line_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "", "", "##[error]", "##[warning]"]),
        prop::collection::vec(prop::sample::select(WORDS), 1..4),
    )
        .prop_map(|(marker, words)| format!("{marker}{}", words.join(" ")))
}

/// A few repositories, runs, attempts, jobs and steps with short lines from a small vocabulary,
/// so texts repeat and timestamps tie.
fn corpus() -> impl Strategy<Value = Corpus> {
    let step = prop::collection::vec((0i64..40, line_text()), 0..6);
    let job = prop::collection::vec(step, 1..3);
    let attempt = (0usize..2, 1u32..3, prop::collection::vec(job, 1..3));
    prop::collection::vec(attempt, 1..5).prop_map(|attempts| {
        let mut job_id = 100;
        let attempts = attempts
            .into_iter()
            .enumerate()
            .map(|(run, (repo, attempt, jobs))| {
                let mut meta = support::attempt(
                    ["acme/widgets", "acme/gadgets"][repo],
                    run as u64 + 1,
                    attempt,
                );
                meta.head_branch = ["main", "dev"][run % 2].to_owned();
                meta.head_sha = HEAD_SHAS[run % HEAD_SHAS.len()].to_owned();
                meta.run_created_at = at(run as i64 * 1_000);
                let mut steps = Vec::new();
                for (j, job) in jobs.into_iter().enumerate() {
                    job_id += 1;
                    for (s, lines) in job.into_iter().enumerate() {
                        let mut meta = support::step_meta(job_id, s as u32 + 1);
                        meta.job_name = format!("test {j}");
                        meta.job_conclusion = ["success", "failure"][j % 2].to_owned();
                        meta.step_name = format!("step {s}");
                        steps.push(Step {
                            meta,
                            lines: lines
                                .into_iter()
                                .map(|(timestamp, text)| Line {
                                    timestamp: at(timestamp),
                                    text,
                                })
                                .collect(),
                        });
                    }
                }
                (meta, steps)
            })
            .collect();
        Corpus { attempts }
    })
}

/// A boolean text query as generated, evaluated by brute force.
#[derive(Debug, Clone)]
enum Expr {
    Word(&'static str),
    Phrase(&'static str, &'static str),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(Expr::Word),
        1 => (prop::sample::select(WORDS), prop::sample::select(WORDS))
            .prop_map(|(a, b)| Expr::Phrase(a, b)),
    ];
    leaf.prop_recursive(4, 16, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner, 2..4).prop_map(Expr::Or),
        ]
    })
}

/// Whether a bare `word` is read as a commit's prefix: 7 to 40 hex digits, one of them a
/// letter.
fn sha_like(word: &str) -> bool {
    (7..=40).contains(&word.len())
        && word.bytes().all(|b| b.is_ascii_hexdigit())
        && word.bytes().any(|b| b.is_ascii_alphabetic())
}

impl Expr {
    /// Whether the expression holds on a line of `tokens` in a run of `sha` (lowercase; an
    /// empty sha for the text alone).
    fn holds(&self, tokens: &[String], sha: &str) -> bool {
        let contains = |words: &[String]| tokens.windows(words.len()).any(|w| w == words);
        match self {
            Expr::Word(w) => {
                contains(&tokenize(w))
                    || (sha_like(w) && !sha.is_empty() && sha.starts_with(&w.to_lowercase()))
            }
            Expr::Phrase(a, b) => contains(&tokenize(&format!("{a} {b}"))),
            Expr::Not(inner) => !inner.holds(tokens, sha),
            Expr::And(parts) => parts.iter().all(|p| p.holds(tokens, sha)),
            Expr::Or(parts) => parts.iter().any(|p| p.holds(tokens, sha)),
        }
    }

    /// The query string, each operator spelt one of its ways (`choices` decides), with
    /// parentheses where precedence needs them and sometimes where it does not.
    fn render(&self, choices: &mut impl Iterator<Item = u8>) -> String {
        let mut choose = |n: u8| choices.next().unwrap_or(0) % n;
        match self {
            Expr::Word(w) => (*w).to_owned(),
            Expr::Phrase(a, b) => format!("\"{a} {b}\""),
            Expr::Not(inner) => {
                let operator = ["NOT ", "-", "!"][usize::from(choose(3))];
                let body = match **inner {
                    Expr::Word(_) | Expr::Phrase(..) => inner.render(choices),
                    _ => format!("({})", inner.render(choices)),
                };
                format!("{operator}{body}")
            }
            Expr::And(parts) | Expr::Or(parts) => {
                let and = matches!(self, Expr::And(_));
                let mut rendered = String::new();
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        let mut choose = |n: u8| choices.next().unwrap_or(0) % n;
                        rendered.push_str(if and {
                            [" ", " AND ", " && "][usize::from(choose(3))]
                        } else {
                            [" OR ", " || "][usize::from(choose(2))]
                        });
                    }
                    let needs = matches!((and, part), (true, Expr::Or(_)));
                    let may = matches!(part, Expr::And(_) | Expr::Or(_));
                    let text = part.render(choices);
                    if needs || (may && choices.next().unwrap_or(0).is_multiple_of(2)) {
                        rendered.push_str(&format!("({text})"));
                    } else {
                        rendered.push_str(&text);
                    }
                }
                rendered
            }
        }
    }
}

/// A text query string and its meaning (`None`: every line).
fn text_query() -> impl Strategy<Value = (String, Option<Expr>)> {
    prop_oneof![
        1 => Just((String::new(), None)),
        6 => (expr(), prop::collection::vec(any::<u8>(), 64)).prop_map(|(expr, choices)| {
            (expr.render(&mut choices.into_iter()), Some(expr))
        }),
    ]
}

fn query() -> impl Strategy<Value = (Query, Option<Expr>)> {
    let filter = prop_oneof![
        prop::sample::select(vec!["acme/widgets", "ACME/gadgets"])
            .prop_map(|r| Filter::Repo(r.to_owned())),
        prop::sample::select(vec!["test 0", "TEST 1", "101", "102", "test*", "Test 1*"])
            .prop_map(|j| Filter::Job(j.to_owned())),
        prop::sample::select(vec!["1", "2", "step 0"]).prop_map(|s| Filter::Step(s.to_owned())),
        prop::sample::select(vec![Level::Error, Level::Warning, Level::Info])
            .prop_map(Filter::Level),
        prop::sample::select(vec!["main", "dev"]).prop_map(|b| Filter::Branch(b.to_owned())),
        (1u64..5).prop_map(Filter::Run),
        (1u32..3).prop_map(Filter::Attempt),
        prop::sample::select(vec!["failure", "success"])
            .prop_map(|c| Filter::Conclusion(c.to_owned())),
        prop::sample::select(vec!["44875", "44875C6F00000000000000000000000000000002"])
            .prop_map(|s| Filter::Sha(s.to_owned())),
    ];
    (
        text_query(),
        prop::collection::vec(filter.clone(), 0..3),
        prop::collection::vec(filter.clone(), 0..3),
        prop::collection::vec(filter, 0..2),
        prop::option::of(0i64..40),
        prop::option::of(0i64..40),
        prop::sample::select(vec![Order::NewestFirst, Order::OldestFirst]),
        1usize..12,
        0usize..4,
    )
        .prop_map(
            |(text, written, filters, excluded, since, until, order, limit, offset)| {
                let (text, expr) = text;
                // Filters written in the query string (alternatives within a field), before
                // the text in parentheses (filters stand outside them and OR), then added by
                // the builder (each narrows).
                let written: Vec<String> = written.iter().map(as_written).collect();
                let input = match text.trim() {
                    "" => written.join(" "),
                    _ => format!("{} ({text})", written.join(" ")),
                };
                let mut query = Query::parse(&input)
                    .unwrap_or_else(|e| panic!("{input}: {e}"))
                    .order(order)
                    .limit(limit)
                    .offset(offset);
                for filter in filters {
                    query = query.filter(filter);
                }
                for filter in excluded {
                    query = query.exclude(filter);
                }
                if let Some(since) = since {
                    query = query.since(at(since));
                }
                if let Some(until) = until {
                    query = query.until(at(until));
                }
                (query, expr)
            },
        )
}

/// `filter` as a query string writes it.
fn as_written(filter: &Filter) -> String {
    let value = match filter {
        Filter::Repo(v) | Filter::Job(v) | Filter::Step(v) | Filter::Branch(v) => v.clone(),
        Filter::Conclusion(v) | Filter::Sha(v) => v.clone(),
        Filter::Run(run) => run.to_string(),
        Filter::Attempt(attempt) => attempt.to_string(),
        Filter::Level(level) => level.as_str().to_owned(),
        _ => unreachable!("a filter the strategy does not generate: {filter:?}"),
    };
    format!("{}:\"{value}\"", filter.name())
}

fn filter_holds(filter: &Filter, run: &RunAttempt, step: &StepMeta, text: &str) -> bool {
    let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match filter {
        Filter::Repo(repo) => eq(repo, &run.repo),
        Filter::Run(id) => *id == run.run_id,
        Filter::Attempt(n) => *n == run.run_attempt,
        Filter::Job(job) => match job.strip_suffix('*') {
            Some(prefix) => step
                .job_name
                .to_lowercase()
                .starts_with(&prefix.to_lowercase()),
            None => eq(job, &step.job_name) || *job == step.job_id.to_string(),
        },
        Filter::Step(s) => eq(s, &step.step_name) || *s == step.step_number.to_string(),
        Filter::Branch(branch) => eq(branch, &run.head_branch),
        Filter::Workflow(w) => eq(w, &run.workflow_name) || eq(w, &run.workflow_path),
        Filter::Event(event) => eq(event, &run.event),
        Filter::Sha(prefix) => run.head_sha.starts_with(&prefix.to_lowercase()),
        Filter::Level(level) => Level::of(text) == *level,
        Filter::Conclusion(c) => eq(c, &step.job_conclusion),
        _ => unreachable!("a filter the strategy does not generate: {filter:?}"),
    }
}

/// The hits' (url, timestamp, text), evaluated line by line.
fn naive(
    corpus: &Corpus,
    per_line: &PerLine,
    query: &Query,
    expr: Option<&Expr>,
) -> Vec<(String, Timestamp, String)> {
    // The baseline of one document per line knows only texts: sha-like words are words.
    let text_matches: Vec<u64> = corpus
        .lines()
        .enumerate()
        .filter(|(_, (_, _, _, line))| expr.is_none_or(|e| e.holds(&tokenize(&line.text), "")))
        .map(|(n, _)| n as u64)
        .collect();
    assert_eq!(
        per_line.matching(query),
        text_matches,
        "one document per line: {query:?}"
    );
    let text_holds = |run: &RunAttempt, text: &str| {
        expr.is_none_or(|e| e.holds(&tokenize(text), &run.head_sha.to_lowercase()))
    };
    let (since, until) = query.time_range();
    let mut hits: Vec<_> = corpus
        .lines()
        .enumerate()
        .filter(|(_, (run, step, _, line))| {
            let field_ok = query.filters().iter().all(|f| {
                query
                    .filters()
                    .iter()
                    .filter(|g| g.name() == f.name())
                    .any(|g| filter_holds(g, run, step, &line.text))
            }) && query
                .required()
                .iter()
                .all(|f| filter_holds(f, run, step, &line.text));
            text_holds(run, &line.text)
                && field_ok
                && !query
                    .excluded()
                    .iter()
                    .any(|f| filter_holds(f, run, step, &line.text))
                && since.is_none_or(|s| line.timestamp >= s)
                && until.is_none_or(|u| line.timestamp < u)
        })
        .map(|(_, (run, step, index, line))| {
            let key = (
                line.timestamp,
                run.run_id,
                run.run_attempt,
                step.job_id,
                step.step_number,
                index,
            );
            let url = format!(
                "https://github.com/{}/actions/runs/{}/job/{}#step:{}:{}",
                run.repo,
                run.run_id,
                step.job_id,
                step.step_number,
                index + 1
            );
            (key, (url, line.timestamp, line.text.clone()))
        })
        .collect();
    hits.sort_by_key(|(key, _)| *key);
    if query.sort_order() == Order::NewestFirst {
        hits.reverse();
    }
    hits.into_iter().map(|(_, hit)| hit).collect()
}

/// Indexes the corpus in two writer sessions, so the second finds texts of the first.
fn build(corpus: &Corpus, dir: &std::path::Path) -> Index {
    let index = Index::open(dir).unwrap();
    let half = corpus.attempts.len() / 2;
    for part in [&corpus.attempts[..half], &corpus.attempts[half..]] {
        let mut writer = index
            .writer_with(WriterOptions::default().threads(2))
            .unwrap();
        for (attempt, steps) in part {
            writer.add_attempt(attempt, steps).unwrap();
        }
        writer.commit().unwrap();
    }
    index
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn hits_and_counts_equal_a_per_line_evaluation(
        corpus in corpus(),
        queries in prop::collection::vec(query(), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let index = build(&corpus, dir.path());
        let per_line = PerLine::build(
            None,
            corpus.lines().enumerate().map(|(n, (_, _, _, line))| (n as u64, nanos(line.timestamp), line.text.as_str())),
            1,
        );
        for (query, expr) in queries {
            let expected = naive(&corpus, &per_line, &query, expr.as_ref());
            let (offset, limit) = query.page();
            let page: Vec<_> = expected.iter().skip(offset).take(limit).cloned().collect();
            let hits: Vec<_> = index
                .search(&query)
                .unwrap()
                .into_iter()
                .map(|hit| (hit.url, hit.timestamp, hit.text))
                .collect();
            prop_assert_eq!(&hits, &page, "{:?}", query);
            let counts = index.count(&query, GroupBy::Job).unwrap();
            prop_assert_eq!(counts.total, expected.len() as u64, "{:?}", query);
            prop_assert_eq!(counts.groups.iter().map(|(_, n)| n).sum::<u64>(), counts.total);
        }
    }
}
