//! The extractor: from an archive and the attempt's jobs to every line in its job and step,
//! in parallel and within size limits.

use std::io::{BufRead, BufReader, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, TryRecvError, TrySendError};
use std::time::Duration;

use rayon::prelude::*;
use zip::ZipArchive;

use crate::attribute::preamble_len;
use crate::error::{Corruption, Error, Result, SizeLimit};
use crate::inflate::{Inflater, Refusal};
use crate::input::{Archive, ArchiveId, JobInfo, Source};
use crate::lines::Lines;
use crate::model::AttemptLog;
use crate::plan::{Destination, Extent, Plan, Task};

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
        let too_large = |limit| Error::EntryTooLarge {
            run_id: id.run_id,
            attempt: id.attempt,
            entry: task.entry.clone(),
            limit,
        };
        let corrupt = |source| Error::CorruptEntry {
            run_id: id.run_id,
            attempt: id.attempt,
            entry: task.entry.clone(),
            source,
        };
        let entry: &[u8] = if task.extent == Extent::Head {
            // A few hundred bytes, read through `zip`'s reader until the preamble ends.
            let file = zip
                .by_index(task.index)
                .map_err(|e| corrupt(Corruption::Zip(e)))?;
            buffer.clear();
            read_preamble(file, buffer).map_err(|e| corrupt(Corruption::Read(e)))?;
            buffer
        } else {
            // Opened raw: inflated straight from the archive's bytes.
            let file = zip
                .by_index_raw(task.index)
                .map_err(|e| corrupt(Corruption::Zip(e)))?;
            let by_ratio = file
                .compressed_size()
                .saturating_mul(limits.max_ratio)
                .max(limits.ratio_floor_bytes);
            let allowed = limits.max_entry_bytes.min(by_ratio);
            match inflater.inflate(bytes, &file, allowed) {
                Ok(entry) => entry,
                Err(Refusal::Corrupt(source)) => return Err(corrupt(source)),
                Err(Refusal::TooLarge) => {
                    return Err(too_large(limit_over(
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

/// The limit an entry that declares `declared` bytes from `compressed` is over.
fn limit_over(declared: u64, compressed: u64, limits: &Limits) -> SizeLimit {
    if declared > limits.max_entry_bytes {
        SizeLimit::Entry {
            declared,
            max_entry_bytes: limits.max_entry_bytes,
        }
    } else {
        SizeLimit::Ratio {
            declared,
            compressed,
            max_ratio: limits.max_ratio,
        }
    }
}
