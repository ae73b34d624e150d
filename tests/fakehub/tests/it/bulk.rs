//! Bulk logs (issue 19): a line repeated until its step's file compresses past 1,000×, a job log of a
//! given size, a line of many MiB; planted where `World::bulk_log` says, deterministic from the
//! seed, the rest of the corpus as it was, and served over HTTP from their spools.

use std::io::{BufRead, BufReader, Cursor};

use fakehub::{BulkKind, BulkLog, Config, Layout, LogLine, REPEATED_TEXT, World};

use crate::{client, get, get_json, hub};

const REPO: &str = "acme/widgets";

fn world(config: Config) -> World {
    World::generate(Config {
        end: Some("2026-11-01T00:00:00Z".parse().unwrap()),
        ..config
    })
    .unwrap()
}

fn zip_of(bytes: &[u8]) -> zip::ZipArchive<Cursor<&[u8]>> {
    zip::ZipArchive::new(Cursor::new(bytes)).unwrap()
}

/// The names of a bulk log's two files in its archive: its step's file (`None` in a job-only
/// archive) and its job's whole-job file.
fn files_of(world: &World, bulk: &BulkLog) -> (Option<String>, String) {
    let owners = world
        .archive_owners(REPO, bulk.run_id, bulk.attempt)
        .unwrap();
    let mine = || {
        owners
            .iter()
            .filter(|(_, owner)| *owner == Some(bulk.job_id))
            .map(|(name, _)| name.as_str())
    };
    let step = mine()
        .find(|n| {
            n.rsplit('/')
                .next()
                .unwrap()
                .starts_with(&format!("{}_", bulk.step))
        })
        .filter(|n| n.contains('/'))
        .map(str::to_owned);
    let job = mine()
        .find(|n| !n.contains('/') && !n.starts_with('-'))
        .unwrap()
        .to_owned();
    (step, job)
}

/// An entry's lines, line ends removed, read as they inflate.
fn entry_lines(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Vec<Vec<u8>> {
    let entry = zip.by_name(name).unwrap();
    BufReader::new(entry)
        .split(b'\n')
        .map(|l| {
            let mut l = l.unwrap();
            if l.last() == Some(&b'\r') {
                l.pop();
            }
            l
        })
        .collect()
}

/// A line's text without its BOM and timestamp prefix.
fn text_of(line: &[u8]) -> &[u8] {
    let line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
    let stamped = line.len() > 29 && line[..4].iter().all(u8::is_ascii_digit) && line[28] == b' ';
    if stamped { &line[29..] } else { line }
}

#[test]
fn a_repeated_line_compresses_past_1000x_and_every_copy_is_there() {
    let lines = 40_000_000;
    let world = world(Config {
        runs: 6,
        repeated_lines: lines,
        layout: Some(Layout::JobAndSteps),
        ..Config::default()
    });
    let bulk = world.bulk_log(BulkKind::Repeated).unwrap().clone();
    assert_eq!(world.bulk_logs().len(), 1);
    assert_eq!((bulk.lines, bulk.text_bytes), (lines, lines));
    let bytes = world.archive(REPO, bulk.run_id, bulk.attempt).unwrap();
    let (step, job) = files_of(&world, &bulk);
    let step = step.expect("a job-and-steps archive has step files");
    let mut zip = zip_of(&bytes);
    // The whole-job file, with the job's other lines too, gets there at a few hundred MiB.
    for (name, over) in [(&step, 1000.0), (&job, 500.0)] {
        let entry = zip.by_name(name).unwrap();
        let ratio = entry.size() as f64 / entry.compressed_size() as f64;
        assert!(ratio > over, "{name}: {ratio:.0}×");
    }
    assert_eq!(zip.by_name(&job).unwrap().size(), bulk.job_log_bytes);

    // The first copy has a timestamp; the others are continuation lines; then the step goes on.
    let file = entry_lines(&mut zip, &step);
    let first = bulk.first_line as usize - 1;
    assert!(file[first].len() > 29 && text_of(&file[first]) == REPEATED_TEXT.as_bytes());
    let copies = &file[first + 1..first + lines as usize];
    assert!(copies.iter().all(|l| l == REPEATED_TEXT.as_bytes()));
    assert_ne!(
        text_of(&file[first + lines as usize]),
        REPEATED_TEXT.as_bytes()
    );
}

#[test]
fn a_repeated_line_is_in_the_job_log_where_the_archive_has_it() {
    let world = world(Config {
        runs: 6,
        repeated_lines: 5_000,
        layout: Some(Layout::JobAndSteps),
        ..Config::default()
    });
    let bulk = world.bulk_log(BulkKind::Repeated).unwrap();
    let log = world.job_log(REPO, bulk.job_id).unwrap();
    let step = log.steps.iter().find(|s| s.number == bulk.step).unwrap();
    let first = bulk.first_line as usize - 1;
    let planted = &step.lines[first..first + bulk.lines as usize];
    assert!(planted.iter().all(|l| l.text == REPEATED_TEXT.as_bytes()));
    assert!(!planted[0].continuation && planted[1..].iter().all(|l| l.continuation));
    same_files(&world, bulk, &step.lines);
}

/// The step's file in the archive holds `truth`'s texts, line for line.
fn same_files(world: &World, bulk: &BulkLog, truth: &[LogLine]) {
    let bytes = world.archive(REPO, bulk.run_id, bulk.attempt).unwrap();
    let (step, _) = files_of(world, bulk);
    let file = entry_lines(&mut zip_of(&bytes), &step.unwrap());
    let file: Vec<&[u8]> = file.iter().map(|l| text_of(l)).collect();
    let want: Vec<&[u8]> = truth.iter().map(|l| l.text.as_slice()).collect();
    assert_eq!(want.len() as u64, bulk.step_lines);
    assert!(file == want, "the step file is its lines");
}

#[test]
fn a_huge_log_is_as_big_as_asked_stamped_line_by_line_and_in_its_step() {
    let size = 24 << 20;
    let world = world(Config {
        runs: 6,
        huge_log_bytes: size,
        layout: Some(Layout::JobAndSteps),
        ..Config::default()
    });
    let bulk = world.bulk_log(BulkKind::HugeLog).unwrap().clone();
    assert!(bulk.job_log_bytes <= size && bulk.job_log_bytes > size - (64 << 10));
    let bytes = world.archive(REPO, bulk.run_id, bulk.attempt).unwrap();
    let (step_file, job_file) = files_of(&world, &bulk);
    let mut zip = zip_of(&bytes);
    assert_eq!(zip.by_name(&job_file).unwrap().size(), bulk.job_log_bytes);
    let ratio = {
        let entry = zip.by_name(&job_file).unwrap();
        entry.size() as f64 / entry.compressed_size() as f64
    };
    assert!(
        (3.0..100.0).contains(&ratio),
        "compresses as logs do: {ratio:.1}×"
    );

    // Every line has its timestamp, in order, in the step's file and in the whole-job file.
    for name in [step_file.as_ref().unwrap(), &job_file] {
        let file = entry_lines(&mut zip, name);
        let stamps: Vec<&[u8]> = file
            .iter()
            .filter(|l| text_of(l).len() < l.len())
            .map(|l| &l[l.len() - text_of(l).len() - 29..][..28])
            .collect();
        assert!(stamps.len() as u64 >= bulk.lines, "{name}");
        assert!(
            stamps.windows(2).all(|w| w[0] <= w[1]),
            "{name} is in order"
        );
    }

    // The ground truth has them where the file has them, and their text is as varied as CI's.
    let log = world.job_log(REPO, bulk.job_id).unwrap();
    assert_eq!(log.line_count() as u64, bulk.job_log_lines);
    let job_file = entry_lines(&mut zip, &job_file);
    assert_eq!(job_file.len() as u64, bulk.job_log_lines);
    let step = log.steps.iter().find(|s| s.number == bulk.step).unwrap();
    same_files(&world, &bulk, &step.lines);
    let first = bulk.first_line as usize - 1;
    let planted = &step.lines[first..first + bulk.lines as usize];
    assert!(planted.windows(2).all(|w| w[0].ticks < w[1].ticks));
    let text: u64 = planted.iter().map(|l| l.text.len() as u64).sum();
    assert_eq!(text, bulk.text_bytes);
    let distinct: std::collections::HashSet<String> =
        planted.iter().map(LogLine::plain_text).collect();
    let share = distinct.len() as f64 / planted.len() as f64;
    assert!(
        (0.01..0.5).contains(&share),
        "{:.1}% distinct",
        100.0 * share
    );

    // The step ran as long as its lines say; the API's times agree.
    let repo = world.repo(REPO).unwrap();
    let (_, job) = repo.job(bulk.job_id).unwrap();
    let api_step = job.steps.iter().find(|s| s.number == bulk.step).unwrap();
    let last = planted.last().unwrap().ticks / 10_000_000;
    assert!(api_step.completed_at.unwrap() > last);
    assert!(
        step.lines[first + planted.len()..]
            .iter()
            .all(|l| l.ticks > planted.last().unwrap().ticks)
    );
}

#[test]
fn a_huge_line_is_one_line_of_the_size_asked_and_the_step_goes_on_after_it() {
    let bytes = 20 << 20;
    let world = world(Config {
        runs: 6,
        huge_line_bytes: bytes,
        layout: Some(Layout::JobAndSteps),
        ..Config::default()
    });
    let bulk = world.bulk_log(BulkKind::HugeLine).unwrap().clone();
    assert_eq!((bulk.lines, bulk.text_bytes), (1, bytes as u64));
    let log = world.job_log(REPO, bulk.job_id).unwrap();
    let step = log.steps.iter().find(|s| s.number == bulk.step).unwrap();
    let first = bulk.first_line as usize - 1;
    assert_eq!(step.lines[first].text.len(), bytes);
    assert!(step.lines[first].text.starts_with(b"[command]/usr/bin/cc "));
    assert!(step.lines.len() > first + 1, "lines follow the huge one");
    same_files(&world, &bulk, &step.lines);
}

#[test]
fn bulk_logs_are_the_same_for_a_seed_and_leave_the_rest_as_it_was() {
    let config = Config {
        runs: 8,
        repeated_lines: 3_000,
        huge_log_bytes: 2 << 20,
        huge_line_bytes: 300_000,
        ..Config::default()
    };
    let a = world(config.clone());
    let b = world(config.clone());
    let plain = world(Config {
        repeated_lines: 0,
        huge_log_bytes: 0,
        huge_line_bytes: 0,
        ..config.clone()
    });
    assert_eq!(a.bulk_logs(), b.bulk_logs());
    assert_eq!(a.bulk_logs().len(), 3);
    let runs: std::collections::HashSet<u64> = a.bulk_logs().iter().map(|b| b.run_id).collect();
    assert_eq!(runs.len(), 3, "each in a run of its own");
    for bulk in a.bulk_logs() {
        let archive = a.archive(REPO, bulk.run_id, bulk.attempt).unwrap();
        assert_eq!(archive, b.archive(REPO, bulk.run_id, bulk.attempt).unwrap());
        assert_ne!(
            archive,
            plain.archive(REPO, bulk.run_id, bulk.attempt).unwrap()
        );
    }
    let other = world(Config { seed: 8, ..config });
    let huge = |w: &World| w.bulk_log(BulkKind::HugeLog).unwrap().clone();
    assert_ne!(
        a.job_text(REPO, huge(&a).job_id),
        other.job_text(REPO, huge(&other).job_id)
    );
    let repo = a.repo(REPO).unwrap();
    for run in &repo.runs {
        if runs.contains(&run.id) {
            continue;
        }
        for attempt in &run.attempts {
            let n = attempt.number;
            assert_eq!(a.archive(REPO, run.id, n), plain.archive(REPO, run.id, n));
        }
    }
}

#[tokio::test]
async fn a_spooled_archive_and_job_log_are_served_whole() {
    let hub = hub(Config {
        runs: 6,
        huge_log_bytes: 6 << 20,
        repeated_lines: 200_000,
        not_ready_for: std::time::Duration::ZERO,
        ..Config::default()
    })
    .await;
    let bulks: Vec<BulkLog> = hub.with_world(|w| w.bulk_logs().to_vec());
    for bulk in bulks {
        let path = format!(
            "/repos/{REPO}/actions/runs/{}/attempts/{}/logs",
            bulk.run_id, bulk.attempt
        );
        let response = get(&hub, &path).await;
        assert_eq!(response.status(), 302, "{path}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let response = client().get(location).send().await.unwrap();
        let length = response.content_length().unwrap();
        let body = response.bytes().await.unwrap();
        assert_eq!(body.len() as u64, length);
        let want = hub.with_world(|w| w.archive(REPO, bulk.run_id, bulk.attempt).unwrap());
        assert!(
            body == want,
            "{:?}: the archive served is the world's",
            bulk.kind
        );

        let response = get(
            &hub,
            &format!("/repos/{REPO}/actions/jobs/{}/logs", bulk.job_id),
        )
        .await;
        assert_eq!(response.status(), 302);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let text = client()
            .get(location)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let want = hub.with_world(|w| w.job_text(REPO, bulk.job_id).unwrap());
        assert!(
            text == want,
            "{:?}: the job log served is the world's",
            bulk.kind
        );
        let bom = hub.repo(REPO).unwrap().job(bulk.job_id).unwrap().1.bom;
        // The endpoint's BOM is the file's own when it has one.
        let added = if bom { 0 } else { 3 };
        assert_eq!(text.len() as u64, bulk.job_log_bytes + added);

        let json = get_json(&hub, &format!("/repos/{REPO}/actions/jobs/{}", bulk.job_id)).await;
        assert_eq!(json["run_id"], bulk.run_id);
    }
}
