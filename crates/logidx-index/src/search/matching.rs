//! The texts and steps a query matches, and the lines of a step that it matches.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use tantivy::query::{AllQuery, BooleanQuery, Occur, Query as TantivyQuery, RangeQuery};
use tantivy::schema::{Field, Term};
use tantivy::{BitSet, DocAddress, Searcher};

use super::collect::{StepCollector, StepMatch, TextCollector, search};
use super::hits::Candidate;
use super::text_set::TextSet;
use crate::error::Result;
use crate::index::Index;
use crate::query::{Filter, NamePattern, Query};
use crate::schema::{KIND_STEP, StepFields, keyword, keyword_query as term};
use crate::segment_file;
use crate::sequence::{self, Occurrence};
use crate::store::StepStore;
use crate::stored::StoredStep;
use crate::text_postings::{self, StepsHolding, TextPostings};

/// Above this many matching texts, steps are walked and tested against a bitset instead of
/// being found through each text's postings (decoding many texts' postings, most of them long,
/// costs more than it saves).
pub(super) const POSTINGS_LIMIT: usize = 1_024;

/// A step loaded from the steps index.
pub(super) struct LoadedStep {
    pub(super) stored: StoredStep,
    pub(super) lines: Vec<Occurrence>,
}

impl Index {
    /// The texts matching the text query and level filters, with scores if asked.
    pub(super) fn matching_texts(
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
        let (included, required, excluded) = (
            levels(&query.filters),
            levels(&query.required),
            levels(&query.excluded),
        );
        if is_all && included.is_empty() && required.is_empty() && excluded.is_empty() && !scored {
            return Ok((TextSet::All, HashMap::new()));
        }
        let mut clauses = vec![(Occur::Must, text_query)];
        if !included.is_empty() {
            let any: Vec<_> = included.into_iter().map(|q| (Occur::Should, q)).collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        clauses.extend(required.into_iter().map(|q| (Occur::Must, q)));
        clauses.extend(excluded.into_iter().map(|q| (Occur::MustNot, q)));
        let matches = search(
            texts,
            &BooleanQuery::new(clauses),
            &TextCollector { scored },
        )?;
        let scores = if scored {
            matches.iter().map(|m| (m.id, m.score)).collect()
        } else {
            HashMap::new()
        };
        Ok((TextSet::of(matches.iter().map(|m| m.id)), scores))
    }

    /// The steps passing the query's filters and time window that may hold lines of `set`;
    /// with at most `postings_limit` texts in `set`, only steps holding one of them.
    pub(super) fn matching_steps(
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
        for filter in &query.required {
            if let Some(q) = step_filter(fields, filter) {
                clauses.push((Occur::Must, q));
            }
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
                self.corrupt_file(&file, e)
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

    pub(super) fn load_step(&self, store: &StepStore, address: DocAddress) -> Result<LoadedStep> {
        Ok(LoadedStep {
            stored: self.stored_of(store, address)?,
            lines: store
                .with_lines(address, sequence::decode)?
                .ok_or_else(|| store.undecodable(address))?,
        })
    }

    pub(super) fn stored_of(&self, store: &StepStore, address: DocAddress) -> Result<StoredStep> {
        store.meta(address, "a step's metadata")
    }
}

pub(super) fn matching_lines<'s>(
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

#[inline]
pub(super) fn in_window(query: &Query, timestamp: i64) -> bool {
    query.since.is_none_or(|since| timestamp >= since)
        && query.until.is_none_or(|until| timestamp < until)
}

/// A filter on the steps index, or `None` for one on texts (`level:`).
fn step_filter(fields: &StepFields, filter: &Filter) -> Option<Box<dyn TantivyQuery>> {
    Some(match filter {
        Filter::Repo(repo) => term(fields.repo, repo),
        Filter::Run(run) => term(fields.run, &run.to_string()),
        Filter::Attempt(attempt) => term(fields.attempt, &attempt.to_string()),
        Filter::Job(job) => name_query(fields.job, &NamePattern::job(job)),
        Filter::Step(step) => name_query(fields.step, &NamePattern::step(step)),
        Filter::Branch(branch) => term(fields.branch, branch),
        Filter::Workflow(workflow) => term(fields.workflow, workflow),
        Filter::Event(event) => term(fields.event, event),
        Filter::Conclusion(conclusion) => term(fields.conclusion, conclusion),
        Filter::Sha(prefix) => prefix_query(fields.sha, &keyword(prefix)),
        Filter::Level(_) => return None,
    })
}

/// The steps whose `field` (ids and lowercased names) matches `pattern`.
fn name_query(field: Field, pattern: &NamePattern) -> Box<dyn TantivyQuery> {
    if pattern.prefix {
        return prefix_query(field, &pattern.text);
    }
    let whole = term(field, &pattern.text);
    if !pattern.base_name {
        return whole;
    }
    let matrix = prefix_query(field, &format!("{} (", pattern.text));
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, whole),
        (Occur::Should, matrix),
    ]))
}

/// The documents with a keyword term of `field` that starts with `prefix` (lowercased).
fn prefix_query(field: Field, prefix: &str) -> Box<dyn TantivyQuery> {
    // No UTF-8 text has a 0xFF byte: every term that starts with the prefix sorts below it.
    let mut past = Term::from_field_text(field, prefix);
    past.append_bytes(&[0xFF]);
    Box::new(RangeQuery::new(
        Bound::Included(Term::from_field_text(field, prefix)),
        Bound::Excluded(past),
    ))
}
