//! The generated data without a server: for tests and benchmarks that need archives and their
//! ground truth but no HTTP.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Cursor};
use std::sync::{Arc, Mutex, OnceLock};

use crate::archive::{self, Body, Entry, Pending};
use crate::bulk::{self, BulkKind, BulkLog, Spool};
use crate::config::{Config, OwnerKind};
use crate::generate;
use crate::logs::{self, JobLog};
use crate::model::{ArchiveBreak, Conclusion, Repo, Status};
use crate::rng::hash_bytes;

/// Every repository a [`Config`] describes, generated, with their logs on demand.
#[derive(Debug, Clone)]
pub struct World {
    config: Config,
    repos: Vec<Repo>,
    /// Archives to serve as they are instead of generating them, by (repo, run, attempt).
    recorded: HashMap<(String, u64, u32), Arc<Vec<u8>>>,
    /// How the results service broke archives, by (repo, run, attempt).
    breaks: HashMap<(String, u64, u32), Vec<ArchiveBreak>>,
    /// Attempts completed while serving, in order.
    completions: Vec<Completion>,
    /// Ticks of live mode so far ([`World::tick`]).
    ticks: u64,
    /// The bulk logs planted ([`crate::bulk`]).
    bulk: Vec<BulkLog>,
    /// Archives and job logs with a bulk log's streamed lines, written once.
    spools: SpoolCache,
}

/// What a blob path serves: bytes in memory, or a file written once.
pub(crate) enum Blob {
    Bytes(Vec<u8>),
    Spooled(Arc<Spool>),
}

/// What a spool holds: an attempt's archive (repo, run, attempt) or a job's log (repo, job).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum SpoolKey {
    Archive(String, u64, u32),
    JobText(String, u64),
}

/// Spools by what they hold, each written by the first request that needs it. A clone of a
/// [`World`] starts with none, since it may change apart from the original.
#[derive(Debug, Default)]
struct SpoolCache(Mutex<HashMap<SpoolKey, Arc<OnceLock<Arc<Spool>>>>>);

impl Clone for SpoolCache {
    fn clone(&self) -> SpoolCache {
        SpoolCache::default()
    }
}

impl SpoolCache {
    /// The spool of `key`, written with `write` if it was not yet.
    fn get(
        &self,
        key: SpoolKey,
        write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
    ) -> Arc<Spool> {
        let cell = Arc::clone(
            self.0
                .lock()
                .expect("spool cache lock")
                .entry(key)
                .or_default(),
        );
        Arc::clone(cell.get_or_init(|| {
            let spool = Spool::create(write)
                .unwrap_or_else(|e| panic!("fakehub cannot write a spool to its temp dir: {e}"));
            Arc::new(spool)
        }))
    }

    /// Forgets the archives of a run, which changed.
    fn forget_run(&self, repo: &str, run_id: u64) {
        self.0.lock().expect("spool cache lock").retain(
            |key, _| !matches!(key, SpoolKey::Archive(r, run, _) if r == repo && *run == run_id),
        );
    }
}

/// An attempt that completed while fakehub served (not one generated completed): when, to the
/// millisecond, so that a test or benchmark can tell how long a client took to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// `owner/name`.
    pub repo: String,
    /// The run.
    pub run_id: u64,
    /// The attempt that completed.
    pub attempt: u32,
    /// When.
    pub at: jiff::Timestamp,
}

/// What one [`World::tick`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    /// Attempts that completed (a run in progress, a re-run).
    pub completed: Vec<Completion>,
    /// Runs that started, in progress: `(owner/name, run id)`.
    pub started: Vec<(String, u64)>,
}

/// What the generated logs hold, for checking the corpus is realistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorpusSummary {
    /// Jobs with a log.
    pub jobs: usize,
    /// Lines of their whole-job logs.
    pub lines: usize,
    /// Bytes of their whole-job logs.
    pub bytes: usize,
    /// Distinct line texts once the timestamp and ANSI codes are removed.
    pub distinct_lines: usize,
}

impl CorpusSummary {
    /// `distinct_lines / lines`: 8.2% in real job logs of one workflow.
    pub fn distinct_ratio(&self) -> f64 {
        self.distinct_lines as f64 / self.lines.max(1) as f64
    }
}

impl World {
    /// Generates the repositories of `config`; [`Config::end`] `None` becomes now.
    pub fn generate(mut config: Config) -> Result<World, String> {
        for repo in &config.repos {
            let valid = repo
                .split_once('/')
                .is_some_and(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'));
            if !valid {
                return Err(format!("repository `{repo}` is not `owner/name`"));
            }
        }
        if let Some(app) = &config.app {
            crate::app::public_key_der(&app.public_key)?;
        }
        config.end =
            Some(jiff::Timestamp::from_second(config.end_second()).expect("now is in range"));
        let mut repos = generate::build(&config);
        let bulk = bulk::plant(&config, &mut repos);
        let mut breaks = HashMap::new();
        if config.broken_archives > 0.0 {
            for repo in &repos {
                for run in &repo.runs {
                    for attempt in &run.attempts {
                        let picked =
                            archive::pick_break(config.seed, config.broken_archives, run, attempt);
                        if let Some(picked) = picked {
                            let key = (repo.full_name().to_lowercase(), run.id, attempt.number);
                            breaks.insert(key, vec![picked]);
                        }
                    }
                }
            }
        }
        Ok(World {
            config,
            repos,
            recorded: HashMap::new(),
            breaks,
            completions: Vec::new(),
            ticks: 0,
            bulk,
            spools: SpoolCache::default(),
        })
    }

    /// The bulk logs planted ([`Config::repeated_lines`], [`Config::huge_log_bytes`],
    /// [`Config::huge_line_bytes`]): where each went and what it holds.
    pub fn bulk_logs(&self) -> &[BulkLog] {
        &self.bulk
    }

    /// The bulk log of one shape, if one was planted.
    pub fn bulk_log(&self, kind: BulkKind) -> Option<&BulkLog> {
        self.bulk.iter().find(|b| b.kind == kind)
    }

    /// The bulk log planted in a job, if any.
    fn bulk_of_job(&self, full_name: &str, job_id: u64) -> Option<&BulkLog> {
        self.bulk
            .iter()
            .find(|b| b.job_id == job_id && b.repo.eq_ignore_ascii_case(full_name))
    }

    /// The bulk log planted in an attempt, if any.
    fn bulk_of_attempt(&self, full_name: &str, run_id: u64, attempt: u32) -> Option<&BulkLog> {
        self.bulk.iter().find(|b| {
            b.run_id == run_id && b.attempt == attempt && b.repo.eq_ignore_ascii_case(full_name)
        })
    }

    /// Writes the archives that hold a repeated line or a huge log now, rather than when they
    /// are first asked for: a huge one takes longer than a client waits for an answer.
    pub fn prepare_bulk(&self) {
        for b in self.bulk.iter().filter(|b| b.streamed()) {
            self.archive_blob(&b.repo, b.run_id, b.attempt);
        }
    }

    /// The configuration, with [`Config::end`] resolved.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every repository.
    pub fn repos(&self) -> &[Repo] {
        &self.repos
    }

    /// What `login` is: as [`Config::owners`] says, else an organisation when it owns a
    /// repository; `None` when it owns none and is no configured owner.
    pub fn owner_kind(&self, login: &str) -> Option<OwnerKind> {
        let configured = self.config.owners.iter();
        configured
            .clone()
            .find(|o| o.login.eq_ignore_ascii_case(login))
            .map(|o| o.kind)
            .or_else(|| {
                self.repos
                    .iter()
                    .any(|r| r.owner.eq_ignore_ascii_case(login))
                    .then_some(OwnerKind::Organization)
            })
    }

    /// One repository by `owner/name` (case-insensitive, as GitHub).
    pub fn repo(&self, full_name: &str) -> Option<&Repo> {
        self.repos
            .iter()
            .find(|r| r.full_name().eq_ignore_ascii_case(full_name))
    }

    /// The log of one job, with the ground truth of every line's step. A bulk log's lines are
    /// all in it: a huge log's take as much memory as they are long.
    pub fn job_log(&self, full_name: &str, job_id: u64) -> Option<JobLog> {
        let repo = self.repo(full_name)?;
        let (run, job) = repo.job(job_id)?;
        let bulk = self.bulk_of_job(full_name, job_id);
        let (mut log, splice) = logs::job_log(
            repo,
            run,
            job,
            self.config.lines_per_job,
            self.config.distinct,
            bulk,
        );
        if let (Some(bulk), Some(splice)) = (bulk, splice) {
            let mut made = Vec::new();
            logs::stream_bulk(
                repo,
                run,
                job,
                self.config.distinct,
                bulk,
                &splice,
                |lines| {
                    made.extend_from_slice(lines);
                    Ok(())
                },
            )
            .expect("writing to memory");
            let step = &mut log.steps[splice.step].lines;
            step.splice(splice.at..splice.at, made);
        }
        Some(log)
    }

    /// The files of an attempt's archive, uncompressed, in the order the zip holds them (a
    /// bulk log's lines all in memory).
    pub fn archive_entries(
        &self,
        full_name: &str,
        run_id: u64,
        attempt: u32,
    ) -> Option<Vec<Entry>> {
        Some(
            self.owned_entries(full_name, run_id, attempt)?
                .into_iter()
                .map(|(entry, _)| entry.into_entry())
                .collect(),
        )
    }

    fn owned_entries(
        &self,
        full_name: &str,
        run_id: u64,
        attempt: u32,
    ) -> Option<Vec<(Pending<'_>, Option<u64>)>> {
        let repo = self.repo(full_name)?;
        let run = repo.run(run_id)?;
        let number = attempt;
        let attempt = run.attempt(number)?;
        Some(archive::attempt_entries(
            repo,
            run,
            attempt,
            self.config.lines_per_job,
            self.config.distinct,
            self.archive_breaks(full_name, run_id, number),
            self.bulk_of_attempt(full_name, run_id, number),
        ))
    }

    /// Ground truth for an attempt's archive: each file's name (directories left out) with the
    /// job whose log it holds, whatever its name says; `None` for the older service's
    /// "Prepare job" file of a job key, which is no one job's log.
    pub fn archive_owners(
        &self,
        full_name: &str,
        run_id: u64,
        attempt: u32,
    ) -> Option<Vec<(String, Option<u64>)>> {
        Some(
            self.owned_entries(full_name, run_id, attempt)?
                .into_iter()
                .filter(|(entry, _)| !entry.name.ends_with('/'))
                .map(|(entry, owner)| (entry.name, owner))
                .collect(),
        )
    }

    /// How the results service broke an attempt's archive: by [`Config::broken_archives`] or
    /// [`World::break_archive`]; empty when it is whole.
    pub fn archive_breaks(&self, full_name: &str, run_id: u64, attempt: u32) -> &[ArchiveBreak] {
        self.breaks
            .get(&(full_name.to_lowercase(), run_id, attempt))
            .map_or(&[], Vec::as_slice)
    }

    /// Breaks an attempt's archive from now on, as the results service does now and then
    /// ([`ArchiveBreak`]); the per-job endpoint still serves the job's whole log. False when
    /// the job is not one the archive holds (it did not run in that attempt, or skipped), is
    /// broken already, or (for [`ArchiveBreak::Misnamed`]) has a name no other rule changes.
    pub fn break_archive(
        &mut self,
        full_name: &str,
        run_id: u64,
        attempt: u32,
        how: ArchiveBreak,
    ) -> bool {
        let Some(a) = self
            .repo(full_name)
            .and_then(|r| r.run(run_id))
            .and_then(|r| r.attempt(attempt))
        else {
            return false;
        };
        let Some(job) = a.archived_jobs().find(|j| j.id == how.job()) else {
            return false;
        };
        if matches!(how, ArchiveBreak::Misnamed(_)) && !archive::can_misname(a, job) {
            return false;
        }
        if self
            .archive_breaks(full_name, run_id, attempt)
            .iter()
            .any(|b| b.job() == how.job())
        {
            return false;
        }
        self.forget_recorded(full_name, run_id);
        self.breaks
            .entry((full_name.to_lowercase(), run_id, attempt))
            .or_default()
            .push(how);
        true
    }

    /// Serves `bytes` as the archive of an attempt from now on, instead of generating it: a
    /// benchmark's cached corpus (so that serving costs no generation) or a real archive. A
    /// later [`World::complete_run`] or [`World::rerun`] of the run forgets it.
    pub fn record_archive(&mut self, full_name: &str, run_id: u64, attempt: u32, bytes: Vec<u8>) {
        let key = (full_name.to_lowercase(), run_id, attempt);
        self.recorded.insert(key, Arc::new(bytes));
    }

    /// An attempt's archive, zipped as the blob host serves it (in memory, even a huge one).
    pub fn archive(&self, full_name: &str, run_id: u64, attempt: u32) -> Option<Vec<u8>> {
        Some(blob_bytes(self.archive_blob(full_name, run_id, attempt)?))
    }

    /// An attempt's archive as the blob host serves it: one with a bulk log's streamed lines
    /// is written to a spool the first time.
    pub(crate) fn archive_blob(&self, full_name: &str, run_id: u64, attempt: u32) -> Option<Blob> {
        let key = (full_name.to_lowercase(), run_id, attempt);
        if let Some(bytes) = self.recorded.get(&key) {
            return Some(Blob::Bytes(bytes.to_vec()));
        }
        let layout = self.repo(full_name)?.run(run_id)?.layout;
        let entries = self.owned_entries(full_name, run_id, attempt)?;
        let entries: Vec<Pending<'_>> = entries.into_iter().map(|(e, _)| e).collect();
        let streamed = entries
            .iter()
            .any(|e| matches!(e.body, Body::Spliced { .. }));
        if !streamed {
            let zip = archive::write_zip(Cursor::new(Vec::new()), &entries, layout);
            return Some(Blob::Bytes(zip.expect("writing to memory").into_inner()));
        }
        let (repo, ..) = key;
        let spool = self
            .spools
            .get(SpoolKey::Archive(repo, run_id, attempt), |out| {
                archive::write_zip(out, &entries, layout).map(drop)
            });
        Some(Blob::Spooled(spool))
    }

    /// One job's whole log as plain text, as the job-logs endpoint serves it (in memory).
    pub fn job_text(&self, full_name: &str, job_id: u64) -> Option<Vec<u8>> {
        Some(blob_bytes(self.job_blob(full_name, job_id)?))
    }

    /// One job's whole log as the job-logs endpoint serves it: one with a bulk log's streamed
    /// lines is written to a spool the first time.
    pub(crate) fn job_blob(&self, full_name: &str, job_id: u64) -> Option<Blob> {
        let repo = self.repo(full_name)?;
        let (run, job) = repo.job(job_id)?;
        let bulk = self.bulk_of_job(full_name, job_id);
        let body = archive::job_text(
            repo,
            run,
            job,
            self.config.lines_per_job,
            self.config.distinct,
            bulk,
        );
        Some(match body {
            Body::Bytes(bytes) => Blob::Bytes(bytes),
            spliced => Blob::Spooled(
                self.spools
                    .get(SpoolKey::JobText(full_name.to_lowercase(), job_id), |out| {
                        spliced.write_to(out)
                    }),
            ),
        })
    }

    /// Completes a run still in progress, now: its archive then answers 404 for
    /// [`Config::not_ready_for`] before it can be had. False when there is no such run or it
    /// had already completed.
    pub fn complete_run(&mut self, full_name: &str, run_id: u64) -> bool {
        self.forget_recorded(full_name, run_id);
        let now = jiff::Timestamp::now().as_second();
        let Some(repo) = self
            .repos
            .iter_mut()
            .find(|r| r.full_name().eq_ignore_ascii_case(full_name))
        else {
            return false;
        };
        let Some(mut run) = repo.run(run_id).cloned() else {
            return false;
        };
        let changed = generate::complete(&mut run, repo, now);
        let attempt = run.latest().number;
        *repo.run_mut(run_id).expect("found above") = run;
        if changed {
            self.completed(full_name, run_id, attempt);
        }
        changed
    }

    /// Completes one job of a run in progress, now: its remaining steps run and pass (it fails
    /// only if a step had already failed), and its log answers 404 for
    /// [`Config::job_log_not_ready_for`] before it can be had. Completing the last unfinished
    /// job completes the run, as [`World::complete_run`] does. False when no run of the
    /// repository has this job unfinished in its latest attempt.
    pub fn complete_job(&mut self, full_name: &str, job_id: u64) -> bool {
        let now = jiff::Timestamp::now().as_second();
        let Some(repo) = self
            .repos
            .iter_mut()
            .find(|r| r.full_name().eq_ignore_ascii_case(full_name))
        else {
            return false;
        };
        let Some(run_id) = repo
            .runs
            .iter()
            .find(|r| r.latest().jobs.iter().any(|j| j.id == job_id))
            .map(|r| r.id)
        else {
            return false;
        };
        let mut run = repo.run(run_id).cloned().expect("found above");
        let changed = generate::complete_job(&mut run, repo, job_id, now);
        let done = (run.latest().status == Status::Completed).then(|| run.latest().number);
        *repo.run_mut(run_id).expect("found above") = run;
        if changed {
            self.forget_recorded(full_name, run_id);
            if let Some(attempt) = done {
                self.completed(full_name, run_id, attempt);
            }
        }
        changed
    }

    /// Completes the unfinished job of a run in progress that was furthest along (the one
    /// that started first), as [`World::complete_job`] does, and returns its id; `None` when
    /// the run has no unfinished job.
    pub fn complete_next_job(&mut self, full_name: &str, run_id: u64) -> Option<u64> {
        let run = self.repo(full_name)?.run(run_id)?;
        let next = run
            .latest()
            .jobs
            .iter()
            .filter(|j| j.status != Status::Completed)
            .min_by_key(|j| (j.status != Status::InProgress, j.started_at, j.id))?
            .id;
        self.complete_job(full_name, next).then_some(next)
    }

    /// Re-runs every job of a completed run as a new attempt that started an hour ago and
    /// passed. Returns the new attempt's number.
    pub fn rerun(&mut self, full_name: &str, run_id: u64) -> Option<u32> {
        self.forget_recorded(full_name, run_id);
        let now = jiff::Timestamp::now().as_second();
        let seed = self.config.seed;
        let repo = self
            .repos
            .iter_mut()
            .find(|r| r.full_name().eq_ignore_ascii_case(full_name))?;
        let mut run = repo.run(run_id)?.clone();
        if run.latest().status != Status::Completed {
            return None;
        }
        let last_job = repo
            .runs
            .iter()
            .flat_map(|r| &r.attempts)
            .flat_map(|a| &a.jobs)
            .map(|j| j.id)
            .max()?;
        let number = generate::rerun(&mut run, repo, last_job, now - 3_600, seed);
        *repo.run_mut(run_id).expect("found above") = run;
        self.completed(full_name, run_id, number);
        Some(number)
    }

    /// Attempts completed while serving (by [`World::complete_run`], [`World::complete_job`],
    /// [`World::rerun`] and [`World::tick`]), in the order they completed, with when.
    pub fn completions(&self) -> &[Completion] {
        &self.completions
    }

    fn completed(&mut self, full_name: &str, run_id: u64, attempt: u32) {
        let repo = self
            .repo(full_name)
            .map_or_else(|| full_name.to_owned(), Repo::full_name);
        self.completions.push(Completion {
            repo,
            run_id,
            attempt,
            at: jiff::Timestamp::now(),
        });
    }

    /// Moves the world on as time passes on GitHub, in one repository after the other (one
    /// per tick): its oldest run in progress completes and a new run starts in progress (a
    /// CI run of a push to the default branch, with a failed job and others still running,
    /// as fakehub's runs in progress are at start-up); every third tick, its newest failed
    /// run with fewer than three attempts is also re-run (a new attempt, completed). Live mode
    /// ([`Config::live`]) and `POST /_fakehub/tick` call it.
    pub fn tick(&mut self) -> Tick {
        let mut tick = Tick::default();
        if self.repos.is_empty() {
            return tick;
        }
        let index = (self.ticks % self.repos.len() as u64) as usize;
        let rerun_too = self.ticks % 3 == 2;
        self.ticks += 1;
        let full_name = self.repos[index].full_name();
        let before = self.completions.len();
        let running = self.repos[index]
            .runs
            .iter()
            .find(|r| r.latest().status != Status::Completed)
            .map(|r| r.id);
        if let Some(run_id) = running {
            self.complete_run(&full_name, run_id);
        }
        if rerun_too {
            let failed = self.repos[index]
                .runs
                .iter()
                .rev()
                .find(|r| {
                    let latest = r.latest();
                    latest.status == Status::Completed
                        && latest.conclusion == Some(Conclusion::Failure)
                        && r.attempts.len() < 3
                })
                .map(|r| r.id);
            if let Some(run_id) = failed {
                self.rerun(&full_name, run_id);
            }
        }
        let now = jiff::Timestamp::now().as_second();
        let repo = &mut self.repos[index];
        let run = generate::live_run(repo, &self.config, now, self.ticks);
        tick.started.push((full_name, run.id));
        repo.runs.push(run);
        tick.completed = self.completions[before..].to_vec();
        tick
    }

    fn forget_recorded(&mut self, full_name: &str, run_id: u64) {
        let repo = full_name.to_lowercase();
        self.spools.forget_run(&repo, run_id);
        self.recorded
            .retain(|(r, run, _), _| *r != repo || *run != run_id);
    }

    /// Generates every archived job log once and measures it. Costs as much as serving them all
    /// (a bulk log's lines are counted as they are made, not held).
    pub fn corpus_summary(&self) -> CorpusSummary {
        let mut summary = CorpusSummary {
            jobs: 0,
            lines: 0,
            bytes: 0,
            distinct_lines: 0,
        };
        let mut seen = HashSet::new();
        for repo in &self.repos {
            for run in &repo.runs {
                for attempt in run
                    .attempts
                    .iter()
                    .filter(|a| a.status == Status::Completed)
                {
                    for job in attempt.archived_jobs() {
                        summary.jobs += 1;
                        let bulk = self.bulk_of_job(&repo.full_name(), job.id);
                        let (log, splice) = logs::job_log(
                            repo,
                            run,
                            job,
                            self.config.lines_per_job,
                            self.config.distinct,
                            bulk,
                        );
                        let mut add = |line: &logs::LogLine| {
                            summary.lines += 1;
                            summary.bytes += line.text.len() + 30;
                            seen.insert(hash_bytes(&logs::strip_ansi(&line.text)));
                        };
                        for (_, line) in log.job_file_lines() {
                            add(&line);
                        }
                        if let (Some(bulk), Some(splice)) = (bulk, splice) {
                            let distinct = self.config.distinct;
                            logs::stream_bulk(repo, run, job, distinct, bulk, &splice, |lines| {
                                lines.iter().for_each(&mut add);
                                Ok(())
                            })
                            .expect("counting writes nothing");
                        }
                    }
                }
            }
        }
        summary.distinct_lines = seen.len();
        summary
    }
}

/// A blob's bytes in memory.
fn blob_bytes(blob: Blob) -> Vec<u8> {
    match blob {
        Blob::Bytes(bytes) => bytes,
        Blob::Spooled(spool) => spool
            .read_all()
            .unwrap_or_else(|e| panic!("fakehub cannot read its spool back: {e}")),
    }
}
