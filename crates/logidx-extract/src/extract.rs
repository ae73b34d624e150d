//! The extractor: from an archive and the attempt's jobs to every line in its job and step,
//! within size caps: whole ([`Extractor::extract_bytes`], in parallel over entries) or
//! streamed in batches as the entries are inflated ([`Extractor::extract_stream`], in bounded
//! memory whatever the entries' sizes).

use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, TryRecvError, TrySendError};
use std::time::Duration;

use rayon::prelude::*;
use zip::ZipArchive;

use crate::attribute::{Attributor, preamble_len};
use crate::error::{Corruption, Error, Result};
use crate::inflate::{Declared, Inflater, Stop};
use crate::input::{Archive, ArchiveId, JobInfo, Source};
use crate::job_log;
use crate::lines::{LineParser, Lines, LogLine};
use crate::model::{AttemptLog, Section, Warning};
use crate::plan::{Destination, Extent, Plan, Task};

/// Longest that [`Extractor::extract_all`]'s calling thread sleeps when no result is ready;
/// an archive takes milliseconds to extract.
const RESULT_POLL: Duration = Duration::from_millis(1);

/// Most inflated bytes read from a whole-job file when only its preamble is wanted.
const PREAMBLE_BYTES: u64 = 64 * 1024;

/// Clean text in a [`Batch`] past which it is handed on.
const BATCH_BYTES: usize = 1 << 20;

/// Lines in a [`Batch`] past which it is handed on (short lines: their records weigh more
/// than their text).
const BATCH_LINES: usize = 16 * 1024;

/// How much an archive may inflate to, in absolute bytes actually inflated: a zip bomb is
/// refused when it reaches a cap, not for its compression ratio, since legit logs that repeat
/// one line compress past 1000×. An entry is refused before inflating when it declares more
/// than the entry cap, and an entry that inflates past what it declares is corrupt; since
/// entries are inflated in chunks, what is held stays bounded either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest inflated entry, in bytes (default 8 GiB: CI logs of several GiB exist).
    pub max_entry_bytes: u64,
    /// Largest inflated archive, all the entries read together, in bytes (default 32 GiB).
    pub max_archive_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_entry_bytes: 8 << 30,
            max_archive_bytes: 32 << 30,
        }
    }
}

/// Which part of a job a [`Batch`]'s lines belong to: one per step file, per step of an
/// attributed whole-job file, per `system.txt`, per unmatched file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartInfo {
    /// The API job; `None` for an unmatched file.
    pub job_id: Option<u64>,
    /// Which part of the job.
    pub section: Section,
    /// The archive entry the lines are read from.
    pub entry: String,
    /// The job's place in the caller's list.
    pub(crate) job: Option<usize>,
}

/// Some consecutive lines of one part, as [`Extractor::extract_stream`] hands them on: at
/// most about 1 MiB of text. A part's batches come one after the other, sharing one
/// [`PartInfo`] (`Arc::ptr_eq` tells a new part), the first numbered from 1; a part with no
/// line (an empty step file) comes as one empty batch.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Batch {
    /// The part.
    pub part: Arc<PartInfo>,
    /// The number of the first line in its part.
    pub first_line: u32,
    /// The lines.
    pub lines: Lines,
}

impl Batch {
    /// The lines in order, with their job, step and number in the part.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = LogLine<'_>> + '_ {
        let step_number = self.part.section.step_number();
        self.lines.iter().map(move |line| LogLine {
            job_id: self.part.job_id,
            step_number,
            line_number: line.line_number + self.first_line - 1,
            ..line
        })
    }
}

/// What [`Extractor::extract_stream`] says of an attempt once its lines are handed on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Streamed {
    /// The attempt.
    pub id: ArchiveId,
    /// Lines handed on.
    pub lines: u64,
    /// Jobs the caller listed that the archive lacks.
    pub missing_jobs: Vec<u64>,
    /// Jobs whose lines the archive does not hold for sure: those it lacks, and those whose
    /// names collide as file names ([`Extractor::jobs_without_files`]).
    pub jobs_without_files: Vec<u64>,
    /// What was odd.
    pub warnings: Vec<Warning>,
}

/// Reads archives. Cheap to clone; parallel over entries within an archive and over archives.
#[derive(Debug, Clone, Default)]
pub struct Extractor {
    limits: Limits,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl Extractor {
    /// An extractor with default [`Limits`] on rayon's global thread pool.
    pub fn new() -> Extractor {
        Extractor::default()
    }

    /// Uses `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Extractor {
        self.limits = limits;
        self
    }

    /// Runs on a pool of its own with `threads` threads.
    pub fn with_threads(mut self, threads: usize) -> Result<Extractor> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("logidx-extract-{i}"))
            .build()
            .map_err(|source| Error::ThreadPool { threads, source })?;
        self.pool = Some(Arc::new(pool));
        Ok(self)
    }

    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// Reads one archive from `source` (a file, a spooled download) and hands its lines to
    /// `sink` in [`Batch`]es as its entries are inflated, entry after entry: memory stays
    /// within a few chunks and batches whatever the size of an entry or of a line. Parts come
    /// in the order [`Extractor::extract_bytes`] gives them, job after job. When `sink`
    /// breaks, extraction stops with [`Error::Stopped`]; on any error, what `sink` got so far
    /// is a part of the attempt only.
    pub fn extract_stream<R: Read + Seek>(
        &self,
        id: ArchiveId,
        jobs: &[JobInfo],
        source: R,
        mut sink: impl FnMut(Batch) -> ControlFlow<()>,
    ) -> Result<Streamed> {
        let mut zip = ZipArchive::new(source).map_err(|e| not_zip(id, e))?;
        let mut plan = Plan::new(jobs, &entry_names(id, &zip)?);
        plan.order();
        self.check_declared_total(id, &zip, &plan.tasks)?;
        let inflated = AtomicU64::new(0);
        let mut inflater = Inflater::default();
        let mut present = vec![false; jobs.len()];
        let mut lines = 0;
        let mut emit = |batch: Batch| {
            if let Some(job) = batch.part.job {
                present[job] = true;
            }
            lines += batch.lines.len() as u64;
            pass_on(&mut sink, batch, id)
        };
        for task in &plan.tasks {
            let input = Input {
                zip: &mut zip,
                bytes: None,
            };
            self.read_task(id, input, &mut inflater, task, jobs, &inflated, &mut emit)?;
        }
        Ok(Streamed {
            id,
            lines,
            jobs_without_files: job_log::without_files(jobs, &present),
            missing_jobs: (jobs.iter().zip(present))
                .filter(|(_, present)| !present)
                .map(|(job, _)| job.id)
                .collect(),
            warnings: plan.warnings,
        })
    }

    /// The jobs of `jobs` whose lines the archive in `source` does not hold for sure, from its
    /// entry names alone, nothing inflated: those it has no file for, and those whose names
    /// collide once turned into file names (which file is whose is a guess). The caller asks
    /// for their own logs before or after streaming the archive.
    pub fn jobs_without_files<R: Read + Seek>(
        &self,
        id: ArchiveId,
        jobs: &[JobInfo],
        source: R,
    ) -> Result<Vec<u64>> {
        let zip = ZipArchive::new(source).map_err(|e| not_zip(id, e))?;
        let plan = Plan::new(jobs, &entry_names(id, &zip)?);
        let mut present = vec![false; jobs.len()];
        for (_, destination) in &plan.tasks {
            if let Destination::Job { job, .. } | Destination::Attributed { job } = destination {
                present[*job] = true;
            }
        }
        Ok(job_log::without_files(jobs, &present))
    }

    /// The caps this extractor holds archives and job logs to.
    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// Reads one archive held in memory.
    pub fn extract_bytes(
        &self,
        id: ArchiveId,
        jobs: &[JobInfo],
        bytes: &[u8],
    ) -> Result<AttemptLog> {
        self.install(|| self.extract_in_pool(id, jobs, bytes))
    }

    /// Reads one archive.
    pub fn extract(&self, archive: &Archive) -> Result<AttemptLog> {
        match &archive.source {
            Source::Bytes(bytes) => self.extract_bytes(archive.id, &archive.jobs, bytes),
            Source::File(path) => {
                let bytes = std::fs::read(path).map_err(|source| Error::Read {
                    run_id: archive.id.run_id,
                    attempt: archive.id.attempt,
                    path: path.clone(),
                    source,
                })?;
                self.extract_bytes(archive.id, &archive.jobs, &bytes)
            }
        }
    }

    /// Reads many archives in parallel and hands each result to `sink` on the calling thread,
    /// in completion order. Archives are taken from `archives` only as workers free up and at
    /// most `queue` results wait for `sink`, so memory does not grow with their number.
    pub fn extract_all<I>(
        &self,
        archives: I,
        queue: usize,
        mut sink: impl FnMut(Result<AttemptLog>),
    ) where
        I: IntoIterator<Item = Archive>,
        I::IntoIter: Send,
    {
        let (sender, receiver) = mpsc::sync_channel(queue);
        let archives = archives.into_iter();
        // The calling thread polls for results rather than waiting on the channel: waking a
        // thread that waits costs the sender an interrupt to the other core, which on a VM
        // took ~40 µs a result (measured on this project's 2-vCPU machine), a few percent of
        // extraction's time. Workers wake it only when that saves time: when the queue is
        // full, and once all results are in.
        let caller = std::thread::current();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                self.install(|| {
                    archives
                        .par_bridge()
                        .for_each_with(sender, |sender, archive| {
                            // The receiver lives until every sender is gone.
                            match sender.try_send(self.extract(&archive)) {
                                Ok(()) | Err(TrySendError::Disconnected(_)) => {}
                                Err(TrySendError::Full(result)) => {
                                    caller.unpark();
                                    let _ = sender.send(result);
                                }
                            }
                        });
                });
                caller.unpark();
            });
            loop {
                match receiver.try_recv() {
                    Ok(result) => sink(result),
                    Err(TryRecvError::Empty) => std::thread::park_timeout(RESULT_POLL),
                    Err(TryRecvError::Disconnected) => break,
                }
            }
        });
    }

    fn extract_in_pool(&self, id: ArchiveId, jobs: &[JobInfo], bytes: &[u8]) -> Result<AttemptLog> {
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| not_zip(id, e))?;
        let plan = Plan::new(jobs, &entry_names(id, &zip)?);
        self.check_declared_total(id, &zip, &plan.tasks)?;

        let inflated = AtomicU64::new(0);
        let results: Vec<Result<Vec<Batch>>> = plan
            .tasks
            .par_iter()
            .map_init(
                || (zip.clone(), Inflater::default()),
                |(zip, inflater), task| {
                    let mut parts: Vec<Batch> = Vec::new();
                    let input = Input {
                        zip,
                        bytes: Some(bytes),
                    };
                    self.read_task(id, input, inflater, task, jobs, &inflated, &mut |batch| {
                        match parts.last_mut() {
                            Some(last) if Arc::ptr_eq(&last.part, &batch.part) => {
                                last.lines.append(&batch.lines);
                            }
                            _ => parts.push(batch),
                        }
                        Ok(())
                    })?;
                    Ok(parts)
                },
            )
            .collect();
        let mut read = Vec::with_capacity(results.len());
        for result in results {
            read.push(result?);
        }
        Ok(plan.assemble(id, jobs, read))
    }

    fn check_declared_total<R: Read + Seek>(
        &self,
        id: ArchiveId,
        zip: &ZipArchive<R>,
        tasks: &[(Task, Destination)],
    ) -> Result<()> {
        let metadata = zip.metadata();
        let mut declared = 0u64;
        for (task, _) in tasks
            .iter()
            .filter(|(task, _)| task.extent == Extent::Whole)
        {
            let size = metadata.entry(task.index).map_or(0, |e| e.size());
            declared = declared.saturating_add(size);
            if declared > self.limits.max_archive_bytes {
                return Err(self.archive_too_large(id, task));
            }
        }
        Ok(())
    }

    fn archive_too_large(&self, id: ArchiveId, task: &Task) -> Error {
        Error::ArchiveTooLarge {
            run_id: id.run_id,
            attempt: id.attempt,
            entry: task.entry.clone(),
            cap: self.limits.max_archive_bytes,
        }
    }

    /// Reads one entry of an archive and hands its lines to `emit` in batches: a whole one
    /// inflated in chunks, refused if it declares more than the entry cap or takes the
    /// archive's inflated bytes (`inflated`, shared by the entries) past its cap; a head
    /// through `zip`'s reader, until its preamble ends.
    #[allow(clippy::too_many_arguments)]
    fn read_task<R: Read + Seek>(
        &self,
        id: ArchiveId,
        input: Input<'_, R>,
        inflater: &mut Inflater,
        (task, destination): &(Task, Destination),
        jobs: &[JobInfo],
        inflated: &AtomicU64,
        emit: &mut dyn FnMut(Batch) -> Result<()>,
    ) -> Result<()> {
        let corrupt = |source| Error::CorruptEntry {
            run_id: id.run_id,
            attempt: id.attempt,
            entry: task.entry.clone(),
            source,
        };
        let mut router = Router::new(&task.entry, *destination, jobs);
        let Input { zip, bytes } = input;
        if task.extent == Extent::Head {
            // A few hundred bytes, read through `zip`'s reader until the preamble ends.
            let file = zip
                .by_index(task.index)
                .map_err(|e| corrupt(Corruption::Zip(e)))?;
            let mut buffer = Vec::new();
            read_preamble(file, &mut buffer).map_err(|e| corrupt(Corruption::Read(e)))?;
            let head = Lines::parse(&buffer);
            router.batch = head.slice(0..preamble_len(&head));
            return router.finish(emit);
        }
        // Opened raw: inflated here, in chunks.
        let file = zip
            .by_index_raw(task.index)
            .map_err(|e| corrupt(Corruption::Zip(e)))?;
        let declared = Declared {
            method: file.compression(),
            size: file.size(),
            crc32: file.crc32(),
        };
        if declared.size > self.limits.max_entry_bytes {
            return Err(Error::EntryTooLarge {
                run_id: id.run_id,
                attempt: id.attempt,
                entry: task.entry.clone(),
                declared: declared.size,
                cap: self.limits.max_entry_bytes,
            });
        }
        if file.encrypted() {
            return Err(corrupt(Corruption::Encrypted));
        }
        let mut parser = LineParser::default();
        let mut chunk = |chunk: &[u8]| -> Result<()> {
            let size = chunk.len() as u64;
            if inflated.fetch_add(size, Ordering::Relaxed) + size > self.limits.max_archive_bytes {
                return Err(self.archive_too_large(id, task));
            }
            parser.push(chunk, &mut router.batch);
            router.route(emit, false)
        };
        let stopped = match bytes {
            // In memory: inflated straight from the archive's bytes.
            Some(bytes) => {
                let range = file.data_start().and_then(|start| {
                    let start = usize::try_from(start).ok()?;
                    let end = start.checked_add(usize::try_from(file.compressed_size()).ok()?)?;
                    bytes.get(start..end)
                });
                drop(file);
                let input = range.ok_or_else(|| corrupt(Corruption::OutsideArchive))?;
                inflater.inflate(input, declared, &mut chunk)
            }
            None => inflater.inflate(
                BufReader::with_capacity(64 << 10, file),
                declared,
                &mut chunk,
            ),
        };
        match stopped {
            Ok(()) => {}
            Err(Stop::Corrupt(source)) => return Err(corrupt(source)),
            Err(Stop::Caller(error)) => return Err(error),
        }
        parser.finish(&mut router.batch);
        router.finish(emit)
    }
}

/// Where a task reads its entry: the archive's zip, and its bytes when it is in memory.
struct Input<'a, R> {
    zip: &'a mut ZipArchive<R>,
    bytes: Option<&'a [u8]>,
}

/// The names of an archive's entries, by index (an empty one for an entry without).
fn entry_names<R: Read + Seek>(id: ArchiveId, zip: &ZipArchive<R>) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        // Every index below `len` has a name; an empty one is skipped as junk.
        match zip.name_for_index(index) {
            Some(Ok(name)) => names.push(name.into_owned()),
            Some(Err(source)) => return Err(not_zip(id, source)),
            None => names.push(String::new()),
        }
    }
    Ok(names)
}

fn not_zip(id: ArchiveId, source: zip::result::ZipError) -> Error {
    Error::NotZip {
        run_id: id.run_id,
        attempt: id.attempt,
        source,
    }
}

/// One entry's lines on their way out: parsed into `batch`, then handed on in batches, each
/// to its part; a whole-job file's lines split into parts by step as they come.
pub(crate) struct Router<'a> {
    entry: &'a str,
    job: Option<usize>,
    job_id: Option<u64>,
    /// Tells each line's step, for a whole-job file to attribute.
    attributor: Option<Attributor<'a>>,
    /// Lines parsed, not handed on yet.
    pub(crate) batch: Lines,
    /// Lines of `batch` whose part is known.
    routed: usize,
    /// The part `batch`'s lines are in.
    part: Option<Arc<PartInfo>>,
    /// The number in its part of `batch`'s first line.
    first_line: u32,
}

impl<'a> Router<'a> {
    pub(crate) fn new(entry: &'a str, destination: Destination, jobs: &'a [JobInfo]) -> Router<'a> {
        let (job, section) = match destination {
            Destination::Job { job, section } => (Some(job), Some(section)),
            Destination::Attributed { job } => (Some(job), None),
            Destination::Unmatched => (None, Some(Section::File)),
        };
        let mut router = Router {
            entry,
            job,
            job_id: job.map(|j| jobs[j].id),
            attributor: section
                .is_none()
                .then(|| Attributor::new(&jobs[job.expect("attributed to a job")].steps)),
            batch: Lines::default(),
            routed: 0,
            part: None,
            first_line: 1,
        };
        if let Some(section) = section {
            router.start_part(section);
        }
        router
    }

    fn start_part(&mut self, section: Section) {
        self.part = Some(Arc::new(PartInfo {
            job_id: self.job_id,
            section,
            entry: self.entry.to_owned(),
            job: self.job,
        }));
        self.first_line = 1;
    }

    /// Puts the lines parsed since the last call in their parts, handing on each part's
    /// lines when its next part starts, and the batch when it is full (or `now`).
    pub(crate) fn route(
        &mut self,
        emit: &mut dyn FnMut(Batch) -> Result<()>,
        now: bool,
    ) -> Result<()> {
        // Taken out while lines are routed; an error abandons the router anyway.
        if let Some(mut attributor) = self.attributor.take() {
            let mut index = self.routed;
            while index < self.batch.len() {
                let section = attributor.section_of(&self.batch, index);
                if self.part.as_ref().is_none_or(|p| p.section != section) {
                    if index > 0 {
                        let rest = self.batch.split_off(index);
                        let done = std::mem::replace(&mut self.batch, rest);
                        self.hand_on(done, emit)?;
                        index = 0;
                    }
                    self.start_part(section);
                }
                index += 1;
            }
            self.routed = self.batch.len();
            self.attributor = Some(attributor);
        }
        let full = self.batch.text_len() >= BATCH_BYTES || self.batch.len() >= BATCH_LINES;
        if (now || full) && !self.batch.is_empty() {
            let done = std::mem::take(&mut self.batch);
            self.hand_on(done, emit)?;
            self.routed = 0;
        }
        Ok(())
    }

    fn hand_on(&mut self, lines: Lines, emit: &mut dyn FnMut(Batch) -> Result<()>) -> Result<()> {
        let part = self.part.clone().expect("a line is in a part");
        let first_line = self.first_line;
        self.first_line += lines.len() as u32;
        emit(Batch {
            part,
            first_line,
            lines,
        })
    }

    /// Hands on the last lines; a step file, `system.txt` or unmatched file without lines
    /// as one empty batch, so that its part exists.
    pub(crate) fn finish(mut self, emit: &mut dyn FnMut(Batch) -> Result<()>) -> Result<()> {
        self.route(emit, true)?;
        let empty_part = self.first_line == 1
            && self.attributor.is_none()
            && self
                .part
                .as_ref()
                .is_some_and(|p| p.section != Section::Preamble);
        if empty_part {
            self.hand_on(Lines::default(), emit)?;
        }
        Ok(())
    }
}

/// Reads the lines of a whole-job file up to the first that is not preamble: a few hundred
/// bytes, not the whole file.
fn read_preamble(file: impl Read, buffer: &mut Vec<u8>) -> std::io::Result<()> {
    // A preamble is a few hundred bytes: inflating more of the file is wasted.
    let mut reader = BufReader::with_capacity(512, file.take(PREAMBLE_BYTES));
    loop {
        let start = buffer.len();
        if reader.read_until(b'\n', buffer)? == 0 {
            return Ok(());
        }
        if preamble_len(&Lines::parse(&buffer[start..])) == 0 {
            buffer.truncate(start);
            return Ok(());
        }
    }
}

/// Hands `batch` to `sink`; a sink that breaks stops the attempt's extraction
/// ([`Error::Stopped`]).
pub(crate) fn pass_on(
    sink: &mut impl FnMut(Batch) -> ControlFlow<()>,
    batch: Batch,
    id: ArchiveId,
) -> Result<()> {
    match sink(batch) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(Error::Stopped {
            run_id: id.run_id,
            attempt: id.attempt,
        }),
    }
}
