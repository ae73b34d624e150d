//! Budgets and live mode: each token's own rate-limit window, short enough for tests, with the
//! requests past it counted as violations; `filter=all` listing every attempt's jobs; runs that
//! complete and start over time, by `POST /_fakehub/tick` or by themselves.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use fakehub::{Config, FakeHub, Status};
use serde_json::Value;

use crate::{client, get, get_json, hub};

const RUNS: &str = "/repos/acme/widgets/actions/runs";

async fn get_as(hub: &FakeHub, token: &str, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", hub.api_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("fakehub answers")
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()[name].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_token_has_its_own_window_and_requests_past_it_are_violations() {
    let hub = hub(Config {
        rate_limit: 3,
        rate_window: Duration::from_secs(2),
        other_tokens: vec!["someone-else".to_owned()],
        ..Config::default()
    })
    .await;
    let first = get(&hub, RUNS).await;
    assert_eq!(header(&first, "x-ratelimit-limit"), "3");
    assert_eq!(header(&first, "x-ratelimit-resource"), "core");
    let etag = header(&first, "etag");
    // A 304 is free and says so.
    let cached = client()
        .get(format!("{}{RUNS}", hub.api_url()))
        .bearer_auth(hub.token())
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert_eq!(header(&cached, "x-ratelimit-used"), "1");
    for _ in 0..2 {
        assert_eq!(get(&hub, RUNS).await.status(), 200);
    }
    let limited = get(&hub, RUNS).await;
    assert_eq!(limited.status(), 403);
    assert_eq!(header(&limited, "x-ratelimit-remaining"), "0");
    assert_eq!(header(&limited, "x-ratelimit-used"), "3");
    let stats = hub.stats();
    assert_eq!(stats.rate_limit_violations, 1);
    assert_eq!(stats.counted_requests, 3);

    // Another user's token has a window of its own.
    let other = get_as(&hub, "someone-else", RUNS).await;
    assert_eq!(other.status(), 200);
    assert_eq!(header(&other, "x-ratelimit-remaining"), "2");
    assert_eq!(get_as(&hub, "nobody", RUNS).await.status(), 401);

    // Once the window resets, the first token's requests are answered again.
    let reset: i64 = header(&limited, "x-ratelimit-reset").parse().unwrap();
    while jiff::Timestamp::now().as_second() < reset {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = get(&hub, RUNS).await;
    assert_eq!(again.status(), 200);
    assert_eq!(header(&again, "x-ratelimit-remaining"), "2");
    assert_eq!(hub.stats().rate_limit_violations, 1);
}

#[tokio::test]
async fn filter_all_lists_the_jobs_of_every_attempt_once() {
    let hub = hub(Config {
        runs: 120,
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let reruns: Vec<_> = repo.runs.iter().filter(|r| r.attempts.len() > 1).collect();
    assert!(
        reruns.iter().any(|r| r.is_partial_rerun()),
        "the corpus has partial re-runs"
    );
    for run in reruns {
        let base = format!("{RUNS}/{}", run.id);
        let all = get_json(&hub, &format!("{base}/jobs?filter=all&per_page=100")).await;
        let listed: BTreeMap<u64, u64> = all["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| {
                (
                    j["id"].as_u64().unwrap(),
                    j["run_attempt"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            all["total_count"].as_u64().unwrap() as usize,
            listed.len(),
            "run {}: each job once",
            run.id
        );
        let mut union = BTreeMap::new();
        for attempt in &run.attempts {
            let path = format!("{base}/attempts/{}/jobs?per_page=100", attempt.number);
            for job in get_json(&hub, &path).await["jobs"].as_array().unwrap() {
                union.insert(
                    job["id"].as_u64().unwrap(),
                    job["run_attempt"].as_u64().unwrap(),
                );
            }
        }
        assert_eq!(listed, union, "run {}", run.id);
        let latest = get_json(&hub, &format!("{base}/jobs?per_page=100")).await;
        let path = format!("{base}/attempts/{}/jobs?per_page=100", run.latest().number);
        assert_eq!(latest["jobs"], get_json(&hub, &path).await["jobs"]);
    }
}

async fn tick(hub: &FakeHub) -> Value {
    let response = client()
        .post(format!("{}/_fakehub/tick", hub.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_tick_completes_a_run_in_progress_starts_another_and_now_and_then_reruns_one() {
    let hub = hub(Config {
        not_ready_for: Duration::ZERO,
        ..Config::default()
    })
    .await;
    let running = hub
        .repo("acme/widgets")
        .unwrap()
        .runs
        .last()
        .unwrap()
        .clone();
    assert_eq!(running.latest().status, Status::InProgress);
    let before = hub.stats().api_requests();

    let body = tick(&hub).await;
    assert_eq!(body["completed"][0]["run_id"].as_u64(), Some(running.id));
    assert_eq!(body["completed"][0]["attempt"].as_u64(), Some(1));
    let started = body["started"][0]["run_id"].as_u64().unwrap();
    assert!(started > running.id);
    // Control requests are not GitHub's: they spend nothing.
    assert_eq!(hub.stats().api_requests(), before);

    let listing = get_json(&hub, &format!("{RUNS}?per_page=2")).await;
    let runs = listing["workflow_runs"].as_array().unwrap();
    assert_eq!(runs[0]["id"].as_u64(), Some(started));
    assert_eq!(runs[0]["status"], "in_progress");
    assert_eq!(runs[1]["id"].as_u64(), Some(running.id));
    assert_eq!(runs[1]["status"], "completed");
    // The new run is as runs in progress are: a job done (and failed), others not.
    let jobs = get_json(&hub, &format!("{RUNS}/{started}/jobs")).await;
    let statuses: BTreeSet<&str> = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains("completed") && statuses.len() > 1,
        "{statuses:?}"
    );
    // The completed run's archive can be had.
    let logs = get(&hub, &format!("{RUNS}/{}/attempts/1/logs", running.id)).await;
    assert_eq!(logs.status(), 302);
    assert_eq!(hub.stats().archive_order, [(running.id, 1)]);

    // The third tick re-runs a failed run too.
    tick(&hub).await;
    let third = tick(&hub).await;
    let completed = third["completed"].as_array().unwrap();
    assert_eq!(completed.len(), 2, "{third}");
    let rerun = completed[1]["run_id"].as_u64().unwrap();
    let attempt = completed[1]["attempt"].as_u64().unwrap() as u32;
    assert!(attempt >= 2);
    let run = get_json(&hub, &format!("{RUNS}/{rerun}")).await;
    assert_eq!(run["run_attempt"].as_u64(), Some(u64::from(attempt)));
    assert_eq!(run["status"], "completed");

    // The world says when each attempt completed, in order.
    let completions = hub.with_world(|w| w.completions().to_vec());
    let order: Vec<(u64, u32)> = completions.iter().map(|c| (c.run_id, c.attempt)).collect();
    assert_eq!(order.len(), 4, "{order:?}");
    assert_eq!(order[0], (running.id, 1));
    assert_eq!(order[3], (rerun, attempt));
    assert!(completions.windows(2).all(|w| w[0].at <= w[1].at));
}

#[tokio::test]
async fn live_mode_moves_the_world_on_by_itself_in_every_repository() {
    let hub = hub(Config {
        repos: vec!["acme/widgets".to_owned(), "acme/gadgets".to_owned()],
        runs: 10,
        live: Some(Duration::from_millis(50)),
        ..Config::default()
    })
    .await;
    let mut seen = BTreeSet::new();
    for _ in 0..400 {
        seen = hub.with_world(|w| {
            w.completions()
                .iter()
                .map(|c| c.repo.clone())
                .collect::<BTreeSet<_>>()
        });
        if seen.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(seen.len(), 2, "both repositories moved on: {seen:?}");
    // Each repository still has a run in progress: a new one started as the old completed.
    for repo in ["acme/widgets", "acme/gadgets"] {
        let runs = hub.repo(repo).unwrap().runs;
        assert!(runs.len() > 10);
        assert_eq!(runs.last().unwrap().latest().status, Status::InProgress);
    }
}
