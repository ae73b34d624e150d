//! Real archives, read from `$LOGIDX_FIXTURES` (by default from where CI lays them out); they
//! are not in the repository, so these tests are ignored by default:
//! `cargo test -p logidx-extract -- --ignored`.

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;

use logidx_extract::{
    ArchiveId, Attribution, Extractor, JobInfo, Lines, Section, StepInfo, Warning,
};

const ID: ArchiveId = ArchiveId {
    run_id: 1,
    attempt: 1,
};

/// `$LOGIDX_FIXTURES`, or the fixtures directory beside the checkout, as CI lays it out.
fn fixtures_root() -> PathBuf {
    std::env::var_os("LOGIDX_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        })
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(fixtures_root().join(path)).unwrap()
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

fn job(id: u64, name: &str, steps: &[(u32, &str)]) -> JobInfo {
    JobInfo {
        id,
        name: name.into(),
        steps: steps.iter().map(|&(n, s)| step(n, s)).collect(),
    }
}

/// gh's hand-made archive: its jobs as gh's tests name them (cli/cli pkg/cmd/run/view).
#[test]
#[ignore = "needs the shared fixtures"]
fn cli_cli_archive_maps_every_job_as_gh_does() {
    let bytes = fixture("cli-cli/run_log.zip");
    let long = "thisisnineteenchars_".repeat(5);
    let emoji = format!("Emoji Test {}", "😅".repeat(50));
    let jobs = [
        job(10, "cool job", &[(1, "fob the barz"), (2, "barz the fob")]),
        job(20, "sad job", &[(1, "barf the quux"), (2, "quux the barf")]),
        job(30, "ad job", &[(1, "barf the quux")]),
        job(40, "cool job / with slash", &[(1, "fob the barz")]),
        job(50, "cool job : with colon", &[(1, "fob the barz")]),
        job(60, &long, &[(1, "Long Name Job")]),
        job(70, &emoji, &[(1, "Emoji Job")]),
        job(80, "not in the archive", &[(1, "x")]),
    ];
    let log = Extractor::new().extract_bytes(ID, &jobs, &bytes).unwrap();
    let found: Vec<(u64, Vec<Section>)> = log
        .jobs
        .iter()
        .map(|j| (j.job_id, j.parts.iter().map(|p| p.section).collect()))
        .collect();
    let one = vec![Section::Step(1)];
    let two = vec![Section::Step(1), Section::Step(2)];
    assert_eq!(
        found,
        [
            (10, two.clone()),
            (20, two),
            (30, one.clone()),
            (40, one.clone()),
            (50, one.clone()),
            (60, one.clone()),
            (70, one),
        ]
    );
    assert_eq!(log.missing_jobs, [80]);
    assert!(
        log.unmatched.is_empty() && log.warnings.is_empty(),
        "{:?}",
        log.warnings
    );
    let ad_job: Vec<&str> = log.jobs[2].parts[0].lines().map(|l| l.text).collect();
    assert_eq!(ad_job, ["whatever"]);
    let cool: Vec<(Option<u32>, u32, &str)> = log.jobs[0]
        .parts
        .iter()
        .flat_map(|p| p.lines())
        .map(|l| (l.step_number, l.line_number, l.text))
        .collect();
    assert_eq!(cool[3], (Some(2), 1, "log line 1"));
    assert!(log.lines().all(|l| l.timestamp.is_none()));
}

/// The steps of a job as the API would list them, read off the archive's step files: the
/// numbers and names in the file names, the times their first and last lines show.
fn steps_from_step_files(bytes: &[u8], dir: &str) -> Vec<(StepInfo, Lines)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut steps = Vec::new();
    for index in 0..zip.len() {
        let mut file = zip.by_index(index).unwrap();
        let name = file.name().unwrap().into_owned();
        let Some(rest) = name.strip_prefix(&format!("{dir}/")) else {
            continue;
        };
        let Some((number, name)) = rest.strip_suffix(".txt").and_then(|s| s.split_once('_')) else {
            continue;
        };
        let (number, name) = (number.parse().unwrap(), name.to_owned());
        let mut data = Vec::new();
        file.read_to_end(&mut data).unwrap();
        let lines = Lines::parse(&data);
        // Whole seconds, as the API gives them (these logs are after 1970: no rounding).
        let second = |stamp: Option<jiff::Timestamp>| {
            stamp.map(|t| jiff::Timestamp::from_second(t.as_second()).unwrap())
        };
        let stamps: Vec<Option<jiff::Timestamp>> = lines.iter().map(|l| l.timestamp).collect();
        let info = StepInfo {
            number,
            name,
            started_at: second(stamps.first().copied().flatten()),
            completed_at: second(stamps.last().copied().flatten()),
            conclusion: Some("success".into()),
        };
        steps.push((info, lines));
    }
    steps.sort_by_key(|(s, _)| s.number);
    steps
}

fn only_entry(bytes: &[u8], name: &str) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut data = Vec::new();
    zip.by_name(name).unwrap().read_to_end(&mut data).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    out.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    out.write_all(&data).unwrap();
    out.finish().unwrap().into_inner()
}

#[test]
#[ignore = "needs the shared fixtures"]
fn gato_x_step_files_and_attribution_agree() {
    let bytes = fixture("gato-x/run_log.zip");
    let steps = steps_from_step_files(&bytes, "build (3.10)");
    let info = |with_times: bool| JobInfo {
        id: 9,
        name: "build (3.10)".into(),
        steps: steps
            .iter()
            .map(|(s, _)| StepInfo {
                started_at: s.started_at.filter(|_| with_times),
                completed_at: s.completed_at.filter(|_| with_times),
                ..s.clone()
            })
            .collect(),
    };

    let log = Extractor::new()
        .extract_bytes(ID, &[info(true)], &bytes)
        .unwrap();
    assert_eq!(log.jobs[0].attribution, Attribution::StepFiles);
    assert_eq!(
        log.warnings,
        [Warning::UnmatchedFile {
            entry: "-2147483648_build.txt".into()
        }]
    );
    let truth: Vec<(Option<u32>, u32)> = log.jobs[0]
        .parts
        .iter()
        .flat_map(|p| p.lines())
        .map(|l| (l.step_number, l.line_number))
        .collect();
    assert_eq!(log.jobs[0].parts[0].section, Section::Preamble);
    assert_eq!(log.jobs[0].parts[0].lines.len(), 4);

    let job_only = only_entry(&bytes, "0_build (3.10).txt");
    for with_times in [true, false] {
        let log = Extractor::new()
            .extract_bytes(ID, &[info(with_times)], &job_only)
            .unwrap();
        assert_eq!(log.jobs[0].attribution, Attribution::Inferred);
        let got: Vec<(Option<u32>, u32)> = log
            .lines()
            .map(|l| (l.step_number, l.line_number))
            .collect();
        assert_eq!(got.len(), truth.len());
        let right = got.iter().zip(&truth).filter(|(a, b)| a == b).count();
        eprintln!(
            "gato-x, step times {with_times}: {right} of {} lines right ({:.4}%)",
            truth.len(),
            right as f64 * 100.0 / truth.len() as f64
        );
        assert_eq!(right, truth.len());
    }
}

#[test]
#[ignore = "needs the shared fixtures"]
fn geerlingguy_crlf_logs_parse_cleanly() {
    let root = fixtures_root();
    let mut files = 0;
    for entry in std::fs::read_dir(root.join("geerlingguy")).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let lines = Lines::parse(&data);
        assert!(
            lines
                .iter()
                .all(|l| !l.text.contains(['\r', '\u{1b}', '\u{feff}']))
        );
        assert!(lines.iter().all(|l| l.timestamp.is_some()));
        files += 1;
    }
    assert!(files >= 20);
}
