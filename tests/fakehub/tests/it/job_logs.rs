//! The per-job log endpoint (`GET …/actions/jobs/{id}/logs`, `docs/github.md` section 10): a
//! redirect like the archives', plain text that starts with a BOM, 404 while the job runs and
//! while it is finalised, gone past retention, faults as for archives, its own counters.

use std::time::Duration;

use fakehub::{Config, FakeHub, Fault, FaultKind, Job, Status};

use crate::{client, get, hub};

/// The first job of a completed run that wrote a log and whose archive files have no BOM, so
/// that the BOM the endpoint adds is its own.
fn job_without_bom(hub: &FakeHub) -> Job {
    let repo = hub.repo("acme/widgets").unwrap();
    repo.runs
        .iter()
        .filter(|r| r.latest().status == Status::Completed)
        .flat_map(|r| r.latest().archived_jobs().cloned().collect::<Vec<_>>())
        .find(|j| !j.bom)
        .expect("the corpus has jobs without a BOM in their archive files")
}

fn logs_path(job: u64) -> String {
    format!("/repos/acme/widgets/actions/jobs/{job}/logs")
}

/// Resolves a job's log redirect, asserting 302, and returns the signed URL.
async fn resolve(hub: &FakeHub, job: u64) -> String {
    let response = get(hub, &logs_path(job)).await;
    assert_eq!(response.status(), 302, "job {job}");
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_job_log_is_a_redirect_to_plain_text_that_starts_with_a_bom() {
    let hub = hub(Config {
        url_expiry: Duration::from_millis(500),
        ..Config::default()
    })
    .await;
    let job = job_without_bom(&hub);
    let location = resolve(&hub, job.id).await;
    assert!(
        location.starts_with(hub.blob_url()) && location.contains("&sig="),
        "{location}"
    );

    let with_token = client()
        .get(&location)
        .bearer_auth(hub.token())
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 403);
    assert_eq!(hub.stats().auth_header_violations, 1);

    let response = client().get(&location).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain");
    let body = response.bytes().await.unwrap();
    let text = body
        .strip_prefix("\u{feff}".as_bytes())
        .expect("the body starts with a UTF-8 BOM");
    assert!(!text.starts_with("\u{feff}".as_bytes()), "one BOM, not two");

    // Every line in section 5's format, and the lines are the job's, in order.
    let log = hub.job_log("acme/widgets", job.id).unwrap();
    let want: Vec<String> = log
        .job_file_lines()
        .iter()
        .map(|(_, l)| l.plain_text())
        .collect();
    let got: Vec<&[u8]> = text
        .strip_suffix(b"\n")
        .unwrap()
        .split(|&b| b == b'\n')
        .collect();
    assert_eq!(got.len(), want.len());
    for (line, want) in got.iter().zip(&want) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let stamp = std::str::from_utf8(&line[..28]).unwrap();
        assert!(
            stamp.ends_with('Z') && stamp.as_bytes()[19] == b'.' && line[28] == b' ',
            "{stamp:?}"
        );
        assert!(stamp.parse::<jiff::Timestamp>().is_ok(), "{stamp}");
        let message = String::from_utf8_lossy(&line[29..]);
        assert_eq!(&strip_ansi(&message), want);
    }

    tokio::time::sleep(Duration::from_millis(700)).await;
    let expired = client().get(&location).send().await.unwrap();
    assert_eq!(expired.status(), 403);
    assert!(
        expired
            .text()
            .await
            .unwrap()
            .contains("Signature not valid in the specified time frame")
    );
    // A fresh redirect serves it again.
    let again = client()
        .get(resolve(&hub, job.id).await)
        .send()
        .await
        .unwrap();
    assert_eq!(again.bytes().await.unwrap(), body);

    let stats = hub.stats();
    assert_eq!(stats.count_status("job_logs", 302), 2);
    assert_eq!(
        stats.count("blob_job_log"),
        4,
        "token, fresh, expired, again"
    );
    assert_eq!(stats.count_status("blob_job_log", 200), 2);
    assert_eq!(stats.count("blob"), 0, "no archive was asked for");
    assert_eq!(
        stats.api_requests(),
        2,
        "blob requests are not API requests"
    );
}

/// Removes ANSI CSI sequences as fakehub's ground truth does.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test]
async fn a_job_log_is_404_while_its_job_runs_and_while_it_is_finalised() {
    let hub = hub(Config {
        in_progress: 1,
        // The archive would be ready at once: the job log's own window is what is tested.
        not_ready_for: Duration::ZERO,
        // Completion times are whole seconds: 2 s leave at least one of 404.
        job_log_not_ready_for: Duration::from_secs(2),
        ..Config::default()
    })
    .await;
    let run = hub
        .repo("acme/widgets")
        .unwrap()
        .runs
        .last()
        .unwrap()
        .clone();
    let running = run
        .latest()
        .jobs
        .iter()
        .find(|j| j.status != Status::Completed)
        .expect("the run in progress has a job still running")
        .id;
    let response = get(&hub, &logs_path(running)).await;
    assert_eq!(response.status(), 404, "still running");
    assert!(response.text().await.unwrap().contains("Not Found"));

    assert!(hub.with_world_mut(|w| w.complete_run("acme/widgets", run.id)));
    assert_eq!(
        get(&hub, &logs_path(running)).await.status(),
        404,
        "being finalised"
    );
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let body = client()
        .get(resolve(&hub, running).await)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let log = hub.job_log("acme/widgets", running).unwrap();
    assert_eq!(
        body.iter().filter(|&&b| b == b'\n').count(),
        log.line_count()
    );
    assert_eq!(hub.stats().count_status("job_logs", 404), 2);
}

#[tokio::test]
async fn an_expired_job_log_is_gone() {
    for (status, message) in [(410, "Server Error"), (404, "Not Found")] {
        let hub = hub(Config {
            days: 30,
            retention: Duration::from_secs(10 * 86_400),
            gone_status: status,
            ..Config::default()
        })
        .await;
        let repo = hub.repo("acme/widgets").unwrap();
        let old = repo.runs[0].latest().archived_jobs().next().unwrap().id;
        let response = get(&hub, &logs_path(old)).await;
        assert_eq!(response.status(), status);
        let body = response.text().await.unwrap();
        assert!(body.contains(message), "{body}");
        assert!(body.contains(&format!("\"status\":\"{status}\"")), "{body}");

        let fresh = repo
            .runs
            .iter()
            .rev()
            .find(|r| r.latest().status == Status::Completed)
            .unwrap();
        let job = fresh.latest().archived_jobs().next().unwrap().id;
        assert_eq!(get(&hub, &logs_path(job)).await.status(), 302);
    }
}

#[tokio::test]
async fn job_log_faults_fire_as_archive_faults_do() {
    let hub = hub(Config::default()).await;
    let job = job_without_bom(&hub).id;
    let intact = client()
        .get(resolve(&hub, job).await)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();

    hub.inject(Fault::api("/actions/jobs/", FaultKind::Status(503)).times(1));
    assert_eq!(get(&hub, &logs_path(job)).await.status(), 503);
    let location = resolve(&hub, job).await;

    hub.inject(Fault::blob("/log.txt", FaultKind::Status(500)).times(1));
    assert_eq!(client().get(&location).send().await.unwrap().status(), 500);

    hub.inject(Fault::blob("/log.txt", FaultKind::Truncate).times(1));
    let truncated = client()
        .get(&location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(truncated.len(), intact.len() / 2);

    hub.inject(Fault::blob("/log.txt", FaultKind::DropMidBody).times(1));
    let dropped = client().get(&location).send().await.unwrap();
    assert!(dropped.bytes().await.is_err(), "the body breaks off");

    // An archive fault leaves job logs alone.
    hub.inject(Fault::blob("/logs.zip", FaultKind::Status(503)));
    let served = client().get(&location).send().await.unwrap();
    assert_eq!(served.bytes().await.unwrap(), intact, "faults used up");
    let stats = hub.stats();
    assert_eq!(stats.count_status("job_logs", 503), 1);
    assert_eq!(stats.count_status("blob_job_log", 500), 1);
}
