//! Log archives and job log files, laid out as GitHub's services lay them out.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::logs::{self, JobLog, LogLine};
use crate::model::{Attempt, Job, Layout, Repo, Run};
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
    let units: Vec<u16> = replaced.encode_utf16().take(NAME_LIMIT).collect();
    String::from_utf16_lossy(&units).trim().to_owned()
}

/// Writes lines as a log file: timestamp prefix, text, line end; BOMs where the runner put them.
pub(crate) fn render(lines: &[LogLine], crlf: bool, bom_at_start: bool) -> Vec<u8> {
    let size: usize = lines.iter().map(|l| l.text.len() + 31).sum();
    let mut out = Vec::with_capacity(size + 3);
    let mut clock = LineClock::default();
    for (i, line) in lines.iter().enumerate() {
        if (i == 0 && bom_at_start) || line.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        if !line.continuation {
            clock.write(line.ticks, &mut out);
        }
        out.extend_from_slice(&line.text);
        out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
    }
    out
}

/// One file of an archive, before compression.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path inside the zip; directories end with `/`.
    pub name: String,
    /// Contents (empty for directories).
    pub data: Vec<u8>,
}

/// The files of an attempt's archive, in the order the zip holds them.
pub(crate) fn attempt_entries(
    repo: &Repo,
    run: &Run,
    attempt: &Attempt,
    lines_per_job: usize,
    distinct: f64,
) -> Vec<Entry> {
    let layout = run.layout;
    let mut entries = Vec::new();
    let mut legacy_keys: Vec<&str> = Vec::new();
    for (ordinal, job) in attempt.archived_jobs().enumerate() {
        let log = logs::job_log(repo, run, job, lines_per_job, distinct);
        let dir = file_name_part(&job.name, layout);
        let job_lines: Vec<LogLine> = log.job_file_lines().into_iter().map(|(_, l)| l).collect();
        let job_file = Entry {
            name: format!("{ordinal}_{dir}.txt"),
            data: render(&job_lines, job.crlf, job.bom),
        };
        match layout {
            Layout::JobOnly => {
                entries.push(job_file);
                let system = logs::system_log(job);
                entries.push(Entry {
                    name: format!("{dir}/system.txt"),
                    data: render(&system, job.crlf, false),
                });
            }
            Layout::JobAndSteps | Layout::Underscored => {
                entries.push(Entry {
                    name: format!("{dir}/"),
                    data: Vec::new(),
                });
                entries.extend(step_entries(&dir, &log, job, layout));
                entries.push(job_file);
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
    // The older service's "Prepare job" log, one per job key, under a negative ordinal.
    for key in legacy_keys {
        let lines = logs::prepare_log(run, key);
        entries.push(Entry {
            name: format!("-2147483648_{key}.txt"),
            data: render(&lines, false, false),
        });
    }
    entries
}

fn step_entries(dir: &str, log: &JobLog, job: &Job, layout: Layout) -> Vec<Entry> {
    log.steps
        .iter()
        .map(|step| Entry {
            name: format!(
                "{dir}/{}_{}.txt",
                step.number,
                file_name_part(&step.name, layout)
            ),
            data: render(&step.lines, job.crlf, job.bom),
        })
        .collect()
}

/// Compresses entries into a zip archive.
pub(crate) fn zip(entries: &[Entry], layout: Layout) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
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
            zip.add_directory(entry.name.trim_end_matches('/'), options)
                .expect("writing to memory");
        } else {
            zip.start_file(entry.name.as_str(), options)
                .expect("writing to memory");
            zip.write_all(&entry.data).expect("writing to memory");
        }
    }
    zip.finish().expect("writing to memory").into_inner()
}

/// The plain-text log of one job, as `/actions/jobs/{id}/logs` serves it: the whole-job
/// file's lines, always after a UTF-8 BOM (`docs/github.md` section 10), whether or not the
/// job's archive files have one.
pub(crate) fn job_text(
    repo: &Repo,
    run: &Run,
    job: &Job,
    lines_per_job: usize,
    distinct: f64,
) -> Vec<u8> {
    let log = logs::job_log(repo, run, job, lines_per_job, distinct);
    let lines: Vec<LogLine> = log.job_file_lines().into_iter().map(|(_, l)| l).collect();
    render(&lines, job.crlf, true)
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
