//! Rate limits and server errors: waited out, retried, and reported.

use std::time::Duration;

use fakehub::{Config, Fault, FaultKind};
use logidx_fetch::{Error, RetryPolicy, RunFilter};

use crate::{Recorder, assert_token_stayed_home, builder, collect_runs, hub, repo};

#[tokio::test]
async fn an_exhausted_primary_limit_is_waited_out() {
    let hub = hub(Config {
        rate_limit: 6,
        rate_window: Duration::from_secs(2),
        ..Config::default()
    })
    .await;
    let recorder = Recorder::shared();
    let client = builder(&hub).reporter(recorder.clone()).build().unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    for run in runs.iter().filter(|r| r.is_completed()).take(6) {
        client.jobs(&repo(), run.id, run.run_attempt).await.unwrap();
    }
    assert!(
        recorder.any("rate limited until"),
        "{:?}",
        recorder.events.lock().unwrap()
    );
    let limited: u64 = hub
        .stats()
        .requests
        .values()
        .map(|s| s.get(&403).copied().unwrap_or(0))
        .sum();
    assert_eq!(
        limited, 0,
        "the client paused before running out, so GitHub never had to refuse it"
    );
}

#[tokio::test]
async fn secondary_limits_back_off_and_finish() {
    let hub = hub(Config {
        max_concurrent: 1,
        retry_after: None,
        ..Config::default()
    })
    .await;
    hub.inject(Fault::api("/jobs", FaultKind::Slow(50_000)));
    let recorder = Recorder::shared();
    let client = builder(&hub)
        .api_concurrency(4)
        .reporter(recorder.clone())
        .build()
        .unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    let repo = repo();
    let calls = runs
        .iter()
        .take(8)
        .map(|run| client.jobs(&repo, run.id, run.run_attempt));
    for jobs in futures_util::future::join_all(calls).await {
        jobs.unwrap();
    }
    assert!(
        hub.stats().count_status("list_attempt_jobs", 403) > 0,
        "the limit was hit"
    );
    assert!(recorder.any("secondary rate limit"));
}

#[tokio::test]
async fn server_errors_are_retried_and_the_last_error_counts_the_tries() {
    let hub = hub(Config::default()).await;
    hub.inject(Fault::api("/actions/runs", FaultKind::Status(502)).times(3));
    let client = builder(&hub).build().unwrap();
    assert_eq!(
        collect_runs(&client, &RunFilter::default())
            .await
            .unwrap()
            .len(),
        40
    );

    hub.inject(Fault::api("/actions/runs", FaultKind::Status(503)));
    let client = builder(&hub)
        .retry(RetryPolicy {
            max_tries: 3,
            base_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let err = collect_runs(&client, &RunFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::GaveUp { tries: 3, .. }), "{err}");
    assert!(err.to_string().contains("after 3 tries: HTTP 503"), "{err}");
    assert_token_stayed_home(&hub);
}

#[tokio::test]
async fn a_429_with_no_rate_limit_marks_is_a_rate_limit_backed_off() {
    let hub = hub(Config::default()).await;
    hub.inject(Fault::api("/actions/runs", FaultKind::Status(429)).times(2));
    let recorder = Recorder::shared();
    let client = builder(&hub).reporter(recorder.clone()).build().unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    assert_eq!(runs.len(), 40);
    assert_eq!(hub.stats().count_status("list_runs", 429), 2);
    assert!(
        recorder.any("retry: rate limited (HTTP 429)"),
        "{:?}",
        recorder.events.lock().unwrap()
    );

    // Tries stay bounded when the 429s go on.
    hub.inject(Fault::api("/actions/runs", FaultKind::Status(429)));
    let err = collect_runs(&client, &RunFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::GaveUp { tries: 5, .. }), "{err}");
    assert!(err.to_string().contains("rate limited (HTTP 429)"), "{err}");
}

#[tokio::test]
async fn an_unreachable_api_fails_at_once_naming_the_host_and_the_cause() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (url, host, cause) in [
        (
            format!("http://127.0.0.1:{port}"),
            format!("127.0.0.1:{port}"),
            "connection refused",
        ),
        (
            "http://logidx-test.invalid".to_owned(),
            "logidx-test.invalid".to_owned(),
            "dns error",
        ),
    ] {
        let recorder = Recorder::shared();
        let client = logidx_fetch::Client::builder()
            .api_url(&url)
            .reporter(recorder.clone())
            .build()
            .unwrap();
        let err = collect_runs(&client, &RunFilter::default())
            .await
            .unwrap_err();
        let Error::Unreachable {
            host: named,
            cause: said,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(named, &host);
        assert!(said.contains(cause), "{err}");
        assert!(
            recorder.events.lock().unwrap().len() <= 2,
            "{:?}",
            recorder.events.lock().unwrap()
        );
    }
}

#[tokio::test]
async fn a_rate_limit_wait_of_seconds_is_announced_with_its_end() {
    let hub = hub(Config {
        max_concurrent: 1,
        retry_after: Some(3),
        ..Config::default()
    })
    .await;
    hub.inject(Fault::api("/jobs", FaultKind::Slow(20_000)));
    let recorder = Recorder::shared();
    let client = builder(&hub)
        .api_concurrency(2)
        .reporter(recorder.clone())
        .build()
        .unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    let before = jiff::Timestamp::now();
    let repo = repo();
    let calls = runs
        .iter()
        .take(2)
        .map(|run| client.jobs(&repo, run.id, run.run_attempt));
    for jobs in futures_util::future::join_all(calls).await {
        jobs.unwrap();
    }
    let events = recorder.events.lock().unwrap().clone();
    let announced: Vec<&String> = events
        .iter()
        .filter(|e| e.starts_with("rate limited until"))
        .collect();
    assert_eq!(announced.len(), 1, "{events:?}");
    let until: jiff::Timestamp = announced[0]["rate limited until ".len()..].parse().unwrap();
    assert!(
        until >= before + jiff::SignedDuration::from_secs(3),
        "{events:?}"
    );
}

#[tokio::test]
async fn requests_in_flight_never_take_the_budget_past_the_reserve() {
    let hub = hub(Config {
        rate_limit: 10,
        rate_window: Duration::from_secs(2),
        ..Config::default()
    })
    .await;
    let client = builder(&hub).api_concurrency(4).build().unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    let repo = repo();
    let calls = runs
        .iter()
        .filter(|r| r.is_completed())
        .take(20)
        .map(|run| client.jobs(&repo, run.id, run.run_attempt));
    for jobs in futures_util::future::join_all(calls).await {
        jobs.unwrap();
    }
    let stats = hub.stats();
    assert_eq!(stats.rate_limit_violations, 0, "{stats:?}");
    let budget = client.budget();
    assert_eq!(budget.spent, stats.counted_requests);
    assert_eq!(budget.limit, Some(10));
    assert_token_stayed_home(&hub);
}

#[tokio::test]
async fn the_budget_counts_what_github_counts_and_304s_apart() {
    let hub = hub(Config::default()).await;
    let client = builder(&hub)
        .budget(logidx_fetch::BudgetPolicy {
            max_rate: Some(1_000),
            ..logidx_fetch::BudgetPolicy::default()
        })
        .build()
        .unwrap();
    collect_runs(&client, &RunFilter::default()).await.unwrap();
    // The same listing again: revalidated, free.
    collect_runs(&client, &RunFilter::default()).await.unwrap();
    let budget = client.budget();
    assert_eq!((budget.spent, budget.free), (1, 1), "{budget:?}");
    assert_eq!(hub.stats().counted_requests, 1);
    // 5,000 an hour, a fifth of it reserved, one spent.
    assert_eq!(budget.left, Some(3_999));
}
