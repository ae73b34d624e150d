//! Hits: the best lines of the matching steps in the query's order, with their context.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use jiff::Timestamp;
use tantivy::{DocAddress, Searcher};

use super::matching::{LoadedStep, POSTINGS_LIMIT, matching_lines};
use crate::error::Result;
use crate::index::Index;
use crate::level::Level;
use crate::model::{RunAttempt, StepMeta};
use crate::query::{Order, Query};
use crate::sequence::Occurrence;
use crate::time::from_nanos;

/// One matching line.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Hit {
    /// The run attempt.
    pub run: RunAttempt,
    /// The job and step.
    pub step: StepMeta,
    /// 1-based line number within the step, as in the URL.
    pub line_number: u32,
    /// When the line was written.
    pub timestamp: Timestamp,
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
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContextLine {
    /// 1-based line number within the step.
    pub line_number: u32,
    /// When it was written.
    pub timestamp: Timestamp,
    /// The text.
    pub text: String,
}

/// The web page of a line: its step's line anchor; the job's page for lines outside steps
/// (step number 0: preamble, `system.txt`); the attempt's page for a file that matches no
/// job (job id 0). `web_base` as [`logidx_urls::web_base`] gives it.
pub fn line_url(web_base: &str, run: &RunAttempt, step: &StepMeta, line_number: u32) -> String {
    let place = logidx_urls::LinePlace {
        repo: &run.repo,
        run_id: run.run_id,
        run_attempt: run.run_attempt,
        job_id: step.job_id,
        step_number: step.step_number,
        line_number,
    };
    logidx_urls::line_url(web_base, &place)
}

/// A matching line, ordered by time, then by run, attempt, job, step and line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Candidate {
    pub(super) timestamp: i64,
    pub(super) run_id: u64,
    pub(super) run_attempt: u32,
    pub(super) job_id: u64,
    pub(super) step_number: u32,
    pub(super) line_index: u32,
    pub(super) text_id: u32,
    pub(super) score: f32,
    pub(super) step: DocAddress,
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
        let wanted = query.offset.saturating_add(query.limit);
        if wanted == 0 {
            return Ok(Vec::new());
        }
        // Each part its own texts and steps, the steps of all in one time order.
        let parts = query.by_commit();
        let mut sets = Vec::with_capacity(parts.len());
        let mut matches = Vec::new();
        for (n, part) in parts.iter().enumerate() {
            let (set, scores) = self.matching_texts(&texts, part, scored)?;
            let found = self.matching_steps(&steps, part, &set, POSTINGS_LIMIT)?;
            matches.extend(found.into_iter().map(|m| (n, m)));
            sets.push((set, scores));
        }
        match query.order {
            Order::NewestFirst => matches.sort_by_key(|(_, m)| std::cmp::Reverse(m.last_time)),
            Order::OldestFirst | Order::Relevance => matches.sort_by_key(|(_, m)| m.first_time),
        }
        let store = self.step_store(&steps)?;
        let mut best: BinaryHeap<Ranked> = BinaryHeap::new();
        let mut loaded: HashMap<DocAddress, LoadedStep> = HashMap::new();
        for (n, found) in matches {
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
            let (set, scores) = &sets[n];
            for candidate in matching_lines(&step, found.address, &parts[n], set, scores) {
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
                timestamp: from_nanos(line.timestamp),
                text: self.text_of(&texts_by_id, line.text_id)?.to_owned(),
            })
        };
        let mut hits = Vec::with_capacity(page.len());
        let web_bases = self.web_bases();
        for candidate in page {
            let (from, to, lines) = context(candidate);
            let at = candidate.line_index as usize;
            let stored = &loaded[&candidate.step].stored;
            let text = self.text_of(&texts_by_id, candidate.text_id)?.to_owned();
            let line_number = candidate.line_index + 1;
            hits.push(Hit {
                url: line_url(
                    web_bases.of(&stored.attempt.repo, &query.web_base),
                    &stored.attempt,
                    &stored.step,
                    line_number,
                ),
                run: stored.attempt.clone(),
                step: stored.step.clone(),
                line_number,
                timestamp: from_nanos(candidate.timestamp),
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
