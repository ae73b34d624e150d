//! Counting matching lines, in all or by group.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tantivy::Searcher;

use super::collect::StepMatch;
use super::matching::{POSTINGS_LIMIT, in_window};
use super::text_set::TextSet;
use crate::error::Result;
use crate::index::Index;
use crate::model::{RunAttempt, StepMeta};
use crate::query::Query;
use crate::sequence;
use crate::store::StepStore;
use crate::stored::StoredStep;
use crate::time::{date_of_day, day_of};

/// A count uses a thread per this many matching steps, up to one per core.
const STEPS_PER_COUNTING_THREAD: usize = 256;

/// How [`Index::count`] groups matching lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct Counts {
    /// Every matching line.
    pub total: u64,
    /// Lines per group, by key ascending; empty for [`GroupBy::Nothing`].
    pub groups: Vec<(String, u64)>,
    /// What each group's key names, for [`GroupBy::Run`], [`GroupBy::Job`] and
    /// [`GroupBy::Step`]: ids mean little to a reader, names do.
    #[serde(skip)]
    pub places: HashMap<String, GroupPlace>,
}

/// The run attempt and step of one of a group's steps (for a run, any of its attempts).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupPlace {
    /// The run attempt.
    pub run: RunAttempt,
    /// The job and step.
    pub step: StepMeta,
}

/// Matching lines counted by one thread.
#[derive(Default)]
struct Tally {
    total: u64,
    /// By the step's metadata.
    groups: HashMap<String, u64>,
    /// The first step met of each group.
    places: HashMap<String, GroupPlace>,
    /// By day, numbered from the Unix epoch.
    days: HashMap<i64, u64>,
}

impl Index {
    /// Counts the lines matching `query` (its order, page and context are ignored).
    pub fn count(&self, query: &Query, group_by: GroupBy) -> Result<Counts> {
        let (texts, steps) = self.searchers();
        let mut tallies = Vec::new();
        for part in query.by_commit() {
            let (set, _) = self.matching_texts(&texts, &part, false)?;
            let found = self.matching_steps(&steps, &part, &set, POSTINGS_LIMIT)?;
            tallies.extend(self.tallies(&steps, &found, &part, &set, group_by)?);
        }
        let mut total = 0;
        let mut groups: BTreeMap<String, u64> = BTreeMap::new();
        let mut places = HashMap::new();
        for tally in tallies {
            total += tally.total;
            for (key, place) in tally.places {
                places.entry(key).or_insert(place);
            }
            for (key, count) in tally.groups {
                *groups.entry(key).or_default() += count;
            }
            for (day, count) in tally.days {
                *groups.entry(date_of_day(day).to_string()).or_default() += count;
            }
        }
        Ok(Counts {
            total,
            groups: groups.into_iter().collect(),
            places,
        })
    }

    /// The matching lines of the steps `found` (of `set`'s texts) counted, by a thread or
    /// several.
    fn tallies(
        &self,
        steps: &Searcher,
        found: &[StepMatch],
        query: &Query,
        set: &TextSet,
        group_by: GroupBy,
    ) -> Result<Vec<Tally>> {
        // Every matching step's sequence is read: split the steps, in document order so that
        // each thread decompresses each block once, among the cores.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(found.len().div_ceil(STEPS_PER_COUNTING_THREAD))
            .max(1);
        Ok(if threads == 1 {
            vec![self.tally(&*self.step_store(steps)?, found, query, set, group_by)?]
        } else {
            // Each thread its own store: a walk in document order needs one block per column.
            let tally = |part: &[StepMatch]| {
                let store = StepStore::open(self, steps, 1)?;
                self.tally(&store, part, query, set, group_by)
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
                            let this = day_of(line.timestamp);
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
            if in_step > 0 && grouped_by_step(group_by) {
                let stored = self.stored_of(store, found.address)?;
                let key = step_group(group_by, &stored);
                *tally.groups.entry(key.clone()).or_default() += in_step;
                if group_by != GroupBy::Branch {
                    tally.places.entry(key).or_insert_with(|| GroupPlace {
                        run: stored.attempt,
                        step: stored.step,
                    });
                }
            }
        }
        if day.1 > 0 {
            *tally.days.entry(day.0).or_default() += day.1;
        }
        Ok(tally)
    }
}

/// Whether lines are grouped by their step's metadata (read only then).
fn grouped_by_step(group_by: GroupBy) -> bool {
    !matches!(group_by, GroupBy::Nothing | GroupBy::Day)
}

/// The group of every line of a step, for groupings by the step's metadata.
fn step_group(group_by: GroupBy, stored: &StoredStep) -> String {
    match group_by {
        GroupBy::Run => stored.attempt.run_id.to_string(),
        GroupBy::Job => stored.step.job_id.to_string(),
        GroupBy::Step => format!("{}:{}", stored.step.job_id, stored.step.step_number),
        GroupBy::Branch => stored.attempt.head_branch.clone(),
        // Not grouped by step (`grouped_by_step`): one group of no name.
        GroupBy::Nothing | GroupBy::Day => String::new(),
    }
}
