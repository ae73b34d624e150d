//! An index over fakehub's corpus through its life: search, show, records, replace, delete,
//! collection, version refusal and the writer lock.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use logidx_index::{
    AttemptState, Deletion, Error, GroupBy, Index, Query, Selection, WriterOptions, tokenize,
};

use crate::nanos;
use logidx_test_support::{Corpus, PerLine};

fn indexed(corpus: &Corpus) -> (tempfile::TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    let mut writer = index
        .writer_with(WriterOptions::default().commit_every_lines(3_000))
        .unwrap();
    for (attempt, steps) in &corpus.attempts {
        writer.add_attempt(attempt, steps).unwrap();
    }
    writer.commit().unwrap();
    drop(writer);
    (dir, index)
}

#[test]
fn finds_every_line_of_a_phrase_newest_first_with_context() {
    let corpus = Corpus::fakehub(12, 200);
    let (_dir, index) = indexed(&corpus);
    let per_line = PerLine::build(
        None,
        corpus
            .lines()
            .enumerate()
            .map(|(n, (_, _, _, l))| (n as u64, nanos(l.timestamp), l.text.as_str())),
        1,
    );
    let expected = per_line.matching(&Query::text("\"test result\"").unwrap());
    assert!(!expected.is_empty(), "the corpus has test results");

    let query = Query::parse("\"test result\"")
        .unwrap()
        .limit(usize::MAX)
        .context(2, 1);
    let hits = index.search(&query).unwrap();
    assert_eq!(hits.len(), expected.len());
    assert!(hits.windows(2).all(|w| w[0].timestamp >= w[1].timestamp));
    for hit in &hits {
        let (_, steps) = corpus
            .attempts
            .iter()
            .find(|(a, _)| a.run_id == hit.run.run_id && a.run_attempt == hit.run.run_attempt)
            .unwrap();
        let step = steps
            .iter()
            .find(|s| {
                s.meta.job_id == hit.step.job_id && s.meta.step_number == hit.step.step_number
            })
            .unwrap();
        let at = hit.line_number as usize - 1;
        assert_eq!(step.lines[at].text, hit.text);
        assert_eq!(step.lines[at].timestamp, hit.timestamp);
        let before: Vec<_> = step.lines[at.saturating_sub(2)..at]
            .iter()
            .map(|l| &l.text)
            .collect();
        assert_eq!(
            hit.before.iter().map(|c| &c.text).collect::<Vec<_>>(),
            before
        );
        assert_eq!(hit.after.len(), usize::from(at + 1 < step.lines.len()));
        assert_eq!(
            hit.url,
            format!(
                "https://github.com/acme/widgets/actions/runs/{}/job/{}#step:{}:{}",
                hit.run.run_id, hit.step.job_id, hit.step.step_number, hit.line_number
            )
        );
    }
    let ghes = index
        .search(
            &query
                .clone()
                .limit(1)
                .web_base(logidx_urls::web_base("https://ghe.example.com/api/v3")),
        )
        .unwrap();
    assert!(
        ghes[0]
            .url
            .starts_with("https://ghe.example.com/acme/widgets/actions/runs/")
    );

    let counts = index.count(&query, GroupBy::Day).unwrap();
    assert_eq!(counts.total, expected.len() as u64);
    assert_eq!(
        counts.groups.iter().map(|(_, n)| n).sum::<u64>(),
        counts.total
    );
    assert!(
        counts
            .groups
            .iter()
            .all(|(day, _)| day.len() == 10 && day.starts_with("20"))
    );
}

#[test]
fn shows_a_job_and_records_each_attempt() {
    let corpus = Corpus::fakehub(6, 100);
    let (_dir, index) = indexed(&corpus);
    let (attempt, steps) = &corpus.attempts[2];
    let job_id = steps[0].meta.job_id;
    let shown = index
        .show(&Selection {
            repo: attempt.repo.to_uppercase(),
            run_id: attempt.run_id,
            run_attempt: Some(attempt.run_attempt),
            job_id: Some(job_id),
            step_number: None,
        })
        .unwrap();
    let expected: Vec<_> = steps.iter().filter(|s| s.meta.job_id == job_id).collect();
    assert_eq!(shown.len(), expected.len());
    for (shown, step) in shown.iter().zip(expected) {
        assert_eq!(shown.step, step.meta);
        assert_eq!(shown.lines, step.lines);
        assert_eq!(&shown.run, attempt);
    }

    let lines: u64 = steps.iter().map(|s| s.lines.len() as u64).sum();
    let record = index
        .attempt("acme/widgets", attempt.run_id, attempt.run_attempt)
        .unwrap()
        .unwrap();
    let AttemptState::Indexed {
        steps: steps_indexed,
        lines: lines_indexed,
        jobs,
    } = record.state
    else {
        panic!("{record:?}");
    };
    assert_eq!((steps_indexed, lines_indexed), (steps.len() as u64, lines));
    let mut expected: Vec<(u64, &str)> = steps
        .iter()
        .map(|s| (s.meta.job_id, s.meta.job_conclusion.as_str()))
        .collect();
    expected.dedup();
    let recorded: Vec<(u64, &str)> = jobs
        .iter()
        .map(|j| (j.job_id, j.conclusion.as_str()))
        .collect();
    assert_eq!(recorded, expected);
    assert_eq!(
        index.attempts(Some("ACME/widgets")).unwrap().len(),
        corpus.attempts.len()
    );
    assert_eq!(index.attempts(Some("acme/other")).unwrap().len(), 0);
}

#[test]
fn replacing_an_attempt_and_uncommitted_work() {
    let corpus = Corpus::fakehub(3, 100);
    let (_dir, index) = indexed(&corpus);
    let (attempt, steps) = &corpus.attempts[0];
    let run_query = Query::parse(&format!(
        "run:{} attempt:{}",
        attempt.run_id, attempt.run_attempt
    ))
    .unwrap();
    let lines = index.count(&run_query, GroupBy::Nothing).unwrap().total;
    assert!(lines > 0);

    // Adding it again replaces it: no line twice.
    let mut writer = index.writer().unwrap();
    writer.add_attempt(attempt, steps).unwrap();
    writer.commit().unwrap();
    assert_eq!(
        index.count(&run_query, GroupBy::Nothing).unwrap().total,
        lines
    );

    // Marking it gone removes its steps, but only once committed.
    let gone = AttemptState::Gone {
        reason: "HTTP 410".to_owned(),
    };
    writer.mark_attempt(attempt, gone.clone()).unwrap();
    assert_eq!(
        index.count(&run_query, GroupBy::Nothing).unwrap().total,
        lines
    );
    drop(writer);
    index.reload().unwrap();
    assert_eq!(
        index.count(&run_query, GroupBy::Nothing).unwrap().total,
        lines
    );

    let mut writer = index.writer().unwrap();
    writer.mark_attempt(attempt, gone.clone()).unwrap();
    writer.commit().unwrap();
    assert_eq!(index.count(&run_query, GroupBy::Nothing).unwrap().total, 0);
    let record = index
        .attempt(&attempt.repo, attempt.run_id, attempt.run_attempt)
        .unwrap()
        .unwrap();
    assert_eq!(record.state, gone);
}

#[test]
fn deletes_runs_and_collects_their_texts() {
    let corpus = Corpus::fakehub(8, 100);
    let (_dir, index) = indexed(&corpus);
    let everything = Query::default().limit(usize::MAX);
    let all_lines = corpus.lines().count() as u64;
    assert_eq!(
        index.count(&everything, GroupBy::Nothing).unwrap().total,
        all_lines
    );

    let (first, first_steps) = &corpus.attempts[0];
    let mut writer = index.writer().unwrap();
    let stats = writer
        .delete(&Deletion::Run {
            repo: first.repo.clone(),
            run_id: first.run_id,
        })
        .unwrap();
    let first_run: Vec<_> = corpus
        .attempts
        .iter()
        .filter(|(a, _)| a.run_id == first.run_id)
        .collect();
    assert_eq!(stats.attempts, first_run.len() as u64);
    assert_eq!(
        stats.steps,
        first_run.iter().map(|(_, s)| s.len() as u64).sum::<u64>()
    );
    let remaining = all_lines
        - first_run
            .iter()
            .flat_map(|(_, s)| s)
            .map(|s| s.lines.len() as u64)
            .sum::<u64>();
    assert_eq!(
        index.count(&everything, GroupBy::Nothing).unwrap().total,
        remaining
    );
    assert!(
        index
            .attempt(&first.repo, first.run_id, first.run_attempt)
            .unwrap()
            .is_none()
    );

    // Put it back: texts collected a moment ago are added again, and found again.
    writer.add_attempt(first, first_steps).unwrap();
    writer.commit().unwrap();
    let shown = index
        .show(&Selection {
            repo: first.repo.clone(),
            run_id: first.run_id,
            run_attempt: Some(first.run_attempt),
            job_id: None,
            step_number: None,
        })
        .unwrap();
    assert_eq!(
        shown.iter().map(|s| s.lines.clone()).collect::<Vec<_>>(),
        first_steps
            .iter()
            .map(|s| s.lines.clone())
            .collect::<Vec<_>>()
    );

    // By age: runs created before the newest one.
    let newest = corpus
        .attempts
        .iter()
        .map(|(a, _)| a.run_created_at)
        .max()
        .unwrap();
    let stats = writer.delete(&Deletion::CreatedBefore(newest)).unwrap();
    assert!(stats.steps > 0);
    let left: Vec<_> = corpus
        .attempts
        .iter()
        .filter(|(a, _)| a.run_created_at >= newest)
        .collect();
    let left_lines: u64 = left
        .iter()
        .flat_map(|(_, s)| s)
        .map(|s| s.lines.len() as u64)
        .sum();
    assert_eq!(
        index.count(&everything, GroupBy::Nothing).unwrap().total,
        left_lines
    );

    // By repository: nothing left, every text collected.
    let stats = writer
        .delete(&Deletion::Repo("ACME/Widgets".to_owned()))
        .unwrap();
    assert_eq!(stats.attempts, left.len() as u64);
    assert!(stats.texts > 0);
    assert_eq!(index.count(&everything, GroupBy::Nothing).unwrap().total, 0);
    assert_eq!(
        writer.collect_garbage().unwrap(),
        0,
        "nothing is left to collect"
    );
}

#[test]
fn refuses_other_schema_versions_and_foreign_directories() {
    let dir = tempfile::tempdir().unwrap();
    drop(Index::open(dir.path()).unwrap());
    std::fs::write(dir.path().join("logidx-index-version"), "999").unwrap();
    let err = Index::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, Error::SchemaVersion { ref found, .. } if found == "999"),
        "{err:?}"
    );
    assert!(
        err.hint()
            .is_some_and(|h| h.contains("delete the directory")),
        "{err}"
    );

    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join("notes.txt"), "mine").unwrap();
    let err = Index::open(foreign.path()).unwrap_err();
    assert!(matches!(err, Error::SchemaVersion { .. }), "{err:?}");

    // This version's number with other fields (written by a build between releases).
    let other = tempfile::tempdir().unwrap();
    drop(Index::open(other.path()).unwrap());
    let steps = other.path().join("steps");
    std::fs::remove_dir_all(&steps).unwrap();
    std::fs::create_dir(&steps).unwrap();
    let mut fields = tantivy::schema::Schema::builder();
    fields.add_bytes_field("meta", tantivy::schema::STORED);
    tantivy::Index::create_in_dir(&steps, fields.build()).unwrap();
    let err = Index::open(other.path()).unwrap_err();
    assert!(
        matches!(err, Error::SchemaVersion { ref found, .. } if found.contains("other fields")),
        "{err:?}"
    );
}

#[test]
fn a_second_writer_is_refused_while_readers_go_on() {
    let corpus = Corpus::fakehub(2, 50);
    let (dir, index) = indexed(&corpus);
    let _writer = index.writer().unwrap();
    let other = Index::open(dir.path()).unwrap();
    let err = other.writer().unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "is being written by another logidx (pid {})",
            std::process::id()
        )),
        "{message}"
    );
    let total = other
        .count(&Query::default(), GroupBy::Nothing)
        .unwrap()
        .total;
    assert_eq!(total, corpus.lines().count() as u64);
}

#[test]
fn counts_split_among_threads_add_up_to_the_lines() {
    // Each word is in over 512 steps: a count splits them among the cores (a thread per 256
    // steps), so on a machine of two cores or more this checks the split.
    let corpus = Corpus::fakehub(60, 40);
    let (_dir, index) = indexed(&corpus);
    let mut times: Vec<Timestamp> = corpus.lines().map(|(_, _, _, l)| l.timestamp).collect();
    times.sort_unstable();
    let middle = times[times.len() / 2];
    let day_name = |at: Timestamp| at.strftime("%Y-%m-%d").to_string();
    for word in ["run", "cargo", "test"] {
        let holds = |text: &str| tokenize(text).iter().any(|t| t == word);
        let mut by_job: BTreeMap<String, u64> = BTreeMap::new();
        let mut job_names: BTreeMap<String, (u64, String)> = BTreeMap::new();
        let mut by_day: BTreeMap<String, u64> = BTreeMap::new();
        let mut steps = BTreeSet::new();
        let mut since_middle = 0;
        for (run, step, _, line) in corpus.lines().filter(|(_, _, _, l)| holds(&l.text)) {
            *by_job.entry(step.job_id.to_string()).or_default() += 1;
            job_names.insert(step.job_id.to_string(), (run.run_id, step.job_name.clone()));
            *by_day.entry(day_name(line.timestamp)).or_default() += 1;
            steps.insert((run.run_id, run.run_attempt, step.job_id, step.step_number));
            since_middle += u64::from(line.timestamp >= middle);
        }
        assert!(steps.len() > 512, "`{word}` is in {} steps", steps.len());
        let query = Query::text(word).unwrap();
        let counts = index.count(&query, GroupBy::Job).unwrap();
        assert_eq!(counts.total, by_job.values().sum::<u64>(), "{word}");
        assert_eq!(
            counts.groups,
            by_job.into_iter().collect::<Vec<_>>(),
            "{word}"
        );
        // Each group names its job, whichever thread counted it.
        let names: BTreeMap<String, (u64, String)> = counts
            .places
            .iter()
            .map(|(key, place)| (key.clone(), (place.run.run_id, place.step.job_name.clone())))
            .collect();
        assert_eq!(names, job_names, "{word}");
        let days = index.count(&query, GroupBy::Day).unwrap();
        assert_eq!(
            days.groups,
            by_day.into_iter().collect::<Vec<_>>(),
            "{word}"
        );
        let later = index.count(&query.since(middle), GroupBy::Nothing).unwrap();
        assert_eq!(later.total, since_middle, "{word}");
    }
}

/// An index of a small corpus whose files with `extension` were given to `damage`; returns
/// it and their names.
fn damaged(
    dir: &str,
    extension: &str,
    damage: impl Fn(&std::path::Path),
) -> (tempfile::TempDir, Index, Vec<String>) {
    let corpus = Corpus::fakehub(3, 20);
    let (tempdir, index) = indexed(&corpus);
    drop(index);
    let mut names = Vec::new();
    for entry in std::fs::read_dir(tempdir.path().join(dir)).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == extension) {
            damage(&path);
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(!names.is_empty(), "no `.{extension}` file");
    let index = Index::open(tempdir.path()).unwrap();
    (tempdir, index, names)
}

/// That `err` says the index is corrupt and names one of the `damaged` files.
fn assert_names_a_damaged_file(err: Error, damaged: &[String]) {
    let message = err.to_string();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(
        damaged.iter().any(|file| message.contains(file.as_str())),
        "{message}"
    );
}

#[test]
fn a_damaged_sequence_file_is_an_error_naming_it() {
    let (_dir, index, damaged) = damaged("steps", "seq", |path| {
        // Inside the first zstd frame, which starts the file.
        let mut bytes = std::fs::read(path).unwrap();
        bytes[6] ^= 0xff;
        std::fs::write(path, bytes).unwrap();
    });
    let err = index
        .count(&Query::default(), GroupBy::Nothing)
        .unwrap_err();
    assert_names_a_damaged_file(err, &damaged);
}

#[test]
fn a_damaged_text_id_table_is_an_error_naming_it() {
    let (_dir, index, damaged) = damaged("texts", "ids", give_each_id_no_document);
    let err = index.search(&Query::parse("run").unwrap()).unwrap_err();
    assert_names_a_damaged_file(err, &damaged);
}

#[test]
fn damaged_text_postings_are_an_error_naming_them() {
    let (_dir, index, damaged) = damaged("steps", "tids", |path| {
        // The mark that ends our part of the file.
        let mut bytes = std::fs::read(path).unwrap();
        let mark = own_mark(&bytes, b"1txl");
        bytes[mark] ^= 1;
        std::fs::write(path, bytes).unwrap();
    });
    // A rare text: its steps are found through the postings.
    let err = index
        .search(&Query::parse("\"test result\"").unwrap())
        .unwrap_err();
    assert_names_a_damaged_file(err, &damaged);
}

#[test]
fn an_attempt_that_fails_half_way_adds_no_step() {
    // With the text id tables damaged, reading a committed text fails.
    let (_dir, index, _) = damaged("texts", "ids", give_each_id_no_document);
    // The corpus `damaged` indexed.
    let corpus = Corpus::fakehub(3, 20);
    let mut writer = index.writer().unwrap();
    // A new run: a step of new texts, then a step of texts the index already holds.
    let (attempt, steps) = &corpus.attempts[0];
    let mut attempt = attempt.clone();
    attempt.run_id += 1_000_000;
    let mut fresh = steps[0].clone();
    for line in &mut fresh.lines {
        line.text = format!("never seen before: {}", line.text);
    }
    let err = writer
        .add_attempt(&attempt, &[fresh, steps[0].clone()])
        .unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    writer.commit().unwrap();
    let run = Query::parse(&format!("run:{}", attempt.run_id)).unwrap();
    assert_eq!(index.count(&run, GroupBy::Nothing).unwrap().total, 0);
    assert!(
        index
            .attempt(&attempt.repo, attempt.run_id, attempt.run_attempt)
            .unwrap()
            .is_none()
    );
}

/// Where the mark that ends our part of a segment file is (tantivy appends a footer of its
/// own after it).
fn own_mark(bytes: &[u8], mark: &[u8; 4]) -> usize {
    bytes
        .windows(4)
        .rposition(|w| w == mark)
        .expect("the file has our mark")
}

/// Damages a `.ids` file (the ids, their documents, `u32` each, the count and the mark) so
/// that each id names a document past the segment's last.
fn give_each_id_no_document(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mark = own_mark(&bytes, b"1ixl");
    let count = u32::from_le_bytes(bytes[mark - 4..mark].try_into().unwrap()) as usize;
    bytes[mark - 4 - count * 4..mark - 4].fill(0xff);
    std::fs::write(path, bytes).unwrap();
}
