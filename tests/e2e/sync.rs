//! Sync end to end: what lands in the index, where, and what a second sync costs.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fakehub::{Fault, FaultKind, Layout, Status};

use crate::env::{Env, json_lines, place, text};

const FAILURE: &str = "##[error]Process completed with exit code";

fn finds_every_failure_where_fakehub_put_it(layout: Layout) {
    let env = Env::start(30, |c| c.layout = Some(layout));
    let summary = env.sync();
    assert!(
        summary["attempts_indexed"].as_u64().unwrap() >= 30,
        "{summary}"
    );
    assert_eq!(summary["attempts_failed"], 0);

    let expected = env.places_of(FAILURE);
    assert!(expected.len() >= 3, "the corpus should plant failures");
    let output = env.run(&[
        "search",
        "\"Process completed with exit code\" level:error",
        "--json",
        "-n",
        "100000",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let hits = json_lines(&output);
    let found: BTreeSet<_> = hits.iter().map(place).collect();
    assert_eq!(found.len(), hits.len(), "a line was found twice");
    assert_eq!(found, expected);
    for hit in &hits {
        let p = place(hit);
        let url = format!(
            "{}/acme/widgets/actions/runs/{}/job/{}#step:{}:{}",
            env.hub.api_url(),
            p.run_id,
            p.job_id,
            p.step_number,
            p.line_number
        );
        assert_eq!(hit["url"], url.as_str());
        assert!(hit["text"].as_str().unwrap().starts_with(FAILURE));
    }
}

#[test]
fn sync_then_search_finds_every_failure_where_fakehub_put_it_from_step_files() {
    finds_every_failure_where_fakehub_put_it(Layout::JobAndSteps);
}

#[test]
fn sync_then_search_finds_every_failure_where_fakehub_put_it_from_job_files() {
    finds_every_failure_where_fakehub_put_it(Layout::JobOnly);
}

#[test]
fn show_gives_each_step_its_lines_in_order() {
    let env = Env::start(6, |c| c.layout = Some(Layout::JobOnly));
    env.sync();
    let repo = env.hub.repo("acme/widgets").unwrap();
    let run = repo
        .runs
        .iter()
        .find(|r| r.latest().status == Status::Completed)
        .unwrap();
    let job = run.latest().archived_jobs().next().unwrap();
    let output = env.run(&[
        "show",
        &run.id.to_string(),
        "--attempt",
        &run.latest().number.to_string(),
        "--job",
        &job.id.to_string(),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let lines = json_lines(&output);
    let truth = env.hub.job_log("acme/widgets", job.id).unwrap();
    for step in &truth.steps {
        let shown: Vec<_> = lines
            .iter()
            .filter(|l| l["step_number"] == step.number)
            .collect();
        assert_eq!(shown.len(), step.lines.len(), "step {}", step.number);
        for (i, (line, want)) in shown.iter().zip(&step.lines).enumerate() {
            assert_eq!(line["line_number"], i as u64 + 1);
            // Plain lines are kept as written; others lose their ANSI codes, BOM or CR.
            let want = String::from_utf8_lossy(&want.text);
            if want.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
                assert_eq!(line["text"], want.as_ref());
            }
        }
    }
}

#[test]
fn a_second_sync_downloads_nothing() {
    let env = Env::start(20, |_| ());
    let first = env.sync();
    let downloads = env.hub.stats().count("blob");
    assert!(downloads > 0);
    let second = env.sync();
    assert_eq!(env.hub.stats().count("blob"), downloads);
    assert_eq!(second["attempts_indexed"], 0);
    assert_eq!(second["attempts_skipped"], first["attempts_indexed"]);
}

#[test]
fn a_new_attempt_and_a_newly_completed_run_are_picked_up() {
    let env = Env::start(12, |c| c.in_progress = 1);
    let first = env.sync();
    assert_eq!(first["attempts_in_progress"], 1);
    let (running, finished) = env.hub.with_world(|w| {
        let runs = &w.repo("acme/widgets").unwrap().runs;
        let running = runs.iter().find(|r| r.latest().status != Status::Completed);
        let finished = runs
            .iter()
            .find(|r| r.latest().status == Status::Completed && r.attempts.len() == 1);
        (running.unwrap().id, finished.unwrap().id)
    });
    assert!(
        env.hub
            .with_world_mut(|w| w.complete_run("acme/widgets", running))
    );
    let attempt = env
        .hub
        .with_world_mut(|w| w.rerun("acme/widgets", finished))
        .unwrap();

    let second = env.sync();
    assert_eq!(second["attempts_in_progress"], 0);
    assert_eq!(second["attempts_indexed"], 2, "{second}");
    for (run, attempt) in [(running, 1), (finished, attempt)] {
        let query = format!("run:{run} attempt:{attempt}");
        let count = env.run(&["search", &query, "--count"]);
        assert_eq!(count.status.code(), Some(0), "{query}");
        assert!(text(&count.stdout).trim().parse::<u64>().unwrap() > 0);
    }
}

#[test]
fn a_failed_archive_is_reported_the_others_are_indexed_and_the_next_sync_retries_it() {
    let env = Env::start(8, |_| ());
    let broken = env.hub.with_world(|w| {
        let runs = &w.repo("acme/widgets").unwrap().runs;
        runs.iter()
            .find(|r| r.latest().status == Status::Completed)
            .unwrap()
            .id
    });
    let path = format!("/runs/{broken}/attempts/1/logs.zip");
    env.hub.inject(Fault::blob(&path, FaultKind::Truncate));
    let output = env.run(&["sync", "acme/widgets", "--since", "30d", "--json"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["attempts_failed"], 1);
    assert_eq!(summary["failures"][0]["run_id"], broken);
    assert!(summary["attempts_indexed"].as_u64().unwrap() > 1);

    // Once the archive is whole again, the next sync fetches only the failed attempt.
    env.hub.clear_faults();
    let downloads = env.hub.stats().count_status("blob", 200);
    let retry = env.sync();
    assert_eq!(retry["attempts_indexed"], 1, "{retry}");
    assert_eq!(env.hub.stats().count_status("blob", 200), downloads + 1);
}

#[test]
fn a_sync_killed_midway_resumes_with_no_duplicate_and_no_missing_line() {
    // Slow downloads, so that the kill lands mid-sync with work indexed but not committed.
    let env = Env::slow();
    let mut child = env
        .logidx()
        .args([
            "sync",
            "acme/widgets",
            "--since",
            "30d",
            "--commit-every",
            "1",
            "-j",
            "2",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stats = env.run(&["stats", "--json"]);
        let indexed = serde_json::from_slice::<serde_json::Value>(&stats.stdout)
            .ok()
            .and_then(|s| s["repos"][0]["attempts_indexed"].as_u64())
            .unwrap_or(0);
        if indexed >= 4 {
            break;
        }
        assert!(Instant::now() < deadline, "the sync made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sync ended too soon"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "the sync ended before the kill");

    let resumed = env.sync();
    assert!(
        resumed["attempts_skipped"].as_u64().unwrap() >= 4,
        "{resumed}"
    );
    let fresh = env.dir.path().join("fresh");
    let all = |index: &std::path::Path| {
        let output = env
            .logidx()
            .args(["search", "", "--count-by", "run"])
            .env("LOGIDX_INDEX", index)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        text(&output.stdout)
    };
    let sync_fresh = env
        .logidx()
        .args(["sync", "acme/widgets", "--since", "30d"])
        .env("LOGIDX_INDEX", &fresh)
        .output()
        .unwrap();
    assert_eq!(sync_fresh.status.code(), Some(0));
    assert_eq!(all(&env.index()), all(&fresh));
    let failures = |index: &std::path::Path| {
        let output = env
            .logidx()
            .args([
                "search",
                "\"Process completed with exit code\" level:error",
                "--json",
                "-n",
                "100000",
            ])
            .env("LOGIDX_INDEX", index)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        json_lines(&output).iter().map(place).collect::<Vec<_>>()
    };
    let (resumed, clean) = (failures(&env.index()), failures(&fresh));
    assert!(!clean.is_empty());
    assert_eq!(resumed, clean);
}

#[test]
fn a_rate_limited_sync_says_when_it_resumes_and_finishes() {
    let env = Env::start(6, |c| {
        c.rate_limit = 12;
        c.rate_window = Duration::from_secs(2);
    });
    let output = env.run(&["sync", "acme/widgets", "--since", "30d"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("rate limited, resuming at"), "{stderr}");
    let indexed = env.run(&["stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_slice(&indexed.stdout).unwrap();
    let expected = env.hub.with_world(|w| {
        let runs = &w.repo("acme/widgets").unwrap().runs;
        runs.iter()
            .flat_map(|r| &r.attempts)
            .filter(|a| a.status == Status::Completed)
            .count() as u64
    });
    assert_eq!(stats["repos"][0]["attempts_indexed"], expected);
}

#[test]
fn a_resync_of_a_window_over_the_1000_cap_is_answered_by_free_304s() {
    let env = Env::start(2_500, |c| {
        c.lines_per_job = 4;
        c.days = 50;
    });
    // A fixed bound: `--since 30d` is floored to the hour, and the two syncs may straddle one.
    let since = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(30 * 24))
        .unwrap()
        .to_string();
    env.sync_since(&since);
    let before = env.hub.stats();
    let second = env.sync_since(&since);
    let after = env.hub.stats();
    assert_eq!(second["attempts_indexed"], 0);
    let lists = after.count("list_runs") - before.count("list_runs");
    let free = after.count_status("list_runs", 304) - before.count_status("list_runs", 304);
    assert!(
        lists > 3,
        "the window should be split: {lists} list requests"
    );
    assert_eq!(
        free, lists,
        "every list page should be revalidated for free"
    );
}
