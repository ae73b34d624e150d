//! Hostile and broken archives: refused with an error naming the attempt, never a panic.

use std::io::{Cursor, Write};
use std::ops::ControlFlow;

use logidx_extract::{ArchiveId, Corruption, Error, Extractor, JobInfo, Limits, Warning};
use proptest::prelude::*;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

const ID: ArchiveId = ArchiveId {
    run_id: 7,
    attempt: 2,
};

fn zip_of(files: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(method);
    for (name, data) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn jobs() -> Vec<JobInfo> {
    vec![JobInfo {
        id: 1,
        name: "build".into(),
        steps: Vec::new(),
    }]
}

fn names_the_attempt(error: &Error) {
    assert!(error.to_string().contains("run `7` attempt `2`"), "{error}");
}

#[test]
fn an_entry_over_the_entry_cap_is_refused_naming_the_entry_the_cap_and_the_flag() {
    let bytes = zip_of(
        &[("0_build.txt", &[b'x'; 2_000])],
        CompressionMethod::Stored,
    );
    let limits = Limits {
        max_entry_bytes: 1_024,
        ..Limits::default()
    };
    let extractor = Extractor::new().with_limits(limits);
    let whole = extractor.extract_bytes(ID, &jobs(), &bytes).unwrap_err();
    let streamed = extractor
        .extract_stream(ID, &jobs(), Cursor::new(&bytes), |_| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
    for error in [whole, streamed] {
        assert!(matches!(error, Error::EntryTooLarge { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            "entry `0_build.txt` of the archive of run `7` attempt `2` declares `2000` bytes, over the entry cap of `1 KiB`"
        );
        assert!(error.hint().unwrap().contains("`sync --max-entry-size`"));
    }
}

#[test]
fn an_archive_over_the_archive_cap_is_refused_at_the_entry_that_crosses_it() {
    let bytes = zip_of(
        &[("0_build.txt", &[b'x'; 600]), ("notes.txt", &[b'y'; 600])],
        CompressionMethod::Stored,
    );
    let limits = Limits {
        max_archive_bytes: 1_000,
        ..Limits::default()
    };
    let error = Extractor::new()
        .with_limits(limits)
        .extract_bytes(ID, &jobs(), &bytes)
        .unwrap_err();
    assert!(matches!(error, Error::ArchiveTooLarge { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "archive of run `7` attempt `2` inflates past the archive cap of `1000 bytes` at entry `notes.txt`"
    );
    assert!(error.hint().unwrap().contains("`sync --max-archive-size`"));
}

/// Sets every size field of a one-entry zip (local header and central directory) to `size`.
fn lie_about_size(bytes: &mut [u8], size: u32) {
    let local = 0;
    bytes[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
    let central = bytes
        .windows(4)
        .position(|w| w == [0x50, 0x4b, 0x01, 0x02])
        .unwrap();
    bytes[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
}

#[test]
fn an_entry_that_lies_about_its_size_is_refused_and_never_handed_on() {
    let mut bytes = zip_of(
        &[("0_build.txt", &vec![b'0'; 8 << 20])],
        CompressionMethod::Deflated,
    );
    lie_about_size(&mut bytes, 100);
    let whole = Extractor::new().extract_bytes(ID, &jobs(), &bytes);
    let mut handed_on = 0;
    let streamed = Extractor::new().extract_stream(ID, &jobs(), Cursor::new(&bytes), |batch| {
        handed_on += batch.lines.text_len();
        ControlFlow::Continue(())
    });
    for error in [whole.unwrap_err(), streamed.unwrap_err()] {
        assert!(
            matches!(
                error,
                Error::CorruptEntry {
                    source: Corruption::MoreThanDeclared { declared: 100 },
                    ..
                }
            ),
            "{error:?}"
        );
        names_the_attempt(&error);
    }
    assert!(handed_on <= 100, "{handed_on}");
}

#[test]
fn a_crc_mismatch_is_an_error() {
    let mut bytes = zip_of(
        &[("0_build.txt", b"hello world\n")],
        CompressionMethod::Stored,
    );
    let at = bytes.windows(5).position(|w| w == b"hello").unwrap();
    bytes[at] = b'j';
    let error = Extractor::new()
        .extract_bytes(ID, &jobs(), &bytes)
        .unwrap_err();
    assert!(matches!(error, Error::CorruptEntry { .. }), "{error:?}");
    names_the_attempt(&error);
}

/// Overwrites a field of a one-entry zip in its local header (at `local`) and its central
/// directory record (at `central`).
fn patch(bytes: &mut [u8], local: usize, central: usize, value: &[u8]) {
    let record = bytes
        .windows(4)
        .position(|w| w == [0x50, 0x4b, 0x01, 0x02])
        .unwrap();
    bytes[local..local + value.len()].copy_from_slice(value);
    bytes[record + central..record + central + value.len()].copy_from_slice(value);
}

fn deflated_entry() -> Vec<u8> {
    zip_of(
        &[(
            "0_build.txt",
            &b"2024-01-28T19:27:26.0547628Z hello\n".repeat(100),
        )],
        CompressionMethod::Deflated,
    )
}

fn assert_corrupt_entry(bytes: &[u8]) {
    let error = Extractor::new()
        .extract_bytes(ID, &jobs(), bytes)
        .unwrap_err();
    assert!(matches!(error, Error::CorruptEntry { .. }), "{error:?}");
    names_the_attempt(&error);
}

#[test]
fn a_deflated_entry_whose_crc_does_not_match_is_an_error() {
    let mut bytes = deflated_entry();
    let crc = u32::from_le_bytes(bytes[14..18].try_into().unwrap());
    patch(&mut bytes, 14, 16, &(crc ^ 1).to_le_bytes());
    assert_corrupt_entry(&bytes);
}

#[test]
fn a_deflate_stream_that_ends_early_is_an_error() {
    let mut bytes = deflated_entry();
    let compressed = u32::from_le_bytes(bytes[18..22].try_into().unwrap());
    patch(&mut bytes, 18, 20, &(compressed / 2).to_le_bytes());
    assert_corrupt_entry(&bytes);
}

#[test]
fn an_entry_whose_data_runs_past_the_archive_is_an_error() {
    let mut bytes = deflated_entry();
    let past_the_end = bytes.len() as u32 * 2;
    patch(&mut bytes, 18, 20, &past_the_end.to_le_bytes());
    assert_corrupt_entry(&bytes);
}

#[test]
fn an_entry_of_another_size_than_it_declares_is_an_error() {
    let actual = 35 * 100;
    for declared in [actual / 2, actual - 1, actual + 1, actual * 2] {
        let mut bytes = deflated_entry();
        lie_about_size(&mut bytes, declared);
        assert_corrupt_entry(&bytes);
    }
}

#[test]
fn entries_compressed_otherwise_or_encrypted_are_errors() {
    let mut bzip2 = deflated_entry();
    patch(&mut bzip2, 8, 10, &12u16.to_le_bytes());
    assert_corrupt_entry(&bzip2);
    let mut encrypted = deflated_entry();
    patch(&mut encrypted, 6, 8, &1u16.to_le_bytes());
    assert_corrupt_entry(&encrypted);
}

#[test]
fn a_truncated_archive_is_an_error_naming_the_attempt() {
    let bytes = zip_of(
        &[(
            "0_build.txt",
            &b"2024-01-28T19:27:26.0547628Z hello\n".repeat(100),
        )],
        CompressionMethod::Deflated,
    );
    for cut in (0..bytes.len()).step_by(7) {
        match Extractor::new().extract_bytes(ID, &jobs(), &bytes[..cut]) {
            Ok(_) => {}
            Err(error) => names_the_attempt(&error),
        }
    }
    let error = Extractor::new()
        .extract_bytes(ID, &jobs(), &bytes[..bytes.len() / 2])
        .unwrap_err();
    assert!(matches!(error, Error::NotZip { .. }), "{error:?}");
}

#[test]
fn unsafe_names_are_ignored() {
    let bytes = zip_of(
        &[
            ("../0_build.txt", b"evil\n"),
            ("/etc/passwd", b"evil\n"),
            ("build/../../1_x.txt", b"evil\n"),
            ("0_build.txt", b"good\n"),
        ],
        CompressionMethod::Deflated,
    );
    let log = Extractor::new().extract_bytes(ID, &jobs(), &bytes).unwrap();
    let texts: Vec<&str> = log.lines().map(|l| l.text).collect();
    assert_eq!(texts, ["good"]);
    let unsafe_names = log
        .warnings
        .iter()
        .filter(|w| matches!(w, Warning::UnsafeName { .. }))
        .count();
    assert_eq!(unsafe_names, 3);
}

#[test]
fn an_empty_archive_is_fine() {
    let bytes = zip_of(&[], CompressionMethod::Deflated);
    let log = Extractor::new().extract_bytes(ID, &jobs(), &bytes).unwrap();
    assert!(log.jobs.is_empty());
    assert_eq!(log.missing_jobs, [1]);
    assert!(log.unmatched.is_empty() && log.warnings.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        if let Err(error) = Extractor::new().extract_bytes(ID, &jobs(), &bytes) {
            names_the_attempt(&error);
        }
    }

    #[test]
    fn flipped_bytes_in_a_real_archive_never_panic(at in 0usize..10_000, value: u8) {
        let mut bytes = zip_of(
            &[
                ("build/1_Set up job.txt", b"2024-01-28T19:27:26.0547628Z hello\n".as_slice()),
                ("0_build.txt", b"2024-01-28T19:27:26.0547628Z Requested labels: x\n".as_slice()),
            ],
            CompressionMethod::Deflated,
        );
        let at = at % bytes.len();
        bytes[at] = value;
        if let Err(error) = Extractor::new().extract_bytes(ID, &jobs(), &bytes) {
            names_the_attempt(&error);
        }
    }
}
