//! Sync against a GitHub that misbehaves: rate limits of every kind, an API that cannot be
//! reached, missing logs, a blob host that is down. Each is waited out, retried, or reported
//! once with its cause, and nothing indexed is lost.

use std::net::TcpListener;

use crate::env::{Env, text};

/// Completed attempts fakehub serves for `acme/widgets`.
fn completed_attempts(env: &Env) -> u64 {
    let repo = env.hub.repo("acme/widgets").unwrap();
    repo.runs
        .iter()
        .flat_map(|r| &r.attempts)
        .filter(|a| a.status == fakehub::Status::Completed)
        .count() as u64
}

fn summary_of(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stderr)))
}

#[test]
fn a_429_without_rate_limit_headers_is_waited_out_and_the_sync_goes_on() {
    let env = Env::start(4, |c| c.faults = vec!["api:429*2".parse().unwrap()]);
    let output = env.run(&["sync", "acme/widgets", "--since", "30d", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary = summary_of(&output);
    assert_eq!(summary["failures"], serde_json::json!([]));
    assert_eq!(summary["attempts_indexed"], completed_attempts(&env));
    let limited: u64 = env
        .hub
        .stats()
        .requests
        .values()
        .map(|s| s.get(&429).copied().unwrap_or(0))
        .sum();
    assert_eq!(limited, 2, "both 429s were met, and waited out");
}

/// The reasons of the attempts the index records as `state` (`failed` or `gone`).
fn recorded(index: &logidx::Index, state: &str) -> Vec<String> {
    use logidx::index::AttemptState;
    let records = index.attempts(None).unwrap().into_iter();
    records
        .filter_map(|r| match (r.state, state) {
            (AttemptState::Failed { reason, .. }, "failed")
            | (AttemptState::Gone { reason }, "gone") => Some(reason),
            _ => None,
        })
        .collect()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn an_unreachable_api_fails_at_once_naming_the_host_and_the_cause() {
    let env = Env::start(1, |_| ());
    let port = closed_port();
    let refused = format!("http://127.0.0.1:{port}");
    for (api, host, cause) in [
        (
            refused.as_str(),
            format!("127.0.0.1:{port}"),
            "connection refused",
        ),
        (
            "http://logidx-test.invalid",
            "logidx-test.invalid".to_owned(),
            "dns error",
        ),
    ] {
        let output = env
            .logidx()
            .args(["-v", "sync", "acme/widgets", "acme/gadgets"])
            .env("LOGIDX_API_URL", api)
            .output()
            .unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        let first = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("");
        assert!(first.contains(&format!("`{host}`")), "{stderr}");
        assert!(first.contains(cause), "{stderr}");
        // Two quick retries at most, and no second repository tried against a dead host.
        let retries = stderr.lines().filter(|l| l.starts_with("retrying")).count();
        assert!(retries <= 2, "{stderr}");
        assert!(!stderr.contains("acme/gadgets"), "{stderr}");
    }
}

#[test]
fn a_recorded_failure_keeps_its_hint() {
    let env = Env::start(2, |c| {
        c.in_progress = 0;
        c.faults = vec!["blob:corrupt*1".parse().unwrap()];
    });
    let output = env.run(&["sync", "acme/widgets", "--since", "30d", "--json"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let summary = summary_of(&output);
    let error = summary["failures"][0]["error"].as_str().unwrap();
    assert!(error.contains("hint: download it again"), "{error}");

    let index = logidx::Index::open(env.index()).unwrap();
    let reasons = recorded(&index, "failed");
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].contains("hint: download it again"),
        "{reasons:?}"
    );
}

#[test]
fn a_lasting_blob_outage_stops_the_downloads_and_leaves_them_to_the_next_sync() {
    let env = Env::start(12, |c| {
        c.in_progress = 0;
        c.faults = vec!["blob:drop".parse().unwrap()];
    });
    let attempts = completed_attempts(&env);
    let output = env.run(&["sync", "acme/widgets", "--since", "30d"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.matches("blob storage failing").count(),
        1,
        "said once: {stderr}"
    );
    assert!(
        stderr.contains("5 downloads in a row failed with transfer broke"),
        "{stderr}"
    );
    // Each failed attempt is printed once, in all the output.
    let all = format!("{stdout}{stderr}");
    let failed: Vec<&str> = all.lines().filter(|l| l.starts_with("failed:")).collect();
    let distinct: std::collections::BTreeSet<&&str> = failed.iter().collect();
    assert_eq!(failed.len(), distinct.len(), "{all}");
    assert!(failed.len() < 5, "{all}");

    // Nothing was recorded as failed: the next sync, with the blob host back, gets it all.
    env.hub.clear_faults();
    let summary = env.sync();
    assert_eq!(summary["attempts_indexed"], attempts, "{summary}");
    assert_eq!(summary["attempts_failed"], 0, "{summary}");
}

#[test]
fn sync_workflow_takes_a_name_as_well_as_a_file_name() {
    let env = Env::start(12, |c| c.in_progress = 0);
    let repo = env.hub.repo("acme/widgets").unwrap();
    let ci = repo.workflows.iter().position(|w| w.name == "CI").unwrap();
    let expected = repo
        .runs
        .iter()
        .filter(|r| r.workflow == ci)
        .flat_map(|r| &r.attempts)
        .filter(|a| a.status == fakehub::Status::Completed)
        .count() as u64;
    assert!(expected > 0 && expected < completed_attempts(&env));
    let by_name = env.run(&["sync", "acme/widgets", "--workflow", "CI", "--json"]);
    assert_eq!(by_name.status.code(), Some(0), "{}", text(&by_name.stderr));
    assert_eq!(summary_of(&by_name)["attempts_indexed"], expected);
    let by_file = env.run(&["sync", "acme/widgets", "--workflow", "ci.yml", "--json"]);
    assert_eq!(by_file.status.code(), Some(0), "{}", text(&by_file.stderr));
    let summary = summary_of(&by_file);
    assert_eq!(summary["attempts_skipped"], expected, "{summary}");

    let unknown = env.run(&["sync", "acme/widgets", "--workflow", "Deploy", "--json"]);
    let all = text(&unknown.stdout) + &text(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(2), "{all}");
    assert_eq!(all.matches("`Deploy`").count(), 1, "said once: {all}");
    assert!(all.contains("no workflow `Deploy`"), "{all}");
    for known in [
        "`CI` (ci.yml)",
        "`Nightly` (nightly.yml)",
        "`Docs` (docs.yml)",
    ] {
        assert!(all.contains(known), "{all}");
    }
    assert!(
        !all.contains("repository `acme/widgets` not found"),
        "{all}"
    );
}

/// The ids of the two oldest runs, long completed (their attempt 1's logs are faulted).
fn two_oldest_runs(env: &Env) -> (u64, u64) {
    let repo = env.hub.repo("acme/widgets").unwrap();
    let mut ids: Vec<(i64, u64)> = repo.runs.iter().map(|r| (r.created_at, r.id)).collect();
    ids.sort();
    (ids[0].1, ids[1].1)
}

fn logs_fault(status: u16, run: u64) -> fakehub::Fault {
    format!("api:{status}@/runs/{run}/attempts/1/logs")
        .parse()
        .unwrap()
}

#[test]
fn a_404_once_is_retried_in_the_same_sync() {
    let env = Env::start(6, |c| c.in_progress = 0);
    let (old, _) = two_oldest_runs(&env);
    env.hub.inject(logs_fault(404, old).times(1));
    let summary = env.sync();
    assert_eq!(env.hub.stats().count_status("attempt_logs", 404), 1);
    assert_eq!(summary["attempts_gone"], 0, "{summary}");
    assert_eq!(
        summary["attempts_indexed"],
        completed_attempts(&env),
        "{summary}"
    );
}

#[test]
fn a_lasting_404_is_asked_again_by_later_syncs_while_410_is_gone_at_once() {
    let env = Env::start(6, |c| c.in_progress = 0);
    let attempts = completed_attempts(&env);
    let (missing, gone) = two_oldest_runs(&env);
    env.hub.inject(logs_fault(404, missing));
    env.hub.inject(logs_fault(410, gone));
    let status = |code| env.hub.stats().count_status("attempt_logs", code);

    let first = env.sync();
    assert_eq!(first["attempts_gone"], 1, "{first}");
    assert_eq!(first["attempts_not_found"], 1, "{first}");
    assert_eq!(first["attempts_indexed"], attempts - 2, "{first}");
    assert_eq!(status(410), 1);
    // Two quick syncs later, within a day, the 404 is still not taken for gone.
    for _ in 0..2 {
        let asked = status(404);
        let again = env.sync();
        assert_eq!(again["attempts_not_found"], 1, "{again}");
        assert_eq!(again["attempts_gone"], 0, "{again}");
        assert_eq!(status(404), asked + 1, "asked again, once");
        assert_eq!(status(410), 1, "a 410 is never asked again");
    }

    env.hub.clear_faults();
    let back = env.sync();
    assert_eq!(back["attempts_indexed"], 1, "{back}");
    let retried = env.run(&[
        "sync",
        "acme/widgets",
        "--since",
        "30d",
        "--retry-gone",
        "--json",
    ]);
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried.stderr));
    assert_eq!(summary_of(&retried)["attempts_indexed"], 1);
}

#[test]
fn a_404_that_lasts_the_rule_s_syncs_and_time_is_gone_and_never_asked_again() {
    use logidx::{Client, GoneRule, Index, NoSyncReporter, RepoName, SyncOptions, Token};
    let env = Env::start(4, |c| c.in_progress = 0);
    let (missing, _) = two_oldest_runs(&env);
    env.hub.inject(logs_fault(404, missing));
    let index = Index::open(env.index()).unwrap();
    let client = Client::builder()
        .api_url(env.hub.api_url())
        .token(Token::new(env.hub.token()));
    let mut options = SyncOptions::new(vec![RepoName::parse("acme/widgets").unwrap()], client);
    options.gone_after = GoneRule {
        syncs: 2,
        over: std::time::Duration::ZERO,
        retry_after: std::time::Duration::from_millis(10),
    };
    let sync = || logidx::sync(&index, &options, std::sync::Arc::new(NoSyncReporter)).unwrap();
    let first = sync();
    assert_eq!((first.attempts_not_found, first.attempts_gone), (1, 0));
    let within = env.hub.stats().count_status("attempt_logs", 404);
    assert_eq!(within, 3, "a first 404 is tried three times in its sync");
    let second = sync();
    assert_eq!((second.attempts_not_found, second.attempts_gone), (0, 1));
    assert_eq!(
        env.hub.stats().count_status("attempt_logs", 404),
        within + 1
    );
    let third = sync();
    assert_eq!(third.attempts_gone, 0);
    assert_eq!(
        env.hub.stats().count_status("attempt_logs", 404),
        within + 1
    );
    let gone = recorded(&index, "gone");
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert!(gone[0].contains("HTTP 404 in 2 syncs since"), "{gone:?}");
}
