//! The one writer of an index: adding attempts, committing, deleting and collecting texts no
//! step refers to. Texts get their ids from [`crate::dictionary`]; the steps' documents are
//! built by [`crate::step_doc`].

use std::collections::HashSet;
use std::ops::Bound;
use std::sync::{Arc, PoisonError};

use tantivy::collector::Count;
use tantivy::indexer::UserOperation;
use tantivy::query::doc_predicate_query::{DocPredicateQuery, FunctionPredicate};
use tantivy::query::{BooleanQuery, Occur, Query as TantivyQuery, RangeQuery};
use tantivy::schema::Term;
use tantivy::{DocAddress, DocId, IndexWriter, SegmentReader};

use crate::dictionary::{Dictionary, for_each_text};
use crate::error::{Result, TantivyContext};
use crate::index::Index;
use crate::lock::WriterLock;
use crate::model::{AttemptRecord, AttemptState, JobOutcome, RunAttempt, StepMeta, StepSource};
use crate::schema::{KIND_ATTEMPT, KIND_STEP, StepFields, attempt_key, keyword_query as term};
use crate::sequence::{self, Encoder, Occurrence};
use crate::step_doc::{AttemptSteps, record_doc};
use crate::store::StepStore;
use crate::text_doc::TextDoc;
use crate::time;
use crate::web_bases::WebBases;

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
    /// Records that `repo`'s data comes from the host of `web_base` (as
    /// `logidx_urls::web_base` gives it), so that its links point there whatever a reader's
    /// default ([`crate::Query::web_base`]). Written at once, not at the next commit.
    pub fn set_web_base(&mut self, repo: &str, web_base: &str) -> Result<()> {
        // Under the writer's lock, the file on disk is the latest.
        let mut bases = WebBases::load(&self.index.dir)?;
        bases.store(&self.index.dir, repo, web_base)?;
        *self
            .index
            .web_bases
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(bases);
        Ok(())
    }

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
        let mut adding = self.begin_attempt(attempt);
        for step in steps {
            adding.begin_step(step.meta().clone())?;
            adding.add_lines(step.lines())?;
        }
        adding.finish()
    }

    /// Starts adding an attempt whose lines come as they are read, step after step, in
    /// batches: [`AttemptWriter::begin_step`], [`AttemptWriter::add_lines`], then
    /// [`AttemptWriter::finish`]. What the index held for the attempt is deleted now; until
    /// `finish`, nothing of the new one is visible, and dropping the `AttemptWriter` (an
    /// error on the way) leaves the attempt with nothing indexed. Memory: the open step's
    /// lines encoded as they come (a few bytes each, about 3 for a CI log; see
    /// `sequence::Encoder`), copied into its document when it ends, and at most [`READY_STEP_BYTES`] of
    /// finished steps.
    pub fn begin_attempt(&mut self, attempt: &RunAttempt) -> AttemptWriter<'_, 'a> {
        let key = attempt_key(&attempt.repo, attempt.run_id, attempt.run_attempt);
        self.delete_attempt(&key);
        AttemptWriter {
            steps: AttemptSteps::new(self.index.step_fields, &key, attempt),
            writer: self,
            attempt: attempt.clone(),
            key,
            open: None,
            open_lines: Encoder::default(),
            ready: Vec::new(),
            ready_bytes: 0,
            jobs: Vec::new(),
            step_count: 0,
            lines: 0,
            finished: false,
        }
    }

    fn delete_attempt(&mut self, key: &str) {
        self.steps.delete_term(Term::from_field_text(
            self.index.step_fields.attempt_key,
            key,
        ));
    }

    /// Sends the texts the dictionary met since the last call, before any step that refers
    /// to them.
    fn send_new_texts(&mut self) -> Result<()> {
        if !self.dictionary.new_texts.is_empty() {
            let new_texts = self.dictionary.new_texts.take(self.index.text_fields);
            self.texts
                .run(new_texts.map(UserOperation::Add))
                .doing("adding texts")?;
        }
        Ok(())
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
        let committed = self.commit_both();
        committed.map_err(|error| self.index.with_write_failure(error))
    }

    fn commit_both(&mut self) -> Result<()> {
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
        let query = deletion_query(self.index.step_fields, deletion);
        let mut stats = self.index.deletion_counts(query.as_ref())?;
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

/// Encoded bytes of finished steps an [`AttemptWriter`] holds before sending them to tantivy
/// together: sent one by one, each woke an idle indexing thread (8% of the writer thread's
/// time); held whole, an attempt's steps would grow with it.
pub const READY_STEP_BYTES: usize = 4 << 20;

/// An attempt being added, its lines as they come ([`Writer::begin_attempt`]). Holds the
/// writer: nothing commits in the middle of an attempt.
pub struct AttemptWriter<'w, 'a> {
    writer: &'w mut Writer<'a>,
    attempt: RunAttempt,
    key: String,
    steps: AttemptSteps,
    /// The step lines go to, and its lines so far, encoded as they come.
    open: Option<StepMeta>,
    open_lines: Encoder,
    /// Finished steps not sent yet, and their encoded bytes.
    ready: Vec<UserOperation>,
    ready_bytes: usize,
    jobs: Vec<JobOutcome>,
    step_count: u64,
    lines: u64,
    finished: bool,
}

impl std::fmt::Debug for AttemptWriter<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttemptWriter")
            .field("attempt", &self.key)
            .field("steps", &self.step_count)
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

impl AttemptWriter<'_, '_> {
    /// Ends the step before, if any, and opens `meta`'s: the lines added next are its.
    pub fn begin_step(&mut self, meta: StepMeta) -> Result<()> {
        self.end_step()?;
        self.open = Some(meta);
        Ok(())
    }

    /// Adds lines, as (when written, text), to the step opened last. Panics if none is.
    pub fn add_lines<'t>(
        &mut self,
        lines: impl IntoIterator<Item = (jiff::Timestamp, &'t str)>,
    ) -> Result<()> {
        assert!(self.open.is_some(), "lines added before any step");
        let (writer, open_lines) = (&mut *self.writer, &mut self.open_lines);
        for (at, text) in lines {
            let text_id = writer.dictionary.id_of(text, writer.index)?;
            let timestamp = time::to_nanos(at);
            open_lines.push(Occurrence { text_id, timestamp });
        }
        writer.send_new_texts()
    }

    /// Ends the last step and adds the attempt's record with its counts: the attempt is whole,
    /// visible at the next commit. Commits if [`WriterOptions::commit_every_lines`] says so.
    pub fn finish(mut self) -> Result<()> {
        self.end_step()?;
        let record = AttemptRecord {
            attempt: self.attempt.clone(),
            state: AttemptState::Indexed {
                steps: self.step_count,
                lines: self.lines,
                jobs: std::mem::take(&mut self.jobs),
            },
        };
        let fields = self.writer.index.step_fields;
        let mut ready = std::mem::take(&mut self.ready);
        ready.push(UserOperation::Add(record_doc(&fields, &self.key, &record)));
        self.writer.steps.run(ready).doing("adding steps")?;
        self.finished = true;
        let writer = &mut *self.writer;
        writer.pending_lines += self.lines;
        if writer
            .options
            .commit_every_lines
            .is_some_and(|every| writer.pending_lines >= every)
        {
            writer.commit()?;
        }
        Ok(())
    }

    /// Builds the open step's document, and sends the finished ones when they are many.
    fn end_step(&mut self) -> Result<()> {
        let Some(meta) = self.open.take() else {
            return Ok(());
        };
        if !self.jobs.iter().any(|j| j.job_id == meta.job_id) {
            self.jobs.push(JobOutcome {
                job_id: meta.job_id,
                job_name: meta.job_name.clone(),
                conclusion: meta.job_conclusion.clone(),
            });
        }
        self.lines += self.open_lines.count();
        let lines = std::mem::take(&mut self.open_lines).finish();
        self.step_count += 1;
        self.ready_bytes += lines.bytes.len() + 256;
        let doc = self.steps.step(&meta, lines);
        self.ready.push(UserOperation::Add(doc));
        if self.ready_bytes >= READY_STEP_BYTES {
            self.ready_bytes = 0;
            let ready = std::mem::take(&mut self.ready);
            self.writer.steps.run(ready).doing("adding steps")?;
        }
        Ok(())
    }
}

impl Drop for AttemptWriter<'_, '_> {
    /// An attempt left unfinished is deleted again: the steps already sent are removed (a
    /// deletion applies to what was added before it), so it is left with nothing indexed.
    fn drop(&mut self) {
        if !self.finished {
            let key = std::mem::take(&mut self.key);
            self.writer.delete_attempt(&key);
        }
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

/// The steps and records a [`Deletion`] removes.
fn deletion_query(fields: StepFields, deletion: &Deletion) -> Box<dyn TantivyQuery> {
    match deletion {
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
    }
}

impl Index {
    /// What [`Writer::delete`] would remove now, removing nothing (`texts` is 0: which texts
    /// lose their last step is known only once the steps are gone).
    pub fn would_delete(&self, deletion: &Deletion) -> Result<DeleteStats> {
        self.deletion_counts(deletion_query(self.step_fields, deletion).as_ref())
    }

    /// The steps and records `query` matches, counted from the `kind` terms: nothing stored
    /// needs reading.
    fn deletion_counts(&self, query: &dyn TantivyQuery) -> Result<DeleteStats> {
        let (_, steps_searcher) = self.searchers();
        let fields = self.step_fields;
        let count = |kind: &str| -> Result<u64> {
            let of_kind = BooleanQuery::new(vec![
                (Occur::Must, query.box_clone()),
                (Occur::Must, term(fields.kind, kind)),
            ]);
            let count = steps_searcher.search(&of_kind, &Count).doing("deleting")?;
            Ok(count as u64)
        };
        Ok(DeleteStats {
            steps: count(KIND_STEP)?,
            attempts: count(KIND_ATTEMPT)?,
            texts: 0,
        })
    }
}

fn created_before(fields: StepFields, instant: i64) -> Box<dyn TantivyQuery> {
    Box::new(RangeQuery::new(
        Bound::Unbounded,
        Bound::Excluded(Term::from_field_i64(fields.run_created_at, instant)),
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Line, Query, Step, StepMeta};

    pub(crate) fn attempt(run_id: u64) -> RunAttempt {
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

    pub(crate) fn step(texts: &[&str]) -> Step {
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

    /// The deletion of a run of [`attempt`]'s repository.
    pub(crate) fn run(run_id: u64) -> Deletion {
        Deletion::Run {
            repo: "acme/widgets".to_owned(),
            run_id,
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

    /// The runs of the lines whose text is `text`, ascending; panics on a hit of another text.
    pub(crate) fn runs_of_hits(index: &Index, text: &str) -> Vec<u64> {
        let hits = index
            .search(&Query::parse(text).unwrap().limit(10))
            .unwrap();
        assert!(hits.iter().all(|hit| hit.text == text), "{hits:?}");
        let mut runs: Vec<u64> = hits.iter().map(|hit| hit.run.run_id).collect();
        runs.sort();
        runs
    }

    fn shown(index: &Index, run_id: u64) -> Vec<(u32, Vec<String>)> {
        let selection = crate::Selection {
            repo: "acme/widgets".to_owned(),
            run_id,
            run_attempt: None,
            job_id: None,
            step_number: None,
        };
        let steps = index.show(&selection).unwrap();
        steps
            .into_iter()
            .map(|s| {
                let texts = s.lines.into_iter().map(|l| l.text).collect();
                (s.step.step_number, texts)
            })
            .collect()
    }

    fn meta(step_number: u32) -> StepMeta {
        StepMeta {
            step_number,
            ..step(&[]).meta
        }
    }

    /// An attempt streamed in batches, a step's lines over several, is the attempt added
    /// whole: its lines in order, in their steps, with its record's counts.
    #[test]
    fn an_attempt_streamed_in_batches_is_the_attempt_added_whole() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        let at = jiff::Timestamp::UNIX_EPOCH;
        let mut adding = writer.begin_attempt(&attempt(1));
        adding.begin_step(meta(1)).unwrap();
        adding.add_lines([(at, "one"), (at, "two")]).unwrap();
        adding.add_lines([(at, "three")]).unwrap();
        adding.begin_step(meta(2)).unwrap();
        adding.add_lines([(at, "one")]).unwrap();
        adding.finish().unwrap();
        let whole = [
            Step {
                meta: meta(1),
                ..step(&["one", "two", "three"])
            },
            Step {
                meta: meta(2),
                ..step(&["one"])
            },
        ];
        writer.add_attempt(&attempt(2), &whole).unwrap();
        writer.commit().unwrap();
        let expected = [
            (
                1,
                vec!["one".to_owned(), "two".to_owned(), "three".to_owned()],
            ),
            (2, vec!["one".to_owned()]),
        ];
        assert_eq!(shown(&index, 1), expected);
        assert_eq!(shown(&index, 2), expected);
        let record = index.attempt("acme/widgets", 1, 1).unwrap().unwrap();
        assert!(
            matches!(
                record.state,
                AttemptState::Indexed {
                    steps: 2,
                    lines: 4,
                    ..
                }
            ),
            "{record:?}"
        );
    }

    /// An attempt dropped before its end leaves nothing: not the steps already sent to
    /// tantivy (more than [`READY_STEP_BYTES`] of them), nor its earlier version.
    #[test]
    fn an_attempt_dropped_unfinished_leaves_nothing_even_of_the_steps_sent() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(1), &[step(&["earlier version"])])
            .unwrap();
        writer.commit().unwrap();
        let at = jiff::Timestamp::UNIX_EPOCH;
        let mut adding = writer.begin_attempt(&attempt(1));
        let texts = ["a", "b", "c", "d"];
        // Two bytes a line (an id delta and a time delta of one byte each), 8 steps' worth:
        // sent by the 9th.
        let lines = READY_STEP_BYTES / 2 / 8 + 1;
        for number in 1..=10 {
            adding.begin_step(meta(number)).unwrap();
            adding
                .add_lines((0..lines).map(|i| (at, texts[i % 4])))
                .unwrap();
        }
        assert!(
            adding.ready.len() < adding.step_count as usize,
            "finished steps were sent"
        );
        drop(adding);
        writer
            .add_attempt(&attempt(2), &[step(&["other"])])
            .unwrap();
        writer.commit().unwrap();
        assert_eq!(shown(&index, 1), []);
        assert!(index.attempt("acme/widgets", 1, 1).unwrap().is_none());
        assert_eq!(shown(&index, 2), [(1, vec!["other".to_owned()])]);
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
}
