//! Random archives that are zips (random entry names as both of GitHub's services write them,
//! and any; random lines: timestamps, markers, escape sequences, BOMs, CRs, invalid UTF-8,
//! long lines), whole, truncated or with bytes changed, through `extract_bytes`: an error
//! naming the attempt or lines without line ends, CRs or ESC, never a panic. The fuzz target
//! `fuzz/fuzz_targets/extract.rs` runs the same longer.

use std::io::{Cursor, Write};

use logidx_extract::{ArchiveId, Extractor, JobInfo, StepInfo};
use proptest::prelude::*;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

const ID: ArchiveId = ArchiveId {
    run_id: 9,
    attempt: 1,
};

const JOB_NAMES: &[&str] = &[
    "build",
    "test (ubuntu-24.04, 3.11)",
    "build / lint",
    "deploy: prod",
    "evil \x1b]0;x\x07\u{9b}2J\0",
];

fn job_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(JOB_NAMES).prop_map(str::to_owned),
        ".{0,12}"
    ]
}

/// An entry's name: a whole-job file, a step file, `system.txt`, the legacy prepare file, a
/// directory, or anything.
fn entry_name() -> impl Strategy<Value = String> {
    let file_part = |name: String, underscored: bool| {
        name.replace(['/', ':'], if underscored { "_" } else { "" })
    };
    prop_oneof![
        (0u8..5, job_name(), any::<bool>())
            .prop_map(move |(n, job, u)| format!("{n}_{}.txt", file_part(job, u))),
        (job_name(), 0u8..12, job_name(), any::<bool>()).prop_map(move |(job, n, step, u)| {
            format!("{}/{n}_{}.txt", file_part(job, u), file_part(step, u))
        }),
        job_name().prop_map(|job| format!("{job}/system.txt")),
        job_name().prop_map(|job| format!("-2147483648_{job}.txt")),
        job_name().prop_map(|job| format!("{job}/")),
        ".{0,20}",
    ]
}

fn line() -> impl Strategy<Value = Vec<u8>> {
    let text = prop_oneof![
        4 => "[ -~]{0,30}".prop_map(String::into_bytes),
        4 => prop::sample::select(&[
            "##[group]Run cargo test",
            "##[endgroup]",
            "##[error]boom",
            "##[warning]careful",
            "##[section]Starting: Build",
            "Post job cleanup.",
            "\x1b[1;31mred\x1b[0m",
            "\x1b]0;title\x07after",
            "\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\",
            "\x1b]unterminated",
            "\u{9b}2J \u{85}",
            "\u{feff}",
            "\r",
        ][..])
        .prop_map(|s| s.as_bytes().to_vec()),
        4 => prop::collection::vec(any::<u8>(), 0..24),
        // Longer than the longest line kept.
        1 => (60_000usize..140_000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
    ];
    (
        prop::option::of((0u32..86_400, 0u32..10_000_000)),
        prop::collection::vec(text, 0..4),
    )
        .prop_map(|(stamp, parts)| {
            let mut line = Vec::new();
            if let Some((second, fraction)) = stamp {
                let at = jiff::Timestamp::from_second(1_706_400_000 + i64::from(second)).unwrap();
                let _ = write!(line, "{}.{fraction:07}Z ", at.strftime("%Y-%m-%dT%H:%M:%S"));
            }
            parts.iter().for_each(|p| line.extend_from_slice(p));
            line.push(b'\n');
            line
        })
}

fn entry() -> impl Strategy<Value = (String, bool, Vec<u8>)> {
    (
        entry_name(),
        any::<bool>(),
        prop::collection::vec(line(), 0..12).prop_map(|lines| lines.concat()),
    )
}

fn zip_of(entries: &[(String, bool, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, stored, data) in entries {
        let method = if *stored {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let options = SimpleFileOptions::default().compression_method(method);
        if let Some(dir) = name.strip_suffix('/') {
            let _ = zip.add_directory(dir, options);
        } else if zip.start_file(name.as_str(), options).is_ok() {
            zip.write_all(data).unwrap();
        }
    }
    zip.finish().unwrap().into_inner()
}

fn jobs() -> impl Strategy<Value = Vec<JobInfo>> {
    prop::collection::vec(
        (
            job_name(),
            prop::collection::vec((0u32..12, job_name()), 0..5),
        ),
        0..4,
    )
    .prop_map(|jobs| {
        jobs.into_iter()
            .enumerate()
            .map(|(i, (name, steps))| JobInfo {
                id: 100 + i as u64,
                name,
                steps: steps
                    .into_iter()
                    .map(|(number, name)| StepInfo {
                        number,
                        name,
                        started_at: None,
                        completed_at: None,
                        conclusion: None,
                    })
                    .collect(),
            })
            .collect()
    })
}

/// How the archive reaches extraction: whole, cut short, or with bytes changed.
#[derive(Debug, Clone)]
enum Damage {
    None,
    Truncated(prop::sample::Index),
    Mutated(Vec<(prop::sample::Index, u8)>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        2 => Just(Damage::None),
        1 => any::<prop::sample::Index>().prop_map(Damage::Truncated),
        1 => prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
            .prop_map(Damage::Mutated),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_zips_are_read_or_refused_never_a_panic(
        entries in prop::collection::vec(entry(), 0..6),
        jobs in jobs(),
        damage in damage(),
    ) {
        let mut bytes = zip_of(&entries);
        match damage {
            Damage::None => {}
            Damage::Truncated(at) => bytes.truncate(at.index(bytes.len())),
            Damage::Mutated(changes) => {
                for (at, value) in changes {
                    let at = at.index(bytes.len());
                    bytes[at] = value;
                }
            }
        }
        match Extractor::new().extract_bytes(ID, &jobs, &bytes) {
            Err(error) => prop_assert!(
                error.to_string().contains("run `9` attempt `1`"),
                "{}",
                error
            ),
            Ok(log) => {
                let parts = log.jobs.iter().flat_map(|j| &j.parts).chain(&log.unmatched);
                for part in parts {
                    for line in part.lines() {
                        prop_assert!(
                            !line.text.contains(['\n', '\r', '\x1b']),
                            "{:?} in {:?}",
                            line.text,
                            part.entry
                        );
                    }
                }
            }
        }
    }
}
