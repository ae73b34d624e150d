//! Log archives and job log files, laid out as GitHub's services lay them out.

use std::io::{self, Seek, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::bulk::{BulkKind, BulkLog};
use crate::logs::{self, JobLog, LogLine, Splice};
use crate::model::{ArchiveBreak, Attempt, Job, Layout, Repo, Run};
use crate::rng::Rng;
use crate::time::LineClock;

/// Longest file-name part for a job or step, in UTF-16 code units (cli/cli#5011).
pub const NAME_LIMIT: usize = 90;

/// The file-name form of a job or step name in `layout`: `/` and `:` removed (older service)
/// or replaced by `_` (newer), cut to 90 UTF-16 units (possibly through a surrogate pair,
/// which leaves U+FFFD), then trimmed.
pub fn file_name_part(name: &str, layout: Layout) -> String {
    let replaced = match layout {
        Layout::Underscored => name.replace(['/', ':'], "_"),
        Layout::JobAndSteps | Layout::JobOnly => name.replace(['/', ':'], ""),
    };
    cut_name(&replaced)
}

/// Cuts a file-name part to [`NAME_LIMIT`] UTF-16 units, then trims it, as both services do.
fn cut_name(name: &str) -> String {
    let units: Vec<u16> = name.encode_utf16().take(NAME_LIMIT).collect();
    String::from_utf16_lossy(&units).trim().to_owned()
}

/// The file-name part of a job's files in an archive broken by [`ArchiveBreak::Misnamed`]:
/// every character but ASCII letters, digits, spaces, `.` and `-` replaced with `_`, then cut
/// as usual. `test (ubuntu-24.04, stable)` becomes `test _ubuntu-24.04_ stable_`, which
/// neither service's rule gives.
pub fn misnamed_part(name: &str) -> String {
    let replaced: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    cut_name(&replaced)
}

/// Whether [`ArchiveBreak::Misnamed`] can break `job` of `attempt`: its misnamed part matches
/// no job of the attempt under either service's rule, and no other file.
pub(crate) fn can_misname(attempt: &Attempt, job: &Job) -> bool {
    let part = misnamed_part(&job.name);
    attempt.jobs.iter().all(|j| {
        [Layout::JobAndSteps, Layout::Underscored]
            .iter()
            .all(|&l| file_name_part(&j.name, l) != part)
            && (j.id == job.id || misnamed_part(&j.name) != part)
    })
}

/// Picks by seed whether the results service broke `attempt`'s archive (with chance
/// `fraction`), and how: one of the three [`ArchiveBreak`]s for one of its archived jobs.
pub(crate) fn pick_break(
    seed: u64,
    fraction: f64,
    run: &Run,
    attempt: &Attempt,
) -> Option<ArchiveBreak> {
    let mut rng = Rng::derive(seed, &[run.id, u64::from(attempt.number), 5]);
    if !rng.chance(fraction) {
        return None;
    }
    let jobs: Vec<&Job> = attempt.archived_jobs().collect();
    if jobs.is_empty() {
        return None;
    }
    let job = *rng.pick(&jobs);
    let kind = rng.below(3);
    Some(match kind {
        0 => ArchiveBreak::Missing(job.id),
        // Not every name can be misnamed (`lint` has nothing to replace): another job, or
        // the job left out instead.
        1 if can_misname(attempt, job) => ArchiveBreak::Misnamed(job.id),
        1 => match jobs.iter().find(|j| can_misname(attempt, j)) {
            Some(j) => ArchiveBreak::Misnamed(j.id),
            None => ArchiveBreak::Missing(job.id),
        },
        _ => ArchiveBreak::BothServices(job.id),
    })
}

/// Writes lines as a log file: timestamp prefix, text, line end; BOMs where the runner put them.
pub(crate) fn render(lines: &[LogLine], crlf: bool, bom_at_start: bool) -> Vec<u8> {
    let size: usize = lines.iter().map(|l| l.text.len() + 31).sum();
    let mut out = Vec::with_capacity(size + 3);
    render_into(lines, crlf, bom_at_start, None, &mut out);
    out
}

/// [`render`] into `out`; with `job_copy_of` a step's number, its lines as the whole-job
/// file's copy stamps them ([`logs::job_copy_ticks`]).
fn render_into(
    lines: &[LogLine],
    crlf: bool,
    bom_at_start: bool,
    job_copy_of: Option<u32>,
    out: &mut Vec<u8>,
) {
    let mut clock = LineClock::default();
    for (i, line) in lines.iter().enumerate() {
        if (i == 0 && bom_at_start) || line.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        if !line.continuation {
            let ticks =
                job_copy_of.map_or(line.ticks, |step| logs::job_copy_ticks(line.ticks, step));
            clock.write(ticks, out);
        }
        out.extend_from_slice(&line.text);
        out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    }
}

/// Bytes of a job's whole-job file without the lines [`logs::stream_bulk`] makes.
pub(crate) fn rendered_len(log: &JobLog, job: &Job) -> u64 {
    let lines: Vec<LogLine> = log.job_file_lines().into_iter().map(|(_, l)| l).collect();
    render(&lines, job.crlf, job.bom).len() as u64
}

/// A file's contents as the archive or the job-logs endpoint holds them: bytes, or bytes around
/// the lines of a bulk log made as they are written.
pub(crate) enum Body<'a> {
    Bytes(Vec<u8>),
    Spliced {
        before: Vec<u8>,
        bulk: Streamed<'a>,
        after: Vec<u8>,
    },
}

impl Body<'_> {
    /// Writes it all to `out`.
    pub(crate) fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Body::Bytes(bytes) => out.write_all(bytes),
            Body::Spliced {
                before,
                bulk,
                after,
            } => {
                out.write_all(before)?;
                bulk.write_to(out)?;
                out.write_all(after)
            }
        }
    }

    /// All of it in memory.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            Body::Bytes(bytes) => bytes,
            spliced => {
                let mut out = Vec::new();
                spliced.write_to(&mut out).expect("writing to memory");
                out
            }
        }
    }
}

/// The lines of a bulk log that [`logs::stream_bulk`] makes, in a step's file or (with
/// `job_file`) the whole-job file.
pub(crate) struct Streamed<'a> {
    repo: &'a Repo,
    run: &'a Run,
    job: &'a Job,
    distinct: f64,
    bulk: &'a BulkLog,
    splice: Splice,
    job_file: bool,
}

impl Streamed<'_> {
    fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut buffer = Vec::with_capacity(1 << 20);
        let copy_of = self.job_file.then_some(self.bulk.step);
        logs::stream_bulk(
            self.repo,
            self.run,
            self.job,
            self.distinct,
            self.bulk,
            &self.splice,
            |lines| {
                buffer.clear();
                render_into(lines, self.job.crlf, false, copy_of, &mut buffer);
                out.write_all(&buffer)
            },
        )
    }
}

/// A job's whole-job file or one of its step files (`step`, an index into [`JobLog::steps`]),
/// rendered, with `streamed` lines of a bulk log where its splice says.
fn file_body<'a>(
    log: &JobLog,
    step: Option<usize>,
    job: &Job,
    bom_at_start: bool,
    streamed: Option<Streamed<'a>>,
) -> Body<'a> {
    let lines: Vec<LogLine> = match step {
        Some(i) => log.steps[i].lines.clone(),
        None => log.job_file_lines().into_iter().map(|(_, l)| l).collect(),
    };
    let Some(mut bulk) = streamed.filter(|s| step.is_none_or(|i| i == s.splice.step)) else {
        return Body::Bytes(render(&lines, job.crlf, bom_at_start));
    };
    let at = match step {
        Some(_) => bulk.splice.at,
        None => {
            let earlier: usize = log.steps[..bulk.splice.step]
                .iter()
                .map(|s| s.lines.len())
                .sum();
            log.preamble.len() + earlier + bulk.splice.at
        }
    };
    bulk.job_file = step.is_none();
    Body::Spliced {
        before: render(&lines[..at], job.crlf, bom_at_start),
        bulk,
        after: render(&lines[at..], job.crlf, false),
    }
}

/// One file of an archive, before compression.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path inside the zip; directories end with `/`.
    pub name: String,
    /// Contents (empty for directories).
    pub data: Vec<u8>,
}

/// One file of an archive, before compression, its contents possibly made as they are written.
pub(crate) struct Pending<'a> {
    pub(crate) name: String,
    pub(crate) body: Body<'a>,
}

impl Pending<'_> {
    /// With its contents in memory.
    pub(crate) fn into_entry(self) -> Entry {
        Entry {
            name: self.name,
            data: self.body.into_bytes(),
        }
    }
}

/// The files of an attempt's archive, in the order the zip holds them, each with the job
/// whose log it holds (`None` for the older service's "Prepare job" file of a job key, which
/// is no one job's log), as the results service wrote it with `breaks`, with `bulk` when it
/// is planted in one of its jobs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn attempt_entries<'a>(
    repo: &'a Repo,
    run: &'a Run,
    attempt: &'a Attempt,
    lines_per_job: usize,
    distinct: f64,
    breaks: &[ArchiveBreak],
    bulk: Option<&'a BulkLog>,
) -> Vec<(Pending<'a>, Option<u64>)> {
    let layout = run.layout;
    let mut entries = Vec::new();
    let mut legacy_keys: Vec<&str> = Vec::new();
    // Whole-job logs the older service also wrote, cut short: (file-name part, job, lines).
    let mut old_copies: Vec<(String, &Job, Vec<LogLine>)> = Vec::new();
    for (ordinal, job) in attempt.archived_jobs().enumerate() {
        if breaks.contains(&ArchiveBreak::Missing(job.id)) {
            continue;
        }
        let owner = Some(job.id);
        let (log, splice) = logs::job_log(repo, run, job, lines_per_job, distinct, bulk);
        let streamed = || {
            let bulk = bulk.filter(|b| b.job_id == job.id && b.streamed())?;
            Some(Streamed {
                repo,
                run,
                job,
                distinct,
                bulk,
                splice: splice?,
                job_file: false,
            })
        };
        let dir = if breaks.contains(&ArchiveBreak::Misnamed(job.id)) {
            misnamed_part(&job.name)
        } else {
            file_name_part(&job.name, layout)
        };
        if breaks.contains(&ArchiveBreak::BothServices(job.id)) {
            let job_lines: Vec<LogLine> =
                log.job_file_lines().into_iter().map(|(_, l)| l).collect();
            let half = job_lines
                .len()
                .div_ceil(2)
                .min(job_lines.len().saturating_sub(1));
            old_copies.push((dir.clone(), job, job_lines[..half.max(1)].to_vec()));
        }
        let job_file = Pending {
            name: format!("{ordinal}_{dir}.txt"),
            body: file_body(&log, None, job, job.bom, streamed()),
        };
        match layout {
            Layout::JobOnly => {
                entries.push((job_file, owner));
                let system = logs::system_log(job);
                entries.push((
                    Pending {
                        name: format!("{dir}/system.txt"),
                        body: Body::Bytes(render(&system, job.crlf, false)),
                    },
                    owner,
                ));
            }
            Layout::JobAndSteps | Layout::Underscored => {
                entries.push((
                    Pending {
                        name: format!("{dir}/"),
                        body: Body::Bytes(Vec::new()),
                    },
                    owner,
                ));
                entries.extend(
                    step_entries(&dir, &log, job, layout, streamed)
                        .into_iter()
                        .map(|e| (e, owner)),
                );
                entries.push((job_file, owner));
                let key = repo.workflows[run.workflow].jobs[job.spec].key.as_str();
                if layout == Layout::JobAndSteps
                    && run.id.is_multiple_of(2)
                    && !legacy_keys.contains(&key)
                {
                    legacy_keys.push(key);
                }
            }
        }
    }
    // The older service's "Prepare job" log, one per job key, under a negative ordinal; its
    // copy of a job's log takes that name when the key is the job's name.
    for key in legacy_keys {
        if old_copies.iter().any(|(dir, ..)| dir == key) {
            continue;
        }
        let lines = logs::prepare_log(run, key);
        entries.push((
            Pending {
                name: format!("-2147483648_{key}.txt"),
                body: Body::Bytes(render(&lines, false, false)),
            },
            None,
        ));
    }
    for (dir, job, lines) in old_copies {
        entries.push((
            Pending {
                name: format!("-2147483648_{dir}.txt"),
                body: Body::Bytes(render(&lines, job.crlf, job.bom)),
            },
            Some(job.id),
        ));
    }
    entries
}

fn step_entries<'a>(
    dir: &str,
    log: &JobLog,
    job: &Job,
    layout: Layout,
    streamed: impl Fn() -> Option<Streamed<'a>>,
) -> Vec<Pending<'a>> {
    log.steps
        .iter()
        .enumerate()
        .map(|(i, step)| Pending {
            name: format!(
                "{dir}/{}_{}.txt",
                step.number,
                file_name_part(&step.name, layout)
            ),
            body: file_body(log, Some(i), job, job.bom, streamed()),
        })
        .collect()
}

/// Compresses entries into a zip archive written to `out`.
pub(crate) fn write_zip<W: Write + Seek>(
    out: W,
    entries: &[Pending<'_>],
    layout: Layout,
) -> io::Result<W> {
    let mut zip = ZipWriter::new(out);
    // The newer service stamps entries with the zero DOS date (cli/cli#10551).
    let when = match layout {
        Layout::JobAndSteps => {
            DateTime::from_date_and_time(2024, 1, 29, 1, 8, 0).unwrap_or_default()
        }
        Layout::JobOnly | Layout::Underscored => DateTime::default(),
    };
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(when);
    for entry in entries {
        if entry.name.ends_with('/') {
            zip.add_directory(entry.name.trim_end_matches('/'), options)?;
        } else {
            let mut options = options;
            if let Body::Spliced { bulk, .. } = &entry.body {
                // Zip64 sizes for an entry of 4 GiB or more (a huge log), as zip tools write them.
                options = options.large_file(bulk.bulk.job_log_bytes >= u64::from(u32::MAX));
                if bulk.bulk.kind == BulkKind::Repeated {
                    // zlib's level 6 reaches deflate's ceiling (~1,030×) on a repeated line;
                    // zlib-rs stops at ~230× below level 9.
                    options = options.compression_level(Some(9));
                }
            }
            zip.start_file(entry.name.as_str(), options)?;
            entry.body.write_to(&mut zip)?;
        }
    }
    Ok(zip.finish()?)
}

/// The plain-text log of one job, as `/actions/jobs/{id}/logs` serves it: the whole-job
/// file's lines, always after a UTF-8 BOM (`docs/github.md` section 10), whether or not the
/// job's archive files have one; with `bulk` when it is planted in this job.
pub(crate) fn job_text<'a>(
    repo: &'a Repo,
    run: &'a Run,
    job: &'a Job,
    lines_per_job: usize,
    distinct: f64,
    bulk: Option<&'a BulkLog>,
) -> Body<'a> {
    let (log, splice) = logs::job_log(repo, run, job, lines_per_job, distinct, bulk);
    let streamed = bulk
        .filter(|b| b.job_id == job.id && b.streamed())
        .zip(splice)
        .map(|(bulk, splice)| Streamed {
            repo,
            run,
            job,
            distinct,
            bulk,
            splice,
            job_file: true,
        });
    file_body(&log, None, job, true, streamed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised_like_githubs_services() {
        let cases = [
            (
                "build (ubuntu-24.04, 3.11) / build",
                Layout::JobAndSteps,
                "build (ubuntu-24.04, 3.11)  build",
            ),
            (
                "build (ubuntu-24.04, 3.11) / build",
                Layout::Underscored,
                "build (ubuntu-24.04, 3.11) _ build",
            ),
            (
                "cool job : with colon",
                Layout::JobAndSteps,
                "cool job  with colon",
            ),
            (
                "Run actions/checkout@v2",
                Layout::JobAndSteps,
                "Run actionscheckout@v2",
            ),
            ("<b> kept </b>", Layout::JobAndSteps, "<b> kept <b>"),
        ];
        for (name, layout, want) in cases {
            assert_eq!(file_name_part(name, layout), want, "{name:?} in {layout:?}");
        }
    }

    #[test]
    fn truncation_counts_utf16_units_and_can_split_a_surrogate_pair() {
        let long = "thisisnineteenchars_".repeat(5);
        assert_eq!(
            file_name_part(&long, Layout::JobAndSteps)
                .encode_utf16()
                .count(),
            90
        );
        let emoji = format!("smokes {}", "🔥".repeat(42));
        let cut = file_name_part(&emoji, Layout::JobAndSteps);
        assert!(cut.ends_with('\u{fffd}'), "{cut}");
        assert_eq!(cut.chars().filter(|&c| c == '🔥').count(), 41);
    }

    #[test]
    fn render_writes_bom_crlf_and_continuations() {
        let line = |text: &str, continuation| LogLine {
            ticks: 17_064_700_000_000_000,
            text: text.into(),
            continuation,
            bom: false,
        };
        let out = render(&[line("a", false), line("b", true)], true, true);
        assert_eq!(
            out,
            "\u{feff}2024-01-28T19:26:40.0000000Z a\r\nb\r\n".as_bytes()
        );
    }
}
