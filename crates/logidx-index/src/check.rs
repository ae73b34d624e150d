//! `Index::check`: what `logidx doctor` reports. Every file of the live segments of both
//! tantivy indexes (tantivy's and our plugins') against the checksum of its footer, each
//! `meta.json` parsed, then, when every file is whole, every attempt record against the steps
//! the index holds for it.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::index::Index;
use crate::model::AttemptState;
use crate::query::Query;
use crate::read_only::ReadOnlyDirectory;
use crate::search::GroupBy;

/// What [`Index::check`] found: healthy when both lists are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// The index directory.
    pub path: PathBuf,
    /// Files checked.
    pub files_checked: u64,
    /// Files that are missing, cut short or garbled: the index must be rebuilt (delete the
    /// directory and sync again), as texts are shared by every attempt.
    pub damaged_files: Vec<DamagedFile>,
    /// Runs whose records and steps disagree: re-fetch them (`logidx doctor --repair`
    /// deletes them, so that the next sync fetches them again).
    pub incomplete_runs: Vec<IncompleteRun>,
}

impl CheckReport {
    /// Nothing damaged, nothing incomplete.
    pub fn is_healthy(&self) -> bool {
        self.damaged_files.is_empty() && self.incomplete_runs.is_empty()
    }
}

/// A file of the index that does not read back as written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DamagedFile {
    /// Its name in the index directory (`steps/UUID.seq`).
    pub file: String,
    /// What is wrong with it.
    pub problem: String,
}

/// A run whose attempts' steps are not all there, or steps without a record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IncompleteRun {
    /// `owner/name`.
    pub repo: String,
    /// The run.
    pub run_id: u64,
    /// Its attempts recorded as indexed: the ones to fetch again.
    pub attempts: Vec<u32>,
    /// What disagrees.
    pub problem: String,
}

impl Index {
    /// Checks the index in `dir` without writing to it: see [`CheckReport`]. Fails only when
    /// `dir` holds no index of this version (what [`Index::open_read_only`] refuses for that).
    pub fn check(dir: impl AsRef<Path>) -> Result<CheckReport> {
        let dir = dir.as_ref();
        let mut report = CheckReport {
            path: dir.to_path_buf(),
            ..CheckReport::default()
        };
        // A writer at work (a sync) merges segments and deletes the merged ones' files: a
        // file that vanished under a `meta.json` that changed since is checked again.
        const TRIES: usize = 5;
        for _ in 0..TRIES {
            let metas_before = metas(dir);
            report.files_checked = 0;
            report.damaged_files.clear();
            for name in ["texts", "steps"] {
                check_files(dir, name, &mut report);
            }
            if report.damaged_files.is_empty() || metas(dir) == metas_before {
                break;
            }
        }
        if !report.damaged_files.is_empty() {
            return Ok(report);
        }
        let index = match Index::open_read_only(dir) {
            Ok(index) => index,
            Err(error @ Error::SchemaVersion { .. }) => return Err(error),
            Err(error) => {
                report.damaged_files.push(DamagedFile {
                    file: String::new(),
                    problem: chain(&error),
                });
                return Ok(report);
            }
        };
        // Tantivy panics on some garbled data its checksums did not see.
        match catch_unwind(AssertUnwindSafe(|| check_records(&index))) {
            Ok(Ok(incomplete)) => report.incomplete_runs = incomplete,
            Ok(Err(error)) => report.damaged_files.push(DamagedFile {
                file: String::new(),
                problem: chain(&error),
            }),
            Err(_) => report.damaged_files.push(DamagedFile {
                file: String::new(),
                problem: "reading the steps panicked".to_owned(),
            }),
        }
        Ok(report)
    }
}

/// Both `meta.json` files as they are now (what a writer's commit changes).
fn metas(dir: &Path) -> [Option<Vec<u8>>; 2] {
    ["texts", "steps"].map(|name| std::fs::read(dir.join(name).join("meta.json")).ok())
}

/// An error with its causes, `a: b: c`.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Checks `dir/name`'s `meta.json` and every file of its live segments.
fn check_files(dir: &Path, name: &str, report: &mut CheckReport) {
    let mut damaged = |file: String, problem: String| {
        report.damaged_files.push(DamagedFile { file, problem });
    };
    let meta = format!("{name}/meta.json");
    report.files_checked += 1;
    match std::fs::read(dir.join(&meta)) {
        Ok(bytes) => {
            if let Err(error) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                return damaged(meta, format!("does not parse: {error}"));
            }
        }
        Err(error) => return damaged(meta, format!("cannot be read: {error}")),
    }
    let path = dir.join(name);
    // Its `meta.json` parses: what tantivy then refuses names its file (`.managed.json`, …).
    let index = match ReadOnlyDirectory::open(&path).and_then(tantivy::Index::open) {
        Ok(index) => index,
        Err(error) => return damaged(format!("{name}/"), chain(&error)),
    };
    let metas = match index.searchable_segment_metas() {
        Ok(metas) => metas,
        Err(error) => return damaged(meta, chain(&error)),
    };
    let Ok(entries) = std::fs::read_dir(&path) else {
        return damaged(name.to_owned(), "cannot be listed".to_owned());
    };
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Some((segment, _)) = file.split_once('.') {
            files.entry(segment.to_owned()).or_default().push(file);
        }
    }
    for segment in &metas {
        let id = segment.id().uuid_string();
        let Some(segment_files) = files.get(&id) else {
            damaged(format!("{name}/{id}.*"), "missing".to_owned());
            continue;
        };
        for file in segment_files {
            report.files_checked += 1;
            let whole = catch_unwind(AssertUnwindSafe(|| {
                index.directory().validate_checksum(Path::new(file))
            }));
            let problem = match whole {
                Ok(Ok(true)) => continue,
                Ok(Ok(false)) => "its checksum does not match: it is garbled".to_owned(),
                Ok(Err(error)) => format!("cannot be read (cut short?): {}", chain(&error)),
                Err(_) => "reading it panicked".to_owned(),
            };
            damaged(format!("{name}/{file}"), problem);
        }
    }
}

/// Every run's lines as its attempts' records have them against the lines of its steps (per
/// run: job ids, the finest key a count groups by, need not differ between attempts); steps
/// without a record.
fn check_records(index: &Index) -> Result<Vec<IncompleteRun>> {
    type Key = (String, u64);
    // Per run: its repository as written, its attempts recorded indexed, and their lines.
    let mut recorded: BTreeMap<Key, (String, Vec<u32>, u64)> = BTreeMap::new();
    for record in index.attempts(None)? {
        let attempt = &record.attempt;
        let key = (attempt.repo.to_lowercase(), attempt.run_id);
        let run = recorded
            .entry(key)
            .or_insert_with(|| (attempt.repo.clone(), Vec::new(), 0));
        if let AttemptState::Indexed { lines, .. } = record.state {
            run.1.push(attempt.run_attempt);
            run.2 += lines;
        }
    }
    let counts = index.count(&Query::parse("")?, GroupBy::Run)?;
    let mut found: BTreeMap<Key, (String, u64)> = BTreeMap::new();
    for (key, lines) in &counts.groups {
        let Some(place) = counts.places.get(key) else {
            continue;
        };
        let run = &place.run;
        let key = (run.repo.to_lowercase(), run.run_id);
        found.entry(key).or_insert_with(|| (run.repo.clone(), 0)).1 += lines;
    }
    let mut incomplete = Vec::new();
    for (key, (repo, attempts, lines)) in &recorded {
        let held = found.get(key).map_or(0, |(_, lines)| *lines);
        if *lines != held {
            incomplete.push(IncompleteRun {
                repo: repo.clone(),
                run_id: key.1,
                attempts: attempts.clone(),
                problem: format!("its records have {lines} lines, its steps {held}"),
            });
        }
    }
    for (key, (repo, lines)) in &found {
        if !recorded.contains_key(key) {
            incomplete.push(IncompleteRun {
                repo: repo.clone(),
                run_id: key.1,
                attempts: Vec::new(),
                problem: format!("{lines} lines of it, but no record"),
            });
        }
    }
    Ok(incomplete)
}

#[cfg(test)]
mod tests {
    use tantivy::{IndexWriter, Term};

    use super::*;
    use crate::model::StepMeta;
    use crate::writer::tests::{attempt, step};

    #[test]
    fn a_healthy_index_is_healthy_and_a_missing_step_makes_its_run_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        let mut lint = step(&["b", "c"]);
        lint.meta = StepMeta {
            job_id: 2,
            ..lint.meta
        };
        writer
            .add_attempt(&attempt(7), &[step(&["a"]), lint])
            .unwrap();
        writer.add_attempt(&attempt(8), &[step(&["a"])]).unwrap();
        writer.commit().unwrap();
        drop(writer);
        let report = Index::check(dir.path()).unwrap();
        assert!(report.is_healthy(), "{report:?}");
        assert!(report.files_checked > 2, "{report:?}");

        // Job 2's step gone from under its record, as a lost write would leave it.
        let mut raw: IndexWriter = index.steps.writer_with_num_threads(1, 15_000_000).unwrap();
        raw.delete_term(Term::from_field_text(index.step_fields.job, "2"));
        raw.commit().unwrap();
        drop(raw);
        let report = Index::check(dir.path()).unwrap();
        assert!(report.damaged_files.is_empty(), "{report:?}");
        assert_eq!(
            report.incomplete_runs,
            [IncompleteRun {
                repo: "acme/widgets".to_owned(),
                run_id: 7,
                attempts: vec![1],
                problem: "its records have 3 lines, its steps 1".to_owned(),
            }]
        );
    }
}
