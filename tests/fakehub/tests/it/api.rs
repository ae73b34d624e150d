//! The REST API: pagination, filters, the 1,000-result cap, auth, rate limits, `etag`s, faults.

use std::time::Duration;

use fakehub::{Conclusion, Config, FakeHub, Fault, FaultKind};
use serde_json::Value;

use crate::{client, get, get_json, hub};

const RUNS: &str = "/repos/acme/widgets/actions/runs";

/// Follows `Link: rel="next"` from `path`, returning every page's `workflow_runs` ids and the
/// number of pages.
async fn walk_runs(hub: &FakeHub, path: &str) -> (Vec<u64>, usize, u64) {
    let mut url = format!("{}{path}", hub.api_url());
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let response = client()
            .get(&url)
            .bearer_auth(hub.token())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {url}");
        let next = next_link(response.headers());
        let body: Value = response.json().await.unwrap();
        let total = body["total_count"].as_u64().unwrap();
        ids.extend(
            body["workflow_runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_u64().unwrap()),
        );
        pages += 1;
        match next {
            Some(next) => url = next,
            None => return (ids, pages, total),
        }
    }
}

fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .map(|l| {
            l.split(';')
                .next()
                .unwrap()
                .trim_matches(['<', '>'])
                .to_owned()
        })
}

#[tokio::test]
async fn pagination_walks_every_run_once_newest_first() {
    let hub = hub(Config {
        runs: 230,
        ..Config::default()
    })
    .await;
    let (ids, pages, total) = walk_runs(&hub, &format!("{RUNS}?per_page=100")).await;
    let repo = hub.repo("acme/widgets").unwrap();
    let want: Vec<u64> = repo.runs.iter().rev().map(|r| r.id).collect();
    assert_eq!(ids, want);
    assert_eq!((pages, total), (3, 230));
    assert_eq!(hub.stats().count_status("list_runs", 200), 3);

    // Default page size is 30; `per_page` is capped at 100.
    let body = get_json(&hub, RUNS).await;
    assert_eq!(body["workflow_runs"].as_array().unwrap().len(), 30);
    let body = get_json(&hub, &format!("{RUNS}?per_page=500")).await;
    assert_eq!(body["workflow_runs"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn link_header_names_prev_next_last_and_first() {
    let hub = hub(Config {
        runs: 50,
        ..Config::default()
    })
    .await;
    let response = get(&hub, &format!("{RUNS}?per_page=10&page=3")).await;
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    let rels: Vec<(String, String)> = link
        .split(", ")
        .map(|l| {
            let (url, rel) = l.split_once("; rel=").unwrap();
            (
                rel.trim_matches('"').to_owned(),
                url.trim_matches(['<', '>']).to_owned(),
            )
        })
        .collect();
    let names: Vec<&str> = rels.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(names, ["prev", "next", "last", "first"]);
    for (rel, page) in [("prev", 2), ("next", 4), ("last", 5), ("first", 1)] {
        let url = &rels.iter().find(|(r, _)| r == rel).unwrap().1;
        assert!(url.starts_with(hub.api_url()), "{url}");
        assert!(
            url.contains("per_page=10") && url.ends_with(&format!("page={page}")),
            "{rel}: {url}"
        );
    }
    let last = get(&hub, &format!("{RUNS}?per_page=10&page=5")).await;
    assert!(
        !last.headers()["link"]
            .to_str()
            .unwrap()
            .contains("rel=\"next\"")
    );
}

#[tokio::test]
async fn created_filter_in_each_syntax_matches_the_ground_truth() {
    let end: jiff::Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
    let hub = hub(Config {
        runs: 120,
        days: 10,
        end: Some(end),
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_second();
    let d15 = at("2026-11-15T00:00:00Z");
    let d16 = at("2026-11-16T00:00:00Z");
    let t = at("2026-11-15T08:00:00Z");
    type Keep = Box<dyn Fn(i64) -> bool>;
    let cases: Vec<(&str, Keep)> = vec![
        ("2026-11-15", Box::new(move |c| (d15..d16).contains(&c))),
        (">=2026-11-15", Box::new(move |c| c >= d15)),
        (">2026-11-15", Box::new(move |c| c >= d16)),
        ("<2026-11-15", Box::new(move |c| c < d15)),
        ("<=2026-11-15", Box::new(move |c| c < d16)),
        (
            "2026-11-14..2026-11-15",
            Box::new(move |c| (d15 - 86_400..d16).contains(&c)),
        ),
        ("*..2026-11-14", Box::new(move |c| c < d15)),
        ("2026-11-15..*", Box::new(move |c| c >= d15)),
        (">=2026-11-15T08:00:00Z", Box::new(move |c| c >= t)),
        ("<2026-11-15T15:00:00+07:00", Box::new(move |c| c < t)),
    ];
    for (filter, keep) in cases {
        let want: Vec<u64> = repo
            .runs
            .iter()
            .rev()
            .filter(|r| keep(r.created_at))
            .map(|r| r.id)
            .collect();
        assert!(
            !want.is_empty() && want.len() < 120,
            "{filter} selects a strict subset"
        );
        let query =
            serde_urlencoded::to_string([("created", filter), ("per_page", "100")]).unwrap();
        let (ids, _, total) = walk_runs(&hub, &format!("{RUNS}?{query}")).await;
        assert_eq!(ids, want, "created={filter}");
        assert_eq!(total, want.len() as u64);
    }
    let bad = get(&hub, &format!("{RUNS}?created=last-week")).await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("last-week"));
}

#[tokio::test]
async fn a_filtered_list_stops_at_1000_results_but_reports_the_total() {
    let hub = hub(Config {
        runs: 1_250,
        days: 30,
        ..Config::default()
    })
    .await;
    let (ids, pages, total) = walk_runs(
        &hub,
        &format!("{RUNS}?per_page=100&created=%3E%3D2000-01-01"),
    )
    .await;
    assert_eq!((ids.len(), pages, total), (1_000, 10, 1_250));
    let beyond = get_json(
        &hub,
        &format!("{RUNS}?per_page=100&created=%3E%3D2000-01-01&page=11"),
    )
    .await;
    assert_eq!(beyond["workflow_runs"].as_array().unwrap().len(), 0);
    // Without a filter, every run is reachable.
    let (all, _, _) = walk_runs(&hub, &format!("{RUNS}?per_page=100")).await;
    assert_eq!(all.len(), 1_250);
}

#[tokio::test]
async fn field_filters_match_the_ground_truth() {
    let hub = hub(Config {
        runs: 150,
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let sample = &repo.runs[75];
    let failed = repo
        .runs
        .iter()
        .find(|r| r.latest().conclusion == Some(Conclusion::Failure))
        .unwrap();
    type Keep<'a> = Box<dyn Fn(&fakehub::Run) -> bool + 'a>;
    let cases: Vec<(String, String, Keep)> = vec![
        (
            "branch".into(),
            sample.head_branch.clone(),
            Box::new(|r| r.head_branch == sample.head_branch),
        ),
        (
            "event".into(),
            "pull_request".into(),
            Box::new(|r| r.event == "pull_request"),
        ),
        (
            "actor".into(),
            sample.actor.clone(),
            Box::new(|r| r.actor == sample.actor),
        ),
        (
            "head_sha".into(),
            failed.head_sha.clone(),
            Box::new(|r| r.head_sha == failed.head_sha),
        ),
        (
            "status".into(),
            "failure".into(),
            Box::new(|r| r.latest().conclusion == Some(Conclusion::Failure)),
        ),
        (
            "status".into(),
            "completed".into(),
            Box::new(|r| r.latest().status == fakehub::Status::Completed),
        ),
        (
            "status".into(),
            "in_progress".into(),
            Box::new(|r| r.latest().status == fakehub::Status::InProgress),
        ),
    ];
    for (name, value, keep) in cases {
        let want: Vec<u64> = repo
            .runs
            .iter()
            .rev()
            .filter(|r| keep(r))
            .map(|r| r.id)
            .collect();
        assert!(!want.is_empty(), "{name}={value} selects something");
        let query =
            serde_urlencoded::to_string([(name.as_str(), value.as_str()), ("per_page", "100")])
                .unwrap();
        let (ids, _, _) = walk_runs(&hub, &format!("{RUNS}?{query}")).await;
        assert_eq!(ids, want, "{name}={value}");
    }
    // A workflow by file name and by id, as the API accepts both.
    let ci = &repo.workflows[0];
    let want: Vec<u64> = repo
        .runs
        .iter()
        .rev()
        .filter(|r| r.workflow == 0)
        .map(|r| r.id)
        .collect();
    for key in [ci.file_name().to_owned(), ci.id.to_string()] {
        let path = format!("/repos/acme/widgets/actions/workflows/{key}/runs?per_page=100");
        assert_eq!(walk_runs(&hub, &path).await.0, want, "workflow {key}");
    }
    let missing = get(&hub, "/repos/acme/widgets/actions/workflows/nope.yml/runs").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn runs_attempts_and_jobs_agree_with_each_other() {
    let hub = hub(Config {
        runs: 150,
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    // A partial re-run: attempt 2 lists the jobs it carried over from attempt 1.
    let run = repo
        .runs
        .iter()
        .find(|r| r.is_partial_rerun())
        .expect("the generator makes partial re-runs");
    let id = run.id;
    let got = get_json(&hub, &format!("{RUNS}/{id}")).await;
    assert_eq!(got["run_attempt"], run.attempts.len());
    assert!(got["jobs_url"].as_str().unwrap().starts_with(hub.api_url()));
    let first = get_json(&hub, &format!("{RUNS}/{id}/attempts/1")).await;
    assert_eq!(first["run_attempt"], 1);
    assert_eq!(first["conclusion"], "failure");
    assert_eq!(first["previous_attempt_url"], Value::Null);

    let jobs = get_json(&hub, &format!("{RUNS}/{id}/attempts/2/jobs?per_page=100")).await;
    let listed: Vec<(u64, u64)> = jobs["jobs"]
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
    let want: Vec<(u64, u64)> = run.attempts[1]
        .jobs
        .iter()
        .map(|j| (j.id, u64::from(j.run_attempt)))
        .collect();
    assert_eq!(listed, want);
    assert!(listed.iter().any(|&(_, a)| a == 1) && listed.iter().any(|&(_, a)| a == 2));

    // Pages of jobs, and `filter=all` across attempts.
    let page = get(&hub, &format!("{RUNS}/{id}/attempts/1/jobs?per_page=2")).await;
    assert!(
        page.headers()["link"]
            .to_str()
            .unwrap()
            .contains("rel=\"next\"")
    );
    let all = get_json(&hub, &format!("{RUNS}/{id}/jobs?filter=all&per_page=100")).await;
    let distinct: std::collections::BTreeSet<u64> = run
        .attempts
        .iter()
        .flat_map(|a| a.jobs.iter().map(|j| j.id))
        .collect();
    assert_eq!(all["total_count"], distinct.len());
    let latest = get_json(&hub, &format!("{RUNS}/{id}/jobs?per_page=100")).await;
    assert_eq!(latest["total_count"], run.latest().jobs.len());

    let job = &run.attempts[1].jobs[0];
    let got = get_json(
        &hub,
        &format!("/repos/acme/widgets/actions/jobs/{}", job.id),
    )
    .await;
    assert_eq!(got["name"], job.name.as_str());
    assert_eq!(got["steps"].as_array().unwrap().len(), job.steps.len());
    assert_eq!(
        got["html_url"],
        format!(
            "https://github.com/acme/widgets/actions/runs/{id}/job/{}",
            job.id
        )
    );

    for path in [
        "/repos/acme/nope",
        "/repos/acme/widgets/actions/runs/1",
        "/repos/acme/widgets/actions/jobs/1",
    ] {
        assert_eq!(get(&hub, path).await.status(), 404, "{path}");
    }
    let repo_json = get_json(&hub, "/repos/acme/widgets").await;
    assert_eq!(repo_json["full_name"], "acme/widgets");
}

#[tokio::test]
async fn a_token_is_required_in_either_scheme() {
    let hub = hub(Config::default()).await;
    let url = format!("{}{RUNS}", hub.api_url());
    let none = client().get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = client().get(&url).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("Bad credentials"));
    let legacy = client()
        .get(&url)
        .header("authorization", "token fakehub")
        .send()
        .await
        .unwrap();
    assert_eq!(legacy.status(), 200);
    assert_eq!(hub.stats().count_status("list_runs", 401), 2);
}

#[tokio::test]
async fn the_primary_rate_limit_counts_down_and_304s_are_free() {
    let hub = hub(Config {
        rate_limit: 3,
        ..Config::default()
    })
    .await;
    let first = get(&hub, RUNS).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let header = |r: &reqwest::Response, name: &str| r.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header(&first, "x-ratelimit-remaining"), "2");
    assert_eq!(header(&first, "x-ratelimit-used"), "1");

    // A conditional request that matches is answered 304 and costs nothing.
    for _ in 0..3 {
        let cached = client()
            .get(format!("{}{RUNS}", hub.api_url()))
            .bearer_auth(hub.token())
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(cached.status(), 304);
        assert_eq!(header(&cached, "x-ratelimit-remaining"), "2");
    }
    assert_eq!(get(&hub, RUNS).await.status(), 200);
    assert_eq!(get(&hub, "/repos/acme/widgets").await.status(), 200);
    let limited = get(&hub, RUNS).await;
    assert_eq!(limited.status(), 403);
    assert_eq!(header(&limited, "x-ratelimit-remaining"), "0");
    let reset: u64 = header(&limited, "x-ratelimit-reset").parse().unwrap();
    assert!(reset > jiff::Timestamp::now().as_second() as u64);
    assert!(
        limited
            .text()
            .await
            .unwrap()
            .contains("API rate limit exceeded")
    );

    let hub429 = crate::hub(Config {
        rate_limit: 0,
        rate_limited_status: 429,
        ..Config::default()
    })
    .await;
    assert_eq!(get(&hub429, RUNS).await.status(), 429);
}

#[tokio::test]
async fn too_many_concurrent_requests_hit_the_secondary_limit() {
    let hub = hub(Config {
        max_concurrent: 2,
        retry_after: None,
        ..Config::default()
    })
    .await;
    // Slow answers keep requests in flight.
    hub.inject(Fault::api("/actions/runs", FaultKind::Slow(20_000)));
    // One run a page: about 8 kB, so each answer takes about 0.4 s.
    let path = format!("{RUNS}?per_page=1");
    let requests = (0..6).map(|_| get(&hub, &path));
    let responses = futures_util::future::join_all(requests).await;
    let refused: Vec<&reqwest::Response> = responses.iter().filter(|r| r.status() == 403).collect();
    assert!(
        !refused.is_empty(),
        "six concurrent requests against a limit of two"
    );
    assert!(responses.iter().any(|r| r.status() == 200));
    for r in refused {
        assert_eq!(
            r.headers()["retry-after"],
            "",
            "a blank retry-after, as GitHub sometimes sends"
        );
    }
}

#[tokio::test]
async fn api_faults_fire_the_configured_number_of_times() {
    let hub = hub(Config::default()).await;
    hub.inject(Fault::api("/actions/runs", FaultKind::Status(502)).times(2));
    let statuses: Vec<u16> = futures_util::future::join_all((0..3).map(|_| async {
        tokio::time::sleep(Duration::ZERO).await;
        get(&hub, RUNS).await.status().as_u16()
    }))
    .await;
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 502, 502]);
    assert_eq!(
        get(&hub, "/repos/acme/widgets").await.status(),
        200,
        "other paths are unaffected"
    );
}
