//! Issue 21's three measurements, the real `logidx` binary against fakehub on loopback:
//!
//! - **budget**: `sync ORG` over an organisation of `LOGIDX_BENCH_REPOS` (default 200)
//!   repositories of `LOGIDX_BENCH_RUNS` (default 5) runs, under a budget of
//!   `LOGIDX_BENCH_LIMIT` (default 2,000) requests per 60 s window: budget use,
//!   `rate_limit_violations` (must be 0), requests per attempt (goal ≤ 1.9), and every
//!   completed attempt of the synced repositories indexed exactly once (fakehub's ground truth
//!   against the index's records);
//! - **idle**: a watch over the same organisation once synced: counted requests of its idle
//!   cycles (goal 0) and each cycle's wall time;
//! - **latency**: a watch (`--watch 5s`) against fakehub's live mode: from each attempt's
//!   completion ([`fakehub::World::completions`]) to a line of it found by `logidx search`,
//!   p50 and p95 over `LOGIDX_BENCH_COMPLETIONS` (default 24) completions (goal p95 ≤ 5 s + 30 s).
//!
//! `cargo bench --locked --bench org` (`LOGIDX_BENCH_ONLY=budget,idle` or `latency` for a part).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fakehub::{Config, FakeHub, Owner, Status};
use logidx::{AttemptState, Index};

#[path = "support/logidx.rs"]
mod logidx_bin;

use logidx_bin::{lines_of, logidx, terminate, until_line};

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().map_or(default, |v| {
        v.parse().unwrap_or_else(|_| panic!("{name} is a number"))
    })
}

fn main() {
    let only = std::env::var("LOGIDX_BENCH_ONLY").unwrap_or_default();
    let wanted = |part: &str| only.is_empty() || only.split(',').any(|p| p == part);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let work = tempfile::tempdir().unwrap();
    if wanted("budget") || wanted("idle") {
        let hub = runtime.block_on(FakeHub::start(org_config())).unwrap();
        let index = work.path().join("org");
        budget(&hub, &index);
        if wanted("idle") {
            idle(&hub, &index);
        }
    }
    if wanted("latency") {
        latency(&runtime, &work.path().join("live"));
    }
}

fn org_config() -> Config {
    Config {
        repos: Vec::new(),
        owners: vec![Owner::org("acme", knob("LOGIDX_BENCH_REPOS", 200) as usize)],
        runs: knob("LOGIDX_BENCH_RUNS", 5) as usize,
        days: 10,
        in_progress: 0,
        lines_per_job: 40,
        not_ready_for: Duration::ZERO,
        rate_limit: knob("LOGIDX_BENCH_LIMIT", 2_000) as u32,
        rate_window: Duration::from_secs(60),
        ..Config::default()
    }
}

fn budget(hub: &FakeHub, index: &std::path::Path) {
    let config = org_config();
    let started = Instant::now();
    let output = logidx(hub, index)
        .args(["sync", "acme", "--since", "30d", "--json"])
        .output()
        .unwrap();
    let wall = started.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let stats = hub.stats();
    // Ground truth: every completed attempt of the repositories synced.
    let skipped: BTreeSet<String> = summary["repos_skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["repo"].as_str().unwrap().to_lowercase())
        .collect();
    let (truth, runs, rerun) = hub.with_world(|w| {
        let mut truth = BTreeSet::new();
        let (mut runs, mut rerun) = (0, 0);
        for repo in w.repos() {
            let name = repo.full_name().to_lowercase();
            if skipped.contains(&name) {
                continue;
            }
            for run in &repo.runs {
                runs += 1;
                rerun += usize::from(run.attempts.len() > 1);
                for attempt in run
                    .attempts
                    .iter()
                    .filter(|a| a.status == Status::Completed)
                {
                    truth.insert((name.clone(), run.id, attempt.number));
                }
            }
        }
        (truth, runs, rerun)
    });
    let index = Index::open_read_only(index).unwrap();
    let mut indexed: BTreeMap<(String, u64, u32), usize> = BTreeMap::new();
    for record in index.attempts(None).unwrap() {
        if matches!(record.state, AttemptState::Indexed { .. }) {
            let a = &record.attempt;
            *indexed
                .entry((a.repo.to_lowercase(), a.run_id, a.run_attempt))
                .or_default() += 1;
        }
    }
    let twice = indexed.values().filter(|&&n| n > 1).count();
    let keys: BTreeSet<_> = indexed.keys().cloned().collect();
    let missing = truth.difference(&keys).count();
    let extra = keys.difference(&truth).count();
    let attempts = summary["attempts_indexed"].as_u64().unwrap();
    println!(
        "budget: {} repositories ({} synced, {} skipped), {runs} runs of which {rerun} re-run ({:.1}%), {} completed attempts; limit {} per {} s",
        config.owners[0].repos + config.repos.len(),
        summary["repos_synced"],
        skipped.len(),
        100.0 * rerun as f64 / runs.max(1) as f64,
        truth.len(),
        config.rate_limit,
        config.rate_window.as_secs(),
    );
    println!(
        "budget: sync in {:.1} s: {attempts} attempts indexed, {} requests counted by fakehub ({} by logidx, {} free, {} left), {:.2} requests per attempt (goal <= 1.9), rate_limit_violations {} (goal 0)",
        wall.as_secs_f64(),
        stats.counted_requests,
        summary["requests"],
        summary["requests_free"],
        summary["budget_left"],
        stats.counted_requests as f64 / attempts.max(1) as f64,
        stats.rate_limit_violations,
    );
    println!(
        "budget: not indexed by the sync: {} failed, {} not ready, {} not found, {} deferred, {} in progress; failures {}",
        summary["attempts_failed"],
        summary["attempts_not_ready"],
        summary["attempts_not_found"],
        summary["attempts_deferred"],
        summary["attempts_in_progress"],
        summary["failures"],
    );
    let by_endpoint: Vec<String> = stats
        .requests
        .iter()
        .map(|(e, s)| format!("{e} {}", s.values().sum::<u64>()))
        .collect();
    println!("budget: requests by endpoint: {}", by_endpoint.join(", "));
    println!(
        "budget: indexed exactly once: {} (missing {missing}, not in fakehub {extra}, twice {twice})",
        missing == 0 && extra == 0 && twice == 0
    );
}

fn idle(hub: &FakeHub, index: &std::path::Path) {
    let mut child = logidx(hub, index)
        .args(["-v", "sync", "acme", "--since", "30d", "--watch", "1s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = lines_of(child.stderr.take().unwrap());
    let minute = Duration::from_secs(60);
    until_line(&stderr, minute, |l| l.starts_with("cycle 1:"));
    let before = hub.stats();
    let mut seconds = Vec::new();
    for n in 2..=6 {
        let line = until_line(&stderr, minute, |l| l.starts_with(&format!("cycle {n}:")));
        // `… (… free, … left) in 0.42 s; next in 1 s`
        let s: f64 = line
            .rsplit_once("; next in")
            .and_then(|(head, _)| head.rsplit_once(" in "))
            .and_then(|(_, rest)| rest.strip_suffix(" s"))
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN);
        seconds.push(s);
    }
    let after = hub.stats();
    terminate(&mut child);
    let grew = |e: &str, s: u16| after.count_status(e, s) - before.count_status(e, s);
    seconds.sort_by(f64::total_cmp);
    println!(
        "idle: 5 cycles over the synced organisation: {} counted requests (goal 0), {} answered 304 (owner listing {}, runs listings {}), {} violations; cycle wall time median {:.2} s, max {:.2} s",
        after.counted_requests - before.counted_requests,
        after.count("list_org_repos") + after.count("list_runs")
            - before.count("list_org_repos")
            - before.count("list_runs"),
        grew("list_org_repos", 304),
        grew("list_runs", 304),
        after.rate_limit_violations - before.rate_limit_violations,
        seconds[seconds.len() / 2],
        seconds[seconds.len() - 1],
    );
}

fn latency(runtime: &tokio::runtime::Runtime, index: &std::path::Path) {
    let wanted = knob("LOGIDX_BENCH_COMPLETIONS", 24) as usize;
    let live = Duration::from_millis(knob("LOGIDX_BENCH_LIVE_MS", 2_000));
    let config = Config {
        repos: (1..=4).map(|i| format!("acme/service-{i:02}")).collect(),
        runs: 6,
        days: 2,
        in_progress: 1,
        lines_per_job: 40,
        not_ready_for: Duration::ZERO,
        live: Some(live),
        ..Config::default()
    };
    let hub = runtime.block_on(FakeHub::start(config)).unwrap();
    let mut child = logidx(&hub, index)
        .args([
            "-v",
            "sync",
            "acme/service-01",
            "acme/service-02",
            "acme/service-03",
        ])
        .args(["acme/service-04", "--since", "30d", "--watch", "5s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = lines_of(child.stderr.take().unwrap());
    until_line(&stderr, Duration::from_secs(120), |l| {
        l.starts_with("cycle 1:")
    });
    let start = jiff::Timestamp::now();
    // Each completion since the first cycle, polled until a search finds a line of it.
    let mut found: BTreeMap<(String, u64, u32), f64> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(150);
    while found.len() < wanted && Instant::now() < deadline {
        let completions = hub.with_world(|w| w.completions().to_vec());
        for c in completions.iter().filter(|c| c.at > start) {
            let key = (c.repo.clone(), c.run_id, c.attempt);
            if found.contains_key(&key) {
                continue;
            }
            let search = logidx(&hub, index)
                .args(["search", "--repo", &c.repo, "--run", &c.run_id.to_string()])
                .args([
                    "--attempt",
                    &c.attempt.to_string(),
                    "-n",
                    "1",
                    "--json",
                    "error",
                ])
                .output()
                .unwrap();
            if search.status.code() == Some(0) {
                let delay = jiff::Timestamp::now().duration_since(c.at);
                found.insert(key, delay.as_secs_f64());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    terminate(&mut child);
    let completions = hub.with_world(|w| w.completions().iter().filter(|c| c.at > start).count());
    let mut delays: Vec<f64> = found.values().copied().collect();
    delays.sort_by(f64::total_cmp);
    let pct =
        |p: f64| delays[((delays.len() as f64 * p).ceil() as usize).clamp(1, delays.len()) - 1];
    println!(
        "latency: watch --watch 5s, fakehub live every {} ms over 4 repositories: {} of {completions} completions found by search; completion to searchable p50 {:.1} s, p95 {:.1} s, max {:.1} s (goal p95 <= 35 s)",
        live.as_millis(),
        delays.len(),
        pct(0.5),
        pct(0.95),
        delays[delays.len() - 1],
    );
}
