//! Search, count and show: the text query runs over distinct texts, the filters over steps,
//! and each step's stored sequence turns matching text ids into lines.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::ops::Bound;

use serde::Serialize;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query as TantivyQuery, RangeQuery};
use tantivy::schema::Term;
use tantivy::{BitSet, DocAddress, Searcher};

use crate::error::Result;
use crate::index::{Index, StepCollector, StepMatch, TextCollector, search};
use crate::level::Level;
use crate::model::{AttemptRecord, Line, RunAttempt, StepMeta};
use crate::query::{Filter, Order, Query};
use crate::schema::{
    KIND_ATTEMPT, KIND_STEP, StepFields, attempt_key, keyword, keyword_query as term,
};
use crate::segment_file;
use crate::sequence::{self, Occurrence};
use crate::store::StepStore;
use crate::stored::{self, StoredStep};
use crate::text_postings::{self, StepsHolding, TextPostings};

mod errors;

pub use errors::{ErrorGroup, Sighting};

/// Above this many matching texts, steps are walked and tested against a bitset instead of
/// being found through each text's postings (decoding many texts' postings, most of them long,
/// costs more than it saves).
const POSTINGS_LIMIT: usize = 1_024;

/// A count uses a thread per this many matching steps, up to one per core.
const STEPS_PER_COUNTING_THREAD: usize = 256;

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// One matching line.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The run attempt.
    pub run: RunAttempt,
    /// The job and step.
    pub step: StepMeta,
    /// 1-based line number within the step, as in the URL.
    pub line_number: u32,
    /// When the line was written, in nanoseconds since the Unix epoch.
    pub timestamp: i64,
    /// From the line's marker.
    pub level: Level,
    /// The line's text.
    pub text: String,
    /// `{web}/{repo}/actions/runs/{run_id}/job/{job_id}#step:{step_number}:{line_number}`; the
    /// job's page for lines outside steps (step 0), the attempt's for a job id of 0.
    pub url: String,
    /// The text's BM25 score, with [`Order::Relevance`].
    pub score: Option<f32>,
    /// Lines of the step before the hit, oldest first.
    pub before: Vec<ContextLine>,
    /// Lines of the step after the hit.
    pub after: Vec<ContextLine>,
}

/// A line around a hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextLine {
    /// 1-based line number within the step.
    pub line_number: u32,
    /// Nanoseconds since the Unix epoch.
    pub timestamp: i64,
    /// The text.
    pub text: String,
}

/// How [`Index::count`] groups matching lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// No groups, only the total.
    Nothing,
    /// By run: keys are run ids.
    Run,
    /// By job: keys are job ids.
    Job,
    /// By step: keys are `job_id:step_number`.
    Step,
    /// By branch name.
    Branch,
    /// By the line's UTC day: keys are `2024-01-31`.
    Day,
}

/// Matching lines counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Every matching line.
    pub total: u64,
    /// Lines per group, by key ascending; empty for [`GroupBy::Nothing`].
    pub groups: Vec<(String, u64)>,
}

/// What [`Index::show`] shows: a run, or one of its attempts, jobs or steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// `owner/name`.
    pub repo: String,
    /// The run.
    pub run_id: u64,
    /// One attempt, or all.
    pub run_attempt: Option<u32>,
    /// One job, or all.
    pub job_id: Option<u64>,
    /// One step (of the selected jobs), or all.
    pub step_number: Option<u32>,
}

/// A step with all its lines, from [`Index::show`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownStep {
    /// The run attempt.
    pub run: RunAttempt,
    /// The job and step.
    pub step: StepMeta,
    /// Every line, in order.
    pub lines: Vec<Line>,
}

/// Matching lines counted by one thread.
#[derive(Default)]
struct Tally {
    total: u64,
    /// By the step's metadata.
    groups: HashMap<String, u64>,
    /// By day, numbered from the Unix epoch.
    days: HashMap<i64, u64>,
}

/// The text ids a query's text part matches.
enum TextSet {
    All,
    Ids { bits: Vec<u64>, count: usize },
}

impl TextSet {
    /// The set of `ids`.
    fn of(ids: impl IntoIterator<Item = u32>) -> TextSet {
        let mut bits = Vec::new();
        let mut count = 0;
        for id in ids {
            let word = id as usize / 64;
            if bits.len() <= word {
                bits.resize(word + 1, 0u64);
            }
            count += usize::from(bits[word] & (1 << (id % 64)) == 0);
            bits[word] |= 1 << (id % 64);
        }
        TextSet::Ids { bits, count }
    }

    /// The ids of an `Ids` set in increasing order, a set bit at a time (a bit-by-bit walk
    /// took 64 steps per word of a set as wide as every text id); none for `All`.
    fn ids(&self) -> Vec<u32> {
        let TextSet::Ids { bits, count } = self else {
            return Vec::new();
        };
        let mut ids = Vec::with_capacity(*count);
        for (word_index, &word) in bits.iter().enumerate() {
            let mut rest = word;
            while rest != 0 {
                ids.push((word_index * 64) as u32 + rest.trailing_zeros());
                rest &= rest - 1;
            }
        }
        ids
    }

    fn contains(&self, id: u32) -> bool {
        match self {
            TextSet::All => true,
            TextSet::Ids { bits, .. } => bits
                .get(id as usize / 64)
                .is_some_and(|word| word & (1 << (id % 64)) != 0),
        }
    }
}

/// The web page of a line: its step's line anchor; the job's page for lines outside steps
/// (step number 0: preamble, `system.txt`); the attempt's page for a file that matches no
/// job (job id 0). `web_base` as [`web_base_from_api`](crate::web_base_from_api) gives it.
pub fn line_url(web_base: &str, run: &RunAttempt, step: &StepMeta, line_number: u32) -> String {
    let page = format!("{web_base}/{}/actions/runs/{}", run.repo, run.run_id);
    match (step.job_id, step.step_number) {
        (0, _) => format!("{page}/attempts/{}", run.run_attempt),
        (job, 0) => format!("{page}/job/{job}"),
        (job, number) => format!("{page}/job/{job}#step:{number}:{line_number}"),
    }
}

/// A step loaded from the steps index.
struct LoadedStep {
    stored: StoredStep,
    lines: Vec<Occurrence>,
}

/// A matching line, ordered by time, then by run, attempt, job, step and line.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    timestamp: i64,
    run_id: u64,
    run_attempt: u32,
    job_id: u64,
    step_number: u32,
    line_index: u32,
    text_id: u32,
    score: f32,
    step: DocAddress,
}

impl Candidate {
    fn key(&self) -> (i64, u64, u32, u64, u32, u32) {
        (
            self.timestamp,
            self.run_id,
            self.run_attempt,
            self.job_id,
            self.step_number,
            self.line_index,
        )
    }

    /// `Less` means `self` comes first in `order`.
    fn rank(&self, other: &Candidate, order: Order) -> Ordering {
        match order {
            Order::NewestFirst => other.key().cmp(&self.key()),
            Order::OldestFirst => self.key().cmp(&other.key()),
            Order::Relevance => other
                .score
                .total_cmp(&self.score)
                .then_with(|| other.key().cmp(&self.key())),
        }
    }
}

/// A candidate in the heap of the best so far; the heap's top is the worst kept.
struct Ranked(Candidate, Order);

impl PartialEq for Ranked {
    fn eq(&self, other: &Ranked) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Ranked) -> Ordering {
        self.0.rank(&other.0, self.1)
    }
}

impl Index {
    /// The lines matching `query`, one hit per line, in the query's order and page.
    pub fn search(&self, query: &Query) -> Result<Vec<Hit>> {
        let (texts, steps) = self.searchers();
        let scored = query.order == Order::Relevance;
        let (set, scores) = self.matching_texts(&texts, query, scored)?;
        let mut matches = self.matching_steps(&steps, query, &set, POSTINGS_LIMIT)?;
        let wanted = query.offset.saturating_add(query.limit);
        if wanted == 0 {
            return Ok(Vec::new());
        }
        match query.order {
            Order::NewestFirst => matches.sort_by_key(|m| std::cmp::Reverse(m.last_time)),
            Order::OldestFirst | Order::Relevance => matches.sort_by_key(|m| m.first_time),
        }
        let store = self.step_store(&steps)?;
        let mut best: BinaryHeap<Ranked> = BinaryHeap::new();
        let mut loaded: HashMap<DocAddress, LoadedStep> = HashMap::new();
        for found in matches {
            if best.len() == wanted {
                let worst = &best.peek().expect("full").0;
                // Steps come in time order: once none can beat the worst kept line, stop.
                let done = match query.order {
                    Order::NewestFirst => found.last_time < worst.timestamp,
                    Order::OldestFirst => found.first_time > worst.timestamp,
                    Order::Relevance => false,
                };
                if done {
                    break;
                }
            }
            let step = self.load_step(&store, found.address)?;
            let mut any = false;
            for candidate in matching_lines(&step, found.address, query, &set, &scores) {
                best.push(Ranked(candidate, query.order));
                if best.len() > wanted {
                    best.pop();
                }
                any = true;
            }
            if any {
                loaded.insert(found.address, step);
            }
        }
        let mut ranked: Vec<Candidate> = best.into_iter().map(|r| r.0).collect();
        ranked.sort_by(|a, b| a.rank(b, query.order));
        let page: Vec<Candidate> = ranked.into_iter().skip(query.offset).collect();
        self.hits(&texts, query, &page, &loaded)
    }

    /// Counts the lines matching `query` (its order, page and context are ignored).
    pub fn count(&self, query: &Query, group_by: GroupBy) -> Result<Counts> {
        let (texts, steps) = self.searchers();
        let (set, _) = self.matching_texts(&texts, query, false)?;
        let found = self.matching_steps(&steps, query, &set, POSTINGS_LIMIT)?;
        // Every matching step's sequence is read: split the steps, in document order so that
        // each thread decompresses each block once, among the cores.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(found.len().div_ceil(STEPS_PER_COUNTING_THREAD))
            .max(1);
        let tallies = if threads == 1 {
            vec![self.tally(&*self.step_store(&steps)?, &found, query, &set, group_by)?]
        } else {
            // Each thread its own store: a walk in document order needs one block per column.
            let tally = |part: &[StepMatch]| {
                let store = StepStore::open(self, &steps, 1)?;
                self.tally(&store, part, query, &set, group_by)
            };
            std::thread::scope(|scope| {
                let running: Vec<_> = found
                    .chunks(found.len().div_ceil(threads))
                    .map(|part| scope.spawn(move || tally(part)))
                    .collect();
                running
                    .into_iter()
                    .map(|thread| {
                        thread
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                    .collect::<Result<Vec<Tally>>>()
            })?
        };
        let mut total = 0;
        let mut groups: BTreeMap<String, u64> = BTreeMap::new();
        for tally in tallies {
            total += tally.total;
            for (key, count) in tally.groups {
                *groups.entry(key).or_default() += count;
            }
            for (day, count) in tally.days {
                *groups.entry(day_name(day)).or_default() += count;
            }
        }
        Ok(Counts {
            total,
            groups: groups.into_iter().collect(),
        })
    }

    /// Counts the matching lines of the steps `found`, which are in document order.
    fn tally(
        &self,
        store: &StepStore,
        found: &[StepMatch],
        query: &Query,
        set: &TextSet,
        group_by: GroupBy,
    ) -> Result<Tally> {
        let mut tally = Tally::default();
        let timed = group_by == GroupBy::Day || query.since.is_some() || query.until.is_some();
        // Lines of a step usually come in time order: a day's lines are mostly added up before
        // they are filed.
        let mut day = (i64::MIN, 0u64);
        for found in found {
            let mut in_step = 0;
            // Without a time window or days, the timestamps are not even decompressed.
            if timed {
                store.with_lines(found.address, |parts| {
                    sequence::for_each(parts, |line| {
                        if !set.contains(line.text_id) || !in_window(query, line.timestamp) {
                            return;
                        }
                        in_step += 1;
                        if group_by == GroupBy::Day {
                            let this = line.timestamp.div_euclid(NANOS_PER_DAY);
                            if this != day.0 {
                                if day.1 > 0 {
                                    *tally.days.entry(day.0).or_default() += day.1;
                                }
                                day = (this, 0);
                            }
                            day.1 += 1;
                        }
                    })
                })?
            } else {
                store.with_ids(found.address, |ids| {
                    sequence::for_each_id(ids, |id| in_step += u64::from(set.contains(id)))
                })?
            }
            .ok_or_else(|| store.undecodable(found.address))?;
            tally.total += in_step;
            // A step's lines all fall in its group: one entry per step, not one per line.
            if in_step > 0
                && let Some(key) = step_group(group_by, || self.stored_of(store, found.address))?
            {
                *tally.groups.entry(key).or_default() += in_step;
            }
        }
        if day.1 > 0 {
            *tally.days.entry(day.0).or_default() += day.1;
        }
        Ok(tally)
    }

    /// Every line of a run, attempt, job or step: steps ordered by attempt, job id and number.
    pub fn show(&self, selection: &Selection) -> Result<Vec<ShownStep>> {
        let (texts, steps) = self.searchers();
        let fields = &self.step_fields;
        let mut clauses = vec![
            term(fields.kind, KIND_STEP),
            term(fields.repo, &selection.repo),
            term(fields.run, &selection.run_id.to_string()),
        ];
        if let Some(attempt) = selection.run_attempt {
            clauses.push(term(fields.attempt, &attempt.to_string()));
        }
        if let Some(job) = selection.job_id {
            clauses.push(term(fields.job, &job.to_string()));
        }
        if let Some(step) = selection.step_number {
            clauses.push(term(fields.step, &step.to_string()));
        }
        let query = BooleanQuery::new(clauses.into_iter().map(|q| (Occur::Must, q)).collect());
        let store = self.step_store(&steps)?;
        let mut shown = Vec::new();
        for found in search(&steps, &query, &StepCollector)? {
            let step = self.load_step(&store, found.address)?;
            // A step name equal to the number of another step also matched the term.
            if selection
                .step_number
                .is_some_and(|n| n != step.stored.step.step_number)
            {
                continue;
            }
            shown.push(step);
        }
        shown.sort_by_key(|s| {
            let (run, step) = (&s.stored.attempt, &s.stored.step);
            (run.run_attempt, step.job_id, step.step_number)
        });
        let texts_by_id: HashMap<u32, String> = self
            .read_texts(
                &texts,
                shown.iter().flat_map(|s| s.lines.iter().map(|l| l.text_id)),
            )?
            .into_iter()
            .collect();
        shown
            .into_iter()
            .map(|step| {
                let lines = step
                    .lines
                    .iter()
                    .map(|line| {
                        Ok(Line {
                            timestamp: line.timestamp,
                            text: self.text_of(&texts_by_id, line.text_id)?.to_owned(),
                        })
                    })
                    .collect::<Result<_>>()?;
                Ok(ShownStep {
                    run: step.stored.attempt,
                    step: step.stored.step,
                    lines,
                })
            })
            .collect()
    }

    /// The record of an attempt, if the index has one.
    pub fn attempt(
        &self,
        repo: &str,
        run_id: u64,
        run_attempt: u32,
    ) -> Result<Option<AttemptRecord>> {
        let key = attempt_key(repo, run_id, run_attempt);
        let query = BooleanQuery::new(vec![
            (Occur::Must, term(self.step_fields.kind, KIND_ATTEMPT)),
            (Occur::Must, term(self.step_fields.attempt_key, &key)),
        ]);
        Ok(self.records(&query)?.pop())
    }

    /// Every attempt record, of one repository or all.
    pub fn attempts(&self, repo: Option<&str>) -> Result<Vec<AttemptRecord>> {
        let mut clauses = vec![(Occur::Must, term(self.step_fields.kind, KIND_ATTEMPT))];
        if let Some(repo) = repo {
            clauses.push((Occur::Must, term(self.step_fields.repo, repo)));
        }
        let mut records = self.records(&BooleanQuery::new(clauses))?;
        records.sort_by(|a, b| {
            let key = |r: &AttemptRecord| {
                (
                    keyword(&r.attempt.repo),
                    r.attempt.run_id,
                    r.attempt.run_attempt,
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(records)
    }

    fn records(&self, query: &dyn TantivyQuery) -> Result<Vec<AttemptRecord>> {
        let (_, steps) = self.searchers();
        let store = self.step_store(&steps)?;
        let mut records = Vec::new();
        for found in search(&steps, query, &StepCollector)? {
            records.push(
                store
                    .meta::<stored::Record>(found.address, "an attempt record")?
                    .into_public(),
            );
        }
        Ok(records)
    }

    /// The texts matching the text query and level filters, with scores if asked.
    fn matching_texts(
        &self,
        texts: &Searcher,
        query: &Query,
        scored: bool,
    ) -> Result<(TextSet, HashMap<u32, f32>)> {
        let text_query = query.text_query()?;
        let is_all = text_query.is::<AllQuery>();
        let levels = |filters: &[Filter]| -> Vec<Box<dyn TantivyQuery>> {
            filters
                .iter()
                .filter_map(|f| match f {
                    Filter::Level(level) => Some(term(self.text_fields.level, level.as_str())),
                    _ => None,
                })
                .collect()
        };
        let (included, excluded) = (levels(&query.filters), levels(&query.excluded));
        if is_all && included.is_empty() && excluded.is_empty() && !scored {
            return Ok((TextSet::All, HashMap::new()));
        }
        let mut clauses = vec![(Occur::Must, text_query)];
        if !included.is_empty() {
            let any: Vec<_> = included.into_iter().map(|q| (Occur::Should, q)).collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        clauses.extend(excluded.into_iter().map(|q| (Occur::MustNot, q)));
        let matches = search(
            texts,
            &BooleanQuery::new(clauses),
            &TextCollector { scored },
        )?;
        let max = matches.iter().map(|m| m.id as usize).max().unwrap_or(0);
        let mut bits = vec![0u64; max / 64 + 1];
        let mut scores = HashMap::new();
        for found in &matches {
            bits[found.id as usize / 64] |= 1 << (found.id % 64);
            if scored {
                scores.insert(found.id, found.score);
            }
        }
        Ok((
            TextSet::Ids {
                bits,
                count: matches.len(),
            },
            scores,
        ))
    }

    /// The steps passing the query's filters and time window that may hold lines of `set`;
    /// with at most `postings_limit` texts in `set`, only steps holding one of them.
    fn matching_steps(
        &self,
        steps: &Searcher,
        query: &Query,
        set: &TextSet,
        postings_limit: usize,
    ) -> Result<Vec<StepMatch>> {
        if matches!(set, TextSet::Ids { count: 0, .. }) {
            return Ok(Vec::new());
        }
        let fields = &self.step_fields;
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> =
            vec![(Occur::Must, term(fields.kind, KIND_STEP))];
        let mut by_field: BTreeMap<&str, Vec<Box<dyn TantivyQuery>>> = BTreeMap::new();
        for filter in &query.filters {
            if let Some(q) = step_filter(fields, filter) {
                by_field.entry(filter.name()).or_default().push(q);
            }
        }
        for (_, alternatives) in by_field {
            let any = alternatives
                .into_iter()
                .map(|q| (Occur::Should, q))
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        for filter in &query.excluded {
            if let Some(q) = step_filter(fields, filter) {
                clauses.push((Occur::MustNot, q));
            }
        }
        if let Some(since) = query.since {
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(fields.last_time, since)),
                    Bound::Unbounded,
                )),
            ));
        }
        if let Some(until) = query.until {
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Excluded(Term::from_field_i64(fields.first_time, until)),
                )),
            ));
        }
        if let TextSet::Ids { count, .. } = set
            && *count <= postings_limit
        {
            let holding = self.steps_holding(steps, &set.ids())?;
            clauses.push((Occur::Must, Box::new(holding)));
        }
        search(steps, &BooleanQuery::new(clauses), &StepCollector)
    }

    /// The steps holding any of `ids`, from each segment's text postings.
    fn steps_holding(&self, steps: &Searcher, ids: &[u32]) -> Result<StepsHolding> {
        let mut by_segment = HashMap::new();
        for segment in steps.segment_readers() {
            let corrupt = |e: std::io::Error| {
                let file =
                    segment_file::name("steps", segment.segment_id(), text_postings::EXTENSION);
                self.corrupt(format!("`{file}`: {e}"))
            };
            let postings = TextPostings::open(segment).map_err(corrupt)?;
            let mut docs = BitSet::with_max_value(segment.max_doc());
            for &id in ids {
                postings
                    .for_each_doc(id, |doc| {
                        docs.insert(doc);
                    })
                    .map_err(corrupt)?;
            }
            by_segment.insert(segment.segment_id(), docs);
        }
        Ok(StepsHolding::new(by_segment))
    }

    fn load_step(&self, store: &StepStore, address: DocAddress) -> Result<LoadedStep> {
        Ok(LoadedStep {
            stored: self.stored_of(store, address)?,
            lines: store
                .with_lines(address, sequence::decode)?
                .ok_or_else(|| store.undecodable(address))?,
        })
    }

    fn stored_of(&self, store: &StepStore, address: DocAddress) -> Result<StoredStep> {
        store.meta(address, "a step's metadata")
    }

    fn text_of<'t>(&self, texts: &'t HashMap<u32, String>, id: u32) -> Result<&'t str> {
        texts.get(&id).map(String::as_str).ok_or_else(|| {
            self.corrupt(format!(
                "text `{id}` is missing (if a prune ran meanwhile, search again)"
            ))
        })
    }

    fn hits(
        &self,
        texts: &Searcher,
        query: &Query,
        page: &[Candidate],
        loaded: &HashMap<DocAddress, LoadedStep>,
    ) -> Result<Vec<Hit>> {
        let context = |c: &Candidate| {
            let lines = &loaded[&c.step].lines;
            let at = c.line_index as usize;
            let from = at.saturating_sub(query.context_before);
            let to = (at + 1 + query.context_after).min(lines.len());
            (from, to, lines)
        };
        let mut needed = Vec::new();
        for candidate in page {
            let (from, to, lines) = context(candidate);
            needed.extend(lines[from..to].iter().map(|l| l.text_id));
        }
        let texts_by_id: HashMap<u32, String> =
            self.read_texts(texts, needed)?.into_iter().collect();
        let context_line = |index: usize, line: &Occurrence| -> Result<ContextLine> {
            Ok(ContextLine {
                line_number: index as u32 + 1,
                timestamp: line.timestamp,
                text: self.text_of(&texts_by_id, line.text_id)?.to_owned(),
            })
        };
        let mut hits = Vec::with_capacity(page.len());
        for candidate in page {
            let (from, to, lines) = context(candidate);
            let at = candidate.line_index as usize;
            let stored = &loaded[&candidate.step].stored;
            let text = self.text_of(&texts_by_id, candidate.text_id)?.to_owned();
            let line_number = candidate.line_index + 1;
            hits.push(Hit {
                url: line_url(&query.web_base, &stored.attempt, &stored.step, line_number),
                run: stored.attempt.clone(),
                step: stored.step.clone(),
                line_number,
                timestamp: candidate.timestamp,
                level: Level::of(&text),
                text,
                score: (query.order == Order::Relevance).then_some(candidate.score),
                before: (from..at)
                    .map(|i| context_line(i, &lines[i]))
                    .collect::<Result<_>>()?,
                after: (at + 1..to)
                    .map(|i| context_line(i, &lines[i]))
                    .collect::<Result<_>>()?,
            });
        }
        Ok(hits)
    }
}

fn matching_lines<'s>(
    step: &'s LoadedStep,
    address: DocAddress,
    query: &'s Query,
    set: &'s TextSet,
    scores: &'s HashMap<u32, f32>,
) -> impl Iterator<Item = Candidate> + 's {
    let (run, meta) = (&step.stored.attempt, &step.stored.step);
    step.lines
        .iter()
        .enumerate()
        .filter(|(_, line)| set.contains(line.text_id) && in_window(query, line.timestamp))
        .map(move |(index, line)| Candidate {
            timestamp: line.timestamp,
            run_id: run.run_id,
            run_attempt: run.run_attempt,
            job_id: meta.job_id,
            step_number: meta.step_number,
            line_index: index as u32,
            text_id: line.text_id,
            score: scores.get(&line.text_id).copied().unwrap_or(0.0),
            step: address,
        })
}

fn in_window(query: &Query, timestamp: i64) -> bool {
    query.since.is_none_or(|since| timestamp >= since)
        && query.until.is_none_or(|until| timestamp < until)
}

/// The group of every line of a step, for groupings by the step's metadata (read only then).
fn step_group(
    group_by: GroupBy,
    stored: impl FnOnce() -> Result<StoredStep>,
) -> Result<Option<String>> {
    let group = |group_of: fn(StoredStep) -> String| stored().map(|s| Some(group_of(s)));
    match group_by {
        GroupBy::Nothing | GroupBy::Day => Ok(None),
        GroupBy::Run => group(|s| s.attempt.run_id.to_string()),
        GroupBy::Job => group(|s| s.step.job_id.to_string()),
        GroupBy::Step => group(|s| format!("{}:{}", s.step.job_id, s.step.step_number)),
        GroupBy::Branch => group(|s| s.attempt.head_branch),
    }
}

/// A filter on the steps index, or `None` for one on texts (`level:`).
fn step_filter(fields: &StepFields, filter: &Filter) -> Option<Box<dyn TantivyQuery>> {
    Some(match filter {
        Filter::Repo(repo) => term(fields.repo, repo),
        Filter::Run(run) => term(fields.run, &run.to_string()),
        Filter::Attempt(attempt) => term(fields.attempt, &attempt.to_string()),
        Filter::Job(job) => term(fields.job, job),
        Filter::Step(step) => term(fields.step, step),
        Filter::Branch(branch) => term(fields.branch, branch),
        Filter::Workflow(workflow) => term(fields.workflow, workflow),
        Filter::Event(event) => term(fields.event, event),
        Filter::Conclusion(conclusion) => term(fields.conclusion, conclusion),
        Filter::Sha(prefix) => {
            let prefix = keyword(prefix);
            // Hex digits sort below `~`: every sha starting with the prefix is in the range.
            Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_text(fields.sha, &prefix)),
                Bound::Excluded(Term::from_field_text(fields.sha, &format!("{prefix}~"))),
            ))
        }
        Filter::Level(_) => return None,
    })
}

fn day_name(day: i64) -> String {
    jiff::Timestamp::from_second(day * 86_400)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| day.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_set_gives_back_its_ids_in_order() {
        let ids = [700, 0, 63, 64, 5, 700, 129];
        let set = TextSet::of(ids);
        assert_eq!(set.ids(), [0, 5, 63, 64, 129, 700]);
        assert!(ids.iter().all(|&id| set.contains(id)));
        assert!(TextSet::All.ids().is_empty());
    }
}
