//! Entries inflated in chunks and lines handed on in batches: what comes out is what a whole
//! read gives, however large an entry, however repetitive, however long a line.

use std::io::{Cursor, Write};
use std::ops::ControlFlow;
use std::sync::Arc;

use logidx_extract::{
    ArchiveId, AttemptLog, Batch, CUT_MARKER, Extractor, JobInfo, MAX_LINE_BYTES, Section, StepInfo,
};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

const ID: ArchiveId = ArchiveId {
    run_id: 7,
    attempt: 2,
};

fn deflated(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true);
    for (name, data) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn step(number: u32, name: &str) -> StepInfo {
    StepInfo {
        number,
        name: name.into(),
        started_at: None,
        completed_at: None,
        conclusion: Some("success".into()),
    }
}

fn jobs() -> Vec<JobInfo> {
    vec![JobInfo {
        id: 1,
        name: "build".into(),
        steps: vec![
            step(1, "Set up job"),
            step(2, "Run make"),
            step(3, "Run test"),
        ],
    }]
}

/// Every batch `extract_stream` hands on.
fn stream(bytes: &[u8]) -> Vec<Batch> {
    let mut batches = Vec::new();
    Extractor::new()
        .extract_stream(ID, &jobs(), Cursor::new(bytes), |batch| {
            batches.push(batch);
            ControlFlow::Continue(())
        })
        .unwrap();
    batches
}

/// Each line as (job, step, number, text), as extract_bytes gives them and as the batches do.
type Placed = (Option<u64>, Option<u32>, u32, String);

fn placed_of_log(log: &AttemptLog) -> Vec<Placed> {
    log.lines()
        .map(|l| (l.job_id, l.step_number, l.line_number, l.text.to_owned()))
        .collect()
}

fn placed_of_batches(batches: &[Batch]) -> Vec<Placed> {
    batches
        .iter()
        .flat_map(|b| b.lines())
        .map(|l| (l.job_id, l.step_number, l.line_number, l.text.to_owned()))
        .collect()
}

/// A whole-job log of `lines` lines, in three steps, to be attributed as it streams.
fn job_log(lines: usize) -> Vec<u8> {
    let mut log = b"2024-01-28T19:27:20.0000000Z Requested labels: ubuntu-latest\n".to_vec();
    log.extend_from_slice(b"2024-01-28T19:27:21.0000000Z Current runner version: '2.321.0'\n");
    for (start, title) in [(0, "make"), (lines / 2, "test")] {
        writeln!(log, "2024-01-28T19:27:22.0000000Z ##[group]Run {title}").unwrap();
        for i in start..start + lines / 2 {
            writeln!(log, "2024-01-28T19:27:23.{i:07}Z line {i} of {title}").unwrap();
        }
    }
    log
}

#[test]
fn a_streamed_archive_gives_the_lines_of_a_whole_read_in_batches_of_about_a_mebibyte() {
    let log = job_log(300_000);
    let bytes = deflated(&[("0_build.txt", &log), ("build/system.txt", b"runner\n")]);
    let batches = stream(&bytes);
    let whole = Extractor::new().extract_bytes(ID, &jobs(), &bytes).unwrap();
    assert_eq!(placed_of_batches(&batches), placed_of_log(&whole));
    assert!(batches.len() > 8, "{} batches", batches.len());
    assert!(batches.iter().all(|b| b.lines.text_len() < 2 << 20));
    // Each part's batches come together, numbered on from the last.
    let parts: Vec<Section> = batches
        .iter()
        .enumerate()
        .filter(|(i, b)| *i == 0 || !Arc::ptr_eq(&batches[i - 1].part, &b.part))
        .map(|(_, b)| b.part.section)
        .collect();
    assert_eq!(
        parts,
        [
            Section::Preamble,
            Section::Step(1),
            Section::Step(2),
            Section::Step(3),
            Section::System
        ]
    );
}

#[test]
fn a_repetitive_entry_compressing_past_1000x_is_read_whole() {
    // A progress bar redrawn over and over (`\r` between frames): lines of a MiB, 64 MiB
    // in all, compress past what the 200x ratio refused.
    let line = format!("{}\n", "=".repeat((1 << 20) - 1));
    let log = line.repeat(64);
    let bytes = deflated(&[("0_build.txt", log.as_bytes())]);
    let ratio = log.len() / bytes.len();
    assert!(ratio > 1000, "compresses {ratio}x only");
    let marker = format!(
        "{}{CUT_MARKER}{} bytes]",
        "=".repeat(MAX_LINE_BYTES),
        (1 << 20) - 1
    );
    let mut lines = 0;
    let streamed = Extractor::new()
        .extract_stream(ID, &jobs(), Cursor::new(&bytes), |batch| {
            assert!(batch.lines().all(|l| l.text == marker));
            lines += batch.lines.len();
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!((lines, streamed.lines), (64, 64));
}

#[test]
fn a_line_of_20_mib_is_cut_with_its_marker_and_the_next_keeps_its_number() {
    let huge = 20 << 20;
    let mut log = b"2024-01-28T19:27:21.0000000Z ##[group]Run make\n".to_vec();
    log.extend_from_slice(b"2024-01-28T19:27:22.0000000Z ");
    log.extend(std::iter::repeat_n(b'x', huge));
    log.extend_from_slice(b"\n2024-01-28T19:27:23.0000000Z after the long line\n");
    let bytes = deflated(&[("build/2_Run make.txt", &log)]);
    let lines = placed_of_batches(&stream(&bytes));
    assert_eq!(lines.len(), 3);
    let (_, step, number, text) = &lines[1];
    assert_eq!((*step, *number), (Some(2), 2));
    assert_eq!(
        text.as_str(),
        format!("{}{CUT_MARKER}{huge} bytes]", "x".repeat(MAX_LINE_BYTES))
    );
    assert_eq!(
        lines[2],
        (Some(1), Some(2), 3, "after the long line".to_owned())
    );
    let whole = Extractor::new().extract_bytes(ID, &jobs(), &bytes).unwrap();
    assert_eq!(placed_of_log(&whole), lines);
}

#[test]
fn an_empty_step_file_is_one_empty_batch_and_a_sink_can_stop() {
    let bytes = deflated(&[
        ("build/1_Set up job.txt", b""),
        ("build/2_Run make.txt", b"one\ntwo\n"),
    ]);
    let batches = stream(&bytes);
    let sizes: Vec<(Section, usize)> = batches
        .iter()
        .map(|b| (b.part.section, b.lines.len()))
        .collect();
    assert_eq!(sizes, [(Section::Step(1), 0), (Section::Step(2), 2)]);
    let stopped = Extractor::new()
        .extract_stream(ID, &jobs(), Cursor::new(&bytes), |_| ControlFlow::Break(()));
    let error = stopped.unwrap_err();
    assert!(
        matches!(error, logidx_extract::Error::Stopped { .. }),
        "{error:?}"
    );
}
