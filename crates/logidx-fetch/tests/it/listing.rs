//! Listing runs and jobs: pagination, filters, window splitting, conditional requests, errors.

use fakehub::{Config, Status};
use jiff::Timestamp;
use logidx_fetch::{Error, RunFilter, Token};

use crate::{assert_token_stayed_home, builder, collect_runs, hub, repo};

#[tokio::test]
async fn every_run_is_listed_once_newest_first() {
    let hub = hub(Config {
        runs: 250,
        ..Config::default()
    })
    .await;
    let client = builder(&hub).build().unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    let want: Vec<u64> = hub
        .repo("acme/widgets")
        .unwrap()
        .runs
        .iter()
        .rev()
        .map(|r| r.id)
        .collect();
    assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), want);
    assert_eq!(hub.stats().count("list_runs"), 3, "per_page=100");
}

#[tokio::test]
async fn a_window_over_the_1000_cap_is_split_until_no_run_is_missed() {
    let end: Timestamp = "2026-11-20T00:00:00Z".parse().unwrap();
    let hub = hub(Config {
        runs: 3_500,
        days: 10,
        end: Some(end),
        ..Config::default()
    })
    .await;
    let client = builder(&hub).build().unwrap();
    let since = "2026-11-09T00:00:00Z".parse().unwrap();
    let runs = collect_runs(
        &client,
        &RunFilter {
            since: Some(since),
            ..RunFilter::default()
        },
    )
    .await
    .unwrap();
    let want: Vec<u64> = hub
        .repo("acme/widgets")
        .unwrap()
        .runs
        .iter()
        .rev()
        .map(|r| r.id)
        .collect();
    let got: Vec<u64> = runs.iter().map(|r| r.id).collect();
    assert_eq!(got.len(), 3_500);
    assert_eq!(got, want, "every run once, newest first");
    let pages = hub.stats().count("list_runs");
    assert!(pages <= 50, "{pages} list requests for 3,500 runs");
}

#[tokio::test]
async fn filters_select_what_github_selects() {
    let hub = hub(Config {
        runs: 200,
        ..Config::default()
    })
    .await;
    let truth = hub.repo("acme/widgets").unwrap();
    let client = builder(&hub).build().unwrap();
    let ids = |runs: Vec<logidx_fetch::Run>| runs.into_iter().map(|r| r.id).collect::<Vec<_>>();

    let filter = RunFilter {
        branch: Some("main".into()),
        event: Some("push".into()),
        ..RunFilter::default()
    };
    let want: Vec<u64> = truth
        .runs
        .iter()
        .rev()
        .filter(|r| r.head_branch == "main" && r.event == "push")
        .map(|r| r.id)
        .collect();
    assert_eq!(ids(collect_runs(&client, &filter).await.unwrap()), want);

    let filter = RunFilter {
        workflow: Some("nightly.yml".into()),
        ..RunFilter::default()
    };
    let want: Vec<u64> = truth
        .runs
        .iter()
        .rev()
        .filter(|r| r.workflow == 1)
        .map(|r| r.id)
        .collect();
    assert_eq!(ids(collect_runs(&client, &filter).await.unwrap()), want);

    let filter = RunFilter {
        status: Some("failure".into()),
        ..RunFilter::default()
    };
    let got = collect_runs(&client, &filter).await.unwrap();
    assert!(
        !got.is_empty()
            && got
                .iter()
                .all(|r| r.conclusion.as_deref() == Some("failure"))
    );
}

#[tokio::test]
async fn jobs_of_a_partial_rerun_include_the_carried_over_ones() {
    let hub = hub(Config {
        runs: 150,
        ..Config::default()
    })
    .await;
    let truth = hub.repo("acme/widgets").unwrap();
    let run = truth.runs.iter().find(|r| r.is_partial_rerun()).unwrap();
    let client = builder(&hub).build().unwrap();
    let jobs = client.jobs(&repo(), run.id, 2).await.unwrap();
    let got: Vec<(u64, Option<u32>, usize)> = jobs
        .iter()
        .map(|j| (j.id, j.run_attempt, j.steps.len()))
        .collect();
    let want: Vec<(u64, Option<u32>, usize)> = run.attempts[1]
        .jobs
        .iter()
        .map(|j| (j.id, Some(j.run_attempt), j.steps.len()))
        .collect();
    assert_eq!(got, want);
    let attempt = client.attempt(&repo(), run.id, 1).await.unwrap();
    assert_eq!(
        (attempt.run_attempt, attempt.conclusion.as_deref()),
        (1, Some("failure"))
    );
}

#[tokio::test]
async fn relisting_an_unchanged_window_costs_only_free_304s() {
    let hub = hub(Config {
        runs: 250,
        ..Config::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let first = builder(&hub).etag_dir(dir.path()).build().unwrap();
    let runs = collect_runs(&first, &RunFilter::default()).await.unwrap();
    // A new process: nothing in memory, the etags on disk.
    let second = builder(&hub).etag_dir(dir.path()).build().unwrap();
    let again = collect_runs(&second, &RunFilter::default()).await.unwrap();
    assert_eq!(runs, again);
    let stats = hub.stats();
    assert_eq!(
        (
            stats.count_status("list_runs", 200),
            stats.count_status("list_runs", 304)
        ),
        (3, 3)
    );
}

#[tokio::test]
async fn a_bad_token_or_an_unknown_repository_fails_at_once_naming_it() {
    let hub = hub(Config::default()).await;
    let client = builder(&hub).token(Token::new("wrong")).build().unwrap();
    let err = collect_runs(&client, &RunFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
    assert!(err.hint().is_some());
    assert_eq!(hub.stats().count("list_runs"), 1, "no retries on 401");

    let client = builder(&hub).build().unwrap();
    let missing = logidx_fetch::RepoName::parse("acme/nope").unwrap();
    let stream = client.runs(&missing, &RunFilter::default());
    let first = futures_util::StreamExt::collect::<Vec<_>>(stream).await;
    let err = first.into_iter().next().unwrap().unwrap_err();
    assert!(err.to_string().contains("`acme/nope` not found"), "{err}");
    assert_eq!(
        hub.stats().count_status("list_runs", 404),
        1,
        "no retries on 404"
    );
    assert_token_stayed_home(&hub);
}

#[tokio::test]
async fn completed_runs_come_with_their_status() {
    let hub = hub(Config {
        in_progress: 2,
        ..Config::default()
    })
    .await;
    let client = builder(&hub).build().unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    let truth = hub.repo("acme/widgets").unwrap();
    for run in &runs {
        let t = truth.run(run.id).unwrap();
        assert_eq!(run.is_completed(), t.latest().status == Status::Completed);
    }
    assert_eq!(runs.iter().filter(|r| !r.is_completed()).count(), 2);
}

#[tokio::test]
async fn one_listing_of_every_attempts_jobs_gives_each_attempt_its_own_listing() {
    let hub = hub(Config {
        runs: 120,
        ..Config::default()
    })
    .await;
    let client = builder(&hub).build().unwrap();
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    let reruns: Vec<_> = runs.iter().filter(|r| r.run_attempt > 1).collect();
    assert!(reruns.len() > 2, "the corpus has re-runs");
    let mut partial = 0;
    for run in reruns {
        let all = client.all_jobs(&repo(), run.id).await.unwrap();
        for attempt in 1..=run.run_attempt {
            let own = client.jobs(&repo(), run.id, attempt).await.unwrap();
            partial += usize::from(own.iter().any(|j| j.run_attempt != Some(attempt)));
            let mut own_ids: Vec<u64> = own.iter().map(|j| j.id).collect();
            own_ids.sort_unstable();
            let picked = logidx_fetch::jobs_of_attempt(&all, attempt).unwrap();
            let picked_ids: Vec<u64> = picked.iter().map(|j| j.id).collect();
            assert_eq!(picked_ids, own_ids, "run {} attempt {attempt}", run.id);
            for job in &picked {
                assert_eq!(Some(job), own.iter().find(|j| j.id == job.id));
            }
        }
    }
    assert!(partial > 0, "some attempts kept jobs of earlier ones");
}
