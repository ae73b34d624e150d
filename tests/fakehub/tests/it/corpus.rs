//! The generated data: deterministic, as repetitive as real CI, archives in each layout, and
//! ground truth that agrees with what the archives hold.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use fakehub::{Conclusion, Config, DEFAULT_DISTINCT, FakeHub, Layout, LineOrigin, Status};

use crate::{client, get, hub};

/// Downloads and unpacks one attempt's archive: path → bytes.
async fn archive(hub: &FakeHub, run: u64, attempt: u32) -> BTreeMap<String, Vec<u8>> {
    let response = get(
        hub,
        &format!("/repos/acme/widgets/actions/runs/{run}/attempts/{attempt}/logs"),
    )
    .await;
    assert_eq!(response.status(), 302, "run {run} attempt {attempt}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let bytes = client()
        .get(location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (entry.name().unwrap().into_owned(), data)
        })
        .collect()
}

/// A log file's lines as (timestamp, message).
type Lines = Vec<(Option<String>, Vec<u8>)>;

/// Splits a log file into (timestamp, message) pairs, BOM and line ends removed.
fn lines(file: &[u8]) -> Lines {
    let text = file.strip_suffix(b"\n").unwrap_or(file);
    text.split(|&b| b == b'\n')
        .map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
            let stamped =
                line.len() > 29 && line[28] == b' ' && line[27] == b'Z' && line[4] == b'-';
            if stamped {
                (
                    Some(String::from_utf8(line[..28].to_vec()).unwrap()),
                    line[29..].to_vec(),
                )
            } else {
                (None, line.to_vec())
            }
        })
        .collect()
}

#[tokio::test]
async fn the_same_seed_gives_the_same_world_and_archives() {
    let end = Some("2026-11-20T00:00:00Z".parse().unwrap());
    let a = hub(Config {
        end,
        ..Config::default()
    })
    .await;
    let b = hub(Config {
        end,
        ..Config::default()
    })
    .await;
    let c = hub(Config {
        end,
        seed: 8,
        ..Config::default()
    })
    .await;
    let (ra, rb, rc) = (
        a.repo("acme/widgets").unwrap(),
        b.repo("acme/widgets").unwrap(),
        c.repo("acme/widgets").unwrap(),
    );
    let ids = |r: &fakehub::Repo| r.runs.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(&ra), ids(&rb));
    assert_ne!(ids(&ra), ids(&rc));
    let run = ra
        .runs
        .iter()
        .rev()
        .find(|r| r.latest().status == Status::Completed)
        .unwrap()
        .id;
    assert_eq!(archive(&a, run, 1).await, archive(&b, run, 1).await);
}

#[tokio::test]
async fn distinct_line_ratio_follows_the_knob() {
    let ratio = |distinct: f64| async move {
        let hub = hub(Config {
            runs: 60,
            lines_per_job: 60,
            distinct,
            ..Config::default()
        })
        .await;
        hub.corpus_summary().distinct_ratio()
    };
    let (none, default, all) = (
        ratio(0.0).await,
        ratio(DEFAULT_DISTINCT).await,
        ratio(1.0).await,
    );
    assert!(none < 0.03, "all repeats: {none}");
    assert!(
        none < default && default < all,
        "{none} < {default} < {all}"
    );
    assert!(
        all > 0.9,
        "no two lines alike but the bare ##[endgroup]: {all}"
    );
}

#[tokio::test]
async fn the_default_corpus_is_as_repetitive_as_real_ci() {
    // docs/github.md section 9: 8.2% of lines distinct in 16 real job logs of one workflow.
    let hub = hub(Config {
        runs: 300,
        ..Config::default()
    })
    .await;
    let summary = hub.corpus_summary();
    let ratio = summary.distinct_ratio();
    assert!(
        (0.06..0.11).contains(&ratio),
        "{ratio} of {} lines",
        summary.lines
    );
}

#[tokio::test]
async fn step_files_and_the_ground_truth_agree_with_the_job_file() {
    for layout in [Layout::JobAndSteps, Layout::Underscored] {
        let hub = hub(Config {
            runs: 12,
            layout: Some(layout),
            ..Config::default()
        })
        .await;
        let repo = hub.repo("acme/widgets").unwrap();
        let run = repo
            .runs
            .iter()
            .rev()
            .find(|r| r.latest().status == Status::Completed)
            .unwrap();
        let files = archive(&hub, run.id, 1).await;
        for (ordinal, job) in run.attempts[0].archived_jobs().enumerate() {
            let dir = fakehub::file_name_part(&job.name, layout);
            let job_file = lines(&files[&format!("{ordinal}_{dir}.txt")]);
            let log = hub.job_log("acme/widgets", job.id).unwrap();
            let truth = log.job_file_lines();
            assert_eq!(job_file.len(), truth.len(), "{}", job.name);
            let mut step_files: BTreeMap<u32, Lines> = BTreeMap::new();
            for step in job.steps.iter().filter(|s| s.has_log) {
                let name = format!(
                    "{dir}/{}_{}.txt",
                    step.number,
                    fakehub::file_name_part(&step.name, layout)
                );
                step_files.insert(
                    step.number,
                    lines(
                        files
                            .get(&name)
                            .unwrap_or_else(|| panic!("{name} in archive")),
                    ),
                );
            }
            for step in job.steps.iter().filter(|s| !s.has_log) {
                let prefix = format!("{dir}/{}_", step.number);
                assert!(
                    !files.keys().any(|k| k.starts_with(&prefix)),
                    "skipped step {} has no file",
                    step.number
                );
            }
            for ((stamp, text), (origin, _)) in job_file.iter().zip(&truth) {
                match origin {
                    LineOrigin {
                        step: Some(n),
                        line,
                    } => {
                        let (step_stamp, step_text) = &step_files[n][*line as usize - 1];
                        assert_eq!(text, step_text, "step {n} line {line}");
                        if let (Some(a), Some(b)) = (stamp, step_stamp) {
                            assert_ne!(a, b, "the job file is written separately");
                            assert_eq!(a[..19], b[..19], "within microseconds");
                        }
                    }
                    LineOrigin { step: None, .. } => assert!(stamp.is_some()),
                }
            }
            // Each step's first line falls in its API start second.
            for step in job.steps.iter().filter(|s| s.has_log) {
                let first = step_files[&step.number][0].0.clone().unwrap();
                let second: jiff::Timestamp = first.parse().unwrap();
                assert_eq!(
                    second.as_second(),
                    step.started_at.unwrap(),
                    "step {}",
                    step.number
                );
            }
        }
    }
}

#[tokio::test]
async fn each_layout_names_its_files_as_github_does() {
    let hub = hub(Config {
        runs: 40,
        layout: Some(Layout::JobOnly),
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let run = repo
        .runs
        .iter()
        .rev()
        .find(|r| r.latest().status == Status::Completed)
        .unwrap();
    let files = archive(&hub, run.id, run.latest().number).await;
    let jobs = run.latest().archived_jobs().count();
    assert_eq!(
        files.keys().filter(|k| k.ends_with("/system.txt")).count(),
        jobs
    );
    assert_eq!(
        files.len(),
        2 * jobs,
        "whole-job files and system.txt only: {:?}",
        files.keys()
    );

    let hub = crate::hub(Config {
        runs: 40,
        layout: Some(Layout::JobAndSteps),
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let mut legacy = 0;
    for run in repo
        .runs
        .iter()
        .filter(|r| r.latest().status == Status::Completed)
        .take(6)
    {
        let files = archive(&hub, run.id, 1).await;
        legacy += files
            .keys()
            .filter(|k| k.starts_with("-2147483648_"))
            .count();
        assert!(files.keys().all(|k| !k.contains(':')), "{:?}", files.keys());
    }
    assert!(legacy > 0, "some archives carry the legacy prepare file");
}

#[tokio::test]
async fn long_and_odd_job_names_are_cut_as_github_cuts_them() {
    let hub = hub(Config {
        runs: 80,
        layout: Some(Layout::Underscored),
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let nightly = repo
        .runs
        .iter()
        .find(|r| r.event == "schedule" && r.latest().status == Status::Completed)
        .expect("nightly runs exist");
    let files = archive(&hub, nightly.id, 1).await;
    let smoke = files
        .keys()
        .find(|k| k.contains("smokes") && k.ends_with(".txt") && !k.contains('/'))
        .unwrap();
    assert!(
        smoke.contains('\u{fffd}'),
        "a surrogate pair cut in half: {smoke}"
    );
    let long = files
        .keys()
        .find(|k| k.contains("integration") && !k.contains('/'))
        .unwrap();
    let stem = long.trim_end_matches(".txt").split_once('_').unwrap().1;
    let full = &repo.workflows[nightly.workflow].jobs[0].name;
    assert!(full.encode_utf16().count() > fakehub::NAME_LIMIT);
    assert!(stem.encode_utf16().count() <= fakehub::NAME_LIMIT, "{stem}");
    assert!(
        full.replace('/', "_").starts_with(stem) && stem.len() > 80,
        "{stem} cut from {full}"
    );

    let push = repo
        .runs
        .iter()
        .find(|r| r.event == "push" && r.latest().status == Status::Completed)
        .unwrap();
    let files = archive(&hub, push.id, 1).await;
    assert!(
        files.keys().any(|k| k.contains("docs _ build")),
        "`/` becomes `_`: {:?}",
        files.keys()
    );
    assert!(
        files.keys().any(|k| k.contains("deploy_ preview")),
        "`:` becomes `_`: {:?}",
        files.keys()
    );
}

#[tokio::test]
async fn partial_reruns_archive_only_the_rerun_jobs_and_skipped_jobs_have_no_log() {
    let hub = hub(Config {
        runs: 150,
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let run = repo.runs.iter().find(|r| r.is_partial_rerun()).unwrap();
    let files = archive(&hub, run.id, 2).await;
    let whole_job_files = files
        .keys()
        .filter(|k| !k.contains('/') && !k.starts_with('-'))
        .count();
    let rerun = run.attempts[1]
        .jobs
        .iter()
        .filter(|j| j.run_attempt == 2)
        .count();
    assert_eq!(whole_job_files, rerun);
    assert!(rerun < run.attempts[1].jobs.len());

    let pr = repo
        .runs
        .iter()
        .find(|r| r.event == "pull_request" && r.workflow == 0)
        .unwrap();
    let deploy = pr.attempts[0]
        .jobs
        .iter()
        .find(|j| j.name.contains("deploy"))
        .unwrap();
    assert_eq!(deploy.conclusion, Some(Conclusion::Skipped));
    assert!(pr.attempts[0].archived_jobs().all(|j| j.id != deploy.id));
}

#[tokio::test]
async fn planted_failures_show_in_the_failing_step_and_flaky_ones_pass_on_rerun() {
    let hub = hub(Config {
        runs: 300,
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let mut flaky_reruns = 0;
    for run in &repo.runs {
        for job in run
            .attempts
            .iter()
            .flat_map(|a| a.jobs.iter())
            .filter(|j| j.planted.is_some())
        {
            if job.status != Status::Completed {
                continue;
            }
            assert_eq!(job.conclusion, Some(Conclusion::Failure), "{}", job.name);
            let log = hub.job_log("acme/widgets", job.id).unwrap();
            let failed = job
                .steps
                .iter()
                .find(|s| s.conclusion == Some(Conclusion::Failure))
                .unwrap();
            let step = log
                .steps
                .iter()
                .find(|s| s.number == failed.number)
                .unwrap();
            let last = String::from_utf8_lossy(&step.lines.last().unwrap().text).into_owned();
            assert!(
                last.starts_with("##[error]Process completed with exit code"),
                "{last}"
            );
        }
        let first = &run.attempts[0];
        if let Some(second) = run.attempts.get(1) {
            for job in first
                .jobs
                .iter()
                .filter(|j| j.planted.is_some_and(|p| p.flaky))
            {
                let again = second.jobs.iter().find(|j| j.spec == job.spec).unwrap();
                assert_eq!(
                    again.conclusion,
                    Some(Conclusion::Success),
                    "flaky {} passes on re-run",
                    job.name
                );
                flaky_reruns += 1;
            }
        }
    }
    assert!(flaky_reruns > 0);

    // The regression starts 70% into the window and not before.
    let mode = fakehub::failure_mode("rust-e0425-on-beta").unwrap();
    let start = repo.runs[0].created_at;
    let span = repo.runs.last().unwrap().created_at - start;
    let hits: Vec<i64> = repo
        .runs
        .iter()
        .filter(|r| {
            r.attempts[0]
                .jobs
                .iter()
                .any(|j| j.planted.is_some_and(|p| p.mode == mode.id))
        })
        .map(|r| r.created_at)
        .collect();
    assert!(!hits.is_empty());
    assert!(
        hits.iter()
            .all(|&t| (t - start) as f64 >= mode.starts_at * span as f64 * 0.95),
        "{hits:?}"
    );
}
