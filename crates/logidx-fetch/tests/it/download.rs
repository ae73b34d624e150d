//! Archives: whole and byte-exact, never with the token, surviving expiry and broken transfers.

use std::time::Duration;

use fakehub::{Config, Fault, FaultKind, Status};
use logidx_fetch::{Error, LogsOutcome, NotReadyPolicy, Run, RunFilter};

use crate::{assert_token_stayed_home, builder, collect_runs, hub, repo};

/// The newest completed run, as the API lists it.
async fn newest_completed(client: &logidx_fetch::Client) -> Run {
    let runs = collect_runs(client, &RunFilter::default()).await.unwrap();
    runs.into_iter().find(Run::is_completed).unwrap()
}

fn expect_logs(outcome: LogsOutcome) -> Vec<u8> {
    match outcome {
        LogsOutcome::Logs(archive) => archive.into_bytes().unwrap(),
        other => panic!("expected an archive, got {other:?}"),
    }
}

#[tokio::test]
async fn a_first_sync_costs_two_requests_per_attempt_and_gets_every_byte() {
    let hub = hub(Config {
        runs: 300,
        ..Config::default()
    })
    .await;
    let client = builder(&hub).spool_threshold(4096).build().unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    let mut attempts = 0;
    let mut on_disk = 0;
    for run in runs.iter().filter(|r| r.is_completed()).take(40) {
        for attempt in 1..=run.run_attempt {
            client.jobs(&repo(), run.id, attempt).await.unwrap();
            let LogsOutcome::Logs(archive) =
                client.download_logs(&repo(), run, attempt).await.unwrap()
            else {
                panic!("run {} attempt {attempt} has logs", run.id);
            };
            on_disk += usize::from(archive.is_on_disk());
            let bytes = archive.into_bytes().unwrap();
            let want = hub
                .with_world(|w| w.archive("acme/widgets", run.id, attempt))
                .unwrap();
            assert_eq!(bytes, want, "run {} attempt {attempt}", run.id);
            attempts += 1;
        }
    }
    assert!(on_disk > 0, "archives over the threshold spool to disk");
    let stats = hub.stats();
    let per_attempt = (stats.count("attempt_logs") + stats.count("list_attempt_jobs")) as f64
        / f64::from(attempts);
    assert_eq!(per_attempt, 2.0);
    assert_eq!(stats.count("list_runs"), 3);
    assert_token_stayed_home(&hub);
}

#[tokio::test]
async fn a_redirect_is_resolved_only_when_a_download_slot_is_free() {
    // URLs live 300 ms; each download takes about a second. Resolving all redirects up front
    // would hand the queued downloads expired URLs.
    let hub = hub(Config {
        url_expiry: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let client = builder(&hub).download_concurrency(1).build().unwrap();
    let runs: Vec<Run> = collect_runs(&client, &RunFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(Run::is_completed)
        .take(3)
        .collect();
    let size = hub.with_world(|w| w.archive("acme/widgets", runs[0].id, 1).unwrap().len()) as u64;
    hub.inject(Fault::blob("/logs.zip", FaultKind::Slow(size)));
    let repo = repo();
    let downloads = runs.iter().map(|run| client.download_logs(&repo, run, 1));
    for outcome in futures_util::future::join_all(downloads).await {
        expect_logs(outcome.unwrap());
    }
    assert_eq!(
        hub.stats().count_status("blob", 403),
        0,
        "no URL was used after it expired"
    );
    assert_token_stayed_home(&hub);
}

#[tokio::test]
async fn an_expired_or_broken_transfer_starts_over_with_a_fresh_url() {
    let hub = hub(Config::default()).await;
    let client = builder(&hub).build().unwrap();
    let run = newest_completed(&client).await;
    let want = hub
        .with_world(|w| w.archive("acme/widgets", run.id, 1))
        .unwrap();
    for fault in [
        FaultKind::Status(403),
        FaultKind::DropMidBody,
        FaultKind::Truncate,
        FaultKind::Status(503),
    ] {
        hub.inject(Fault::blob("/logs.zip", fault.clone()).times(2));
        let got = expect_logs(client.download_logs(&repo(), &run, 1).await.unwrap());
        assert_eq!(got, want, "after two of {fault:?}");
    }
    // Four faults, two tries each, each try resolving its own redirect.
    assert_eq!(hub.stats().count("attempt_logs"), 12);
    assert_token_stayed_home(&hub);
}

#[tokio::test]
async fn a_transfer_that_keeps_breaking_is_an_error_not_half_an_archive() {
    let hub = hub(Config::default()).await;
    let client = builder(&hub).build().unwrap();
    let run = newest_completed(&client).await;
    hub.inject(Fault::blob("/logs.zip", FaultKind::Truncate));
    let err = client.download_logs(&repo(), &run, 1).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Download { .. }), "{text}");
    assert!(
        text.contains(&format!("run `{}` attempt `1`", run.id)) && text.contains("5 tries"),
        "{text}"
    );
    assert!(text.contains("not a whole zip"), "{text}");
}

#[tokio::test]
async fn archives_over_the_cap_are_refused() {
    let hub = hub(Config::default()).await;
    let client = builder(&hub).max_archive_bytes(1_000).build().unwrap();
    let run = newest_completed(&client).await;
    let err = client.download_logs(&repo(), &run, 1).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { cap: 1_000, .. }), "{err}");
}

#[tokio::test]
async fn old_archives_are_gone_and_the_others_go_on() {
    let hub = hub(Config {
        runs: 30,
        days: 30,
        retention: Duration::from_secs(15 * 86_400),
        ..Config::default()
    })
    .await;
    let client = builder(&hub).build().unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    let (mut gone, mut logs) = (0, 0);
    for run in runs.iter().filter(|r| r.is_completed()) {
        match client
            .download_logs(&repo(), run, run.run_attempt)
            .await
            .unwrap()
        {
            LogsOutcome::Gone { status: 410 } => gone += 1,
            LogsOutcome::Logs(_) => logs += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(gone > 0 && logs > 0, "{gone} gone, {logs} downloaded");
    assert_eq!(
        hub.stats().count_status("attempt_logs", 410),
        gone,
        "a gone archive is asked for once"
    );
}

#[tokio::test]
async fn a_fresh_archive_that_stays_404_is_not_ready() {
    let hub = hub(Config {
        not_ready_for: Duration::from_secs(86_400),
        ..Config::default()
    })
    .await;
    let policy = NotReadyPolicy {
        window: Duration::from_secs(7 * 86_400),
        delay: Duration::from_millis(20),
        tries: 3,
    };
    let client = builder(&hub).not_ready(policy).build().unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    let truth = hub.repo("acme/widgets").unwrap();
    let run = runs
        .iter()
        .find(|r| truth.run(r.id).unwrap().latest().status == Status::Completed)
        .unwrap();
    let outcome = client
        .download_logs(&repo(), run, run.run_attempt)
        .await
        .unwrap();
    assert!(matches!(outcome, LogsOutcome::NotReady), "{outcome:?}");
    assert_eq!(hub.stats().count_status("attempt_logs", 404), 3);
}

#[tokio::test]
async fn a_lasting_blob_outage_ends_every_download_at_once() {
    let hub = hub(Config::default()).await;
    let client = builder(&hub).build().unwrap();
    let runs: Vec<Run> = collect_runs(&client, &RunFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.is_completed())
        .collect();
    hub.inject(Fault::blob("/logs.zip", FaultKind::DropMidBody));
    let repo = repo();
    let downloads = runs[..4]
        .iter()
        .map(|run| client.download_logs(&repo, run, 1));
    for result in futures_util::future::join_all(downloads).await {
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::BlobOutage { failures: 5, .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("failed with transfer broke"),
            "{err}"
        );
        // The signed blob URL's query is a secret: no message of the chain carries it.
        let mut cause: Option<&dyn std::error::Error> = Some(&err);
        while let Some(error) = cause {
            assert!(!error.to_string().contains("sig="), "{error}");
            cause = error.source();
        }
    }
    // Once down, a download asks nothing of GitHub.
    let asked = hub.stats().count("attempt_logs");
    let err = client.download_logs(&repo, &runs[4], 1).await.unwrap_err();
    assert!(matches!(err, Error::BlobOutage { .. }), "{err}");
    assert_eq!(hub.stats().count("attempt_logs"), asked);
    // Blob storage back: the next sync's client downloads again.
    hub.clear_faults();
    let fresh = builder(&hub).build().unwrap();
    assert!(matches!(
        fresh.download_logs(&repo, &runs[4], 1).await,
        Ok(LogsOutcome::Logs(_))
    ));
}
