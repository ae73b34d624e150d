//! `sync --watch` and the request budget, with the real binary against fakehub: a run that
//! completes while a watch runs is indexed and searchable, SIGTERM stops it cleanly, an idle
//! cycle costs no counted request; a short budget is never exceeded, failed attempts come
//! first, and a run with several attempts costs one jobs listing.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fakehub::{Conclusion, Fault, FaultKind, Status};

use crate::env::{Env, text, wait_briefly};

/// Lines of `stream` as they come, on a thread of their own.
pub(crate) fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits (a minute at most) for a line `wanted` accepts, and returns it.
pub(crate) fn until_line(lines: &mpsc::Receiver<String>, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .expect("the watch said no such line");
        if wanted(&line) {
            return line;
        }
    }
}

fn watch(env: &Env, interval: &str) -> Child {
    env.logidx()
        .args([
            "-v",
            "sync",
            "acme/widgets",
            "--since",
            "30d",
            "--watch",
            interval,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub(crate) fn terminate(child: &Child) {
    let kill = std::process::Command::new("kill")
        .args(["-TERM".to_owned(), child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
}

/// Whether `logidx show` finds the run in the index.
fn shows(env: &Env, run_id: u64) -> bool {
    env.run(&["show", &run_id.to_string()]).status.code() == Some(0)
}

/// The run of acme/widgets that fakehub leaves in progress (the newest), for a watch to see
/// complete.
fn run_in_progress(env: &Env) -> fakehub::Run {
    let run = env
        .hub
        .repo("acme/widgets")
        .unwrap()
        .runs
        .last()
        .unwrap()
        .clone();
    assert_eq!(run.latest().status, Status::InProgress);
    run
}

#[test]
fn a_watch_indexes_a_run_that_completes_while_it_runs_and_stops_cleanly_on_sigterm() {
    let env = Env::start(8, |_| ());
    let running = run_in_progress(&env);
    let mut child = watch(&env, "1s");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let first = until_line(&stderr, |l| l.starts_with("cycle 1:"));
    assert!(first.contains(" in progress"), "{first}");
    assert!(!shows(&env, running.id), "a run in progress is not indexed");

    // GitHub moves on: the run completes (and another starts).
    let tick = env.hub.with_world_mut(|w| w.tick());
    assert_eq!(tick.completed[0].run_id, running.id);
    let picked_up = until_line(&stderr, |l| {
        l.starts_with("cycle ") && !l.contains(" 0 attempts indexed")
    });
    assert!(picked_up.contains(" 1 attempts indexed"), "{picked_up}");
    // Committed by the cycle: a reader sees it while the watch goes on.
    assert!(shows(&env, running.id));
    let hit = env.run(&[
        "search",
        "--run",
        &running.id.to_string(),
        "--json",
        "error",
    ]);
    assert_eq!(hit.status.code(), Some(0), "{}", text(&hit.stderr));

    terminate(&child);
    let status = wait_briefly(&mut child);
    let said: Vec<String> = stderr.iter().collect();
    assert_eq!(status.code(), Some(0), "{status}: {said:?}");
    assert!(
        said.iter().any(|l| l.starts_with("interrupted by SIGTERM")),
        "{said:?}"
    );
    let summary = stdout.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(summary.starts_with("watched for "), "{summary}");
    // The lock was let go and everything committed: a sync has nothing left to index but the
    // run the tick started, still in progress.
    let next = env.sync();
    assert_eq!(next["attempts_indexed"], 0, "{next}");
    assert_eq!(next["attempts_in_progress"], 1, "{next}");
}

#[test]
fn a_watch_rides_out_5xx_and_network_loss_and_then_picks_up_a_run_completed_meanwhile() {
    let mut env = Env::start(8, |_| ());
    let running = run_in_progress(&env);
    let mut child = watch(&env, "1s");
    let stderr = lines_of(child.stderr.take().unwrap());
    until_line(&stderr, |l| l.starts_with("cycle 1:"));

    // A burst of 5xx on the run listing: retried within the cycle, the watch goes on.
    env.hub
        .inject(Fault::api("/actions/runs", FaultKind::Status(503)).times(3));
    let served = |env: &Env| env.hub.stats().count_status("list_runs", 503);
    while served(&env) < 3 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the watch ended on 5xx"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let after_5xx = until_line(&stderr, |l| l.starts_with("cycle "));
    assert!(after_5xx.contains(" 0 failed;"), "{after_5xx}");

    // GitHub off the network (its ports closed) while the run completes.
    env.offline_while(
        || {
            let failed = until_line(&stderr, |l| l.starts_with("warning: cycle "));
            assert!(failed.contains(" failed: "), "{failed}");
            assert!(
                child.try_wait().unwrap().is_none(),
                "the watch ended offline"
            );
        },
        |world| assert_eq!(world.tick().completed[0].run_id, running.id),
    );

    // Back on the same port: the next cycle indexes the run, and the watch keeps going.
    let picked_up = until_line(&stderr, |l| {
        l.starts_with("cycle ") && !l.contains(" 0 attempts indexed")
    });
    assert!(picked_up.contains(" 1 attempts indexed"), "{picked_up}");
    assert!(shows(&env, running.id));
    until_line(&stderr, |l| l.starts_with("cycle "));
    assert!(child.try_wait().unwrap().is_none(), "the watch ended");
    terminate(&child);
    assert_eq!(wait_briefly(&mut child).code(), Some(0));
}

#[test]
fn an_idle_watch_cycle_costs_no_counted_request() {
    let env = Env::start(8, |_| ());
    let mut child = watch(&env, "1s");
    let stderr = lines_of(child.stderr.take().unwrap());
    until_line(&stderr, |l| l.starts_with("cycle 2:"));
    let before = env.hub.stats();
    let idle = until_line(&stderr, |l| l.starts_with("cycle 4:"));
    let after = env.hub.stats();
    assert_eq!(
        after.counted_requests, before.counted_requests,
        "idle cycles spent requests: {idle}"
    );
    let free = after.count_status("list_runs", 304) - before.count_status("list_runs", 304);
    assert!(free >= 1, "the listing was revalidated: {free} 304s");
    assert!(idle.contains(" 0 API requests ("), "{idle}");
    terminate(&child);
    assert_eq!(wait_briefly(&mut child).code(), Some(0));
}

#[test]
fn a_short_budget_is_never_exceeded_and_failed_attempts_come_first() {
    let env = Env::start(30, |c| {
        c.rate_limit = 20;
        c.rate_window = Duration::from_secs(2);
    });
    let output = env.run(&[
        "sync",
        "acme/widgets",
        "--since",
        "30d",
        "-j",
        "1",
        "--json",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let stats = env.hub.stats();
    assert_eq!(stats.rate_limit_violations, 0, "{stats:?}");
    assert!(stderr.contains("rate limited, resuming at"), "{stderr}");

    let repo = env.hub.repo("acme/widgets").unwrap();
    let completed: Vec<(u64, u32)> = repo
        .runs
        .iter()
        .flat_map(|r| r.attempts.iter().map(move |a| (r, a)))
        .filter(|(_, a)| a.status == Status::Completed)
        .map(|(r, a)| (r.id, a.number))
        .collect();
    assert_eq!(summary["attempts_indexed"], completed.len(), "{summary}");
    // Each completed attempt's archive asked for once, the failed ones first, each kind
    // newest first.
    assert_eq!(stats.archive_order.len(), completed.len());
    let failed = |&(run, attempt): &(u64, u32)| {
        let run = repo.run(run).unwrap();
        run.attempt(attempt).unwrap().conclusion == Some(Conclusion::Failure)
    };
    let kinds: Vec<bool> = stats.archive_order.iter().map(failed).collect();
    assert!(kinds.iter().any(|&f| f) && kinds.iter().any(|&f| !f));
    assert!(
        kinds.windows(2).all(|w| w[0] || !w[1]),
        "a failed attempt came after another: {kinds:?}"
    );
    let created = |&(run, attempt): &(u64, u32)| (repo.run(run).unwrap().created_at, attempt);
    for kind in [true, false] {
        let order: Vec<_> = stats
            .archive_order
            .iter()
            .filter(|a| failed(a) == kind)
            .map(created)
            .collect();
        assert!(order.windows(2).all(|w| w[0] >= w[1]), "{order:?}");
    }
    // A run with several attempts costs one listing of every attempt's jobs.
    let attempts_of = |n: usize| {
        repo.runs
            .iter()
            .filter(|r| {
                r.attempts
                    .iter()
                    .filter(|a| a.status == Status::Completed)
                    .count()
                    == n
            })
            .count() as u64
    };
    let several = attempts_of(2) + attempts_of(3);
    assert!(several > 0, "the corpus has re-runs");
    assert_eq!(stats.count("list_run_jobs"), several);
    assert_eq!(stats.count("list_attempt_jobs"), attempts_of(1));
    assert_eq!(
        summary["requests"].as_u64().unwrap(),
        stats.counted_requests,
        "{summary}"
    );
}
