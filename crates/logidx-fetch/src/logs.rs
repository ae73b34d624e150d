//! Log archives and job logs: resolve the redirect when a download slot is free, fetch the
//! signed URL without the token, spool it, and start over with a fresh URL when the transfer
//! breaks.

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

use futures_util::StreamExt;
use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header;
use tempfile::SpooledTempFile;

use crate::client::{Client, backoff};
use crate::error::{Error, Failure, LogName, Result, TryError};
use crate::model::{Job, RepoName, Run};

/// What asking for an attempt's logs gave.
#[derive(Debug)]
pub enum LogsOutcome {
    /// The archive, whole.
    Logs(Archive),
    /// Past retention (`410`): record it, don't ask again.
    Gone {
        /// The status GitHub answered.
        status: u16,
    },
    /// `404` long after the run: the logs expired or were deleted, the token cannot read
    /// them, or GitHub misses them for a while. Only a 404 that lasts means gone.
    NotFound,
    /// Still `404` a while after the run completed: GitHub has not finalised it yet; try again
    /// in a later sync.
    NotReady,
}

/// A downloaded archive: in memory when small, in a temporary file beyond the threshold.
/// Read it with any zip reader (`Read + Seek`).
#[derive(Debug)]
pub struct Archive {
    file: SpooledTempFile,
    len: u64,
}

impl Archive {
    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty (never, for an archive that passed the checks).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether it spilled to disk.
    pub fn is_on_disk(&self) -> bool {
        self.file.is_rolled()
    }

    /// Reads it whole into memory.
    pub fn into_bytes(mut self) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(self.len as usize);
        self.file.seek(SeekFrom::Start(0))?;
        self.file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

impl Read for Archive {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }
}

impl Seek for Archive {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.file.seek(pos)
    }
}

/// Blob downloads that failed in a row, all the same way.
#[derive(Debug, Default)]
pub(crate) struct Streak {
    kind: Option<std::mem::Discriminant<Failure>>,
    count: u32,
    last: String,
    /// The attempt of the first failure, and whether another attempt failed since: the
    /// tries of one broken archive alone are no outage.
    first: Option<(u64, u32)>,
    several: bool,
}

/// Why one try at a log failed, and whether a fresh URL may help.
enum TryFailure {
    /// Worth another try with a fresh redirect.
    Retry(TryError),
    /// Final.
    Fatal(Error),
}

impl From<Failure> for TryFailure {
    fn from(failure: Failure) -> TryFailure {
        TryFailure::Retry(TryError::of(failure))
    }
}

/// What asking for one job's log gave.
#[derive(Debug)]
pub enum JobLogOutcome {
    /// The job's plain-text log, as GitHub serves it (a BOM first, lines as in an archive).
    Log(Vec<u8>),
    /// Past retention (`410`).
    Gone {
        /// The status GitHub answered.
        status: u16,
    },
    /// `404`, long enough after the job completed that it is not being finalised: GitHub has
    /// no log for the job (never written, expired or deleted) or the token cannot read it.
    NotFound,
    /// Still `404` shortly after the job completed: GitHub has not finalised it; ask again in
    /// a later sync.
    NotReady,
}

/// One log to download: where to ask, whose it is, and how to judge its answers.
struct Wanted {
    url: String,
    log: LogName,
    /// Whether what the log is of completed recently enough that a 404 may mean "being
    /// finalised".
    recent: bool,
    /// Whether the body must be a whole zip (an archive) or is plain text (a job's log).
    zip: bool,
    /// The run and attempt whose progress the reporter is told of, for archives.
    progress: Option<(u64, u32)>,
}

impl Wanted {
    /// Which download a failure belongs to, for the outage streak.
    fn key(&self) -> (u64, u32) {
        match self.log {
            LogName::Archive { run_id, attempt } => (run_id, attempt),
            LogName::Job { job_id } => (job_id, u32::MAX),
        }
    }
}

/// What a download gave, before its caller names it.
enum Downloaded {
    Body(Archive),
    Gone(u16),
    NotFound,
    NotReady,
}

impl Client {
    /// Downloads the log archive of attempt `attempt` of `run`.
    ///
    /// Waits for a download slot before resolving the redirect, so the signed URL (valid for
    /// a minute) is used at once. The URL is fetched without `Authorization`. On a refused URL
    /// (401/403: expired), a broken connection, a short body or a body that is not a whole zip,
    /// a fresh URL is resolved and the download starts over, up to the retry policy's tries.
    /// Once downloads of several attempts have failed [`ClientBuilder::outage_after`] times in
    /// a row the same way, this and every later download is [`Error::BlobOutage`] at once.
    ///
    /// [`ClientBuilder::outage_after`]: crate::ClientBuilder::outage_after
    pub async fn download_logs(
        &self,
        repo: &RepoName,
        run: &Run,
        attempt: u32,
    ) -> Result<LogsOutcome> {
        let window = self.inner.builder.not_ready.window;
        let wanted = Wanted {
            url: self
                .api()
                .attempt(&repo.owner, &repo.name, run.id, attempt, &["logs"])
                .to_string(),
            log: LogName::Archive {
                run_id: run.id,
                attempt,
            },
            recent: recently_updated(run, window),
            zip: true,
            progress: Some((run.id, attempt)),
        };
        Ok(match self.download(wanted).await? {
            Downloaded::Body(archive) => LogsOutcome::Logs(archive),
            Downloaded::Gone(status) => LogsOutcome::Gone { status },
            Downloaded::NotFound => LogsOutcome::NotFound,
            Downloaded::NotReady => LogsOutcome::NotReady,
        })
    }

    /// Downloads the plain-text log of a completed `job` (`GET …/actions/jobs/{id}/logs`),
    /// which GitHub serves as soon as the job completes, while its run goes on, and which
    /// stands in for a job its attempt's archive lacks. Resolved, fetched without the token
    /// and started over on expiry exactly as [`Client::download_logs`] does; a 404 within
    /// the not-ready window after the job completed is waited out as for archives.
    pub async fn download_job_log(&self, repo: &RepoName, job: &Job) -> Result<JobLogOutcome> {
        let window = self.inner.builder.not_ready.window;
        let wanted = Wanted {
            url: self
                .api()
                .job_logs(&repo.owner, &repo.name, job.id)
                .to_string(),
            log: LogName::Job { job_id: job.id },
            recent: job.completed_at.is_some_and(|at| recently(at, window)),
            zip: false,
            progress: None,
        };
        Ok(match self.download(wanted).await? {
            Downloaded::Body(body) => {
                JobLogOutcome::Log(body.into_bytes().map_err(|source| Error::Spool {
                    log: LogName::Job { job_id: job.id },
                    source,
                })?)
            }
            Downloaded::Gone(status) => JobLogOutcome::Gone { status },
            Downloaded::NotFound => JobLogOutcome::NotFound,
            Downloaded::NotReady => JobLogOutcome::NotReady,
        })
    }

    /// What archives and job logs share: a download slot, then the redirect, then the blob
    /// without the token, started over with a fresh URL while tries last.
    async fn download(&self, wanted: Wanted) -> Result<Downloaded> {
        let _slot = self
            .inner
            .download_slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let policy = self.retry_policy().clone();
        let not_ready = self.inner.builder.not_ready.clone();
        let url = &wanted.url;
        let (mut tries, mut not_ready_tries) = (0, 0);
        loop {
            tries += 1;
            if let Some(outage) = self.blob_outage() {
                return Err(outage);
            }
            let answer = self.get(url, false).await?;
            let location = match answer.status {
                StatusCode::FOUND
                | StatusCode::MOVED_PERMANENTLY
                | StatusCode::TEMPORARY_REDIRECT => {
                    match answer
                        .headers
                        .get(header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                    {
                        Some(location) => location.to_owned(),
                        None => return Err(Error::NoLocation { log: wanted.log }),
                    }
                }
                StatusCode::GONE => return Ok(Downloaded::Gone(410)),
                StatusCode::NOT_FOUND => {
                    if !wanted.recent {
                        return Ok(Downloaded::NotFound);
                    }
                    not_ready_tries += 1;
                    if not_ready_tries >= not_ready.tries {
                        return Ok(Downloaded::NotReady);
                    }
                    let reason = match wanted.log {
                        LogName::Archive { .. } => "archive not ready yet (404)",
                        LogName::Job { .. } => "job log not ready yet (404)",
                    };
                    self.reporter()
                        .on_retry(url, not_ready_tries, reason, not_ready.delay);
                    tokio::time::sleep(not_ready.delay).await;
                    tries -= 1;
                    continue;
                }
                _ => return Err(answer.into_error()),
            };
            let failed = match self.fetch_blob(&location, &wanted).await {
                Ok(body) => {
                    self.note_download(wanted.key(), None);
                    return Ok(Downloaded::Body(body));
                }
                Err(TryFailure::Fatal(e)) => return Err(e),
                Err(TryFailure::Retry(failed)) => failed,
            };
            self.note_download(wanted.key(), Some(&failed));
            if tries >= policy.max_tries {
                return Err(Error::Download {
                    log: wanted.log,
                    tries,
                    last: failed.failure,
                    source: failed.source,
                });
            }
            if let Some(outage) = self.blob_outage() {
                return Err(outage);
            }
            let reason = failed.reason();
            let wait = backoff(&policy, tries);
            tracing::debug!(log = %wanted.log, tries, reason, "downloading again with a fresh URL");
            self.reporter().on_retry(url, tries, &reason, wait);
            tokio::time::sleep(wait).await;
        }
    }

    /// The outage, once blob storage has failed `outage_after` downloads in a row the same
    /// way; a download that succeeds ends it.
    fn blob_outage(&self) -> Option<Error> {
        let streak = self.inner.blob_streak.lock().expect("streak lock");
        let outage = streak.several && streak.count >= self.inner.builder.outage_after;
        outage.then(|| Error::BlobOutage {
            failures: streak.count,
            last: streak.last.clone(),
        })
    }

    /// Counts a download of `attempt` that failed (`Some`) or succeeded (`None`) towards an
    /// outage.
    fn note_download(&self, attempt: (u64, u32), failed: Option<&TryError>) {
        let mut streak = self.inner.blob_streak.lock().expect("streak lock");
        let Some(failed) = failed else {
            *streak = Streak::default();
            return;
        };
        let kind = std::mem::discriminant(&failed.failure);
        if streak.kind != Some(kind) {
            *streak = Streak {
                kind: Some(kind),
                first: Some(attempt),
                ..Streak::default()
            };
        }
        streak.several |= streak.first != Some(attempt);
        // Frozen once it is an outage, so that every attempt reports the same one.
        if streak.count < self.inner.builder.outage_after {
            streak.count += 1;
            streak.last = failed.reason();
        }
    }

    async fn fetch_blob(
        &self,
        location: &str,
        wanted: &Wanted,
    ) -> std::result::Result<Archive, TryFailure> {
        let builder = &self.inner.builder;
        let log = wanted.log;
        let response = self.get_blob(location).await.map_err(|e| {
            TryFailure::Retry(TryError {
                failure: Failure::Connection,
                source: Some(e.without_url()), // the signed blob URL stays out of messages
            })
        })?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Failure::Expired(status.as_u16()).into());
        }
        if !status.is_success() {
            return Err(Failure::BlobStatus(status.as_u16()).into());
        }
        let expected = response.content_length();
        let too_large = || {
            TryFailure::Fatal(Error::TooLarge {
                log,
                cap: builder.max_archive_bytes,
            })
        };
        if expected.is_some_and(|n| n > builder.max_archive_bytes) {
            return Err(too_large());
        }
        if let Some((run_id, attempt)) = wanted.progress {
            self.reporter().on_download_start(run_id, attempt, expected);
        }
        let spool_error = |source| TryFailure::Fatal(Error::Spool { log, source });
        let mut file = SpooledTempFile::new(builder.spool_threshold);
        let mut len = 0u64;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                TryFailure::Retry(TryError {
                    failure: Failure::TransferBroke(len),
                    source: Some(e.without_url()), // the signed blob URL stays out of messages
                })
            })?;
            len += chunk.len() as u64;
            if len > builder.max_archive_bytes {
                return Err(too_large());
            }
            file.write_all(&chunk).map_err(spool_error)?;
            if let Some((run_id, attempt)) = wanted.progress {
                self.reporter()
                    .on_download_progress(run_id, attempt, chunk.len() as u64);
            }
        }
        if let Some(expected) = expected.filter(|&n| n != len) {
            return Err(Failure::ShortBody {
                received: len,
                expected,
            }
            .into());
        }
        if wanted.zip && !ends_like_a_zip(&mut file, len).map_err(spool_error)? {
            return Err(Failure::NotAZip(len).into());
        }
        file.seek(SeekFrom::Start(0)).map_err(spool_error)?;
        Ok(Archive { file, len })
    }
}

/// Whether the run changed recently enough that a 404 may mean "being finalised".
fn recently_updated(run: &Run, window: Duration) -> bool {
    let updated = run
        .updated_at
        .or(run.run_started_at)
        .unwrap_or(run.created_at);
    recently(updated, window)
}

/// Whether `at` is less than `window` ago.
fn recently(at: Timestamp, window: Duration) -> bool {
    let age = Timestamp::now().duration_since(at);
    age.as_secs() < window.as_secs() as i64
}

/// A zip ends with its end-of-central-directory record (`PK\x05\x06`), within the last
/// 64 KiB + 22 bytes (its comment can be that long). A truncated download does not.
fn ends_like_a_zip(file: &mut SpooledTempFile, len: u64) -> std::io::Result<bool> {
    let tail_len = len.min(65_535 + 22);
    file.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    file.read_to_end(&mut tail)?;
    Ok(tail.len() >= 22 && tail.windows(4).rev().any(|w| w == b"PK\x05\x06"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool(bytes: &[u8]) -> SpooledTempFile {
        let mut file = SpooledTempFile::new(1 << 20);
        file.write_all(bytes).unwrap();
        file
    }

    #[test]
    fn only_whole_zips_pass() {
        let mut eocd = b"PK\x05\x06".to_vec();
        eocd.extend_from_slice(&[0; 18]);
        let whole = [b"PK\x03\x04 some entry".as_slice(), &eocd].concat();
        assert!(ends_like_a_zip(&mut spool(&whole), whole.len() as u64).unwrap());
        let cut = &whole[..whole.len() / 2];
        assert!(!ends_like_a_zip(&mut spool(cut), cut.len() as u64).unwrap());
        assert!(!ends_like_a_zip(&mut spool(b""), 0).unwrap());
    }
}
