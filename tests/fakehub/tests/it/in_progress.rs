//! Runs in progress whose jobs complete one by one (`docs/github.md` section 10): the jobs API
//! shows each job as it stands, a completed job's log is served before its run completes, the
//! run's archive only once the last job has completed; library calls and the control endpoint
//! move time on.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::time::Duration;

use fakehub::{Conclusion, Config, FakeHub, Run, Status};
use serde_json::Value;

use crate::{client, get, get_json, hub};

/// The newest run, which the default corpus has in progress.
fn running(hub: &FakeHub) -> Run {
    let run = hub
        .repo("acme/widgets")
        .unwrap()
        .runs
        .last()
        .unwrap()
        .clone();
    assert_eq!(run.latest().status, Status::InProgress);
    run
}

fn job_logs(job: u64) -> String {
    format!("/repos/acme/widgets/actions/jobs/{job}/logs")
}

/// Follows a job's log redirect and returns the text.
async fn job_text(hub: &FakeHub, job: u64) -> Vec<u8> {
    let response = get(hub, &job_logs(job)).await;
    assert_eq!(response.status(), 302, "job {job}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    client()
        .get(location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

/// Asserts that a job object of the API is consistent with its status.
fn assert_consistent(job: &Value) {
    let id = &job["id"];
    let steps = job["steps"].as_array().unwrap();
    let statuses: Vec<&str> = steps
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    match job["status"].as_str().unwrap() {
        "completed" => {
            assert!(job["conclusion"].is_string(), "job {id}");
            assert!(job["completed_at"].is_string(), "job {id}");
            assert!(statuses.iter().all(|&s| s == "completed"), "job {id}");
            assert!(steps.iter().all(|s| s["conclusion"].is_string()));
        }
        "in_progress" => {
            assert!(job["conclusion"].is_null() && job["completed_at"].is_null());
            // Steps done, then the one running, then the ones waiting.
            let running = statuses.iter().position(|&s| s == "in_progress");
            let running = running.unwrap_or_else(|| panic!("job {id}: {statuses:?}"));
            assert!(statuses[..running].iter().all(|&s| s == "completed"));
            assert!(statuses[running + 1..].iter().all(|&s| s == "queued"));
            assert!(steps[running]["started_at"].is_string());
            assert!(steps[running]["completed_at"].is_null());
        }
        "queued" => {
            assert!(job["conclusion"].is_null() && job["completed_at"].is_null());
            assert!(statuses.iter().all(|&s| s == "queued"), "job {id}");
            assert!(steps.iter().all(|s| s["started_at"].is_null()));
        }
        other => panic!("job {id}: status {other}"),
    }
}

#[tokio::test]
async fn a_run_in_progress_has_failed_jobs_done_and_others_not() {
    let hub = hub(Config::default()).await;
    let run = running(&hub);
    let path = format!("/repos/acme/widgets/actions/runs/{}", run.id);
    let api_run = get_json(&hub, &path).await;
    assert_eq!(api_run["status"], "in_progress");
    assert_eq!(api_run["conclusion"], Value::Null);

    let jobs = get_json(&hub, &format!("{path}/attempts/1/jobs?per_page=100")).await;
    let jobs = jobs["jobs"].as_array().unwrap();
    jobs.iter().for_each(assert_consistent);
    let status = |s: &'static str| jobs.iter().filter(move |j| j["status"] == s);
    let failed: Vec<&Value> = status("completed")
        .filter(|j| j["conclusion"] == "failure")
        .collect();
    assert!(!failed.is_empty(), "a job failed before the run completes");
    assert!(status("in_progress").count() > 0, "some are running");
    assert_eq!(
        status("queued").count(),
        1,
        "the macOS job waits for a runner"
    );

    // The completed jobs completed long enough ago to be served at once.
    let now = jiff::Timestamp::now();
    for job in status("completed") {
        let done: jiff::Timestamp = job["completed_at"].as_str().unwrap().parse().unwrap();
        assert!(now.duration_since(done).as_secs() >= 60, "{done}");
        assert!(done >= api_run["created_at"].as_str().unwrap().parse().unwrap());
    }

    // The failure's log is served, with its error; a running job's and the archive are not.
    let failed_id = failed[0]["id"].as_u64().unwrap();
    let text = job_text(&hub, failed_id).await;
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("##[error]Process completed with exit code"),
        "{text}"
    );
    let log = hub.job_log("acme/widgets", failed_id).unwrap();
    assert_eq!(text.lines().count(), log.line_count());
    for job in status("in_progress").chain(status("queued")) {
        let id = job["id"].as_u64().unwrap();
        assert_eq!(get(&hub, &job_logs(id)).await.status(), 404, "job {id}");
    }
    assert_eq!(get(&hub, &format!("{path}/logs")).await.status(), 404);
}

#[tokio::test]
async fn several_runs_in_progress_stay_in_creation_order() {
    let hub = hub(Config {
        in_progress: 3,
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let created: Vec<i64> = repo.runs.iter().map(|r| r.created_at).collect();
    assert!(created.windows(2).all(|w| w[0] < w[1]), "{created:?}");
    for run in &repo.runs[repo.runs.len() - 3..] {
        let jobs = &run.latest().jobs;
        assert_eq!(run.latest().status, Status::InProgress);
        assert!(
            jobs.iter()
                .any(|j| j.conclusion == Some(Conclusion::Failure))
        );
        assert!(jobs.iter().any(|j| j.status != Status::Completed));
    }
}

/// An attempt's archive, unpacked: name → bytes.
async fn archive(hub: &FakeHub, run: u64) -> BTreeMap<String, Vec<u8>> {
    let response = get(hub, &format!("/repos/acme/widgets/actions/runs/{run}/logs")).await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let bytes = client()
        .get(location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (entry.name().unwrap().into_owned(), data)
        })
        .collect()
}

#[tokio::test]
async fn jobs_complete_one_by_one_and_the_last_completes_the_run() {
    let hub = hub(Config {
        not_ready_for: Duration::ZERO,
        job_log_not_ready_for: Duration::ZERO,
        ..Config::default()
    })
    .await;
    let run = running(&hub);
    let path = format!("/repos/acme/widgets/actions/runs/{}", run.id);
    let unfinished: Vec<u64> = run
        .latest()
        .jobs
        .iter()
        .filter(|j| j.status != Status::Completed)
        .map(|j| j.id)
        .collect();
    let mut texts = BTreeMap::new();
    for (i, &job) in unfinished.iter().enumerate() {
        assert_eq!(get(&hub, &job_logs(job)).await.status(), 404, "job {job}");
        assert!(hub.with_world_mut(|w| w.complete_job("acme/widgets", job)));
        assert!(
            !hub.with_world_mut(|w| w.complete_job("acme/widgets", job)),
            "only once"
        );
        let got = get_json(&hub, &format!("/repos/acme/widgets/actions/jobs/{job}")).await;
        assert_consistent(&got);
        assert_eq!(got["status"], "completed");
        let text = job_text(&hub, job).await;
        assert_eq!(
            text.iter().filter(|&&b| b == b'\n').count(),
            hub.job_log("acme/widgets", job).unwrap().line_count()
        );
        texts.insert(job, text);

        let api_run = get_json(&hub, &path).await;
        let last = i + 1 == unfinished.len();
        let want = if last { "completed" } else { "in_progress" };
        assert_eq!(api_run["status"], want, "after {} jobs", i + 1);
        if !last {
            assert_eq!(get(&hub, &format!("{path}/logs")).await.status(), 404);
        }
    }

    // The run failed (a job had failed before), and its archive holds every job's log as the
    // per-job endpoint served it, BOM aside.
    let done = hub
        .repo("acme/widgets")
        .unwrap()
        .run(run.id)
        .unwrap()
        .clone();
    assert_eq!(done.latest().conclusion, Some(Conclusion::Failure));
    let files = archive(&hub, run.id).await;
    let bom = "\u{feff}".as_bytes();
    for job in done.latest().archived_jobs() {
        let text = match texts.get(&job.id) {
            Some(text) => text.clone(),
            None => job_text(&hub, job.id).await,
        };
        let in_archive = files
            .iter()
            .find(|(name, data)| {
                !name.contains('/') && !name.starts_with('-') && {
                    let data = data.strip_prefix(bom).unwrap_or(data);
                    data == text.strip_prefix(bom).unwrap()
                }
            })
            .map(|(name, _)| name.clone());
        assert!(in_archive.is_some(), "job {} `{}`", job.id, job.name);
    }
}

#[tokio::test]
async fn the_control_endpoint_completes_jobs_and_runs() {
    // Seed 1's newest run has two jobs still running; the run before it is in progress too.
    let hub = hub(Config {
        seed: 1,
        in_progress: 2,
        // Completion times are whole seconds: 2 s leave at least one of 404.
        job_log_not_ready_for: Duration::from_secs(2),
        ..Config::default()
    })
    .await;
    let repo = hub.repo("acme/widgets").unwrap();
    let [older, newest] = &repo.runs[repo.runs.len() - 2..] else {
        unreachable!("two runs")
    };
    let mut unfinished: Vec<&fakehub::Job> = newest
        .latest()
        .jobs
        .iter()
        .filter(|j| j.status != Status::Completed)
        .collect();
    assert_eq!(unfinished.len(), 2);
    unfinished.sort_by_key(|j| (j.status != Status::InProgress, j.started_at, j.id));
    let (next, other) = (unfinished[0].id, unfinished[1].id);
    let post = |path: String| {
        client()
            .post(format!("{}/_fakehub/{path}", hub.api_url()))
            .send()
    };
    let run_status = |id: u64| {
        let hub = &hub;
        async move {
            get_json(hub, &format!("/repos/acme/widgets/actions/runs/{id}")).await["status"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };

    let completed = post(format!("runs/{}/complete-next-job", newest.id))
        .await
        .unwrap();
    assert_eq!(completed.status(), 200);
    let job: Value = completed.json().await.unwrap();
    assert_eq!(
        (job["id"].as_u64(), job["status"].as_str()),
        (Some(next), Some("completed"))
    );
    assert_consistent(&job);
    assert_eq!(run_status(newest.id).await, "in_progress");
    assert_eq!(
        post(format!("jobs/{next}/complete"))
            .await
            .unwrap()
            .status(),
        409
    );
    assert_eq!(get(&hub, &job_logs(next)).await.status(), 404, "finalising");
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(get(&hub, &job_logs(next)).await.status(), 302);

    // The last job completes the run, which then has nothing left to complete.
    assert_eq!(
        post(format!("jobs/{other}/complete"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(run_status(newest.id).await, "completed");
    let again = post(format!("runs/{}/complete", newest.id)).await.unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(
        post(format!("runs/{}/complete-next-job", newest.id))
            .await
            .unwrap()
            .status(),
        409
    );

    // A whole run at once.
    assert_eq!(older.latest().status, Status::InProgress);
    let response = post(format!("runs/{}/complete", older.id)).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["id"].as_u64(), body["status"].as_str()),
        (Some(older.id), Some("completed"))
    );
    assert_eq!(body["conclusion"], "failure", "a job had failed before");

    assert_eq!(post("jobs/1/complete".into()).await.unwrap().status(), 404);
    assert_eq!(post("nonsense".into()).await.unwrap().status(), 404);
    let get_control = client()
        .get(format!("{}/_fakehub/jobs/{next}/complete", hub.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(get_control.status(), 405);
    let stats = hub.stats();
    assert_eq!(stats.count("control"), 9);
    assert_eq!(stats.count_status("control", 409), 3);
    assert_eq!(
        stats.api_requests(),
        stats.count("job_logs") + stats.count("get_run"),
        "control requests are not GitHub's"
    );
}
