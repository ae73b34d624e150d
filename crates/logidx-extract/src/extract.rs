//! From an archive and the attempt's jobs to every line in its job and step, in parallel and
//! within size limits.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, TryRecvError, TrySendError};
use std::time::Duration;

use rayon::prelude::*;
use zip::ZipArchive;

use crate::attribute::{attribute, preamble_len};
use crate::error::{Error, Result};
use crate::inflate::{Inflater, Refusal};
use crate::input::{ArchiveId, JobInfo};
use crate::line::{Level, Lines, LogLine};
use crate::names::{EntryKind, FileNames, classify};

/// Longest that [`Extractor::extract_all`]'s calling thread sleeps when no result is ready;
/// an archive takes milliseconds to extract.
const RESULT_POLL: Duration = Duration::from_millis(1);

/// Most inflated bytes read from a whole-job file when only its preamble is wanted.
const PREAMBLE_BYTES: u64 = 64 * 1024;

/// How much an archive may inflate to before it is refused as a zip bomb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest inflated entry, in bytes.
    pub max_entry_bytes: u64,
    /// Largest inflated archive (all entries read), in bytes.
    pub max_total_bytes: u64,
    /// Largest inflated-to-compressed ratio of an entry that inflates past
    /// [`Limits::ratio_floor_bytes`]. Log text compresses 5–30×; deflate's ceiling is ~1032×.
    pub max_ratio: u64,
    /// Entries smaller than this once inflated are exempt from the ratio check.
    pub ratio_floor_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_entry_bytes: 1 << 30,
            max_total_bytes: 4 << 30,
            max_ratio: 200,
            ratio_floor_bytes: 1 << 20,
        }
    }
}

/// Which part of a job a [`Part`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// The lines before "Set up job" that only the whole-job file has (`Requested labels: …`).
    Preamble,
    /// One step's lines, by its `number`.
    Step(u32),
    /// Lines of a whole-job file that cannot be put in steps: the API listed none.
    Unattributed,
    /// `<job>/system.txt`: the runner's own log.
    System,
    /// A file that matches no API job, kept under its entry name.
    File,
}

impl Section {
    /// The step's `number`, for a step.
    pub fn step_number(self) -> Option<u32> {
        match self {
            Section::Step(number) => Some(number),
            Section::Preamble | Section::Unattributed | Section::System | Section::File => None,
        }
    }
}

/// Where a line is: its step (`None` outside steps) and 1-based line number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRef {
    /// The step's `number`.
    pub step_number: Option<u32>,
    /// 1-based within the step.
    pub line_number: u32,
}

/// Counts over some lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines.
    pub lines: u64,
    /// Lines marked `##[error]`.
    pub errors: u64,
    /// Lines marked `##[warning]`.
    pub warnings: u64,
    /// The first `##[error]` line.
    pub first_error: Option<LineRef>,
}

impl Summary {
    fn of(lines: &Lines, step_number: Option<u32>) -> Summary {
        let mut summary = Summary {
            lines: lines.len() as u64,
            ..Summary::default()
        };
        for (index, level) in lines.levels().enumerate() {
            match level {
                Level::Error => {
                    summary.errors += 1;
                    summary.first_error.get_or_insert(LineRef {
                        step_number,
                        line_number: index as u32 + 1,
                    });
                }
                Level::Warning => summary.warnings += 1,
                _ => {}
            }
        }
        summary
    }

    fn add(&mut self, other: &Summary) {
        self.lines += other.lines;
        self.errors += other.errors;
        self.warnings += other.warnings;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// The lines of one step, of the preamble, of `system.txt`, or of an unmatched file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The API job; `None` for an unmatched file.
    pub job_id: Option<u64>,
    /// Which part of the job.
    pub section: Section,
    /// The archive entry the lines were read from.
    pub entry: String,
    /// The lines.
    pub lines: Lines,
    /// Their counts.
    pub summary: Summary,
}

impl Part {
    fn new(job_id: Option<u64>, section: Section, entry: String, lines: Lines) -> Part {
        let summary = Summary::of(&lines, section.step_number());
        Part {
            job_id,
            section,
            entry,
            lines,
            summary,
        }
    }

    /// The lines in order, with their job and step.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = LogLine<'_>> + '_ {
        let step_number = self.section.step_number();
        self.lines.iter().map(move |line| LogLine {
            job_id: self.job_id,
            step_number,
            ..line
        })
    }
}

/// How a job's lines were assigned to steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution {
    /// From per-step files: exact.
    StepFiles,
    /// Inferred from the whole-job file's step markers and the API's step times.
    Inferred,
}

/// One job's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLog {
    /// The API job's id.
    pub job_id: u64,
    /// Its name.
    pub name: String,
    /// How its lines were assigned to steps.
    pub attribution: Attribution,
    /// Preamble, then steps by number, then `system.txt`.
    pub parts: Vec<Part>,
    /// Counts over every part.
    pub summary: Summary,
}

/// Something odd about an archive that did not stop it from being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A file that matches no API job; its lines are kept in [`AttemptLog::unmatched`].
    UnmatchedFile {
        /// Entry name.
        entry: String,
    },
    /// An absolute name or one with `..`: never read.
    UnsafeName {
        /// Entry name.
        entry: String,
    },
    /// A step file whose number the API does not list; its lines are kept.
    UnknownStep {
        /// The job.
        job_id: u64,
        /// The step number in the file name.
        number: u32,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnmatchedFile { entry } => write!(f, "file `{entry}` matches no job"),
            Warning::UnsafeName { entry } => write!(f, "entry `{entry}` has an unsafe name"),
            Warning::UnknownStep { job_id, number } => {
                write!(f, "job `{job_id}` has a log for unknown step `{number}`")
            }
        }
    }
}

/// Everything one attempt's archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptLog {
    /// The attempt.
    pub id: ArchiveId,
    /// Jobs with lines in the archive, in the order the caller listed them.
    pub jobs: Vec<JobLog>,
    /// Jobs the caller listed that the archive lacks (skipped, or not re-run in a partial
    /// re-run).
    pub missing_jobs: Vec<u64>,
    /// Files that match no job, kept under their entry names.
    pub unmatched: Vec<Part>,
    /// What was odd.
    pub warnings: Vec<Warning>,
}

impl AttemptLog {
    /// Every line: jobs in order, each part in order, then unmatched files.
    pub fn lines(&self) -> impl Iterator<Item = LogLine<'_>> + '_ {
        self.parts().flat_map(Part::lines)
    }

    /// Every part: jobs in order, then unmatched files.
    pub fn parts(&self) -> impl Iterator<Item = &Part> + '_ {
        self.jobs
            .iter()
            .flat_map(|j| &j.parts)
            .chain(&self.unmatched)
    }
}

/// An archive to extract: its bytes or file, and the jobs the API lists for its attempt.
#[derive(Debug, Clone)]
pub struct Archive {
    /// The attempt.
    pub id: ArchiveId,
    /// The attempt's jobs from the API, including those carried over from earlier attempts.
    pub jobs: Vec<JobInfo>,
    /// Where the zip is.
    pub source: Source,
}

/// Where an archive's bytes are.
#[derive(Debug, Clone)]
pub enum Source {
    /// In memory.
    Bytes(Arc<[u8]>),
    /// In a file, read whole.
    File(PathBuf),
}

/// Reads archives. Cheap to clone; parallel over entries within an archive and over archives.
#[derive(Debug, Clone, Default)]
pub struct Extractor {
    limits: Limits,
    pool: Option<Arc<rayon::ThreadPool>>,
}

/// What to read from an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extent {
    Whole,
    Head,
}

/// One entry to read, and where its lines go.
#[derive(Debug, Clone)]
struct Task {
    index: usize,
    entry: String,
    extent: Extent,
}

/// Where the lines of a task go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Destination {
    Job { job: usize, section: Section },
    Attributed { job: usize },
    Unmatched,
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
        let not_zip = |source| Error::NotZip {
            run_id: id.run_id,
            attempt: id.attempt,
            source,
        };
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(not_zip)?;
        let mut names = Vec::with_capacity(zip.len());
        for index in 0..zip.len() {
            // Every index below `len` has a name; an empty one is skipped as junk.
            match zip.name_for_index(index) {
                Some(Ok(name)) => names.push(name.into_owned()),
                Some(Err(source)) => return Err(not_zip(source)),
                None => names.push(String::new()),
            }
        }
        let plan = Plan::new(jobs, &names);
        self.check_declared_total(id, &zip, &plan.tasks)?;

        let inflated = AtomicU64::new(0);
        let results: Vec<Result<Lines>> = plan
            .tasks
            .par_iter()
            .map_init(
                || (zip.clone(), Inflater::default(), Vec::new()),
                |(zip, inflater, buffer), task| {
                    let inflated =
                        self.inflate(id, (bytes, zip), inflater, task, buffer, &inflated)?;
                    Ok(Lines::parse(inflated))
                },
            )
            .collect();
        let mut read = Vec::with_capacity(results.len());
        for result in results {
            read.push(result?);
        }
        Ok(plan.assemble(id, jobs, read))
    }

    fn check_declared_total(
        &self,
        id: ArchiveId,
        zip: &ZipArchive<Cursor<&[u8]>>,
        tasks: &[(Task, Destination)],
    ) -> Result<()> {
        let metadata = zip.metadata();
        let declared: u64 = tasks
            .iter()
            .filter(|(task, _)| task.extent == Extent::Whole)
            .filter_map(|(task, _)| metadata.entry(task.index).ok().map(|e| e.size()))
            .fold(0, u64::saturating_add);
        if declared > self.limits.max_total_bytes {
            return Err(Error::ArchiveTooLarge {
                run_id: id.run_id,
                attempt: id.attempt,
                limit: self.limits.max_total_bytes,
            });
        }
        Ok(())
    }

    /// Inflates one entry of an archive (its bytes and their zip): a whole one by `inflater`,
    /// a head into `buffer`. A whole one is refused if it declares more than its limit, and is
    /// corrupt if it inflates to another size than it declares.
    fn inflate<'a>(
        &self,
        id: ArchiveId,
        (bytes, zip): (&'a [u8], &mut ZipArchive<Cursor<&[u8]>>),
        inflater: &'a mut Inflater,
        task: &(Task, Destination),
        buffer: &'a mut Vec<u8>,
        inflated: &AtomicU64,
    ) -> Result<&'a [u8]> {
        let (task, _) = task;
        let limits = &self.limits;
        let too_large = |reason: String| Error::EntryTooLarge {
            run_id: id.run_id,
            attempt: id.attempt,
            entry: task.entry.clone(),
            reason,
        };
        let corrupt = |source| Error::CorruptEntry {
            run_id: id.run_id,
            attempt: id.attempt,
            entry: task.entry.clone(),
            source,
        };
        let entry: &[u8] = if task.extent == Extent::Head {
            // A few hundred bytes, read through `zip`'s reader until the preamble ends.
            let file = zip.by_index(task.index).map_err(|e| corrupt(e.into()))?;
            buffer.clear();
            read_preamble(file, buffer).map_err(corrupt)?;
            buffer
        } else {
            // Opened raw: inflated straight from the archive's bytes.
            let file = zip
                .by_index_raw(task.index)
                .map_err(|e| corrupt(e.into()))?;
            let by_ratio = file
                .compressed_size()
                .saturating_mul(limits.max_ratio)
                .max(limits.ratio_floor_bytes);
            let allowed = limits.max_entry_bytes.min(by_ratio);
            match inflater.inflate(bytes, &file, allowed) {
                Ok(entry) => entry,
                Err(Refusal::Corrupt(source)) => return Err(corrupt(source)),
                Err(Refusal::TooLarge) => {
                    return Err(too_large(explain(
                        file.size(),
                        file.compressed_size(),
                        limits,
                    )));
                }
            }
        };
        let size = entry.len() as u64;
        if inflated.fetch_add(size, Ordering::Relaxed) + size > limits.max_total_bytes {
            return Err(Error::ArchiveTooLarge {
                run_id: id.run_id,
                attempt: id.attempt,
                limit: limits.max_total_bytes,
            });
        }
        Ok(entry)
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

fn explain(declared: u64, compressed: u64, limits: &Limits) -> String {
    if declared > limits.max_entry_bytes {
        format!(
            "`{declared}` bytes declared, limit `{}`",
            limits.max_entry_bytes
        )
    } else {
        format!(
            "`{declared}` bytes declared from `{compressed}` compressed, ratio limit `{}`",
            limits.max_ratio
        )
    }
}

/// Which entries to read and where their lines go.
struct Plan {
    tasks: Vec<(Task, Destination)>,
    warnings: Vec<Warning>,
}

impl Plan {
    fn new(jobs: &[JobInfo], names: &[String]) -> Plan {
        let mut warnings = Vec::new();
        let file_names: Vec<FileNames> = jobs.iter().map(|j| FileNames::of(&j.name)).collect();
        // Directories (step files, system.txt) and whole-job files go to the first job of that
        // name that has none yet: jobs with the same name take them in order.
        let mut dir_owner: HashMap<&str, Option<usize>> = HashMap::new();
        let mut dirs_taken = vec![false; jobs.len()];
        let mut has_job_file = vec![false; jobs.len()];
        let mut has_steps = vec![false; jobs.len()];
        let mut classified: Vec<(usize, EntryKind<'_>)> = Vec::new();
        for (index, name) in names.iter().enumerate() {
            let kind = classify(name);
            match kind {
                EntryKind::Unsafe => {
                    tracing::warn!(entry = %name, "ignoring an entry with an unsafe name");
                    warnings.push(Warning::UnsafeName {
                        entry: name.clone(),
                    });
                }
                EntryKind::Junk => {}
                EntryKind::StepFile { job, .. } | EntryKind::System { job } => {
                    let owner = *dir_owner.entry(job).or_insert_with(|| {
                        let owner =
                            (0..jobs.len()).find(|&j| !dirs_taken[j] && file_names[j].matches(job));
                        if let Some(j) = owner {
                            dirs_taken[j] = true;
                        }
                        owner
                    });
                    if let (Some(j), EntryKind::StepFile { .. }) = (owner, kind) {
                        has_steps[j] = true;
                    }
                    classified.push((index, kind));
                }
                EntryKind::JobFile { .. } | EntryKind::Other => classified.push((index, kind)),
            }
        }
        // Whole-job files: ordinals first, in order, then legacy ones for jobs still without.
        let mut job_files: Vec<(bool, i64, usize, &str)> = classified
            .iter()
            .filter_map(|&(index, kind)| match kind {
                EntryKind::JobFile {
                    ordinal,
                    job,
                    legacy,
                } => Some((legacy, ordinal, index, job)),
                _ => None,
            })
            .collect();
        job_files.sort_unstable();
        let mut file_owner: HashMap<usize, usize> = HashMap::new();
        for &(_, _, index, name) in &job_files {
            let owner = (0..jobs.len()).find(|&j| !has_job_file[j] && file_names[j].matches(name));
            if let Some(j) = owner {
                has_job_file[j] = true;
                file_owner.insert(index, j);
            }
        }

        let mut tasks = Vec::new();
        for (index, kind) in classified {
            let entry = names[index].clone();
            let whole = |entry| Task {
                index,
                entry,
                extent: Extent::Whole,
            };
            let destination = match kind {
                EntryKind::JobFile { .. } => match file_owner.get(&index) {
                    Some(&job) if has_steps[job] => {
                        tasks.push((
                            Task {
                                index,
                                entry,
                                extent: Extent::Head,
                            },
                            Destination::Job {
                                job,
                                section: Section::Preamble,
                            },
                        ));
                        continue;
                    }
                    Some(&job) => Destination::Attributed { job },
                    None => Destination::Unmatched,
                },
                EntryKind::StepFile { job, number } => match dir_owner[job] {
                    Some(job) => {
                        if !jobs[job].steps.iter().any(|s| s.number == number) {
                            warnings.push(Warning::UnknownStep {
                                job_id: jobs[job].id,
                                number,
                            });
                        }
                        Destination::Job {
                            job,
                            section: Section::Step(number),
                        }
                    }
                    None => Destination::Unmatched,
                },
                EntryKind::System { job } => match dir_owner[job] {
                    Some(job) => Destination::Job {
                        job,
                        section: Section::System,
                    },
                    None => Destination::Unmatched,
                },
                EntryKind::Other => Destination::Unmatched,
                EntryKind::Junk | EntryKind::Unsafe => continue,
            };
            if destination == Destination::Unmatched {
                tracing::warn!(entry = %entry, "keeping a file that matches no job");
                warnings.push(Warning::UnmatchedFile {
                    entry: entry.clone(),
                });
            }
            tasks.push((whole(entry), destination));
        }
        Plan { tasks, warnings }
    }

    fn assemble(self, id: ArchiveId, jobs: &[JobInfo], read: Vec<Lines>) -> AttemptLog {
        let mut parts: Vec<Vec<Part>> = vec![Vec::new(); jobs.len()];
        let mut attributed = vec![false; jobs.len()];
        let mut unmatched = Vec::new();
        for ((task, destination), lines) in self.tasks.into_iter().zip(read) {
            match destination {
                Destination::Job { job, section } => {
                    let lines = if section == Section::Preamble {
                        preamble_of(&lines)
                    } else {
                        lines
                    };
                    if section != Section::Preamble || !lines.is_empty() {
                        parts[job].push(Part::new(Some(jobs[job].id), section, task.entry, lines));
                    }
                }
                Destination::Attributed { job } => {
                    attributed[job] = true;
                    let job_id = Some(jobs[job].id);
                    for segment in attribute(&lines, &jobs[job].steps) {
                        let part_lines = lines.slice(segment.lines);
                        parts[job].push(Part::new(
                            job_id,
                            segment.section,
                            task.entry.clone(),
                            part_lines,
                        ));
                    }
                }
                Destination::Unmatched => {
                    unmatched.push(Part::new(None, Section::File, task.entry, lines));
                }
            }
        }
        let mut log = AttemptLog {
            id,
            jobs: Vec::new(),
            missing_jobs: Vec::new(),
            unmatched,
            warnings: self.warnings,
        };
        for ((job, mut parts), attributed) in jobs.iter().zip(parts).zip(attributed) {
            if parts.is_empty() {
                log.missing_jobs.push(job.id);
                continue;
            }
            parts.sort_by_key(|p| match p.section {
                Section::Preamble => (0, 0),
                Section::Step(number) => (1, number),
                Section::Unattributed => (1, u32::MAX),
                Section::System | Section::File => (2, 0),
            });
            let mut summary = Summary::default();
            for part in &parts {
                summary.add(&part.summary);
            }
            log.jobs.push(JobLog {
                job_id: job.id,
                name: job.name.clone(),
                attribution: if attributed {
                    Attribution::Inferred
                } else {
                    Attribution::StepFiles
                },
                parts,
                summary,
            });
        }
        log
    }
}

/// The leading preamble lines of the head of a whole-job file.
fn preamble_of(head: &Lines) -> Lines {
    head.slice(0..preamble_len(head))
}
