//! The errors users will hit: each names what was wrong and what to do.

use crate::env::{Env, text};

fn stderr_of(command: &mut std::process::Command) -> String {
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    text(&output.stderr)
}

#[test]
fn no_token_says_how_to_get_one() {
    let env = Env::start(1, |_| ());
    let stderr = stderr_of(
        env.logidx()
            .args(["sync", "acme/widgets"])
            .env_remove("GH_TOKEN")
            .env("PATH", env.dir.path()),
    );
    assert!(stderr.contains("no GitHub token found"), "{stderr}");
    assert!(stderr.contains("gh auth login"), "{stderr}");
}

#[test]
fn a_bad_token_is_refused_and_never_printed() {
    let env = Env::start(1, |_| ());
    let secret = "ghp_not_the_right_one_4242";
    let output = env
        .logidx()
        .args(["-v", "sync", "acme/widgets"])
        .env("GH_TOKEN", secret)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let all = text(&output.stderr) + &text(&output.stdout);
    assert!(all.contains("refused the token"), "{all}");
    assert!(!all.contains(secret), "{all}");
}

#[test]
fn an_unknown_repository_fails_and_the_others_go_on() {
    let env = Env::start(4, |_| ());
    let output = env.run(&["sync", "acme/nope", "acme/widgets", "--json"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["failures"][0]["repo"], "acme/nope");
    let error = summary["failures"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("repository `acme/nope` not found"),
        "{error}"
    );
    assert!(summary["attempts_indexed"].as_u64().unwrap() > 0);
}

#[test]
fn a_malformed_since_names_the_flag_and_the_forms() {
    let env = Env::start(1, |_| ());
    let stderr = stderr_of(
        env.logidx()
            .args(["sync", "acme/widgets", "--since", "7 days"]),
    );
    assert!(stderr.contains("`--since`"), "{stderr}");
    assert!(stderr.contains("`7 days` is not a time"), "{stderr}");
    assert!(stderr.contains("7d"), "{stderr}");
}

#[test]
fn a_malformed_query_points_at_the_position() {
    let env = Env::start(1, |_| ());
    env.sync();
    let stderr = stderr_of(env.logidx().args(["search", "panicked \"at src"]));
    assert!(stderr.contains("a quote is not closed"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "panicked \"at src")
        .unwrap();
    assert_eq!(lines[at + 1].find('^'), lines[at].find('"'), "{stderr}");
}

#[test]
fn a_sync_while_another_writes_says_who_holds_the_index() {
    let env = Env::start(2, |_| ());
    let index = logidx::Index::open(env.index()).unwrap();
    let _writer = index.writer().unwrap();
    let stderr = stderr_of(env.logidx().args(["sync", "acme/widgets"]));
    assert!(
        stderr.contains("being written by another logidx"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
    // Readers keep working meanwhile.
    let search = env.run(&["search", "error"]);
    assert_eq!(search.status.code(), Some(1), "{}", text(&search.stderr));
}

#[test]
fn a_search_before_any_sync_says_how_to_sync() {
    let env = Env::start(1, |_| ());
    let stderr = stderr_of(env.logidx().args(["search", "error"]));
    assert!(stderr.contains("no index at"), "{stderr}");
    assert!(stderr.contains("logidx sync OWNER/REPO"), "{stderr}");
    assert!(!env.index().exists(), "a search must not create the index");
}

#[test]
fn an_index_of_another_schema_version_is_refused_with_a_hint() {
    let env = Env::start(1, |_| ());
    env.sync();
    let version = std::fs::read_dir(env.index())
        .unwrap()
        .flatten()
        .find(|e| {
            e.path().is_file()
                && std::fs::read_to_string(e.path())
                    .is_ok_and(|v| v.trim() == logidx::SCHEMA_VERSION.to_string())
        })
        .expect("a version file")
        .path();
    std::fs::write(&version, "999").unwrap();
    let stderr = stderr_of(env.logidx().args(["search", "error"]));
    assert!(stderr.contains("schema version `999`"), "{stderr}");
    assert!(stderr.contains("sync again"), "{stderr}");
}

#[test]
fn commands_name_what_they_cannot_find_or_use() {
    let env = Env::start(6, |c| c.in_progress = 0);
    env.sync();
    let cases: [(&[&str], &str); 5] = [
        (&["show", "424242"], "run `424242` is not in the index"),
        (&["new", "424242"], "run `424242` is not in the index"),
        (&["prune"], "nothing to prune"),
        (
            &["search", "x", "--level", "fatal"],
            "invalid value `fatal` for `--level`",
        ),
        (
            &["errors", "--since", "yesterday"],
            "`yesterday` is not a time",
        ),
    ];
    for (args, message) in cases {
        let stderr = stderr_of(env.logidx().args(args));
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    // A run with no failed job: `new` says so.
    let passed = env.hub.with_world(|w| {
        let runs = &w.repo("acme/widgets").unwrap().runs;
        runs.iter()
            .find(|r| r.latest().conclusion == Some(fakehub::Conclusion::Success))
            .unwrap()
            .id
    });
    let stderr = stderr_of(env.logidx().args(["new", &passed.to_string()]));
    assert!(stderr.contains("has no failed job"), "{stderr}");
}
