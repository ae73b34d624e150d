//! Log redirects and blob storage: signatures, expiry, the token refused, gone and not-ready
//! archives, and faults mid-transfer.

use std::io::{Cursor, Read};
use std::time::{Duration, Instant};

use fakehub::{Config, FakeHub, Fault, FaultKind, Status};

use crate::{client, get, hub};

/// The newest completed run's id.
fn completed_run(hub: &FakeHub) -> u64 {
    let repo = hub.repo("acme/widgets").unwrap();
    repo.runs
        .iter()
        .rev()
        .find(|r| r.latest().status == Status::Completed)
        .unwrap()
        .id
}

/// Resolves the archive redirect of `run`'s attempt 1 and returns the signed blob URL.
async fn resolve(hub: &FakeHub, run: u64) -> String {
    let response = get(
        hub,
        &format!("/repos/acme/widgets/actions/runs/{run}/attempts/1/logs"),
    )
    .await;
    assert_eq!(response.status(), 302);
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Reads every entry of a zip, failing on any damage.
fn read_zip(bytes: &[u8]) -> zip::result::ZipResult<usize> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
    let mut total = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let mut buf = Vec::new();
        entry.read_to_end(&mut buf)?;
        total += buf.len();
    }
    Ok(total)
}

#[tokio::test]
async fn the_redirect_is_cross_origin_and_expires() {
    let hub = hub(Config {
        url_expiry: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let location = resolve(&hub, completed_run(&hub)).await;
    assert!(
        location.starts_with(hub.blob_url()) && !location.starts_with(hub.api_url()),
        "{location}"
    );

    let fresh = client().get(&location).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
    assert_eq!(fresh.headers()["content-type"], "application/zip");
    let bytes = fresh.bytes().await.unwrap();
    assert!(read_zip(&bytes).unwrap() > 0);
    assert_eq!(hub.stats().blob_bytes, bytes.len() as u64);

    tokio::time::sleep(Duration::from_millis(400)).await;
    let expired = client().get(&location).send().await.unwrap();
    assert_eq!(expired.status(), 403);
    let body = expired.text().await.unwrap();
    assert!(body.contains("<Code>AuthenticationFailed</Code>"), "{body}");
    assert!(
        body.contains("Signature not valid in the specified time frame"),
        "{body}"
    );
}

#[tokio::test]
async fn the_blob_host_refuses_the_token_and_forged_signatures() {
    let hub = hub(Config::default()).await;
    let location = resolve(&hub, completed_run(&hub)).await;
    let with_token = client()
        .get(&location)
        .bearer_auth(hub.token())
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 403);
    assert!(
        with_token
            .text()
            .await
            .unwrap()
            .contains("AuthenticationFailed")
    );
    assert_eq!(hub.stats().auth_header_violations, 1);

    let forged = location.replace("&sig=", "&sig=0");
    let response = client().get(&forged).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Signature did not match")
    );
    assert_eq!(
        hub.stats().auth_header_violations,
        1,
        "no token sent that time"
    );
    assert_eq!(hub.stats().count_status("blob", 403), 2);
}

#[tokio::test]
async fn old_archives_are_gone_and_fresh_ones_not_ready() {
    let gone = hub(Config {
        days: 30,
        retention: Duration::from_secs(10 * 86_400),
        ..Config::default()
    })
    .await;
    let repo = gone.repo("acme/widgets").unwrap();
    let old = repo.runs[0].id;
    let response = get(
        &gone,
        &format!("/repos/acme/widgets/actions/runs/{old}/logs"),
    )
    .await;
    assert_eq!(response.status(), 410);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("\"status\":\"410\"")
    );
    assert_eq!(
        get(
            &gone,
            &format!(
                "/repos/acme/widgets/actions/runs/{}/logs",
                completed_run(&gone)
            )
        )
        .await
        .status(),
        302
    );

    let gone404 = hub(Config {
        days: 30,
        retention: Duration::from_secs(86_400),
        gone_status: 404,
        ..Config::default()
    })
    .await;
    let old = gone404.repo("acme/widgets").unwrap().runs[0].id;
    assert_eq!(
        get(
            &gone404,
            &format!("/repos/acme/widgets/actions/runs/{old}/logs")
        )
        .await
        .status(),
        404
    );

    // Every run completed within the last year is "being finalised".
    let fresh = hub(Config {
        not_ready_for: Duration::from_secs(365 * 86_400),
        ..Config::default()
    })
    .await;
    let run = completed_run(&fresh);
    assert_eq!(
        get(
            &fresh,
            &format!("/repos/acme/widgets/actions/runs/{run}/attempts/1/logs")
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn in_progress_runs_have_no_archive() {
    let hub = hub(Config {
        in_progress: 2,
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let running: Vec<_> = repo.runs.iter().rev().take(2).collect();
    for run in running {
        assert_eq!(run.latest().status, Status::InProgress);
        let response = get(
            &hub,
            &format!("/repos/acme/widgets/actions/runs/{}/logs", run.id),
        )
        .await;
        assert_eq!(response.status(), 404);
    }
}

#[tokio::test]
async fn the_run_archive_is_the_latest_attempts_and_job_logs_are_text() {
    let hub = hub(Config {
        runs: 120,
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let run = repo
        .runs
        .iter()
        .find(|r| r.attempts.len() >= 2 && r.latest().status == Status::Completed)
        .unwrap();
    let latest = get(
        &hub,
        &format!("/repos/acme/widgets/actions/runs/{}/logs", run.id),
    )
    .await;
    let location = latest.headers()["location"].to_str().unwrap();
    assert!(
        location.contains(&format!("/attempts/{}/", run.attempts.len())),
        "{location}"
    );

    let job = run.latest().archived_jobs().next().unwrap();
    let response = get(
        &hub,
        &format!("/repos/acme/widgets/actions/jobs/{}/logs", job.id),
    )
    .await;
    assert_eq!(response.status(), 302);
    let text = client()
        .get(response.headers()["location"].to_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(text.headers()["content-type"], "text/plain");
    let body = text.bytes().await.unwrap();
    let log = hub.job_log("acme/widgets", job.id).unwrap();
    let line_ends = body.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(line_ends, log.line_count());
}

#[tokio::test]
async fn each_blob_fault_can_be_triggered() {
    let hub = hub(Config::default()).await;
    let run = completed_run(&hub);

    hub.inject(Fault::blob("/logs.zip", FaultKind::Status(503)).times(1));
    let location = resolve(&hub, run).await;
    assert_eq!(client().get(&location).send().await.unwrap().status(), 503);
    let intact = client()
        .get(&location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(read_zip(&intact).is_ok());

    hub.inject(Fault::blob("/logs.zip", FaultKind::DropMidBody).times(1));
    let dropped = client().get(&location).send().await.unwrap();
    assert_eq!(dropped.status(), 200);
    assert!(
        dropped.bytes().await.is_err(),
        "the body breaks off before its Content-Length"
    );

    hub.inject(Fault::blob("/logs.zip", FaultKind::Truncate).times(1));
    let truncated = client()
        .get(&location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(truncated.len(), intact.len() / 2);
    assert!(read_zip(&truncated).is_err());

    hub.inject(Fault::blob("/logs.zip", FaultKind::Corrupt).times(1));
    let corrupt = client()
        .get(&location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(corrupt.len(), intact.len());
    assert!(read_zip(&corrupt).is_err());

    let rate = intact.len() as u64;
    hub.inject(Fault::blob("/logs.zip", FaultKind::Slow(rate)).times(1));
    let started = Instant::now();
    let slow = client()
        .get(&location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(slow, intact);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "one second's worth at {rate} B/s"
    );

    assert_eq!(
        client()
            .get(&location)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        intact,
        "faults used up"
    );
}

#[tokio::test]
async fn a_run_that_completes_while_serving_is_not_ready_at_first() {
    let hub = hub(Config {
        in_progress: 1,
        not_ready_for: Duration::from_secs(2),
        ..Config::default()
    })
    .await;
    let running = hub.repo("acme/widgets").unwrap().runs.last().unwrap().id;
    let logs = format!("/repos/acme/widgets/actions/runs/{running}/attempts/1/logs");
    assert_eq!(get(&hub, &logs).await.status(), 404, "in progress");
    assert!(hub.with_world_mut(|w| w.complete_run("acme/widgets", running)));
    assert!(
        !hub.with_world_mut(|w| w.complete_run("acme/widgets", running)),
        "only once"
    );
    let run = crate::get_json(&hub, &format!("/repos/acme/widgets/actions/runs/{running}")).await;
    // One of its jobs had failed before it completed (the generator makes sure of it).
    assert_eq!(
        (run["status"].as_str(), run["conclusion"].as_str()),
        (Some("completed"), Some("failure"))
    );
    assert_eq!(get(&hub, &logs).await.status(), 404, "being finalised");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let location = get(&hub, &logs).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = client()
        .get(location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let jobs = hub
        .repo("acme/widgets")
        .unwrap()
        .run(running)
        .unwrap()
        .latest()
        .archived_jobs()
        .count();
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let whole_job_files = zip
        .file_names()
        .map(|n| n.unwrap())
        .filter(|n| !n.contains('/') && !n.starts_with('-'))
        .count();
    assert_eq!(whole_job_files, jobs, "every job wrote its log");
}

#[tokio::test]
async fn a_rerun_while_serving_adds_an_attempt_with_every_job() {
    let hub = hub(Config::default()).await;
    let run = completed_run(&hub);
    let before = hub
        .repo("acme/widgets")
        .unwrap()
        .run(run)
        .unwrap()
        .attempts
        .len() as u32;
    let number = hub
        .with_world_mut(|w| w.rerun("acme/widgets", run))
        .unwrap();
    assert_eq!(number, before + 1);
    let got = crate::get_json(&hub, &format!("/repos/acme/widgets/actions/runs/{run}")).await;
    assert_eq!(got["run_attempt"], number);
    let jobs = crate::get_json(
        &hub,
        &format!("/repos/acme/widgets/actions/runs/{run}/attempts/{number}/jobs"),
    )
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let workflow = &repo.workflows[repo.run(run).unwrap().workflow];
    assert_eq!(jobs["total_count"], workflow.jobs.len(), "all jobs re-ran");
    assert!(
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["run_attempt"] == number)
    );
    let response = get(
        &hub,
        &format!("/repos/acme/widgets/actions/runs/{run}/attempts/{number}/logs"),
    )
    .await;
    assert_eq!(response.status(), 302);
}

#[tokio::test]
async fn a_recorded_archive_is_served_as_is_until_its_run_changes() {
    let hub = hub(Config::default()).await;
    let run = completed_run(&hub);
    let recorded = b"PK\x05\x06 recorded bytes".to_vec();
    hub.with_world_mut(|w| w.record_archive("acme/widgets", run, 1, recorded.clone()));
    let served = client().get(resolve(&hub, run).await).send().await.unwrap();
    assert_eq!(served.bytes().await.unwrap().as_ref(), recorded.as_slice());

    hub.with_world_mut(|w| w.rerun("acme/widgets", run))
        .unwrap();
    let generated = client().get(resolve(&hub, run).await).send().await.unwrap();
    let bytes = generated.bytes().await.unwrap();
    assert!(read_zip(&bytes).unwrap() > 0);
}
