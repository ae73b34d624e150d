//! One job's log (`…/actions/jobs/{id}/logs`): byte-exact through its redirect, never with the
//! token, surviving expiry, and a 404 told apart as not ready or not found.

use std::time::Duration;

use fakehub::{Config, Fault, FaultKind};
use logidx_fetch::{Client, Job, JobLogOutcome, NotReadyPolicy, Run, RunFilter};

use crate::{assert_token_stayed_home, builder, collect_runs, hub, repo};

/// The completed jobs of the newest completed run's first attempt.
async fn completed_jobs(client: &Client) -> Vec<Job> {
    let runs = collect_runs(client, &RunFilter::default()).await.unwrap();
    let run = runs.into_iter().find(Run::is_completed).unwrap();
    let jobs = client.jobs(&repo(), run.id, 1).await.unwrap();
    jobs.into_iter()
        .filter(|j| j.conclusion.as_deref().is_some_and(|c| c != "skipped"))
        .collect()
}

fn expect_log(outcome: JobLogOutcome) -> Vec<u8> {
    match outcome {
        JobLogOutcome::Log(bytes) => bytes,
        other => panic!("expected a log, got {other:?}"),
    }
}

#[tokio::test]
async fn a_jobs_log_costs_one_request_and_is_byte_exact() {
    let hub = hub(Config {
        job_log_not_ready_for: Duration::ZERO,
        ..Config::default()
    })
    .await;
    let client = builder(&hub).build().unwrap();
    let jobs = completed_jobs(&client).await;
    assert!(jobs.len() > 1);
    for job in &jobs {
        let got = expect_log(client.download_job_log(&repo(), job).await.unwrap());
        let want = hub
            .with_world(|w| w.job_text("acme/widgets", job.id))
            .unwrap();
        assert!(got.starts_with("\u{feff}".as_bytes()), "job {}", job.id);
        assert_eq!(got, want, "job {}", job.id);
    }
    assert_eq!(hub.stats().count("job_logs"), jobs.len() as u64);
    assert_token_stayed_home(&hub);
}

#[tokio::test]
async fn an_expired_or_broken_job_log_starts_over_with_a_fresh_url() {
    let hub = hub(Config {
        job_log_not_ready_for: Duration::ZERO,
        ..Config::default()
    })
    .await;
    let client = builder(&hub).build().unwrap();
    let job = completed_jobs(&client).await.remove(0);
    let want = hub
        .with_world(|w| w.job_text("acme/widgets", job.id))
        .unwrap();
    for fault in [FaultKind::Status(403), FaultKind::DropMidBody] {
        hub.inject(Fault::blob("/log.txt", fault.clone()).times(2));
        let got = expect_log(client.download_job_log(&repo(), &job).await.unwrap());
        assert_eq!(got, want, "after two of {fault:?}");
    }
    // Two faults, three tries each, each try resolving its own redirect.
    assert_eq!(hub.stats().count("job_logs"), 6);
    assert_token_stayed_home(&hub);
}

#[tokio::test]
async fn a_404_is_not_ready_right_after_the_job_completed_and_not_found_later() {
    let hub = hub(Config {
        job_log_not_ready_for: Duration::from_secs(86_400),
        ..Config::default()
    })
    .await;
    // A job that completed in the run still in progress: minutes ago.
    let job = {
        let client = builder(&hub).build().unwrap();
        let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
        let run = runs.into_iter().find(|r| !r.is_completed()).unwrap();
        let jobs = client.jobs(&repo(), run.id, run.run_attempt).await.unwrap();
        jobs.into_iter()
            .find(|j| j.status.as_deref() == Some("completed"))
            .unwrap()
    };
    let policy = |window| NotReadyPolicy {
        window,
        delay: Duration::from_millis(20),
        tries: 3,
    };
    // Within the window: asked three times, then left for a later sync.
    let recent = builder(&hub)
        .not_ready(policy(Duration::from_secs(30 * 86_400)))
        .build()
        .unwrap();
    let outcome = recent.download_job_log(&repo(), &job).await.unwrap();
    assert!(matches!(outcome, JobLogOutcome::NotReady), "{outcome:?}");
    assert_eq!(hub.stats().count_status("job_logs", 404), 3);
    // Long after: GitHub has no log for it, asked once.
    let later = builder(&hub)
        .not_ready(policy(Duration::from_secs(1)))
        .build()
        .unwrap();
    let outcome = later.download_job_log(&repo(), &job).await.unwrap();
    assert!(matches!(outcome, JobLogOutcome::NotFound), "{outcome:?}");
    assert_eq!(hub.stats().count_status("job_logs", 404), 4);
}
