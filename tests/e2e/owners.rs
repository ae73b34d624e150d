//! `logidx sync OWNER`: every repository of an organisation or a user, some left out; and
//! GitHub App authentication, its token renewed mid-sync, a wrong key refused clearly.

use std::collections::BTreeSet;
use std::time::Duration;

use fakehub::{Actions, App, Config, FakeHub, Owner, Status, TEST_APP_ID};
use serde_json::Value;

use crate::env::{Env, text};

fn owners(config: &mut Config) {
    config.runs = 3;
    config.owners = vec![Owner::org("acme", 8), Owner::user("octo", 3)];
}

/// The repositories `stats --json` lists.
fn stats_repos(env: &Env) -> BTreeSet<String> {
    let output = env.run(&["stats", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stats: Value = serde_json::from_slice(&output.stdout).unwrap();
    stats["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repo"].as_str().unwrap().to_owned())
        .collect()
}

/// Completed attempts of these repositories, as fakehub holds them.
fn completed_attempts(hub: &FakeHub, repos: &BTreeSet<String>) -> u64 {
    hub.with_world(|w| {
        repos
            .iter()
            .flat_map(|name| &w.repo(name).unwrap().runs)
            .flat_map(|run| &run.attempts)
            .filter(|a| a.status == Status::Completed)
            .count() as u64
    })
}

/// fakehub's repositories of `owner` for which `keep` holds.
fn repos_where(
    hub: &FakeHub,
    owner: &str,
    keep: impl Fn(&fakehub::Repo) -> bool,
) -> BTreeSet<String> {
    hub.with_world(|w| {
        w.repos()
            .iter()
            .filter(|r| r.owner == owner && keep(r))
            .map(|r| r.full_name())
            .collect()
    })
}

/// What a summary says was skipped: (repository, reason).
fn skipped(summary: &Value) -> BTreeSet<(String, String)> {
    summary["repos_skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let (repo, reason) = (s["repo"].as_str(), s["reason"].as_str());
            (repo.unwrap().to_owned(), reason.unwrap().to_owned())
        })
        .collect()
}

#[test]
fn sync_owner_indexes_every_repository_but_excluded_archived_forks_and_those_without_actions() {
    let env = Env::start(3, owners);
    let output = env.run(&[
        "sync",
        "acme",
        "--exclude",
        "service-04",
        "--exclude",
        "ACME/*-07",
        "--json",
        "-v",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();

    let excluded: BTreeSet<String> = ["acme/service-04", "acme/service-07"]
        .map(String::from)
        .into();
    let with_runs = repos_where(&env.hub, "acme", |r| {
        !r.archived
            && !r.fork
            && r.actions == Actions::Enabled
            && !excluded.contains(&r.full_name())
    });
    assert_eq!(
        with_runs,
        ["acme/lib-02", "acme/service-01", "acme/widgets"]
            .map(String::from)
            .into()
    );
    // Every completed attempt of those, and nothing of the others.
    assert_eq!(stats_repos(&env), with_runs);
    assert_eq!(
        summary["attempts_indexed"].as_u64().unwrap(),
        completed_attempts(&env.hub, &with_runs)
    );
    let reasons = |keep: fn(&fakehub::Repo) -> bool, reason: &str| -> BTreeSet<(String, String)> {
        repos_where(&env.hub, "acme", keep)
            .into_iter()
            .map(|r| (r, reason.to_owned()))
            .collect()
    };
    let mut want = reasons(|r| r.archived, "archived");
    want.extend(reasons(|r| r.fork, "fork"));
    want.extend(reasons(|r| r.actions == Actions::Disabled, "no_actions"));
    want.extend(reasons(|r| r.actions == Actions::Unused, "no_runs"));
    want.extend(excluded.iter().map(|r| (r.clone(), "excluded".to_owned())));
    assert_eq!(skipped(&summary), want);
    assert_eq!(want.len(), 6, "{want:?}");
    // Synced: the three with runs and the one without (which has nothing to index).
    assert_eq!(summary["repos_synced"], 5);
    assert!(
        summary["failures"].as_array().unwrap().is_empty(),
        "{summary}"
    );
    // -v names each, and why.
    for line in [
        "skipped acme/app-03: archived",
        "skipped acme/lib-05: a fork",
        "skipped acme/app-06: Actions disabled",
        "skipped acme/lib-08: no workflow runs",
        "skipped acme/service-04: excluded by `service-04`",
        "skipped acme/service-07: excluded by `ACME/*-07`",
    ] {
        assert!(stderr.contains(line), "{line} in {stderr}");
    }

    // The human summary counts them.
    let output = env.run(&[
        "sync",
        "acme",
        "--exclude",
        "service-04",
        "--exclude",
        "ACME/*-07",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("5 repositories synced; skipped: 1 archived, 1 fork, 2 excluded, 1 without Actions, 1 without runs"),
        "{stdout}"
    );
}

#[test]
fn owners_and_repositories_mix_archived_and_forks_when_asked_and_an_unknown_owner_fails_alone() {
    let env = Env::start(3, owners);
    // A user's repositories (its organisation listing is a 404), and a fork named by name.
    let output = env.run(&["sync", "octo", "acme/lib-05", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // octo/app-03 is archived: left out.
    let octo = repos_where(&env.hub, "octo", |r| !r.archived);
    let mut want = octo.clone();
    want.insert("acme/lib-05".to_owned());
    assert_eq!(stats_repos(&env), want);

    let output = env.run(&[
        "sync",
        "acme",
        "--include-archived",
        "--include-forks",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    let acme = repos_where(&env.hub, "acme", |r| r.actions == Actions::Enabled);
    assert!(acme.contains("acme/app-03") && acme.contains("acme/lib-05"));
    want.extend(acme.iter().cloned());
    assert_eq!(stats_repos(&env), want);
    let skipped: BTreeSet<String> = skipped(&summary).into_iter().map(|(r, _)| r).collect();
    assert_eq!(
        skipped,
        ["acme/app-06", "acme/lib-08"].map(String::from).into()
    );
    // Everything completed is indexed once: this sync had only acme's left to do.
    let all = completed_attempts(&env.hub, &want);
    let first = completed_attempts(&env.hub, &octo)
        + completed_attempts(&env.hub, &["acme/lib-05".to_owned()].into());
    assert_eq!(summary["attempts_indexed"].as_u64().unwrap(), all - first);

    // An owner that does not exist fails, named, and the rest is synced.
    let output = env.run(&["sync", "nobody", "acme/widgets", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    let failures = summary["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{summary}");
    assert_eq!(failures[0]["repo"], "nobody");
    assert!(
        failures[0]["error"]
            .as_str()
            .unwrap()
            .contains("no organisation or user `nobody`")
    );
    assert_eq!(summary["repos_synced"], 1);
}

/// The test App's key in a file of the environment's directory.
fn key_file(env: &Env, name: &str, pem: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, pem).unwrap();
    path.display().to_string()
}

/// `logidx` as the App: no token in its environment, the App's id and key from it.
fn as_app(env: &Env, key: &str) -> std::process::Command {
    let mut command = env.logidx();
    command
        .env_remove("GH_TOKEN")
        .env("LOGIDX_APP_ID", TEST_APP_ID.to_string())
        .env("LOGIDX_APP_KEY", key);
    command
}

#[test]
fn an_app_syncs_an_owner_and_renews_its_token_mid_sync() {
    let lifetime = Duration::from_secs(2);
    let env = Env::start(12, |c| {
        owners(c);
        c.runs = 12;
        c.lines_per_job = 120;
        c.app = Some(App {
            token_lifetime: lifetime,
            ..App::test(&["acme"])
        });
    });
    // Slow archives, so that the sync outlasts a token.
    env.hub.inject(fakehub::Fault::blob(
        "/logs.zip",
        fakehub::FaultKind::Slow(100_000),
    ));
    let key = key_file(&env, "app.pem", fakehub::TEST_APP_PRIVATE_KEY);
    let output = as_app(&env, &key)
        .args(["sync", "acme", "--json"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    let synced = repos_where(&env.hub, "acme", |r| {
        !r.archived && !r.fork && r.actions == Actions::Enabled
    });
    assert_eq!(stats_repos(&env), synced);
    assert_eq!(
        summary["attempts_indexed"].as_u64().unwrap(),
        completed_attempts(&env.hub, &synced)
    );
    let stats = env.hub.stats();
    // Listed as the installation's, with tokens renewed as they ran out.
    assert_eq!(stats.count("list_installation_repos"), 1);
    assert_eq!(stats.count_status("get_org_installation", 200), 1);
    assert!(
        stats.count_status("create_installation_token", 201) >= 2,
        "{stats:?}"
    );
    assert!(
        summary["seconds"].as_f64().unwrap() > lifetime.as_secs_f64(),
        "{summary}"
    );
    assert_eq!(stats.auth_header_violations, 0);
    // Neither the key nor a token nor a JWT was printed.
    let printed = format!("{stdout}{stderr}");
    assert!(
        !printed.contains("ghs_") && !printed.contains("eyJ"),
        "{printed}"
    );
    for line in fakehub::TEST_APP_PRIVATE_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
    {
        assert!(!printed.contains(line));
    }
}

#[test]
fn a_wrong_app_key_or_id_fails_clearly_without_printing_the_key() {
    let env = Env::start(2, |c| {
        owners(c);
        c.app = Some(App::test(&["acme"]));
    });
    let other = key_file(&env, "other.pem", fakehub::OTHER_PRIVATE_KEY);
    let right = key_file(&env, "app.pem", fakehub::TEST_APP_PRIVATE_KEY);
    let public = key_file(&env, "public.pem", fakehub::TEST_APP_PUBLIC_KEY);
    let missing = env.dir.path().join("missing.pem").display().to_string();
    let id = TEST_APP_ID.to_string();
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            &other,
            &id,
            &[
                "GitHub refused the JWT of the App `424242`",
                "hint: check the App id",
            ],
        ),
        (&right, "1", &["GitHub refused the JWT of the App `1`"]),
        (
            &public,
            &id,
            &[
                "cannot use the GitHub App's key",
                "public.pem",
                "no private key",
            ],
        ),
        (
            &missing,
            &id,
            &["cannot read the GitHub App's key", "missing.pem"],
        ),
        (
            &right,
            &id,
            &[
                "the GitHub App `424242` is not installed on `octo`",
                "--installation",
            ],
        ),
    ];
    for (key, app, said) in cases {
        let target = if said[0].contains("octo") {
            "octo"
        } else {
            "acme"
        };
        let output = as_app(&env, key)
            .args(["sync", target, "--app-id", app])
            .output()
            .unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        for said in said {
            assert!(stderr.contains(said), "{said} in {stderr}");
        }
        let printed = format!("{}{stderr}", text(&output.stdout));
        for pem in [fakehub::OTHER_PRIVATE_KEY, fakehub::TEST_APP_PRIVATE_KEY] {
            for line in pem.lines().filter(|l| !l.starts_with("-----")) {
                assert!(!printed.contains(line), "{printed}");
            }
        }
        assert!(!printed.contains("eyJ"), "{printed}");
    }
    // Nothing was synced, nor asked of the API but the App's endpoints.
    assert_eq!(env.hub.stats().count("list_runs"), 0);
    assert_eq!(env.hub.stats().count("list_installation_repos"), 0);
}

#[test]
fn an_idle_watch_cycle_over_an_owner_of_200_repositories_costs_no_counted_request() {
    use crate::env::wait_briefly;
    use crate::watch::{lines_of, terminate, until_line};

    // One run per repository, still in progress: the cycles list, nothing to download.
    let env = Env::start(1, |c| c.owners = vec![Owner::org("acme", 200)]);
    let mut child = env
        .logidx()
        .args(["-v", "sync", "acme", "--since", "30d", "--watch", "1s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = lines_of(child.stderr.take().unwrap());
    let first = until_line(&stderr, |l| l.starts_with("cycle 1:"));
    assert!(first.contains(" in progress"), "{first}");
    until_line(&stderr, |l| l.starts_with("cycle 2:"));
    let before = env.hub.stats();
    let idle = until_line(&stderr, |l| l.starts_with("cycle 4:"));
    let after = env.hub.stats();
    terminate(&child);
    assert_eq!(wait_briefly(&mut child).code(), Some(0));

    assert_eq!(
        after.counted_requests, before.counted_requests,
        "idle cycles spent requests: {idle}; {before:?} then {after:?}"
    );
    let grew = |endpoint: &str, status: u16| {
        after.count_status(endpoint, status) - before.count_status(endpoint, status)
    };
    // Cycles 3 and 4 each revalidated the listing's pages (201 repositories: 3 pages) and
    // every listed repository's runs; the 404s of those without Actions were not asked again.
    assert_eq!(grew("list_org_repos", 304), 2 * 3);
    assert_eq!(grew("list_org_repos", 200), 0);
    assert!(grew("list_runs", 304) >= 2 * 100, "{after:?}");
    assert_eq!(grew("list_runs", 404), 0);
    assert_eq!(after.rate_limit_violations, 0);
    assert!(idle.contains(" 0 API requests ("), "{idle}");
}
