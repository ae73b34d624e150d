//! Faults of the machine and of the data, not of the network: an archive that stays corrupt,
//! a disk that fills while committing, damaged index files, searches while a sync commits.

use fakehub::{Fault, FaultKind};

use crate::env::{Env, json_lines, text};

/// The first completed run's id.
fn first_run(env: &Env) -> u64 {
    let repo = env.hub.repo("acme/widgets").unwrap();
    let run = repo.runs.iter().find(|r| {
        r.attempts
            .first()
            .is_some_and(|a| a.status == fakehub::Status::Completed)
    });
    run.unwrap().id
}

fn summary_of(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stderr)))
}

/// The state `runs --json` gives attempt 1 of `run`.
fn state_of(env: &Env, run: u64) -> (String, serde_json::Value) {
    let output = env.run(&["runs", "--json", "-n", "1000"]);
    let runs = json_lines(&output);
    let run = runs.iter().find(|r| r["run_id"] == run).unwrap();
    let attempt = &run["attempts"][0];
    (
        attempt["state"].as_str().unwrap().to_owned(),
        attempt["reason"].clone(),
    )
}

#[test]
fn an_archive_failing_the_same_way_in_3_syncs_is_given_up_until_retry_failed() {
    let env = Env::start(3, |_| ());
    let run = first_run(&env);
    env.hub.inject(Fault::blob(
        format!("/runs/{run}/attempts/1/logs.zip"),
        FaultKind::Corrupt,
    ));
    let blobs = || env.hub.stats().count("blob");
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", "acme/widgets", "--since", "30d", "--json"];
        args.extend(extra);
        env.run(&args)
    };
    for n in 1..=3 {
        let before = blobs();
        let output = sync(&[]);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
        let summary = summary_of(&output);
        assert_eq!(summary["attempts_failed"], 1, "sync {n}: {summary}");
        if n > 1 {
            assert_eq!(
                blobs() - before,
                1,
                "sync {n} fetches the failed attempt alone"
            );
        }
        let (state, reason) = state_of(&env, run);
        let expected = if n < 3 { "failed" } else { "given_up" };
        assert_eq!(state, expected, "after sync {n}: {reason}");
        let reason = reason.as_str().unwrap().to_owned();
        assert!(
            reason.starts_with(&format!("{n} syncs in a row: ")),
            "{reason}"
        );
    }

    // Given up on: no longer downloaded, and the sync succeeds.
    let before = blobs();
    let output = sync(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(summary_of(&output)["attempts_failed"], 0);
    assert_eq!(blobs(), before, "nothing downloaded");

    let stats =
        serde_json::from_slice::<serde_json::Value>(&env.run(&["stats", "--json"]).stdout).unwrap();
    let repo = &stats["repos"][0];
    assert_eq!(repo["attempts_given_up"], 1, "{stats}");
    assert_eq!(repo["attempts_failed"], 0, "{stats}");
    let reason = repo["given_up"][0]["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("run `{run}`")), "{reason}");
    let human = text(&env.run(&["stats"]).stdout);
    assert!(
        human.contains("1 attempts given up on after failing the same way in 3 syncs in a row")
            && human.contains(reason)
            && human.contains("--retry-failed"),
        "{human}"
    );

    // Once the archive is whole again, `--retry-failed` fetches and indexes it.
    env.hub.clear_faults();
    let output = sync(&["--retry-failed"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary = summary_of(&output);
    assert_eq!(summary["attempts_indexed"], 1, "{summary}");
    assert_eq!(blobs(), before + 1);
    assert_eq!(state_of(&env, run).0, "indexed");
}

/// Every sum of a subset of `lines`: the lines a search may see of a run whose attempts are
/// indexed one by one.
fn subset_sums(lines: &[u64]) -> Vec<u64> {
    (0..1u32 << lines.len())
        .map(|mask| {
            let picked = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0);
            picked.map(|(_, n)| n).sum()
        })
        .collect()
}

#[test]
fn searches_while_a_sync_commits_every_second_never_fail_nor_see_half_an_attempt() {
    let env = Env::slow();
    let mut sync = env
        .logidx()
        .args([
            "sync",
            "acme/widgets",
            "--since",
            "30d",
            "--commit-every",
            "1",
        ])
        .args(["-j", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Every line, counted per run, as each search saw it.
    let mut seen: Vec<std::collections::BTreeMap<u64, u64>> = Vec::new();
    let search = |args: &[&str]| {
        let output = env.run(args);
        // 1: nothing committed yet.
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{args:?} failed during the sync: {}",
            text(&output.stderr)
        );
        output
    };
    // Searches start once the sync has made the index (its version file is written last).
    let made = env.index().join("logidx-index-version");
    while !made.exists() && sync.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    while sync.try_wait().unwrap().is_none() {
        let output = search(&["search", "", "--count-by", "run", "-n", "1000", "--json"]);
        if output.status.code() == Some(0) {
            let counts: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            let groups = counts["groups"].as_array().unwrap();
            let per_run = groups.iter().map(|g| {
                let run = g["run_id"].as_u64().unwrap_or_else(|| panic!("{g}"));
                (run, g["count"].as_u64().unwrap())
            });
            seen.push(per_run.collect());
        }
        search(&["search", "error", "-n", "5", "--json"]);
    }
    assert_eq!(sync.wait().unwrap().code(), Some(0));
    assert!(seen.len() >= 3, "the searches saw {} commits", seen.len());

    // The lines of each run's attempts, as their records have them once the sync is done.
    let mut attempts: std::collections::BTreeMap<u64, Vec<u64>> = Default::default();
    for run in json_lines(&env.run(&["runs", "--json", "-n", "1000"])) {
        let lines = run["attempts"].as_array().unwrap().iter();
        let lines = lines.map(|a| a["lines"].as_u64().unwrap());
        attempts.insert(run["run_id"].as_u64().unwrap(), lines.collect());
    }
    let grew = seen.windows(2).any(|w| w[0] != w[1]);
    assert!(grew, "no search saw a commit land");
    for counts in &seen {
        for (run, count) in counts {
            let whole = subset_sums(&attempts[run]);
            assert!(
                whole.contains(count),
                "run {run}: {count} lines seen, its attempts have {:?}",
                attempts[run]
            );
        }
    }
}
