//! Bulk logs (issue 19): one job's step that prints far more than CI usually does, in the three
//! shapes that break an indexer that holds an archive entry whole or trusts compression ratios:
//! - a very **repeated** line ([`Config::repeated_lines`]): [`REPEATED_TEXT`] printed N times,
//!   as `yes | head -n N` does, the runner's timestamp on the first only (the others are
//!   continuation lines). Deflate cannot compress any line with a timestamp past ~30×, nor lines
//!   more than 4 bytes apart past ~690× (a match's distance costs extra bits): this one reaches
//!   deflate's ceiling, about 1,030×, once it is a few MiB;
//! - a **huge log** ([`Config::huge_log_bytes`]): the step runs its script's output over and
//!   over (rounds of a verbose test or build, repetitive across rounds as CI is) until the
//!   whole-job log is that many bytes, each line with its timestamp, the step longer by the
//!   time that took (150 µs a line on average);
//! - a **huge line** ([`Config::huge_line_bytes`]): one line of that many bytes (a linker's
//!   command line naming thousands of object files), then the step's usual lines.
//!
//! [`World::bulk_logs`](crate::World::bulk_logs) says where each went. Their lines are made as
//! they are written, never held: an archive or job log holding a repeated line or a huge log is
//! written once, compressed, to an anonymous temporary file, and served from there, so that
//! fakehub's memory does not grow with them ([`Spool`]). A huge line is held as any line is.
//!
//! [`Config::repeated_lines`]: crate::Config::repeated_lines
//! [`Config::huge_log_bytes`]: crate::Config::huge_log_bytes
//! [`Config::huge_line_bytes`]: crate::Config::huge_line_bytes

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

use crate::archive;
use crate::config::Config;
use crate::logs::{self, LineCount};
use crate::model::{Conclusion, Repo, Run, Script, Status, StepKind};
use crate::rng::{Rng, hash_bytes};
use crate::time::TICKS_PER_SEC;

/// The text a [repeated](BulkKind::Repeated) bulk log prints on every line, what `yes` prints.
pub const REPEATED_TEXT: &str = "y";

/// Which of the three shapes a bulk log has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkKind {
    /// [`REPEATED_TEXT`] on every line, all but the first without a timestamp.
    Repeated,
    /// Many varied lines, each with its timestamp.
    HugeLog,
    /// One line of many bytes.
    HugeLine,
}

/// Where a bulk log went, and what it holds: the ground truth its tests assert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkLog {
    /// Its shape.
    pub kind: BulkKind,
    /// The repository, `owner/name` (always the first configured).
    pub repo: String,
    /// The run.
    pub run_id: u64,
    /// The attempt (the run's latest).
    pub attempt: u32,
    /// The job.
    pub job_id: u64,
    /// The step's `number`.
    pub step: u32,
    /// 1-based number, within the step's log, of the first bulk line; the step's own lines
    /// before it and after the last bulk line are numbered as usual around them.
    pub first_line: u32,
    /// How many bulk lines there are.
    pub lines: u64,
    /// Bytes of their text (no timestamp, no line end).
    pub text_bytes: u64,
    /// Lines of the step's log, bulk lines and the step's own together.
    pub step_lines: u64,
    /// Lines of the job's whole-job log file, bulk lines and the job's own together.
    pub job_log_lines: u64,
    /// Bytes of that file (with its BOM if it has one; the per-job log endpoint serves it
    /// after one in any case).
    pub job_log_bytes: u64,
    /// What the generator may use of the whole-job file for [`BulkKind::HugeLog`] lines.
    pub(crate) budget: u64,
    /// Seconds the step ran longer to print a [`BulkKind::HugeLog`].
    pub(crate) extra_secs: i64,
}

impl BulkLog {
    /// Whether its lines are made as they are written (the others are held as usual).
    pub(crate) fn streamed(&self) -> bool {
        self.kind != BulkKind::HugeLine
    }
}

/// Plants the bulk logs `config` asks for in the first repository: a huge log in the newest
/// run that completed, a repeated line in the next and a huge line in the one after (the later
/// ones left out when there are fewer), in the latest attempt's first job with a script step, in
/// its test step (else its last script step). Hostile runs are left alone.
pub(crate) fn plant(config: &Config, repos: &mut [Repo]) -> Vec<BulkLog> {
    let wanted = [
        (BulkKind::HugeLog, config.huge_log_bytes > 0),
        (BulkKind::Repeated, config.repeated_lines > 0),
        (BulkKind::HugeLine, config.huge_line_bytes > 0),
    ];
    let Some(repo) = repos.first_mut() else {
        return Vec::new();
    };
    let places = places(repo);
    let mut planted = Vec::new();
    for (i, kind) in wanted
        .iter()
        .filter(|(_, on)| *on)
        .map(|&(kind, _)| kind)
        .enumerate()
    {
        let Some(&(run_id, attempt, job_id, step)) = places.get(i) else {
            break;
        };
        let mut bulk = BulkLog {
            kind,
            repo: repo.full_name(),
            run_id,
            attempt,
            job_id,
            step,
            first_line: 0,
            lines: 0,
            text_bytes: 0,
            step_lines: 0,
            job_log_lines: 0,
            job_log_bytes: 0,
            budget: 0,
            extra_secs: 0,
        };
        match kind {
            BulkKind::Repeated => {
                bulk.lines = config.repeated_lines;
                bulk.text_bytes = config.repeated_lines * REPEATED_TEXT.len() as u64;
            }
            BulkKind::HugeLine => {
                bulk.lines = 1;
                bulk.text_bytes = config.huge_line_bytes as u64;
            }
            BulkKind::HugeLog => {}
        }
        let run = repo.run(run_id).expect("a place names a run");
        let job = job_in(run, attempt, job_id);
        let (log, splice) = logs::job_log(
            repo,
            run,
            job,
            config.lines_per_job,
            config.distinct,
            Some(&bulk),
        );
        let splice = splice.expect("a planted job has its splice");
        let own_bytes = archive::rendered_len(&log, job);
        bulk.first_line = splice.first as u32 + 1;
        if kind == BulkKind::HugeLog {
            bulk.budget = config.huge_log_bytes.saturating_sub(own_bytes);
        }
        let mut count = LineCount::default();
        logs::stream_bulk(repo, run, job, config.distinct, &bulk, &splice, |lines| {
            count.add(lines, job.crlf);
            Ok(())
        })
        .expect("counting writes nothing");
        if kind == BulkKind::HugeLog {
            bulk.lines = count.lines;
            bulk.text_bytes = count.text_bytes;
            let took = count.last_tick.saturating_sub(splice.start_tick);
            bulk.extra_secs = took / TICKS_PER_SEC + 1;
        }
        // A repeated line's first copy, or the huge line, is among the step's own lines.
        bulk.job_log_bytes = own_bytes + count.rendered_bytes;
        bulk.step_lines = log.steps[splice.step].lines.len() as u64 + count.lines;
        bulk.job_log_lines = log.line_count() as u64 + count.lines;
        if bulk.extra_secs > 0 {
            let run = repo.run_mut(run_id).expect("found above");
            lengthen(run, attempt, job_id, step, bulk.extra_secs);
        }
        planted.push(bulk);
    }
    planted
}

/// Where bulk logs can go, newest run first: each completed, not hostile run's latest attempt,
/// its first job with a script step that wrote a log, and that step.
fn places(repo: &Repo) -> Vec<(u64, u32, u64, u32)> {
    let mut places = Vec::new();
    for run in repo.runs.iter().rev() {
        let attempt = run.latest();
        if attempt.status != Status::Completed || crate::hostile::is_hostile(run) {
            continue;
        }
        let workflow = &repo.workflows[run.workflow];
        let found = attempt.archived_jobs().find_map(|job| {
            let spec = &workflow.jobs[job.spec];
            let script = |s: &&crate::model::Step| {
                s.has_log && matches!(spec.steps[s.spec].kind, StepKind::Script(_))
            };
            let test = job.steps.iter().filter(script).find(|s| {
                spec.steps[s.spec].kind == StepKind::Script(Script::Test)
                    && s.conclusion != Some(Conclusion::Cancelled)
            });
            let step = test.or_else(|| job.steps.iter().rfind(script))?;
            Some((run.id, attempt.number, job.id, step.number))
        });
        places.extend(found);
    }
    places
}

fn job_in(run: &Run, attempt: u32, job_id: u64) -> &crate::model::Job {
    run.attempt(attempt)
        .and_then(|a| a.jobs.iter().find(|j| j.id == job_id))
        .expect("a place names a job of its attempt")
}

/// The step ran `secs` longer: it and everything after it in the job end later, and so may
/// the attempt.
fn lengthen(run: &mut Run, attempt: u32, job_id: u64, step: u32, secs: i64) {
    let attempt = &mut run.attempts[attempt as usize - 1];
    let job = attempt
        .jobs
        .iter_mut()
        .find(|j| j.id == job_id)
        .expect("a place names a job of its attempt");
    let at = job
        .steps
        .iter()
        .position(|s| s.number == step)
        .expect("a place names a step of its job");
    for (i, s) in job.steps.iter_mut().enumerate().skip(at) {
        if i > at {
            s.started_at = s.started_at.map(|t| t + secs);
        }
        s.completed_at = s.completed_at.map(|t| t + secs);
    }
    job.completed_at = job.completed_at.map(|t| t + secs);
    attempt.completed_at = attempt.completed_at.max(job.completed_at);
}

/// The text of a [huge line](BulkKind::HugeLine) of `bytes` bytes: a linker's command line
/// that names object files until it is that long (cut there).
pub(crate) fn huge_line(seed: u64, bytes: usize) -> Vec<u8> {
    let mut rng = Rng::derive(seed, &[hash_bytes(b"huge line")]);
    let mut text = Vec::with_capacity(bytes + 128);
    write!(
        text,
        "[command]/usr/bin/cc -m64 -pie -nodefaultlibs -o target/debug/deps/app-{:016x}",
        rng.next_u64()
    )
    .expect("writing to memory");
    let crates = [
        "core", "alloc", "std", "serde", "tokio", "regex", "syn", "app",
    ];
    while text.len() < bytes {
        let krate = rng.pick(&crates);
        write!(
            text,
            " target/debug/deps/{krate}-{:016x}.{krate}.{:05x}-cgu.{:02}.rcgu.o",
            rng.next_u64(),
            rng.below(1 << 20),
            rng.below(16)
        )
        .expect("writing to memory");
    }
    text.truncate(bytes);
    text
}

/// An archive or job log written once to an anonymous temporary file (gone when the last
/// handle closes, even if fakehub is killed) and served from there.
#[derive(Debug)]
pub(crate) struct Spool {
    file: Mutex<File>,
    len: u64,
}

impl Spool {
    /// Writes a spool with `write`, which gets a buffered writer over the file.
    pub(crate) fn create(
        write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
    ) -> io::Result<Spool> {
        let mut out = BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
        write(&mut out)?;
        let mut file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        let len = file.seek(SeekFrom::End(0))?;
        Ok(Spool {
            file: Mutex::new(file),
            len,
        })
    }

    /// Its length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Up to `max` bytes from `offset` (fewer only at the end).
    pub(crate) fn read_at(&self, offset: u64, max: usize) -> io::Result<Vec<u8>> {
        let want = max.min(self.len.saturating_sub(offset) as usize);
        let mut out = vec![0; want];
        let mut file = self.file.lock().expect("spool lock");
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(&mut out)?;
        Ok(out)
    }

    /// The whole of it, in memory.
    pub(crate) fn read_all(&self) -> io::Result<Vec<u8>> {
        self.read_at(0, self.len as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_line_is_as_long_as_asked_and_the_same_for_a_seed() {
        let a = huge_line(7, 100_000);
        assert_eq!(a.len(), 100_000);
        assert_eq!(a, huge_line(7, 100_000));
        assert_ne!(a, huge_line(8, 100_000));
        assert!(a.starts_with(b"[command]/usr/bin/cc "));
        assert!(!a.contains(&b'\n'));
    }

    #[test]
    fn a_spool_reads_back_what_was_written() {
        let spool = Spool::create(|out| out.write_all(&[7; 300_000])).unwrap();
        assert_eq!(spool.len(), 300_000);
        assert_eq!(spool.read_at(299_990, 100).unwrap(), vec![7; 10]);
        assert_eq!(spool.read_all().unwrap().len(), 300_000);
    }
}
