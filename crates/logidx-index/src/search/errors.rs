//! `errors`: the error lines matching a query, grouped by signature, with where and when each
//! signature was seen.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use jiff::civil::Date;
use tantivy::DocAddress;

use super::matching::{LoadedStep, matching_lines};
use super::text_set::TextSet;
use crate::error::{Result, TantivyContext};
use crate::index::Index;
use crate::model::{RunAttempt, StepMeta};
use crate::query::Query;
use crate::schema::keyword;
use crate::search::line_url;
use crate::time::{date_of_day, day_of, from_nanos};

/// One error signature: the error lines that are the same once their numbers, ids, paths and
/// times are masked.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ErrorGroup {
    /// The signature ([`crate::signature`]).
    pub signature: u64,
    /// Runs with at least one such line.
    pub runs: u64,
    /// Such lines in all.
    pub occurrences: u64,
    /// The earliest such line.
    pub first_seen: Sighting,
    /// The latest such line, whose text is the group's example.
    pub last_seen: Sighting,
    /// Lines per UTC day, days without any left out, oldest first.
    pub days: Vec<(Date, u64)>,
    /// Names of the jobs it appeared in, the most hit first.
    pub jobs: Vec<String>,
}

/// One line of an error group.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Sighting {
    /// The run attempt.
    pub run: RunAttempt,
    /// The job and step.
    pub step: StepMeta,
    /// 1-based line number in the step.
    pub line_number: u32,
    /// When it was written.
    pub timestamp: Timestamp,
    /// The line.
    pub text: String,
    /// Its web page.
    pub url: String,
}

/// A line while groups are being built.
#[derive(Clone, Copy)]
struct Seen {
    timestamp: i64,
    step: DocAddress,
    line_index: u32,
    text_id: u32,
}

#[derive(Default)]
struct Building {
    runs: HashSet<(String, u64)>,
    occurrences: u64,
    first: Option<Seen>,
    last: Option<Seen>,
    days: BTreeMap<i64, u64>,
    jobs: HashMap<String, u64>,
}

impl Index {
    /// Error lines matching `query` (its text part narrows them, its filters and time window
    /// apply per line), grouped by signature, the groups hitting the most runs first.
    pub fn errors(&self, query: &Query) -> Result<Vec<ErrorGroup>> {
        let (texts, steps) = self.searchers();
        // Each part of the query its wanted texts; a text's signature is the same in all.
        let parts = query.by_commit();
        let wanted = parts
            .iter()
            .map(|part| Ok(self.matching_texts(&texts, part, false)?.0))
            .collect::<Result<Vec<_>>>()?;
        let mut signatures: HashMap<u32, u64> = HashMap::new();
        for segment in texts.segment_readers() {
            let fast = segment.fast_fields();
            let signature = fast.u64("signature").doing("reading signatures")?;
            let id = fast.u64("id").doing("reading text ids")?;
            for doc in segment.doc_ids_alive() {
                let (Some(signature), Some(id)) = (signature.first(doc), id.first(doc)) else {
                    continue;
                };
                let id = id as u32;
                if signature != 0 && wanted.iter().any(|set| set.contains(id)) {
                    signatures.insert(id, signature);
                }
            }
        }
        let scores = HashMap::new();
        let mut building: HashMap<u64, Building> = HashMap::new();
        let mut loaded: HashMap<DocAddress, LoadedStep> = HashMap::new();
        let store = self.step_store(&steps)?;
        for (part, wanted) in parts.iter().zip(&wanted) {
            let set = TextSet::of(signatures.keys().copied().filter(|&id| wanted.contains(id)));
            for found in self.matching_steps(&steps, part, &set, usize::MAX)? {
                let step = self.load_step(&store, found.address)?;
                let mut any = false;
                for line in matching_lines(&step, found.address, part, &set, &scores) {
                    any = true;
                    let seen = Seen {
                        timestamp: line.timestamp,
                        step: found.address,
                        line_index: line.line_index,
                        text_id: line.text_id,
                    };
                    let group = building.entry(signatures[&line.text_id]).or_default();
                    let run = &step.stored.attempt;
                    group.runs.insert((keyword(&run.repo), run.run_id));
                    group.occurrences += 1;
                    if group.first.is_none_or(|f| seen.timestamp < f.timestamp) {
                        group.first = Some(seen);
                    }
                    if group.last.is_none_or(|l| seen.timestamp >= l.timestamp) {
                        group.last = Some(seen);
                    }
                    *group.days.entry(day_of(seen.timestamp)).or_default() += 1;
                    *group
                        .jobs
                        .entry(step.stored.step.job_name.clone())
                        .or_default() += 1;
                }
                if any {
                    loaded.insert(found.address, step);
                }
            }
        }

        let example_ids = building
            .values()
            .flat_map(|g| [g.first, g.last])
            .flatten()
            .map(|seen| seen.text_id);
        let texts_by_id: HashMap<u32, String> =
            self.read_texts(&texts, example_ids)?.into_iter().collect();
        let web_bases = self.web_bases();
        let sighting = |seen: Seen| -> Result<Sighting> {
            let stored = &loaded[&seen.step].stored;
            let line_number = seen.line_index + 1;
            let web_base = web_bases.of(&stored.attempt.repo, &query.web_base);
            Ok(Sighting {
                url: line_url(web_base, &stored.attempt, &stored.step, line_number),
                run: stored.attempt.clone(),
                step: stored.step.clone(),
                line_number,
                timestamp: from_nanos(seen.timestamp),
                text: self.text_of(&texts_by_id, seen.text_id)?.to_owned(),
            })
        };
        let mut groups = Vec::with_capacity(building.len());
        for (signature, group) in building {
            let (Some(first), Some(last)) = (group.first, group.last) else {
                continue;
            };
            let mut jobs: Vec<(String, u64)> = group.jobs.into_iter().collect();
            jobs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            groups.push(ErrorGroup {
                signature,
                runs: group.runs.len() as u64,
                occurrences: group.occurrences,
                first_seen: sighting(first)?,
                last_seen: sighting(last)?,
                days: group
                    .days
                    .into_iter()
                    .map(|(day, n)| (date_of_day(day), n))
                    .collect(),
                jobs: jobs.into_iter().map(|(name, _)| name).collect(),
            });
        }
        groups.sort_by(|a, b| {
            (b.runs, b.occurrences, b.last_seen.timestamp, a.signature).cmp(&(
                a.runs,
                a.occurrences,
                a.last_seen.timestamp,
                b.signature,
            ))
        });
        Ok(groups)
    }
}
