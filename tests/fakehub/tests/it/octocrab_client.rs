//! octocrab, a widely used third-party GitHub client, reads fakehub's bodies, links and errors:
//! proof that fakehub is shaped like GitHub and not only like what logidx happens to parse.

use fakehub::{Config, FakeHub};
use octocrab::models::workflows::{self, Job};
use octocrab::{Octocrab, Page};
use serde::de::DeserializeOwned;

const OWNER: &str = "acme";
const NAME: &str = "widgets";
const FULL_NAME: &str = "acme/widgets";

/// An octocrab client aimed at the hub's API with its token, as a user would aim it at GitHub.
fn octocrab(hub: &FakeHub) -> Octocrab {
    Octocrab::builder()
        .base_uri(hub.api_url())
        .expect("the hub's API URL is a URI")
        .personal_token(hub.token().to_owned())
        .build()
        .expect("octocrab builds")
}

/// Every item from `first` on, following octocrab's `next` links, and how many pages it took.
async fn follow<T: DeserializeOwned>(crab: &Octocrab, mut page: Page<T>) -> (Vec<T>, u64) {
    let mut items = page.take_items();
    let mut pages = 1;
    while let Some(mut next) = crab
        .get_page::<T>(&page.next)
        .await
        .expect("octocrab follows and parses the next page")
    {
        items.append(&mut next.take_items());
        pages += 1;
        page = next;
    }
    (items, pages)
}

/// octocrab's spelling of a status, named in code so a new variant on either side is noticed.
fn status(status: fakehub::Status) -> workflows::Status {
    match status {
        fakehub::Status::Queued => workflows::Status::Queued,
        fakehub::Status::InProgress => workflows::Status::InProgress,
        fakehub::Status::Completed => workflows::Status::Completed,
    }
}

/// octocrab's spelling of a conclusion.
fn conclusion(conclusion: fakehub::Conclusion) -> workflows::Conclusion {
    match conclusion {
        fakehub::Conclusion::Success => workflows::Conclusion::Success,
        fakehub::Conclusion::Failure => workflows::Conclusion::Failure,
        fakehub::Conclusion::Cancelled => workflows::Conclusion::Cancelled,
        fakehub::Conclusion::Skipped => workflows::Conclusion::Skipped,
    }
}

/// Asserts octocrab read the jobs as fakehub generated them, in order, down to step times in
/// whole seconds (whichever of GitHub's two time shapes they were written in).
fn assert_jobs(got: &[Job], want: &[fakehub::Job], run_id: u64, context: &str) {
    let ids = |jobs: &[Job]| jobs.iter().map(|j| j.id.into_inner()).collect::<Vec<_>>();
    let want_ids: Vec<u64> = want.iter().map(|j| j.id).collect();
    assert_eq!(ids(got), want_ids, "{context}: job ids");
    for (g, w) in got.iter().zip(want) {
        let context = format!("{context}, job {}", w.id);
        assert_eq!(g.run_id.into_inner(), run_id, "{context}");
        assert_eq!(g.name, w.name, "{context}");
        assert_eq!(g.run_attempt, w.run_attempt, "{context}");
        assert_eq!(g.status, status(w.status), "{context}");
        assert_eq!(g.conclusion, w.conclusion.map(conclusion), "{context}");
        assert_eq!(g.started_at.timestamp(), w.started_at, "{context}");
        assert_eq!(
            g.completed_at.map(|t| t.timestamp()),
            w.completed_at,
            "{context}"
        );
        assert_eq!(
            g.runner_name.as_deref(),
            Some(w.runner_name.as_str()),
            "{context}"
        );
        let numbers =
            |steps: &[workflows::Step]| steps.iter().map(|s| s.number).collect::<Vec<_>>();
        let want_numbers: Vec<i64> = w.steps.iter().map(|s| i64::from(s.number)).collect();
        assert_eq!(numbers(&g.steps), want_numbers, "{context}: step numbers");
        for (gs, ws) in g.steps.iter().zip(&w.steps) {
            let context = format!("{context}, step {}", ws.number);
            assert_eq!(gs.name, ws.name, "{context}");
            assert_eq!(gs.status, status(ws.status), "{context}");
            assert_eq!(gs.conclusion, ws.conclusion.map(conclusion), "{context}");
            assert_eq!(
                gs.started_at.map(|t| t.timestamp()),
                ws.started_at,
                "{context}"
            );
            assert_eq!(
                gs.completed_at.map(|t| t.timestamp()),
                ws.completed_at,
                "{context}"
            );
        }
    }
}

#[tokio::test]
async fn lists_every_run_once_newest_first_by_following_next_links() {
    let hub = crate::hub(Config {
        runs: 40,
        ..Default::default()
    })
    .await;
    let crab = octocrab(&hub);
    let first = crab
        .workflows(OWNER, NAME)
        .list_all_runs()
        .per_page(7u8)
        .send()
        .await
        .expect("octocrab parses the first page of runs");
    assert_eq!(first.total_count, Some(40));
    assert_eq!(
        first.number_of_pages(),
        Some(6),
        "last link: {:?}",
        first.last
    );
    let (runs, pages) = follow(&crab, first).await;
    assert_eq!(pages, 6);

    let truth = hub.repo(FULL_NAME).expect("the default repository");
    let got: Vec<u64> = runs.iter().map(|r| r.id.into_inner()).collect();
    let want: Vec<u64> = truth.runs.iter().rev().map(|r| r.id).collect();
    assert_eq!(got, want, "every run once, newest first");
    assert!(
        runs.windows(2).all(|w| w[0].created_at >= w[1].created_at),
        "created_at never increases down the list"
    );
    for (run, truth) in runs.iter().zip(truth.runs.iter().rev()) {
        let latest = truth.latest();
        assert_eq!(
            run.created_at.timestamp(),
            truth.created_at,
            "run {}",
            truth.id
        );
        assert_eq!(run.run_number, truth.run_number as i64, "run {}", truth.id);
        assert_eq!(run.head_sha, truth.head_sha, "run {}", truth.id);
        assert_eq!(run.status, latest.status.as_str(), "run {}", truth.id);
        assert_eq!(
            run.conclusion.as_deref(),
            latest.conclusion.map(|c| c.as_str()),
            "run {}",
            truth.id
        );
        assert_eq!(run.repository.full_name.as_deref(), Some(FULL_NAME));
    }

    let stats = hub.stats();
    assert_eq!(stats.count("list_runs"), pages);
    assert_eq!(stats.count_status("list_runs", 200), pages);
    assert_eq!(
        stats.api_requests(),
        pages,
        "octocrab made no other request"
    );
}

#[tokio::test]
async fn jobs_of_runs_and_attempts_match_the_ground_truth() {
    let hub = crate::hub(Config {
        runs: 40,
        ..Default::default()
    })
    .await;
    let crab = octocrab(&hub);
    let actions = crab.workflows(OWNER, NAME);
    let truth = hub.repo(FULL_NAME).expect("the default repository");
    // A re-run, a run whose step times use the `-08:00` shape, and the run still in progress.
    let rerun = truth
        .runs
        .iter()
        .find(|r| r.attempts.len() > 1)
        .expect("40 runs include a re-run");
    let offset = truth
        .runs
        .iter()
        .find(|r| r.latest().jobs.iter().any(|j| j.offset_times))
        .expect("40 runs include steps timed with an offset");
    let running = truth.runs.last().expect("runs");
    assert_eq!(running.latest().status, fakehub::Status::InProgress);

    // The offset shape really is on the wire, so octocrab is tested on it.
    let job = offset
        .latest()
        .jobs
        .iter()
        .find(|j| j.offset_times)
        .unwrap();
    let raw = crate::get_json(&hub, &format!("/repos/{FULL_NAME}/actions/jobs/{}", job.id)).await;
    let started = raw["steps"][0]["started_at"].as_str().expect("a step time");
    assert!(started.ends_with(".000-08:00"), "{started}");

    let (mut run_pages, mut attempt_pages) = (0, 0);
    for run in [rerun, offset, running] {
        let first = actions
            .list_jobs(run.id.into())
            .per_page(2u8)
            .send()
            .await
            .expect("octocrab parses a run's jobs");
        let (jobs, pages) = follow(&crab, first).await;
        run_pages += pages;
        assert_jobs(
            &jobs,
            &run.latest().jobs,
            run.id,
            &format!("run {}", run.id),
        );

        for attempt in &run.attempts {
            let context = format!("run {} attempt {}", run.id, attempt.number);
            let first = actions
                .list_attempt_jobs(run.id.into(), attempt.number)
                .per_page(2u8)
                .send()
                .await
                .expect("octocrab parses an attempt's jobs");
            let (jobs, pages) = follow(&crab, first).await;
            attempt_pages += pages;
            assert_jobs(&jobs, &attempt.jobs, run.id, &context);

            let got = actions
                .get_attempt(run.id.into(), attempt.number)
                .await
                .expect("octocrab parses an attempt");
            assert_eq!(got.id.into_inner(), run.id, "{context}");
            assert_eq!(got.status, attempt.status.as_str(), "{context}");
        }
    }

    let stats = hub.stats();
    assert_eq!(stats.count("list_run_jobs"), run_pages);
    assert_eq!(stats.count("list_attempt_jobs"), attempt_pages);
    let attempts = (rerun.attempts.len() + offset.attempts.len() + running.attempts.len()) as u64;
    assert_eq!(stats.count("get_attempt"), attempts);
    assert!(run_pages > 3, "per_page 2 made octocrab follow job pages");
}

#[tokio::test]
async fn gets_a_repository_and_reads_a_404_as_githubs_error() {
    let hub = crate::hub(Config {
        runs: 5,
        ..Default::default()
    })
    .await;
    let crab = octocrab(&hub);
    let truth = hub.repo(FULL_NAME).expect("the default repository");

    let repo = crab
        .repos(OWNER, NAME)
        .get()
        .await
        .expect("octocrab parses the repository");
    assert_eq!(repo.id.into_inner(), truth.id);
    assert_eq!(repo.name, truth.name);
    assert_eq!(repo.full_name.as_deref(), Some(FULL_NAME));
    assert_eq!(repo.default_branch, Some(truth.default_branch.clone()));
    assert_eq!(repo.owner.map(|o| o.login), Some(truth.owner.clone()));

    let error = crab
        .repos(OWNER, "no-such-repo")
        .get()
        .await
        .expect_err("an unknown repository is an error");
    let octocrab::Error::GitHub { source, .. } = error else {
        panic!("expected octocrab's GitHub error, got {error:?}");
    };
    assert_eq!(source.status_code, 404);
    assert_eq!(source.message, "Not Found");
    assert!(source.documentation_url.is_some());

    let stats = hub.stats();
    assert_eq!(stats.count("get_repo"), 2);
    assert_eq!(stats.count_status("get_repo", 404), 1);
}
