//! Queries: boolean text for the line, field filters for the step, time and level.
//!
//! A query string is read by [`crate::text_query`] into its top-level `field:value` filters
//! and the rest, the text query, words tokenized as the index tokenizes lines. Filters of one
//! field are alternatives (`branch:a branch:b`, either branch); filters of different fields
//! all apply; `-field:value` or `NOT field:value` excludes. A filter added with
//! [`Query::filter`] (the command line's flags) always narrows.

use std::str::FromStr;

use jiff::Timestamp;
use tantivy::query::Query as TantivyQuery;
use tantivy::schema::Field;

use crate::error::Result;
use crate::level::Level;
use crate::schema::{TextFields, keyword};
use crate::text_query::{self, Note, Text, Truth, WrittenFilter};
use crate::time::{End, TimeBoundError, TimeContext, from_nanos, parse_time_bound, to_nanos};

/// The fields a query may filter on.
pub const FILTER_NAMES: &[&str] = &[
    "repo",
    "run",
    "attempt",
    "job",
    "step",
    "branch",
    "workflow",
    "event",
    "sha",
    "level",
    "conclusion",
    "date",
    "after",
    "before",
];

/// The conclusions a job can have (GitHub's check-run conclusions), for `conclusion:`.
pub const CONCLUSIONS: &[&str] = &[
    "success",
    "failure",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
    "neutral",
    "stale",
];

/// The events that trigger workflow runs (GitHub's *events that trigger workflows*, and
/// `dynamic` for the runs GitHub starts itself), for `event:` and `sync --event`.
pub const EVENTS: &[&str] = &[
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "create",
    "delete",
    "deployment",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "dynamic",
    "fork",
    "gollum",
    "issue_comment",
    "issues",
    "label",
    "merge_group",
    "milestone",
    "page_build",
    "project",
    "project_card",
    "project_column",
    "public",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_target",
    "push",
    "registry_package",
    "release",
    "repository_dispatch",
    "schedule",
    "status",
    "watch",
    "workflow_call",
    "workflow_dispatch",
    "workflow_run",
];

/// `value` as it is spelt in `valid`, ignoring case; `None` when it is none of them.
pub fn one_of(valid: &'static [&'static str], value: &str) -> Option<&'static str> {
    valid
        .iter()
        .copied()
        .find(|v| v.eq_ignore_ascii_case(value))
}

const SYNTAX_HINT: &str = "words match case-insensitively; \"quoted phrases\" match \
    in order; combine with AND (&&), OR (||), NOT (!, -word) and (…); filter with field:value \
    or field:\"value with spaces\", exclude with -field:value; times as 2024-01-31, \
    2024-01-31T12:00:00Z or an age (7d) in date:DAY, date:FROM..TO, after: and before:";

/// Why a query string cannot be evaluated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxError {
    /// A filter names a field that does not exist.
    #[error("unknown field `{field}` in query")]
    UnknownField {
        /// The field as written.
        field: String,
    },
    /// A filter's value has the wrong form.
    #[error("invalid value `{value}` for `{field}:`, expected {expected}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The value as written.
        value: String,
        /// What the field takes.
        expected: &'static str,
    },
    /// A closed field's value is none of those it can have, so it could never match.
    #[error("invalid value `{value}` for `{field}:`, expected one of {}", .valid.join(", "))]
    NotOneOf {
        /// The field.
        field: &'static str,
        /// The value as written.
        value: String,
        /// The values it takes.
        valid: &'static [&'static str],
    },
    /// A `date:`, `after:` or `before:` value is no time.
    #[error("invalid value for `{field}:`")]
    Time {
        /// The field.
        field: &'static str,
        /// What is wrong with the time.
        #[source]
        source: TimeBoundError,
    },
    /// The query's time filters leave no time between them.
    #[error("the query's time window is empty: `{since}` is not before `{until}`")]
    EmptyWindow {
        /// Where the window starts.
        since: Timestamp,
        /// Where it ends.
        until: Timestamp,
    },
    /// A query whose every word has nothing searchable in it (`...`, `-`), and no filter.
    #[error("query `{query}` has no words to search")]
    NothingToSearch {
        /// The query as written.
        query: String,
    },
    /// Something at one place of the query is unclosed or misplaced.
    #[error("invalid query: {problem}\n    {query}\n    {:>width$}", "^", width = .at + 1)]
    Misplaced {
        /// The query as written.
        query: String,
        /// What is wrong.
        problem: Problem,
        /// Where, in characters from the start.
        at: usize,
    },
}

impl SyntaxError {
    /// How to write the query instead, when there is advice to give.
    pub fn hint(&self) -> Option<String> {
        match self {
            SyntaxError::UnknownField { field } => Some(format!(
                "{}valid fields are {}; put text with a colon in quotes: `\"{field}:…\"`",
                text_query::closest_field(field)
                    .map(|f| format!("did you mean `{f}:`? "))
                    .unwrap_or_default(),
                FILTER_NAMES.join(", ")
            )),
            SyntaxError::Misplaced { .. } => Some(SYNTAX_HINT.to_owned()),
            SyntaxError::NothingToSearch { .. } => Some(
                "words are letters, digits, `_` and symbols; punctuation only separates them"
                    .to_owned(),
            ),
            SyntaxError::Time { source, .. } => source.hint(),
            SyntaxError::InvalidValue { .. }
            | SyntaxError::NotOneOf { .. }
            | SyntaxError::EmptyWindow { .. } => None,
        }
    }
}

/// What is unclosed or misplaced at one place of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A `"` without its closing one.
    UnclosedQuote,
    /// A `(` without its `)`.
    UnclosedParenthesis,
    /// A `)` without its `(`.
    UnopenedParenthesis,
    /// A `field:value` inside parentheses.
    FilterInParentheses,
    /// A `field:value` next to `OR`.
    FilterOred,
    /// A `-date:`, `-after:` or `-before:`.
    DateExcluded,
    /// `AND` or `OR` with nothing before it.
    NothingBefore,
    /// `AND`, `OR` or `NOT` with nothing after it.
    NothingAfter,
    /// `()`.
    EmptyParentheses,
    /// Parentheses and `NOT`s nested deeper than [`MAX_NESTING`].
    TooDeep,
}

/// How deep parentheses and `NOT`s may nest: every stage after the parser walks the query
/// recursively, so a deeper one could overflow the stack.
pub const MAX_NESTING: usize = 64;

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Problem::UnclosedQuote => "a quote is not closed",
            Problem::UnclosedParenthesis => "a parenthesis is not closed",
            Problem::UnopenedParenthesis => "this parenthesis closes nothing",
            Problem::FilterInParentheses => "field filters go outside parentheses",
            Problem::FilterOred => "field filters always apply: they cannot be ORed",
            Problem::DateExcluded => "dates cannot be excluded; use after: and before:",
            Problem::NothingBefore => "this operator has nothing before it",
            Problem::NothingAfter => "this operator has nothing after it",
            Problem::EmptyParentheses => "these parentheses hold nothing",
            Problem::TooDeep => "parentheses and NOT nest deeper than 64 levels here",
        })
    }
}

/// A condition on a line's step, run or own level.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Filter {
    /// `repo:owner/name`, case-insensitive.
    Repo(String),
    /// `run:ID`.
    Run(u64),
    /// `attempt:N`.
    Attempt(u32),
    /// `job:ID` or `job:"name"`, as [`NamePattern::job`] matches it.
    Job(String),
    /// `step:NUMBER` or `step:"name"`, as [`NamePattern::step`] matches it.
    Step(String),
    /// `branch:name`.
    Branch(String),
    /// `workflow:name`, `workflow:ci.yml` or `workflow:.github/workflows/ci.yml`.
    Workflow(String),
    /// `event:push`.
    Event(String),
    /// `sha:PREFIX` of the head commit.
    Sha(String),
    /// `level:error` (from the line's `##[…]` marker).
    Level(Level),
    /// `conclusion:failure`: the job's conclusion.
    Conclusion(String),
}

impl Filter {
    /// The field's name in queries.
    pub fn name(&self) -> &'static str {
        match self {
            Filter::Repo(_) => "repo",
            Filter::Run(_) => "run",
            Filter::Attempt(_) => "attempt",
            Filter::Job(_) => "job",
            Filter::Step(_) => "step",
            Filter::Branch(_) => "branch",
            Filter::Workflow(_) => "workflow",
            Filter::Event(_) => "event",
            Filter::Sha(_) => "sha",
            Filter::Level(_) => "level",
            Filter::Conclusion(_) => "conclusion",
        }
    }

    fn parse(name: &str, value: &str) -> Result<Filter, SyntaxError> {
        let invalid = |field: &'static str, expected: &'static str| SyntaxError::InvalidValue {
            field,
            value: value.to_owned(),
            expected,
        };
        let closed = |field: &'static str, valid: &'static [&'static str]| {
            one_of(valid, value).ok_or_else(|| SyntaxError::NotOneOf {
                field,
                value: value.to_owned(),
                valid,
            })
        };
        Ok(match name {
            "repo" => Filter::Repo(value.to_owned()),
            "run" => Filter::Run(value.parse().map_err(|_| invalid("run", "a run id"))?),
            "attempt" => Filter::Attempt(
                value
                    .parse()
                    .map_err(|_| invalid("attempt", "an attempt number"))?,
            ),
            "job" => Filter::Job(value.to_owned()),
            "step" => Filter::Step(value.to_owned()),
            "branch" => Filter::Branch(value.to_owned()),
            "workflow" => Filter::Workflow(value.to_owned()),
            "event" => Filter::Event(closed("event", EVENTS)?.to_owned()),
            "sha" if value.bytes().all(|b| b.is_ascii_hexdigit()) => Filter::Sha(value.to_owned()),
            "sha" => return Err(invalid("sha", "a hexadecimal commit prefix")),
            "level" => Filter::Level(value.parse()?),
            "conclusion" => Filter::Conclusion(closed("conclusion", CONCLUSIONS)?.to_owned()),
            _ => unreachable!("only filter names reach here"),
        })
    }
}

/// A job or step as people name it: its id or number, or its name in any case, whole or as a
/// prefix with a trailing `*` (`integ*`); a job also by its base name, the part before ` (`
/// that a matrix adds (`test` for `test (ubuntu-24.04, stable)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    /// Lowercased, without the `*`.
    pub(crate) text: String,
    pub(crate) prefix: bool,
    pub(crate) base_name: bool,
}

impl NamePattern {
    /// A job's pattern, as `job:`, `--job` and `show --job` take it.
    pub fn job(written: &str) -> NamePattern {
        NamePattern {
            base_name: true,
            ..NamePattern::step(written)
        }
    }

    /// A step's pattern, as `step:`, `--step` and `show --step` take it.
    pub fn step(written: &str) -> NamePattern {
        let text = keyword(written);
        match text.strip_suffix('*') {
            Some(prefix) => NamePattern {
                text: prefix.to_owned(),
                prefix: true,
                base_name: false,
            },
            None => NamePattern {
                text,
                prefix: false,
                base_name: false,
            },
        }
    }

    /// Whether the job or step numbered `id` and called `name` matches, as the index matches
    /// it: for callers that hold steps already.
    pub fn matches(&self, id: u64, name: &str) -> bool {
        let name = keyword(name);
        if self.prefix {
            return name.starts_with(&self.text) || id.to_string().starts_with(&self.text);
        }
        name == self.text
            || id.to_string() == self.text
            || self.base_name
                && name
                    .strip_prefix(&self.text)
                    .is_some_and(|r| r.starts_with(" ("))
    }
}

/// How hits are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Order {
    /// Latest timestamp first (the default).
    #[default]
    NewestFirst,
    /// Earliest timestamp first.
    OldestFirst,
    /// Best text match first (BM25 over distinct texts), newest first among equals.
    Relevance,
}

/// A search: text, filters, order, page and context. Build with [`Query::parse`] or the
/// builder methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The text part, rendered as a query string.
    pub(crate) text: String,
    /// The text part; `None` matches every line.
    pub(crate) text_expr: Option<Text>,
    pub(crate) notes: Vec<Note>,
    /// The query's own filters: alternatives within a field.
    pub(crate) filters: Vec<Filter>,
    /// Filters that each must hold, whatever the query says.
    pub(crate) required: Vec<Filter>,
    pub(crate) excluded: Vec<Filter>,
    /// Nanoseconds since the epoch, as lines are compared with it.
    pub(crate) since: Option<i64>,
    pub(crate) until: Option<i64>,
    pub(crate) order: Order,
    pub(crate) limit: usize,
    pub(crate) offset: usize,
    pub(crate) context_before: usize,
    pub(crate) context_after: usize,
    pub(crate) web_base: String,
}

impl Default for Query {
    fn default() -> Query {
        Query {
            text: String::new(),
            text_expr: None,
            notes: Vec::new(),
            filters: Vec::new(),
            required: Vec::new(),
            excluded: Vec::new(),
            since: None,
            until: None,
            order: Order::NewestFirst,
            limit: 20,
            offset: 0,
            context_before: 0,
            context_after: 0,
            web_base: "https://github.com".to_owned(),
        }
    }
}

impl Query {
    /// A query for `text` alone: words, phrases and operators, where `name:value` is text.
    pub fn text(text: impl Into<String>) -> Result<Query> {
        let parsed = text_query::parse(&text.into(), false)?;
        let mut query = Query::default();
        query.set_text(parsed.text, parsed.notes);
        Ok(query)
    }

    /// Parses a query string: words, phrases and operators, and top-level `field:value`
    /// filters.
    ///
    /// Ages count back from now and days are UTC days.
    pub fn parse(input: &str) -> Result<Query> {
        Query::parse_in(input, &TimeContext::default())
    }

    /// Parses a query string as [`Query::parse`] does, with ages and days in `context`.
    pub fn parse_in(input: &str, context: &TimeContext) -> Result<Query> {
        let mut query = Query::default();
        let parsed = text_query::parse(input, true)?;
        for WrittenFilter {
            negated,
            name,
            value,
            at,
        } in parsed.filters
        {
            let misplaced = |problem| SyntaxError::Misplaced {
                query: input.to_owned(),
                problem,
                at,
            };
            if value.is_empty() {
                return Err(SyntaxError::InvalidValue {
                    field: FILTER_NAMES.iter().find(|n| **n == name).expect("known"),
                    value,
                    expected: "a value after the colon",
                }
                .into());
            }
            match name.as_str() {
                "date" | "after" | "before" if negated => {
                    return Err(misplaced(Problem::DateExcluded).into());
                }
                "date" | "after" | "before" => query.narrow_in_time(&name, &value, context)?,
                _ if negated => query.excluded.push(Filter::parse(&name, &value)?),
                _ => query.filters.push(Filter::parse(&name, &value)?),
            }
        }
        if let (Some(since), Some(until)) = (query.since, query.until)
            && since >= until
        {
            return Err(SyntaxError::EmptyWindow {
                since: from_nanos(since),
                until: from_nanos(until),
            }
            .into());
        }
        query.set_text(parsed.text, parsed.notes);
        Ok(query)
    }

    fn set_text(&mut self, text: Option<Text>, notes: Vec<Note>) {
        self.text = text.as_ref().map(Text::render).unwrap_or_default();
        self.text_expr = text;
        self.notes = notes;
    }

    /// Narrows the time window by a `date:`, `after:` or `before:` filter. A day is a whole
    /// day in the context's zone, at either end: `before:DAY` is `date:..DAY`, up to the end
    /// of `DAY`.
    fn narrow_in_time(
        &mut self,
        name: &str,
        value: &str,
        context: &TimeContext,
    ) -> Result<(), SyntaxError> {
        let field = FILTER_NAMES
            .iter()
            .find(|n| **n == name)
            .expect("a time filter");
        let bound = |text: &str, end| {
            parse_time_bound(text, end, context)
                .map_err(|source| SyntaxError::Time { field, source })
        };
        let (from, to) = match name {
            "after" => (Some(value), None),
            "before" => (None, Some(value)),
            _ => {
                let (from, to) = value.split_once("..").unwrap_or((value, value));
                (
                    Some(from).filter(|f| !f.is_empty()),
                    Some(to).filter(|t| !t.is_empty()),
                )
            }
        };
        let since = from.map(|f| bound(f, End::Start)).transpose()?;
        let until = to.map(|t| bound(t, End::End)).transpose()?;
        if let (Some(since), Some(until)) = (since, until)
            && since >= until
        {
            return Err(SyntaxError::InvalidValue {
                field,
                value: value.to_owned(),
                expected: "a range from an earlier to a later time",
            });
        }
        self.narrow(since.map(to_nanos), until.map(to_nanos));
        Ok(())
    }

    /// Keeps the later start and the earlier end.
    fn narrow(&mut self, since: Option<i64>, until: Option<i64>) {
        if let Some(at) = since {
            self.since = Some(self.since.map_or(at, |since| since.max(at)));
        }
        if let Some(at) = until {
            self.until = Some(self.until.map_or(at, |until| until.min(at)));
        }
    }

    /// Narrows the query to lines that `filter` also matches, whatever filters of its field
    /// the query string gave: a flag never widens what a query selects.
    pub fn filter(mut self, filter: Filter) -> Query {
        self.required.push(filter);
        self
    }

    /// Excludes lines that `filter` matches.
    pub fn exclude(mut self, filter: Filter) -> Query {
        self.excluded.push(filter);
        self
    }

    /// Only lines written at or after `at` (and after any earlier start: it narrows).
    pub fn since(mut self, at: Timestamp) -> Query {
        self.narrow(Some(to_nanos(at)), None);
        self
    }

    /// Only lines written before `at` (and before any earlier end: it narrows).
    pub fn until(mut self, at: Timestamp) -> Query {
        self.narrow(None, Some(to_nanos(at)));
        self
    }

    /// The order of hits (default newest first).
    pub fn order(mut self, order: Order) -> Query {
        self.order = order;
        self
    }

    /// At most this many hits (default 20).
    pub fn limit(mut self, limit: usize) -> Query {
        self.limit = limit;
        self
    }

    /// Skips this many hits first.
    pub fn offset(mut self, offset: usize) -> Query {
        self.offset = offset;
        self
    }

    /// Lines of the same step before and after each hit.
    pub fn context(mut self, before: usize, after: usize) -> Query {
        self.context_before = before;
        self.context_after = after;
        self
    }

    /// The web host's base for hit URLs (default `https://github.com`); see
    /// [`logidx_urls::web_base`].
    pub fn web_base(mut self, base: impl Into<String>) -> Query {
        self.web_base = base.into().trim_end_matches('/').to_owned();
        self
    }

    /// The text part, as a query string of its own (empty: every line).
    pub fn text_part(&self) -> &str {
        &self.text
    }

    /// What the query was read as where its writer may have meant otherwise (a lowercase
    /// `or` searched as a word, `net::x` as text): the command line prints them.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The tokens of the words the text part asks for (not those it excludes), to highlight.
    pub fn positive_tokens(&self) -> Vec<&str> {
        let mut tokens = Vec::new();
        if let Some(text) = &self.text_expr {
            text.positive_tokens(&mut tokens);
        }
        tokens
    }

    /// The query string's filters: one of each field's must hold.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// The filters added with [`Query::filter`]: each must hold.
    pub fn required(&self) -> &[Filter] {
        &self.required
    }

    /// The filters that must not hold.
    pub fn excluded(&self) -> &[Filter] {
        &self.excluded
    }

    /// The order of hits.
    pub fn sort_order(&self) -> Order {
        self.order
    }

    /// `(offset, limit)`: the hits skipped and the most returned.
    pub fn page(&self) -> (usize, usize) {
        (self.offset, self.limit)
    }

    /// The time window `[since, until)`, each end optional.
    pub fn time_range(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        (self.since.map(from_nanos), self.until.map(from_nanos))
    }

    /// The query as parts over disjoint sets of steps, whose lines together are the query's:
    /// itself when its text has no commit word ([`Text::Commit`]). Otherwise, for each commit
    /// word `w`, the steps of runs whose sha starts with `w` and with no longer commit word
    /// that extends `w`, with `w` and the words it extends true on every line; and the steps
    /// of runs whose sha starts with none, with every commit word a plain word. A step's sha
    /// starts with a chain of the words, so exactly one part holds it. Parts whose text
    /// matches nothing are left out.
    pub(crate) fn by_commit(&self) -> Vec<Query> {
        let commits = self
            .text_expr
            .as_ref()
            .map(Text::commits)
            .unwrap_or_default();
        if commits.is_empty() {
            return vec![self.clone()];
        }
        let mut parts = Vec::with_capacity(commits.len() + 1);
        for word in &commits {
            let extended: Vec<&str> = commits
                .iter()
                .filter(|v| word.starts_with(v.as_str()))
                .map(String::as_str)
                .collect();
            let text = self
                .text_expr
                .as_ref()
                .expect("commits")
                .with_true_commits(&extended);
            let text_expr = match text {
                Truth::Nothing => continue,
                Truth::All => None,
                Truth::Some(text) => Some(text),
            };
            let mut part = self.clone();
            part.text_expr = text_expr;
            part.required.push(Filter::Sha(word.clone()));
            part.excluded.extend(
                commits
                    .iter()
                    .filter(|v| v.len() > word.len() && v.starts_with(word.as_str()))
                    .map(|v| Filter::Sha(v.clone())),
            );
            parts.push(part);
        }
        let mut rest = self.clone();
        rest.excluded.extend(commits.into_iter().map(Filter::Sha));
        parts.push(rest);
        parts
    }

    /// The text part as a tantivy query over the texts index; empty text matches every text.
    pub(crate) fn text_query(&self) -> Result<Box<dyn TantivyQuery>> {
        let (_, fields) = TextFields::schema();
        Ok(self.text_query_over(fields.text))
    }

    /// The text part as a tantivy query over `field`, a text field tokenized with
    /// [`LogTokenizer`](crate::LogTokenizer) (as a baseline index of one document per line).
    /// It knows texts only: a pasted commit (`44875c6`) is the word alone there, while
    /// [`Index::search`](crate::Index::search) also gives every line of the commit's runs.
    pub fn text_query_over(&self, field: Field) -> Box<dyn TantivyQuery> {
        text_query::tantivy_query(self.text_expr.as_ref(), field)
    }
}

/// The same as [`Query::parse`].
impl FromStr for Query {
    type Err = crate::Error;

    fn from_str(input: &str) -> Result<Query> {
        Query::parse(input)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const DAY: i64 = 86_400 * 1_000_000_000;
    const JAN_31_2024: i64 = 1_706_659_200 * 1_000_000_000;

    #[test]
    fn log_punctuation_is_searched_as_written() {
        for (input, text) in [
            ("##[error]Process completed", "\"error process\" completed"),
            (
                "\"##[error]Process completed\"",
                "\"error process completed\"",
            ),
            ("{code: 110} ^~~~", "code 110"),
            ("Result::unwrap()", "\"result unwrap\""),
            ("f(x) (a)", "\"f x\" a"),
        ] {
            let query = Query::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(query.text_part(), text, "{input}");
        }
    }

    #[test]
    fn not_binds_tightest_then_and_then_or() {
        for (input, text) in [
            ("panicked AND NOT roundtrip", "panicked NOT roundtrip"),
            ("panicked -roundtrip", "panicked NOT roundtrip"),
            ("!roundtrip panicked", "NOT roundtrip panicked"),
            ("panicked && !roundtrip", "panicked NOT roundtrip"),
            ("NOT a AND NOT b", "NOT a NOT b"),
            ("a OR NOT b", "a OR NOT b"),
            ("a || b && c", "a OR (b c)"),
            ("a b OR c", "(a b) OR c"),
            ("-(a OR b) c", "NOT (a OR b) c"),
            ("NOT -a", "NOT NOT a"),
            ("(a OR b) (c OR d)", "(a OR b) (c OR d)"),
            ("\"AND\" \"or\"", "and or"),
        ] {
            let query = Query::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(query.text_part(), text, "{input}");
            assert_eq!(query.notes(), &[], "{input}");
            // The rendering means the same.
            let again = Query::parse(text).unwrap();
            assert_eq!(again.text_part(), text, "{input}");
        }
    }

    #[test]
    fn guesses_are_noted() {
        let note = |input: &str| -> Vec<String> {
            let query = Query::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            query.notes().iter().map(ToString::to_string).collect()
        };
        assert_eq!(
            note("panicked or roundtrip"),
            [
                "`or` is searched as a word; write OR for the operator, or \"or\" to silence \
              this note"
            ]
        );
        assert_eq!(note("panicked \"or\" roundtrip"), Vec::<String>::new());
        assert_eq!(
            note("net::tests::connect_with_retry"),
            ["`net::tests::connect_with_retry` is searched as text: `net` is not a field"]
        );
        for pasted in [
            "https://example.com/a/b",
            "C:\\x",
            "Result::unwrap()",
            "foo:bar",
            "error:",
        ] {
            assert_eq!(note(pasted).len(), 1, "{pasted}");
        }
        assert_eq!(note("src/net.rs:232:18"), Vec::<String>::new());
        assert_eq!(
            note("a ... b"),
            ["`...` has no letters, digits or symbols and is ignored"]
        );
        let query = Query::parse("https://example.com/a/b").unwrap();
        assert_eq!(query.text_part(), "\"https example com a b\"");
    }

    #[test]
    fn splits_filters_from_text() {
        let cases: &[(&str, &str, &[Filter], &[Filter])] = &[
            ("panicked at", "panicked at", &[], &[]),
            (
                "\"panicked at\" repo:Acme/Widgets",
                "\"panicked at\"",
                &[Filter::Repo("Acme/Widgets".into())],
                &[],
            ),
            (
                "job:\"test (ubuntu)\" error",
                "error",
                &[Filter::Job("test (ubuntu)".into())],
                &[],
            ),
            (
                "error AND run:42 AND attempt:2",
                "error",
                &[Filter::Run(42), Filter::Attempt(2)],
                &[],
            ),
            (
                "-level:info NOT branch:main timeout",
                "timeout",
                &[],
                &[Filter::Level(Level::Info), Filter::Branch("main".into())],
            ),
            (
                "!branch:main timeout",
                "timeout",
                &[],
                &[Filter::Branch("main".into())],
            ),
            (
                "sha:ABC123 step:3 workflow:ci.yml event:push conclusion:failure",
                "",
                &[
                    Filter::Sha("ABC123".into()),
                    Filter::Step("3".into()),
                    Filter::Workflow("ci.yml".into()),
                    Filter::Event("push".into()),
                    Filter::Conclusion("failure".into()),
                ],
                &[],
            ),
            (
                "workflow:.github/workflows/ci.yml",
                "",
                &[Filter::Workflow(".github/workflows/ci.yml".into())],
                &[],
            ),
            ("(a OR b) -c", "(a OR b) NOT c", &[], &[]),
            (
                "\"http://x\" LEVEL:Error",
                "\"http x\"",
                &[Filter::Level(Level::Error)],
                &[],
            ),
        ];
        for (input, text, filters, excluded) in cases {
            let query = Query::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(query.text_part(), *text, "text of {input}");
            assert_eq!(query.filters(), *filters, "filters of {input}");
            assert_eq!(query.excluded(), *excluded, "excluded of {input}");
        }
    }

    #[test]
    fn reads_date_ranges() {
        let cases: &[(&str, Option<i64>, Option<i64>)] = &[
            (
                "date:2024-01-31",
                Some(JAN_31_2024),
                Some(JAN_31_2024 + DAY),
            ),
            (
                "date:2024-01-30..2024-01-31",
                Some(JAN_31_2024 - DAY),
                Some(JAN_31_2024 + DAY),
            ),
            ("date:..2024-01-31", None, Some(JAN_31_2024 + DAY)),
            (
                "after:2024-01-31T00:00:01Z",
                Some(JAN_31_2024 + 1_000_000_000),
                None,
            ),
            ("before:2024-01-31", None, Some(JAN_31_2024 + DAY)),
            (
                "after:2024-01-31T00:00:01Z after:2024-01-30 before:2024-02-02 date:..2024-01-31",
                Some(JAN_31_2024 + 1_000_000_000),
                Some(JAN_31_2024 + DAY),
            ),
            ("after:2d", Some(JAN_31_2024 - DAY), None),
            (
                "after:2024-01-31T01:00:00",
                Some(JAN_31_2024 + DAY / 24),
                None,
            ),
        ];
        let now = from_nanos(JAN_31_2024 + DAY + DAY / 48);
        let context = TimeContext::new(now, jiff::tz::TimeZone::UTC);
        for (input, since, until) in cases {
            let query = Query::parse_in(input, &context).unwrap();

            let (from, to) = query.time_range();
            assert_eq!(
                (from.map(to_nanos), to.map(to_nanos)),
                (*since, *until),
                "{input}"
            );
        }
    }

    #[test]
    fn errors_say_what_is_valid() {
        let cases: &[(&str, &str)] = &[
            (
                "brnach:main",
                "unknown field `brnach` in query\nhint: did you mean `branch:`? valid fields \
                 are repo, run,",
            ),
            ("levle:error", "did you mean `level:`?"),
            (
                "run:abc",
                "invalid value `abc` for `run:`, expected a run id",
            ),
            (
                "level:fatal",
                "expected one of error, warning, notice, debug, info",
            ),
            ("sha:xyz", "expected a hexadecimal commit prefix"),
            (
                "conclusion:failed",
                "invalid value `failed` for `conclusion:`, expected one of success, failure,",
            ),
            (
                "-event:pr",
                "invalid value `pr` for `event:`, expected one of",
            ),
            (
                "date:yesterday",
                "invalid value for `date:`\nhint: use an age (`30min`,",
            ),
            ("after:1m", "write `1min` for minutes or `1mo` for months"),
            (
                "date:2024-02-01..2024-01-31",
                "invalid value `2024-02-01..2024-01-31` for `date:`, expected a range",
            ),
            (
                "after:2024-02-01 before:2024-01-31",
                "the query's time window is empty",
            ),
            ("repo:", "invalid value `` for `repo:`"),
            ("\"unclosed", "a quote is not closed"),
            ("(a OR repo:x)", "field filters go outside parentheses"),
            ("a OR repo:x", "cannot be ORed"),
            ("a b OR c repo:x", "cannot be ORed"),
            ("-date:2024-01-01", "dates cannot be excluded"),
            (
                "a AND AND",
                "invalid query: this operator has nothing after it\n    a AND AND\n      ^\n\
                 hint: words match",
            ),
            (
                "a AND",
                "this operator has nothing after it\n    a AND\n      ^",
            ),
            (
                "OR a",
                "this operator has nothing before it\n    OR a\n    ^",
            ),
            (
                "a || (|| b)",
                "nothing before it\n    a || (|| b)\n          ^",
            ),
            ("a NOT", "nothing after it\n    a NOT\n      ^"),
            (
                "a () b",
                "these parentheses hold nothing\n    a () b\n      ^",
            ),
            ("a (b", "a parenthesis is not closed\n    a (b\n      ^"),
            (
                "a b)",
                "this parenthesis closes nothing\n    a b)\n       ^",
            ),
            (
                "...",
                "query `...` has no words to search\nhint: words are letters",
            ),
            ("NOT - ##", "query `NOT - ##` has no words to search"),
        ];
        for (input, message) in cases {
            let err = Query::parse(input).expect_err(input);
            // As the command line shows it.
            let err = match err.hint() {
                Some(hint) => format!("{err}\nhint: {hint}"),
                None => err.to_string(),
            };
            assert!(err.contains(message), "{input}: {err}");
        }
    }

    #[test]
    fn names_match_whole_by_base_name_or_by_prefix() {
        let job = NamePattern::job;
        let cases = [
            (job("test"), "test (ubuntu-24.04, stable)", true),
            (job("TEST"), "test", true),
            (job("test"), "test-unit", false),
            (job("tes"), "test (ubuntu-24.04, stable)", false),
            (job("test (ubuntu*"), "Test (ubuntu-24.04, stable)", true),
            (job("test (macos*"), "test (ubuntu-24.04, stable)", false),
            (job("*"), "anything", true),
            (job("42"), "lint", true),
            (job("4*"), "lint", true),
            (NamePattern::step("Run cargo*"), "run cargo test", true),
            (NamePattern::step("run"), "run (twice)", false),
            (NamePattern::step("run"), "Run", true),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(pattern.matches(42, name), want, "{pattern:?} {name}");
        }
    }

    #[test]
    fn nesting_is_bounded_rather_than_overflowing_the_stack() {
        let deep = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        Query::parse(&deep(MAX_NESTING))
            .unwrap()
            .text_query()
            .unwrap();
        for input in [
            deep(MAX_NESTING + 1),
            deep(100_000),
            format!("{}a", "-!".repeat(50_000)),
            format!("{}a", "NOT ".repeat(100_000)),
        ] {
            let error = Query::parse(&input).unwrap_err().to_string();
            assert!(error.contains("deeper than 64 levels"), "{error:.200}");
        }
    }

    #[test]
    fn a_query_of_exclusions_only_is_accepted() {
        Query::parse("-foo").unwrap().text_query().unwrap();
        Query::parse("NOT foo repo:x")
            .unwrap()
            .text_query()
            .unwrap();
    }

    #[test]
    fn bare_hex_words_with_a_letter_are_commits() {
        let commit = |input: &str| {
            let query = Query::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            let again = Query::parse(query.text_part()).unwrap();
            assert_eq!(again.text_expr, query.text_expr, "{input}");
            let notes: Vec<String> = query.notes().iter().map(ToString::to_string).collect();
            (query.text_expr.clone().unwrap(), notes)
        };
        assert_eq!(
            commit("44875C6"),
            (
                Text::Commit("44875c6".into()),
                vec![
                    "`44875C6` also matches every line of the runs of commits starting with \
                     it; write \"44875C6\" to search only the text"
                        .to_owned()
                ]
            )
        );
        let forty = "44875c695a299d3666c57960c9c72126001bcec4";
        assert_eq!(commit(forty).0, Text::Commit(forty.into()));
        for word in [
            "\"44875c6\"",
            "1234567",
            "abcdef",
            &format!("{forty}0"),
            "44875g6",
        ] {
            let (text, notes) = commit(word);
            assert!(matches!(text, Text::Words(_)), "{word}: {text:?}");
            assert_eq!(notes, Vec::<String>::new(), "{word}");
        }
        // A word, not a commit, without filters.
        let text = Query::text("44875c6").unwrap();
        assert!(matches!(text.text_expr, Some(Text::Words(_))));
    }

    #[test]
    fn commits_split_the_steps_by_their_sha() {
        let query = Query::parse("44875c6e panicked OR NOT 44875c6").unwrap();
        let parts: Vec<(String, Vec<Filter>, Vec<Filter>)> = query
            .by_commit()
            .into_iter()
            .map(|part| {
                let text = part
                    .text_expr
                    .as_ref()
                    .map(Text::render)
                    .unwrap_or_default();
                (text, part.required, part.excluded)
            })
            .collect();
        let sha = |s: &str| Filter::Sha(s.to_owned());
        assert_eq!(
            parts,
            [
                // `44875c6` true, `44875c6e` (false there) a word.
                (
                    "44875c6e panicked".to_owned(),
                    vec![sha("44875c6")],
                    vec![sha("44875c6e")]
                ),
                // Both true: `NOT 44875c6` matches nothing.
                ("panicked".to_owned(), vec![sha("44875c6e")], vec![]),
                // Neither: both words.
                (
                    "(44875c6e panicked) OR NOT 44875c6".to_owned(),
                    vec![],
                    vec![sha("44875c6"), sha("44875c6e")]
                ),
            ]
        );
        // A part whose text matches nothing is left out.
        assert_eq!(Query::parse("NOT 44875c6").unwrap().by_commit().len(), 1);
        let all = Query::parse("44875c6 OR panicked").unwrap().by_commit();
        assert_eq!(all[0].text_expr, None, "every line of the commit's runs");
        assert_eq!(Query::parse("panicked").unwrap().by_commit().len(), 1);
    }

    proptest! {
        #[test]
        fn parsing_never_panics(input in "[a-zA-Z:\"()|&! -]{0,30}") {
            let _ = Query::parse(&input);
        }

        #[test]
        fn a_rendered_text_means_the_same(input in "[ab\"()|&!\\- ]{0,24}|(a|b|AND|OR|NOT|\\(|\\)|-|!|&&|\\|\\|| )*") {
            if let Ok(query) = Query::parse(&input) {
                let again = Query::parse(query.text_part()).unwrap();
                prop_assert_eq!(again.text_part(), query.text_part());
                prop_assert_eq!(&again.text_expr, &query.text_expr);
            }
        }

        #[test]
        fn filters_survive_any_text(
            words in proptest::collection::vec("[a-z0-9]{1,8}", 0..5),
            run in any::<u64>(),
        ) {
            let input = format!("{} run:{run}", words.join(" "));
            let query = Query::parse(&input).unwrap();
            prop_assert_eq!(query.filters(), &[Filter::Run(run)]);
            prop_assert_eq!(query.text_part(), words.join(" "));
        }
    }
}
