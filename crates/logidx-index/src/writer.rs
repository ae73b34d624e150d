//! Adding attempts: deduplicating texts into dense ids and storing each step's occurrences.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Bound;
use std::sync::Arc;

use tantivy::collector::Count;
use tantivy::indexer::UserOperation;
use tantivy::query::doc_predicate_query::{DocPredicateQuery, FunctionPredicate};
use tantivy::query::{BooleanQuery, Occur, Query as TantivyQuery, RangeQuery};
use tantivy::schema::Term;
use tantivy::{DocAddress, DocId, IndexWriter, Searcher, SegmentReader, TantivyDocument, doc};
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{Result, TantivyContext};
use crate::index::Index;
use crate::lock::WriterLock;
use crate::model::{AttemptRecord, AttemptState, JobOutcome, RunAttempt, StepMeta, StepSource};
use crate::schema::{
    KIND_ATTEMPT, KIND_STEP, StepFields, attempt_key, keyword, keyword_query as term,
};
use crate::sequence::{self, Occurrence};
use crate::store::StepStore;
use crate::text_doc::{NewTexts, TextDoc};
use crate::text_postings;
use crate::time;

/// How a [`Writer`] uses memory and cores. The defaults suit 2 cores and a few GiB.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    memory_budget: usize,
    threads: usize,
    commit_every_lines: Option<u64>,
}

impl Default for WriterOptions {
    fn default() -> WriterOptions {
        WriterOptions {
            memory_budget: 512 << 20,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get().min(8)),
            commit_every_lines: None,
        }
    }
}

impl WriterOptions {
    /// Bytes tantivy may buffer before flushing a segment, shared by both indexes (default
    /// 512 MiB; at least 15 MiB per indexing thread is used, 60 MiB with two threads).
    pub fn memory_budget(mut self, bytes: usize) -> WriterOptions {
        self.memory_budget = bytes;
        self
    }

    /// Indexing threads of each of the two indexes (default: the cores, at most 8).
    pub fn threads(mut self, threads: usize) -> WriterOptions {
        self.threads = threads.max(1);
        self
    }

    /// Commit on its own once this many lines are pending, after the attempt that crosses it.
    /// Commits are never taken mid-attempt. By default the writer commits only when asked:
    /// tantivy's buffers stay within [`WriterOptions::memory_budget`] whatever is pending (the
    /// dictionary grows with the distinct texts, committed or not), and each commit costs
    /// merges (committing every 5 M lines, a 1 GB build spent about a fifth more CPU).
    pub fn commit_every_lines(mut self, lines: u64) -> WriterOptions {
        self.commit_every_lines = Some(lines);
        self
    }
}

/// What to delete with [`Writer::delete`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// Every run of a repository (`owner/name`).
    Repo(String),
    /// Every attempt of one run.
    Run {
        /// `owner/name`.
        repo: String,
        /// The run's id.
        run_id: u64,
    },
    /// Every run created before this instant.
    CreatedBefore(jiff::Timestamp),
    /// Every run of a repository created before an instant.
    RepoCreatedBefore {
        /// `owner/name`.
        repo: String,
        /// The instant.
        before: jiff::Timestamp,
    },
}

/// What a [`Writer::delete`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeleteStats {
    /// Steps removed.
    pub steps: u64,
    /// Attempt records removed.
    pub attempts: u64,
    /// Texts no remaining step referred to, collected.
    pub texts: u64,
}

/// The one writer of an index: holds its lock until dropped. Uncommitted work is discarded
/// when it is dropped; [`Writer::commit`] makes it visible atomically.
pub struct Writer<'a> {
    index: &'a Index,
    texts: IndexWriter<TextDoc>,
    steps: IndexWriter,
    dictionary: Dictionary,
    pending_lines: u64,
    options: WriterOptions,
    _lock: WriterLock,
}

impl std::fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("index", &self.index.dir)
            .field("pending_lines", &self.pending_lines)
            .finish_non_exhaustive()
    }
}

impl<'a> Writer<'a> {
    pub(crate) fn new(index: &'a Index, options: WriterOptions) -> Result<Writer<'a>> {
        let lock = WriterLock::acquire(&index.dir)?;
        index.reload()?;
        // Each index gets every thread: which one has the work depends on how often lines
        // repeat (new texts load the texts index; repeated ones only the steps index), and
        // an idle indexing thread costs nothing. Split in halves, the texts index's one thread
        // held back a corpus of distinct lines to 0.43× raw tantivy's speed.
        let text_threads = options.threads;
        let step_threads = options.threads;
        let per_thread = (options.memory_budget / (text_threads + step_threads)).max(15 << 20);
        let texts = index
            .texts
            .writer_with_num_threads(text_threads, per_thread * text_threads)
            .doing("starting the texts writer")?;
        let steps = index
            .steps
            .writer_with_num_threads(step_threads, per_thread * step_threads)
            .doing("starting the steps writer")?;
        let dictionary = Dictionary::load(index)?;
        Ok(Writer {
            index,
            texts,
            steps,
            dictionary,
            pending_lines: 0,
            options,
            _lock: lock,
        })
    }

    /// Adds an attempt's steps and its record, replacing whatever the index held for the
    /// attempt. Visible at the next commit, all at once. On an error, the attempt is left with
    /// nothing indexed (its earlier version deleted too), to be added again.
    ///
    /// `steps` are [`Step`](crate::Step)s, or anything that lends its lines as a [`StepSource`] (a sync
    /// hands over extract's buffers without a `String` per line).
    pub fn add_attempt<S: StepSource>(&mut self, attempt: &RunAttempt, steps: &[S]) -> Result<()> {
        let key = attempt_key(&attempt.repo, attempt.run_id, attempt.run_attempt);
        self.steps.delete_term(Term::from_field_text(
            self.index.step_fields.attempt_key,
            &key,
        ));
        // On an error no step has been sent (they go all at once, last), and the earlier
        // version is deleted: the attempt is left with nothing indexed.
        let lines = self.add_steps(attempt, &key, steps)?;
        self.pending_lines += lines;
        if self
            .options
            .commit_every_lines
            .is_some_and(|every| self.pending_lines >= every)
        {
            self.commit()?;
        }
        Ok(())
    }

    /// Adds an attempt's steps and its record, the texts of each step as it is built, the
    /// steps all at once at the end; returns its count of lines.
    fn add_steps<S: StepSource>(
        &mut self,
        attempt: &RunAttempt,
        key: &str,
        steps: &[S],
    ) -> Result<u64> {
        let fields = self.index.step_fields;
        let mut lines = 0u64;
        let mut occurrences = Vec::new();
        // Documents go to tantivy's indexing threads in batches: a step's new texts in one
        // (before any step that refers to them), an attempt's steps in one. Sent one by one,
        // each woke an idle thread, and the wake-ups were 8% of the writer thread's time.
        let mut step_docs = Vec::with_capacity(steps.len() + 1);
        // What every step of the attempt shares, made once: lowercasing the attempt's terms
        // and writing its JSON for each step was a twentieth of the writer thread's time.
        let attempt_terms = attempt_doc(&fields, KIND_STEP, key, attempt);
        let attempt_json = serde_json::value::to_raw_value(attempt).expect("serializable");
        for step in steps {
            occurrences.clear();
            for (timestamp, text) in step.lines_in_nanos() {
                let text_id = self.dictionary.id_of(text, self.index)?;
                occurrences.push(Occurrence { text_id, timestamp });
            }
            if !self.dictionary.new_texts.is_empty() {
                let new_texts = self.dictionary.new_texts.take(self.index.text_fields);
                self.texts
                    .run(new_texts.map(UserOperation::Add))
                    .doing("adding texts")?;
            }
            lines += occurrences.len() as u64;
            let (encoded, ids) = sequence::encode(&occurrences);
            let mut doc = attempt_terms.clone();
            add_step_terms(&mut doc, &fields, step.meta());
            let times = occurrences.iter().map(|o| o.timestamp);
            doc.add_i64(fields.first_time, times.clone().min().unwrap_or(i64::MAX));
            doc.add_i64(fields.last_time, times.max().unwrap_or(i64::MIN));
            doc.add_custom(fields.text_ids, &text_postings::pack(&ids));
            let meta = StoredStepJson {
                attempt: &attempt_json,
                step: step.meta(),
            };
            doc.add_text(
                fields.meta,
                serde_json::to_string(&meta).expect("serializable"),
            );
            doc.add_custom(fields.lines, &encoded);
            step_docs.push(UserOperation::Add(doc));
        }
        let mut jobs: Vec<JobOutcome> = Vec::new();
        for step in steps {
            let meta = step.meta();
            if !jobs.iter().any(|j| j.job_id == meta.job_id) {
                jobs.push(JobOutcome {
                    job_id: meta.job_id,
                    job_name: meta.job_name.clone(),
                    conclusion: meta.job_conclusion.clone(),
                });
            }
        }
        let record = AttemptRecord {
            attempt: attempt.clone(),
            state: AttemptState::Indexed {
                steps: steps.len() as u64,
                lines,
                jobs,
            },
        };
        step_docs.push(UserOperation::Add(record_doc(&fields, key, &record)));
        self.steps.run(step_docs).doing("adding steps")?;
        Ok(lines)
    }

    /// Records that an attempt has no logs to index (`Gone`) or could not be fetched
    /// (`Failed`), replacing what the index held for it. Visible at the next commit.
    pub fn mark_attempt(&mut self, attempt: &RunAttempt, state: AttemptState) -> Result<()> {
        let key = attempt_key(&attempt.repo, attempt.run_id, attempt.run_attempt);
        self.steps.delete_term(Term::from_field_text(
            self.index.step_fields.attempt_key,
            &key,
        ));
        let record = AttemptRecord {
            attempt: attempt.clone(),
            state,
        };
        self.steps
            .add_document(record_doc(&self.index.step_fields, &key, &record))
            .doing("adding an attempt record")?;
        Ok(())
    }

    /// Waits for the merges that commits started, then drops the writer (what was not
    /// committed is discarded, as on a drop). A process that exits right after its commit
    /// drops those merges, and its segments stay: sync after sync they would add up, and
    /// opening and searching the index slow down with them. A merge that fails leaves its
    /// segments as they were; tantivy logs it, and it is no error here.
    pub fn wait_for_merges(self) -> Result<()> {
        let Writer {
            texts,
            steps,
            _lock,
            ..
        } = self;
        texts.wait_merging_threads().doing("merging texts")?;
        steps.wait_merging_threads().doing("merging steps")
    }

    /// Makes everything added so far visible at once: texts first, then the steps and records
    /// that refer to them, so a crash in between leaves only unreferenced texts.
    pub fn commit(&mut self) -> Result<()> {
        // Both indexes finish their segments at once: each index's threads finish theirs in
        // parallel, but the smaller one's then waited for the larger one's. If one fails, the
        // other's finished segments stay pending, for the next commit to publish.
        let (texts, steps) = std::thread::scope(|scope| {
            let steps = scope.spawn(|| self.steps.prepare_commit());
            let texts = self.texts.prepare_commit();
            (
                texts,
                steps.join().expect("preparing a commit does not panic"),
            )
        });
        let (mut texts, steps) = (
            texts.doing("committing texts")?,
            steps.doing("committing steps")?,
        );
        texts.set_payload(&self.dictionary.next_id.to_string());
        texts.commit().doing("committing texts")?;
        steps.commit().doing("committing steps")?;
        self.pending_lines = 0;
        self.index.reload()
    }

    /// Deletes runs, commits, then collects the texts no step refers to any more.
    pub fn delete(&mut self, deletion: &Deletion) -> Result<DeleteStats> {
        self.commit()?;
        let fields = self.index.step_fields;
        let query: Box<dyn TantivyQuery> = match deletion {
            Deletion::Repo(repo) => term(fields.repo, repo),
            Deletion::Run { repo, run_id } => Box::new(BooleanQuery::new(vec![
                (Occur::Must, term(fields.repo, repo)),
                (Occur::Must, term(fields.run, &run_id.to_string())),
            ])),
            Deletion::CreatedBefore(instant) => created_before(fields, time::to_nanos(*instant)),
            Deletion::RepoCreatedBefore { repo, before } => Box::new(BooleanQuery::new(vec![
                (Occur::Must, term(fields.repo, repo)),
                (Occur::Must, created_before(fields, time::to_nanos(*before))),
            ])),
        };
        let (_, steps_searcher) = self.index.searchers();
        // Counted from the `kind` terms: nothing stored needs reading.
        let count = |kind: &str| -> Result<u64> {
            let of_kind = BooleanQuery::new(vec![
                (Occur::Must, query.box_clone()),
                (Occur::Must, term(fields.kind, kind)),
            ]);
            let count = steps_searcher.search(&of_kind, &Count).doing("deleting")?;
            Ok(count as u64)
        };
        let mut stats = DeleteStats {
            steps: count(KIND_STEP)?,
            attempts: count(KIND_ATTEMPT)?,
            texts: 0,
        };
        self.steps.delete_query(query).doing("deleting")?;
        self.steps.commit().doing("committing a deletion")?;
        self.index.reload()?;
        stats.texts = self.collect_garbage()?;
        Ok(stats)
    }

    /// Deletes the texts no committed step refers to; returns how many. Commits first.
    pub fn collect_garbage(&mut self) -> Result<u64> {
        self.commit()?;
        let (texts_searcher, steps_searcher) = self.index.searchers();
        let store = StepStore::open(self.index, &steps_searcher, 1)?;
        let mut referenced = HashSet::new();
        for (ordinal, segment) in steps_searcher.segment_readers().iter().enumerate() {
            for doc in segment.doc_ids_alive() {
                let address = DocAddress::new(ordinal as u32, doc);
                store
                    .with_ids(address, |ids| {
                        sequence::for_each_id(ids, |id| {
                            referenced.insert(id);
                        })
                        // An attempt record has no sequence.
                        .or(ids.is_empty().then_some(()))
                    })?
                    .ok_or_else(|| store.undecodable(address))?;
            }
        }
        let mut unreferenced = HashSet::new();
        for_each_text(&texts_searcher, "collecting texts", |id, key| {
            if !referenced.contains(&id) {
                self.dictionary.forget(key, id);
                unreferenced.insert(id);
            }
        })?;
        let collected = unreferenced.len() as u64;
        if collected > 0 {
            self.texts
                .delete_query(texts_with_ids(unreferenced))
                .doing("collecting texts")?;
        }
        self.commit()?;
        Ok(collected)
    }
}

/// Matches the texts whose `id` is in `ids`, read from the fast field: texts have no id terms
/// (see [`crate::id_table`]).
fn texts_with_ids(ids: HashSet<u32>) -> Box<dyn TantivyQuery> {
    let ids = Arc::new(ids);
    let predicate = FunctionPredicate::from(move |segment: &SegmentReader| {
        let column = segment.fast_fields().u64("id")?;
        let ids = Arc::clone(&ids);
        Ok(move |doc: DocId| {
            column
                .first(doc)
                .is_some_and(|id| u32::try_from(id).is_ok_and(|id| ids.contains(&id)))
        })
    });
    Box::new(DocPredicateQuery::from(predicate))
}

fn created_before(fields: StepFields, instant: i64) -> Box<dyn TantivyQuery> {
    Box::new(RangeQuery::new(
        Bound::Unbounded,
        Bound::Excluded(Term::from_field_i64(fields.run_created_at, instant)),
    ))
}

/// What a step document's `meta` holds (written as [`StoredStepJson`]).
#[derive(serde::Deserialize)]
pub(crate) struct StoredStep {
    pub(crate) attempt: RunAttempt,
    pub(crate) step: StepMeta,
}

/// A [`StoredStep`] as the writer writes it, with the attempt's JSON made once per attempt.
#[derive(serde::Serialize)]
struct StoredStepJson<'a> {
    attempt: &'a serde_json::value::RawValue,
    step: &'a StepMeta,
}

/// The document of an attempt's record.
fn record_doc(fields: &StepFields, key: &str, record: &AttemptRecord) -> TantivyDocument {
    let mut doc = attempt_doc(fields, KIND_ATTEMPT, key, &record.attempt);
    doc.add_text(
        fields.meta,
        serde_json::to_string(record).expect("serializable"),
    );
    doc
}

/// A document with the attempt's filter terms, for a step or the attempt's record.
fn attempt_doc(
    fields: &StepFields,
    kind: &str,
    key: &str,
    attempt: &RunAttempt,
) -> TantivyDocument {
    let file_name = attempt.workflow_path.rsplit('/').next().unwrap_or_default();
    let mut doc = doc!(
        fields.kind => kind,
        fields.attempt_key => key,
        fields.repo => keyword(&attempt.repo),
        fields.run => attempt.run_id.to_string(),
        fields.attempt => attempt.run_attempt.to_string(),
        fields.branch => keyword(&attempt.head_branch),
        fields.workflow => keyword(&attempt.workflow_name),
        fields.workflow => keyword(&attempt.workflow_path),
        fields.event => keyword(&attempt.event),
        fields.sha => keyword(&attempt.head_sha),
        fields.run_created_at => time::to_nanos(attempt.run_created_at),
    );
    if file_name != attempt.workflow_path {
        doc.add_text(fields.workflow, keyword(file_name));
    }
    doc
}

fn add_step_terms(doc: &mut TantivyDocument, fields: &StepFields, step: &StepMeta) {
    doc.add_text(fields.job, step.job_id.to_string());
    doc.add_text(fields.job, keyword(&step.job_name));
    doc.add_text(fields.step, step.step_number.to_string());
    doc.add_text(fields.step, keyword(&step.step_name));
    doc.add_text(fields.conclusion, keyword(&step.job_conclusion));
}

/// Text → dense id, exact: a 32-bit key finds the candidate, the text itself confirms it.
///
/// Kept small, because a lookup's cost is its cache misses: at 1 GB of logs the table holds
/// over a million texts, and 32-byte entries (a key and the text's place) did not fit the
/// caches. An entry is a key and an id (8 bytes); the id finds the text, since those this
/// writer added lie one after another in id order.
struct Dictionary {
    /// Key → the id of one text with that key; the others with it are in `collided`.
    by_key: HashMap<u32, u32, BuildHasherDefault<SpreadKey>>,
    /// The texts this writer added, one after another in id order. One allocation per text,
    /// and freeing them all when the writer was dropped, cost a sixth of the writer's thread
    /// when no line repeats. A forgotten text's bytes stay until the writer is dropped.
    texts: String,
    /// Per text this writer added (by id from `first_added`): where it ends in `texts` (it
    /// starts where the previous one ends), with [`FORGOTTEN`] set once it is collected.
    ends: Vec<usize>,
    /// Per text this writer added: the id of the line that followed it the last time it was
    /// met, to guess the next line's id without hashing.
    followed_by: Vec<u32>,
    first_added: u32,
    /// Texts committed before the writer started, read from the index when a lookup found
    /// their key: once each.
    read: HashMap<u32, Box<str>>,
    /// Texts whose key another text already has (at a million texts, about one in 4,300).
    collided: HashMap<Box<str>, u32>,
    /// The id [`Dictionary::id_of`] last returned, and the id the line would have had, had it
    /// gone on with the sequence being repeated (see [`Dictionary::id_of`]).
    last: u32,
    expected: u32,
    next_id: u32,
    /// The committed texts when the writer started, to read a candidate's text once.
    committed: Searcher,
    /// The texts added since the writer last sent them to tantivy.
    new_texts: NewTexts,
}

/// Set in [`Dictionary::ends`] for a text forgotten.
const FORGOTTEN: usize = 1 << (usize::BITS - 1);

impl Dictionary {
    fn load(index: &Index) -> Result<Dictionary> {
        let (committed, _) = index.searchers();
        let mut by_key = HashMap::default();
        let mut colliding_ids = Vec::new();
        let mut max_id = None;
        for_each_text(&committed, "loading the dictionary", |id, key| {
            max_id = max_id.max(Some(id));
            match by_key.entry(key) {
                Entry::Occupied(_) => colliding_ids.push(id),
                Entry::Vacant(vacant) => {
                    vacant.insert(id);
                }
            }
        })?;
        let mut collided = HashMap::new();
        for (id, text) in index.read_texts(&committed, colliding_ids)? {
            collided.insert(text.into_boxed_str(), id);
        }
        let payload = index
            .texts
            .load_metas()
            .doing("loading the dictionary")?
            .payload;
        // Ids of collected texts are never reused: a reader's older snapshot may still show them.
        let next_id = payload
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
            .max(max_id.map_or(0, |m| m + 1));
        Ok(Dictionary {
            by_key,
            texts: String::new(),
            ends: Vec::new(),
            followed_by: Vec::new(),
            first_added: next_id,
            read: HashMap::new(),
            collided,
            last: u32::MAX,
            expected: u32::MAX,
            next_id,
            committed,
            new_texts: NewTexts::default(),
        })
    }

    /// The id of `text`; a new text is given the next id and gathered in
    /// [`Dictionary::new_texts`], to be sent before any step that refers to it.
    ///
    /// A step that repeats an earlier one (the common case in CI) meets its texts in the order
    /// they were first met, so three guesses are checked before the hash table, whose cache
    /// miss was half of the writer thread's lookups: the id after the previous line's (ids are
    /// given in first-met order); the id after the expected one, past a line that differs
    /// from the one repeated (a duration, a temporary path); and the id that followed the
    /// previous line's the last time. On fakehub's corpus (7% distinct lines) they leave 18% of
    /// the lines to the table, two in five of those new; the guess after the previous line's
    /// alone left 37%. Only texts this writer added are guessed: those committed before it
    /// always go through the table (and are read from the index once).
    fn id_of(&mut self, text: &str, index: &Index) -> Result<u32> {
        let followed_by = self
            .added_index(self.last)
            .map_or(u32::MAX, |last| self.followed_by[last]);
        for guess in [
            self.last.wrapping_add(1),
            self.expected.wrapping_add(1),
            followed_by,
        ] {
            if self.added_text(guess) == Some(text) {
                self.met(guess, guess);
                return Ok(guess);
            }
        }
        let id = self.look_up(text, index)?;
        self.met(id, self.expected.wrapping_add(1));
        Ok(id)
    }

    /// Records that a line has `id`, and where it leaves the sequence being repeated.
    fn met(&mut self, id: u32, expected: u32) {
        if let Some(last) = self.added_index(self.last) {
            self.followed_by[last] = id;
        }
        (self.last, self.expected) = (id, expected);
    }

    /// Where `id` is in [`Dictionary::ends`] and [`Dictionary::followed_by`], if this writer
    /// added it.
    fn added_index(&self, id: u32) -> Option<usize> {
        let index = id.checked_sub(self.first_added)? as usize;
        (index < self.ends.len()).then_some(index)
    }

    /// The text of `id` if this writer added it and has not forgotten it.
    fn added_text(&self, id: u32) -> Option<&str> {
        let index = self.added_index(id)?;
        let end = self.ends[index];
        let start = index
            .checked_sub(1)
            .map_or(0, |previous| self.ends[previous]);
        (end & FORGOTTEN == 0).then(|| &self.texts[start & !FORGOTTEN..end])
    }

    /// [`Dictionary::id_of`] by the text's key.
    fn look_up(&mut self, text: &str, index: &Index) -> Result<u32> {
        let key = text_key(text);
        let Some(&id) = self.by_key.get(&key) else {
            let id = self.add(text, key, index)?;
            self.by_key.insert(key, id);
            return Ok(id);
        };
        if self.text_of(id, index)? == Some(text) {
            return Ok(id);
        }
        if let Some(&id) = self.collided.get(text) {
            return Ok(id);
        }
        let id = self.add(text, key, index)?;
        self.collided.insert(text.into(), id);
        Ok(id)
    }

    /// The text of an id the table holds: added by this writer, or committed before it
    /// started (read from the index the first time). `None` for a text this writer forgot,
    /// which the table no longer holds.
    fn text_of(&mut self, id: u32, index: &Index) -> Result<Option<&str>> {
        if id >= self.first_added {
            let text = self.added_text(id);
            debug_assert!(text.is_some(), "the table holds forgotten text {id}");
            return Ok(text);
        }
        if !self.read.contains_key(&id) {
            let (_, stored) = index
                .read_texts(&self.committed, [id])?
                .into_iter()
                .next()
                .ok_or_else(|| index.corrupt(format!("text `{id}` is missing")))?;
            self.read.insert(id, stored.into_boxed_str());
        }
        Ok(self.read.get(&id).map(|text| &**text))
    }

    /// Gives `text` the next id, and gathers it in [`Dictionary::new_texts`].
    fn add(&mut self, text: &str, key: u32, index: &Index) -> Result<u32> {
        let id = self.next_id;
        self.next_id = id
            .checked_add(1)
            .ok_or_else(|| index.corrupt("more than 2^32 distinct texts"))?;
        self.new_texts.push(id, u64::from(key), text);
        self.texts.push_str(text);
        self.ends.push(self.texts.len());
        self.followed_by.push(u32::MAX);
        Ok(id)
    }

    fn forget(&mut self, key: u32, id: u32) {
        if self.by_key.get(&key) == Some(&id) {
            self.by_key.remove(&key);
        }
        self.collided.retain(|_, known| *known != id);
        self.read.remove(&id);
        if let Some(index) = self.added_index(id) {
            self.ends[index] |= FORGOTTEN;
        }
    }
}

/// Calls `each` with the id and key of every live text in `texts`, read from fast fields.
fn for_each_text(
    texts: &Searcher,
    doing: &'static str,
    mut each: impl FnMut(u32, u32),
) -> Result<()> {
    for segment in texts.segment_readers() {
        let ids = segment.fast_fields().u64("id").doing(doing)?;
        let keys = segment.fast_fields().u64("key").doing(doing)?;
        for doc in segment.doc_ids_alive() {
            if let (Some(id), Some(key)) = (ids.first(doc), keys.first(doc)) {
                // Both were written from 32-bit values.
                each(id as u32, key as u32);
            }
        }
    }
    Ok(())
}

/// A text's dictionary key, stored with it: 32 bits of its xxh3. Two texts with one key are
/// told apart by comparing them, so the width only sets how often that happens (at a million
/// texts, for about one in 4,300), while 64 bits would cost 4% of the index on disk.
fn text_key(text: &str) -> u32 {
    (xxh3_64(text.as_bytes()) >> 32) as u32
}

/// Keys are already hashes, but of 32 bits: one multiplication spreads them over the 64 bits
/// the table uses (its control bytes come from the top bits), cheaper than hashing them again.
#[derive(Default)]
struct SpreadKey(u64);

impl Hasher for SpreadKey {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = u64::from(value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::{Line, Query, Step};

    /// Two texts of the form `line N` whose keys are equal, found by a birthday search.
    fn colliding_texts() -> (String, String) {
        let mut seen = HashMap::new();
        for n in 0u64.. {
            let text = format!("line {n}");
            if let Some(other) = seen.insert(text_key(&text), text.clone()) {
                return (other, text);
            }
        }
        unreachable!("a 32-bit key repeats within 2^32 + 1 texts")
    }

    fn attempt(run_id: u64) -> RunAttempt {
        RunAttempt {
            repo: "acme/widgets".to_owned(),
            run_id,
            run_attempt: 1,
            run_number: run_id,
            workflow_name: "CI".to_owned(),
            workflow_path: ".github/workflows/ci.yml".to_owned(),
            event: "push".to_owned(),
            head_branch: "main".to_owned(),
            head_sha: "0".repeat(40),
            actor: "octocat".to_owned(),
            run_created_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    fn step(texts: &[&str]) -> Step {
        Step {
            meta: StepMeta {
                job_id: 1,
                job_name: "test".to_owned(),
                job_conclusion: "success".to_owned(),
                step_number: 1,
                step_name: "Run tests".to_owned(),
                step_conclusion: "success".to_owned(),
            },
            lines: texts
                .iter()
                .zip(1..)
                .map(|(text, second)| Line {
                    timestamp: jiff::Timestamp::from_second(second).unwrap(),
                    text: (*text).to_owned(),
                })
                .collect(),
        }
    }

    /// A searcher made before a merge reads our own files of the segments the merge made
    /// obsolete, after the garbage collector deleted them.
    #[test]
    fn a_searcher_reads_its_segments_after_a_merge() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        for run_id in 1..=3 {
            let text = format!("text number {run_id}");
            writer
                .add_attempt(&attempt(run_id), &[step(&[&text])])
                .unwrap();
            writer.commit().unwrap();
        }
        drop(writer);
        let (texts, _) = index.searchers();
        assert!(texts.segment_readers().len() >= 3);

        let mut merger: IndexWriter = index.texts.writer(15_000_000).unwrap();
        let segments = index.texts.searchable_segment_ids().unwrap();
        merger.merge(&segments).wait().unwrap();
        merger.commit().unwrap();
        merger.garbage_collect_files().wait().unwrap();
        let gone = segments[0].uuid_string();
        assert!(
            !index.dir.join("texts").join(format!("{gone}.ids")).exists(),
            "the merged segment's table is deleted"
        );

        let mut read = index.read_texts(&texts, 0..3).unwrap();
        read.sort();
        let expected: Vec<(u32, String)> = (1..=3)
            .map(|n| (n - 1, format!("text number {n}")))
            .collect();
        assert_eq!(read, expected);
    }

    /// The dictionary guesses a line's id from the previous line's: a text collected in the
    /// meantime is never guessed, though its id comes next. The text added again after it is
    /// then guessed, and found where the collected one's bytes end.
    #[test]
    fn a_collected_text_met_again_is_indexed_again() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(1), &[step(&["kept", "collected"])])
            .unwrap();
        writer.add_attempt(&attempt(2), &[step(&["kept"])]).unwrap();
        let deletion = Deletion::Run {
            repo: "acme/widgets".to_owned(),
            run_id: 1,
        };
        assert_eq!(writer.delete(&deletion).unwrap().texts, 1);
        for run in [3, 4] {
            writer
                .add_attempt(&attempt(run), &[step(&["kept", "collected"])])
                .unwrap();
        }
        writer.commit().unwrap();
        drop(writer);
        assert_eq!(runs_of_hits(&index, "collected"), [3, 4]);
    }

    /// The runs of the lines whose text is `text`, ascending; panics on a hit of another text.
    fn runs_of_hits(index: &Index, text: &str) -> Vec<u64> {
        let hits = index
            .search(&Query::parse(text).unwrap().limit(10))
            .unwrap();
        assert!(hits.iter().all(|hit| hit.text == text), "{hits:?}");
        let mut runs: Vec<u64> = hits.iter().map(|hit| hit.run.run_id).collect();
        runs.sort();
        runs
    }

    /// Writers that each commit one attempt and wait for merges leave the segments few: the
    /// eighth segment of a size starts a merge (tantivy's default policy), finished before the
    /// writer is gone, so no writer leaves eight.
    #[test]
    fn waiting_for_merges_keeps_segments_few() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        for run in 1..=20 {
            let mut writer = index.writer().unwrap();
            let text = format!("line of run {run}");
            writer
                .add_attempt(&attempt(run), &[step(&[&text])])
                .unwrap();
            writer.commit().unwrap();
            writer.wait_for_merges().unwrap();
            for (name, tantivy_index) in [("texts", &index.texts), ("steps", &index.steps)] {
                let segments = tantivy_index.searchable_segment_ids().unwrap().len();
                assert!(
                    segments < 8,
                    "{name}: {segments} segments after writer {run}"
                );
            }
        }
        assert_eq!(runs_of_hits(&index, "line of run 7"), [7]);
    }

    /// A text committed before the writer started, read by it, then collected by it: met
    /// again, it is a new text, not the collected one.
    #[test]
    fn a_text_read_then_collected_by_a_later_writer_is_indexed_again() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(1), &[step(&["kept", "collected"])])
            .unwrap();
        writer.commit().unwrap();
        drop(writer);
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(2), &[step(&["collected"])])
            .unwrap();
        for run_id in [1, 2] {
            let deletion = Deletion::Run {
                repo: "acme/widgets".to_owned(),
                run_id,
            };
            writer.delete(&deletion).unwrap();
        }
        writer
            .add_attempt(&attempt(3), &[step(&["collected"])])
            .unwrap();
        writer.commit().unwrap();
        drop(writer);
        assert_eq!(runs_of_hits(&index, "collected"), [3]);
    }

    #[test]
    fn a_step_written_with_its_attempt_s_json_reads_back() {
        let attempt = attempt(7);
        let step = step(&[]).meta;
        let json = serde_json::to_string(&StoredStepJson {
            attempt: &serde_json::value::to_raw_value(&attempt).unwrap(),
            step: &step,
        })
        .unwrap();
        let read: StoredStep = serde_json::from_str(&json).unwrap();
        assert_eq!((read.attempt, read.step), (attempt, step));
    }

    #[test]
    fn texts_sharing_a_key_keep_their_own_ids_across_writers() {
        let (first, second) = colliding_texts();
        assert_ne!(first, second);
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(1), &[step(&[&first, &second])])
            .unwrap();
        writer.commit().unwrap();
        drop(writer);
        // A new writer loads both from disk: the second one met must be read to tell them apart.
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(2), &[step(&[&second, &first, &second])])
            .unwrap();
        writer.commit().unwrap();
        drop(writer);
        for (text, expected) in [(&first, 2), (&second, 3)] {
            let query = Query::parse(&format!("\"{text}\"")).unwrap().limit(10);
            let hits = index.search(&query).unwrap();
            assert_eq!(hits.len(), expected, "{text}");
            assert!(hits.iter().all(|hit| &hit.text == text), "{text}: {hits:?}");
        }
    }
}
