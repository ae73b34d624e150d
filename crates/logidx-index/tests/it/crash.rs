//! A writer killed mid-commit leaves an index that opens, is consistent, and takes a new writer.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use logidx_index::{AttemptState, GroupBy, Index, Query};

use logidx_test_support::Corpus;

const CHILD_DIR: &str = "LOGIDX_TEST_CRASH_CHILD_DIR";

/// In the child: commit attempt after attempt, under new run ids, until killed.
fn write_until_killed(dir: &str) -> ! {
    let corpus = Corpus::fakehub(4, 300);
    let index = Index::open(dir).unwrap();
    let mut writer = index.writer().unwrap();
    for generation in 0u64.. {
        for (attempt, steps) in &corpus.attempts {
            let mut attempt = attempt.clone();
            attempt.run_id += generation * 1_000_000;
            writer.add_attempt(&attempt, steps).unwrap();
            writer.commit().unwrap();
        }
    }
    unreachable!("the loop ends when the process is killed")
}

#[test]
fn a_writer_killed_mid_commit_leaves_a_consistent_index() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        write_until_killed(&dir);
    }
    let dir = tempfile::tempdir().unwrap();
    // Created before the child starts, so the two do not race to create it.
    drop(Index::open(dir.path()).unwrap());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::a_writer_killed_mid_commit_leaves_a_consistent_index",
        ])
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a few commits are in, while it is busy with the next ones.
    let give_up = Instant::now() + Duration::from_secs(120);
    loop {
        let committed = Index::open(dir.path())
            .ok()
            .and_then(|index| index.attempts(None).ok())
            .map_or(0, |records| records.len());
        if committed >= 3 || Instant::now() > give_up {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the writing child exited on its own: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let index = Index::open(dir.path()).unwrap();
    let records = index.attempts(None).unwrap();
    assert!(
        records.len() >= 3,
        "the child committed {} attempts",
        records.len()
    );
    let mut total = 0;
    for record in &records {
        let AttemptState::Indexed { lines, .. } = record.state else {
            panic!("only indexed attempts were written: {record:?}");
        };
        let query = Query::parse(&format!(
            "run:{} attempt:{}",
            record.attempt.run_id, record.attempt.run_attempt
        ))
        .unwrap();
        assert_eq!(index.count(&query, GroupBy::Nothing).unwrap().total, lines);
        total += lines;
    }
    // No step without its record: every line belongs to a recorded attempt.
    assert_eq!(
        index
            .count(&Query::default(), GroupBy::Nothing)
            .unwrap()
            .total,
        total
    );
    // Every line's text is there.
    let hits = index
        .search(&Query::default().limit(200).context(1, 1))
        .unwrap();
    assert_eq!(hits.len(), 200);
    // The lock died with the child.
    let mut writer = index.writer().unwrap();
    writer.collect_garbage().unwrap();
}
