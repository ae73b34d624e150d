//! `Extractor::extract_bytes` on arbitrary bytes, and on zips built from the input (names as
//! GitHub's services write them, timestamped lines, markers, escape sequences, invalid UTF-8,
//! long lines), then maybe cut short or with bytes changed, so that the fuzzer reaches the
//! inflater, the line parser and step attribution rather than stopping at the zip's headers.
//!
//! An archive is untrusted input: any answer but a panic, a hang or unbounded memory is fine.
//! What a line comes out as is checked too: no line feed, CR or ESC survives cleaning.

#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use logidx_extract::{ArchiveId, Extractor, JobInfo, StepInfo};

#[derive(Debug, Arbitrary)]
enum Input {
    /// Bytes as they come: mostly not a zip.
    Raw(Vec<u8>),
    /// A zip built from the input.
    Zip(Archive),
}

#[derive(Debug, Arbitrary)]
struct Archive {
    jobs: Vec<Job>,
    entries: Vec<Entry>,
    /// Keep only this many bytes of the zip (a truncated download).
    cut: Option<u16>,
    /// (position, xor) pairs applied to the zip's bytes.
    flips: Vec<(u16, u8)>,
}

#[derive(Debug, Arbitrary)]
struct Job {
    id: u8,
    name: Name,
    steps: Vec<Step>,
}

#[derive(Debug, Arbitrary)]
struct Step {
    number: u8,
    name: Name,
    /// Seconds after the epoch's 2024 the step started and how long it took.
    times: Option<(u16, u16)>,
    conclusion: Option<Conclusion>,
}

#[derive(Debug, Arbitrary)]
enum Conclusion {
    Success,
    Failure,
    Skipped,
    Cancelled,
}

/// Job and step names: the shapes real ones take, and anything.
#[derive(Debug, Arbitrary)]
enum Name {
    Build,
    Matrix,
    Composite,
    Colon,
    Odd(String),
}

impl Name {
    fn text(&self) -> &str {
        match self {
            Name::Build => "build",
            Name::Matrix => "test (ubuntu-24.04, 3.11)",
            Name::Composite => "build / lint",
            Name::Colon => "deploy: prod",
            Name::Odd(name) => name,
        }
    }

    /// The name as either service writes it in a file name.
    fn file_part(&self, underscored: bool) -> String {
        let with = if underscored { "_" } else { "" };
        self.text().replace(['/', ':'], with)
    }
}

#[derive(Debug, Arbitrary)]
struct Entry {
    place: Place,
    underscored: bool,
    stored: bool,
    lines: Vec<Line>,
}

#[derive(Debug, Arbitrary)]
enum Place {
    JobFile { ordinal: u8, job: Name },
    StepFile { job: Name, number: u8, step: Name },
    System { job: Name },
    Prepare { job: Name },
    Dir { job: Name },
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum Line {
    /// `2024-…T…Z text`, the runner's form.
    Stamped { second: u32, nanos: u32, text: Text },
    /// A continuation line, without a timestamp.
    Bare(Text),
    /// A BOM before a stamped line, as at a page of the runner's stream.
    Bom { second: u32, text: Text },
    /// Ended with CRLF.
    Crlf(Text),
}

#[derive(Debug, Arbitrary)]
enum Text {
    Plain(String),
    Marked(Marker, String),
    Bytes(Vec<u8>),
    /// An escape sequence (CSI, OSC ended by BEL or ST, or cut) around text.
    Escape(EscapeKind, String),
    /// A long line: `(repeat % 2048) × 64` copies of one byte.
    Long {
        repeat: u16,
        byte: u8,
    },
}

#[derive(Debug, Arbitrary)]
enum Marker {
    Group,
    EndGroup,
    Error,
    Warning,
    Notice,
    Debug,
    Command,
    Section,
    PostJob,
}

#[derive(Debug, Arbitrary)]
enum EscapeKind {
    Sgr,
    OscBel,
    OscSt,
    Unterminated,
    C1Csi,
}

impl Text {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Text::Plain(text) => out.extend_from_slice(text.as_bytes()),
            Text::Marked(marker, text) => {
                let marker = match marker {
                    Marker::Group => "##[group]",
                    Marker::EndGroup => "##[endgroup]",
                    Marker::Error => "##[error]",
                    Marker::Warning => "##[warning]",
                    Marker::Notice => "##[notice]",
                    Marker::Debug => "##[debug]",
                    Marker::Command => "##[command]",
                    Marker::Section => "##[section]Starting: ",
                    Marker::PostJob => "Post job cleanup.",
                };
                out.extend_from_slice(marker.as_bytes());
                out.extend_from_slice(text.as_bytes());
            }
            Text::Bytes(bytes) => out.extend_from_slice(bytes),
            Text::Escape(kind, text) => {
                let (open, close): (&[u8], &[u8]) = match kind {
                    EscapeKind::Sgr => (b"\x1b[1;31m", b"\x1b[0m"),
                    EscapeKind::OscBel => (b"\x1b]0;", b"\x07"),
                    EscapeKind::OscSt => (b"\x1b]8;;", b"\x1b\\"),
                    EscapeKind::Unterminated => (b"\x1b]", b"\x1b["),
                    EscapeKind::C1Csi => ("\u{9b}".as_bytes(), b"2K"),
                };
                out.extend_from_slice(open);
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(close);
            }
            // Up to 128 KiB, past the longest line kept (64 KiB): megabytes made each input
            // take a second under ASan, and timeouts on a loaded machine.
            Text::Long { repeat, byte } => {
                out.extend(std::iter::repeat_n(*byte, usize::from(*repeat % 2048) * 64));
            }
        }
    }
}

/// 2024-01-01T00:00:00Z, so that every generated time is a plausible one.
const START: i64 = 1_704_067_200;

fn stamp(out: &mut Vec<u8>, second: u32, nanos: u32) {
    let at = jiff::Timestamp::from_second(START + i64::from(second)).expect("in range");
    let _ = write!(
        out,
        "{}.{:07}Z ",
        at.strftime("%Y-%m-%dT%H:%M:%S"),
        nanos % 10_000_000
    );
}

impl Entry {
    fn name(&self) -> String {
        let part = |name: &Name| name.file_part(self.underscored);
        match &self.place {
            Place::JobFile { ordinal, job } => format!("{ordinal}_{}.txt", part(job)),
            Place::StepFile { job, number, step } => {
                format!("{}/{number}_{}.txt", part(job), part(step))
            }
            Place::System { job } => format!("{}/system.txt", part(job)),
            Place::Prepare { job } => format!("-2147483648_{}.txt", part(job)),
            Place::Dir { job } => format!("{}/", part(job)),
            Place::Raw(name) => name.clone(),
        }
    }

    fn contents(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for line in &self.lines {
            match line {
                Line::Stamped {
                    second,
                    nanos,
                    text,
                } => {
                    stamp(&mut out, *second, *nanos);
                    text.write(&mut out);
                    out.push(b'\n');
                }
                Line::Bare(text) => {
                    text.write(&mut out);
                    out.push(b'\n');
                }
                Line::Bom { second, text } => {
                    out.extend_from_slice("\u{feff}".as_bytes());
                    stamp(&mut out, *second, 0);
                    text.write(&mut out);
                    out.push(b'\n');
                }
                Line::Crlf(text) => {
                    text.write(&mut out);
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
        out
    }
}

impl Archive {
    fn jobs(&self) -> Vec<JobInfo> {
        self.jobs
            .iter()
            .map(|job| JobInfo {
                id: u64::from(job.id),
                name: job.name.text().to_owned(),
                steps: job
                    .steps
                    .iter()
                    .map(|step| {
                        let time = |s: u16| {
                            jiff::Timestamp::from_second(START + i64::from(s)).expect("in range")
                        };
                        StepInfo {
                            number: u32::from(step.number),
                            name: step.name.text().to_owned(),
                            started_at: step.times.map(|(start, _)| time(start)),
                            completed_at: step
                                .times
                                .map(|(start, took)| time(start.saturating_add(took))),
                            conclusion: step.conclusion.as_ref().map(|c| {
                                match c {
                                    Conclusion::Success => "success",
                                    Conclusion::Failure => "failure",
                                    Conclusion::Skipped => "skipped",
                                    Conclusion::Cancelled => "cancelled",
                                }
                                .to_owned()
                            }),
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    fn zip(&self) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for entry in &self.entries {
            let method = if entry.stored {
                zip::CompressionMethod::Stored
            } else {
                zip::CompressionMethod::Deflated
            };
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(method)
                .large_file(false);
            let name = entry.name();
            if name.ends_with('/') {
                let _ = zip.add_directory(name.trim_end_matches('/'), options);
            } else if zip.start_file(name, options).is_ok() {
                let _ = zip.write_all(&entry.contents());
            }
        }
        let mut bytes = zip.finish().map(|c| c.into_inner()).unwrap_or_default();
        for &(at, xor) in &self.flips {
            if let Some(byte) = bytes.get_mut(usize::from(at)) {
                *byte ^= xor;
            }
        }
        if let Some(cut) = self.cut {
            bytes.truncate(usize::from(cut));
        }
        bytes
    }
}

fn extractor() -> &'static Extractor {
    static EXTRACTOR: OnceLock<Extractor> = OnceLock::new();
    EXTRACTOR.get_or_init(|| Extractor::new().with_threads(1).expect("a thread pool"))
}

fuzz_target!(|input: Input| {
    let id = ArchiveId {
        run_id: 1,
        attempt: 1,
    };
    let (jobs, bytes) = match &input {
        Input::Raw(bytes) => (Vec::new(), bytes.clone()),
        Input::Zip(archive) => (archive.jobs(), archive.zip()),
    };
    let Ok(log) = extractor().extract_bytes(id, &jobs, &bytes) else {
        return;
    };
    let parts = log
        .jobs
        .iter()
        .flat_map(|job| &job.parts)
        .chain(&log.unmatched);
    for part in parts {
        for line in part.lines() {
            assert!(
                !line.text.contains(['\n', '\r', '\x1b']),
                "{:?} in {:?}",
                line.text,
                part.entry
            );
        }
    }
});
