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
        // Every run's records and steps agree in each commit a reader sees.
        let doctor = env.run(&["doctor"]);
        assert_eq!(
            doctor.status.code(),
            Some(0),
            "doctor during the sync: {}{}",
            text(&doctor.stdout),
            text(&doctor.stderr)
        );
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

/// Runs `script` with `sh` in a mount namespace of its own (so that it can mount a small
/// tmpfs that vanishes with it), with `logidx`'s environment and `vars`.
fn in_mount_namespace(env: &Env, script: &str, vars: &[(&str, &std::path::Path)]) -> String {
    let logidx = env.logidx();
    let mut command = std::process::Command::new("unshare");
    command.env_clear();
    for (name, value) in logidx.get_envs() {
        if let Some(value) = value {
            command.env(name, value);
        }
    }
    command
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LOGIDX", logidx.get_program())
        .envs(vars.iter().copied())
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-eu",
            "-c",
            script,
        ]);
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    text(&output.stdout)
}

/// Whether this process may mount file systems (root, as CI runs, with `unshare`).
fn can_mount() -> bool {
    let output = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .output();
    output.is_ok_and(|o| o.status.success())
}

#[test]
fn a_disk_full_while_committing_names_the_file_and_the_next_sync_resumes() {
    if !can_mount() {
        // `a_write_failing_while_committing_…` covers the same without a file system of its own.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and can mount a tmpfs: this test must run there"
        );
        eprintln!("skipped: cannot mount a tmpfs (not root)");
        return;
    }
    let env = Env::start(12, |c| c.lines_per_job = 200);
    let out = env.dir.path().join("out");
    let mnt = env.dir.path().join("mnt");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&mnt).unwrap();
    let index = mnt.join("index");
    let script = r#"
        mount -t tmpfs -o size=16m tmpfs "$MNT"
        step() { n=$1; shift; rc=0; "$LOGIDX" "$@" >"$OUT/$n.out" 2>"$OUT/$n.err" || rc=$?; echo $rc >"$OUT/$n.rc"; }
        step sync1 sync acme/widgets --since 4d --json
        step count1 search "" --count-by run -n 1000 --json
        # Full but for 64 KiB.
        dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
        truncate -s -64K "$MNT/filler"
        step sync2 sync acme/widgets --since 30d --json
        step count2 search "" --count-by run -n 1000 --json
        rm "$MNT/filler"
        step sync3 sync acme/widgets --since 30d --json
        step count3 search "" --count-by run -n 1000 --json
        step doctor3 doctor
    "#;
    in_mount_namespace(
        &env,
        script,
        &[("MNT", &mnt), ("OUT", &out), ("LOGIDX_INDEX", &index)],
    );
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    let rc = |step: &str| read(&format!("{step}.rc")).trim().parse::<i32>().unwrap();
    assert_eq!(rc("sync1"), 0, "{}", read("sync1.err"));
    let stderr = read("sync2.err");
    assert_eq!(rc("sync2"), 2, "{stderr}");
    assert!(
        stderr.contains("No space left on device (os error 28)")
            && stderr.contains(&*index.to_string_lossy()),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
    assert_eq!(
        read("count1.out"),
        read("count2.out"),
        "the index is at its last commit"
    );
    assert_eq!(rc("sync3"), 0, "{}", read("sync3.err"));
    assert_eq!(rc("doctor3"), 0, "{}", read("doctor3.out"));

    // Resumed: as a sync from scratch has it, nothing lost nor twice.
    let fresh = env.dir.path().join("fresh");
    let output = env
        .logidx()
        .env("LOGIDX_INDEX", &fresh)
        .args(["sync", "acme/widgets", "--since", "30d"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let output = env
        .logidx()
        .env("LOGIDX_INDEX", &fresh)
        .args(["search", "", "--count-by", "run", "-n", "1000", "--json"])
        .output()
        .unwrap();
    assert_eq!(read("count3.out"), text(&output.stdout));
    assert_ne!(read("count1.out"), read("count3.out"));
}

/// `search "" --count-by run --json` over the index at `index`: every line, per run.
fn lines_per_run(env: &Env, index: &std::path::Path) -> String {
    let output = env
        .logidx()
        .env("LOGIDX_INDEX", index)
        .args(["search", "", "--count-by", "run", "-n", "1000", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    text(&output.stdout)
}

/// The same as `a_disk_full_while_committing_…`, with the full disk injected through the
/// index's directory, so that it runs where no file system can be mounted.
#[test]
fn a_write_failing_while_committing_names_the_file_and_the_next_sync_resumes() {
    let env = Env::start(12, |c| c.lines_per_job = 200);
    let output = env.run(&["sync", "acme/widgets", "--since", "4d"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let committed = lines_per_run(&env, &env.index());

    let index = logidx::Index::open_failing_writes_after(env.index(), 50_000).unwrap();
    let client = logidx::Client::builder()
        .api_url(env.hub.api_url())
        .token(logidx::Token::new(env.hub.token()));
    let repos = vec![logidx::RepoName::parse("acme/widgets").unwrap()];
    let options = logidx::SyncOptions::new(repos, client);
    let error = logidx::sync(
        &index,
        &options,
        std::sync::Arc::new(logidx::NoSyncReporter),
    )
    .unwrap_err();
    let logidx::SyncError::Index(logidx::index::Error::Write { path, source }) = &error else {
        panic!("not a write error: {error:?}");
    };
    assert!(path.starts_with(env.index()), "{}", path.display());
    assert_eq!(source.raw_os_error(), Some(28), "{source}");
    let hint = error.hint().unwrap();
    assert!(hint.starts_with("free some space on that disk"), "{hint}");
    drop(index);
    assert_eq!(
        lines_per_run(&env, &env.index()),
        committed,
        "as of its last commit"
    );

    let output = env.run(&["sync", "acme/widgets", "--since", "30d"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let fresh = env.dir.path().join("fresh");
    let output = env
        .logidx()
        .env("LOGIDX_INDEX", &fresh)
        .args(["sync", "acme/widgets", "--since", "30d"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let resumed = lines_per_run(&env, &env.index());
    assert_eq!(
        resumed,
        lines_per_run(&env, &fresh),
        "nothing lost, nothing twice"
    );
    assert_ne!(resumed, committed);
}

/// How a test damages a file of the index.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Cut to half its length.
    Truncate,
    /// Bytes in its middle overwritten.
    Garble,
}

fn damage(path: &std::path::Path, how: Damage) {
    let mut bytes = std::fs::read(path).unwrap();
    match how {
        Damage::Truncate => bytes.truncate(bytes.len() / 2),
        Damage::Garble => {
            let middle = bytes.len() / 2;
            let end = bytes.len().min(middle + 64);
            for byte in &mut bytes[middle.saturating_sub(64)..end] {
                *byte ^= 0x5a;
            }
        }
    }
    std::fs::write(path, bytes).unwrap();
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file of the two tantivy indexes that a damage can matter to: segment files (tantivy's
/// and ours) and `meta.json`.
fn index_files(index: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for part in ["texts", "steps"] {
        for entry in std::fs::read_dir(index.join(part)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with('.') && std::fs::metadata(&path).unwrap().len() > 0 {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_damaged_index_file_is_reported_naming_it_with_what_to_do_never_a_panic() {
    let env = Env::start(4, |_| ());
    env.sync();
    let run = first_run(&env).to_string();
    let pristine = env.index();
    let mut problems = Vec::new();
    for (n, file) in index_files(&pristine).iter().enumerate() {
        for how in [Damage::Truncate, Damage::Garble] {
            let copy = env.dir.path().join(format!("damaged-{n}-{how:?}"));
            copy_dir(&pristine, &copy);
            let relative = file.strip_prefix(&pristine).unwrap();
            damage(&copy.join(relative), how);
            let name = relative.to_string_lossy().into_owned();
            for args in [
                vec!["search", "error", "-n", "5"],
                vec!["search", "", "--count-by", "step"],
                vec!["show", run.as_str()],
                vec!["doctor"],
            ] {
                let output = env
                    .logidx()
                    .env("LOGIDX_INDEX", &copy)
                    .args(&args)
                    .output()
                    .unwrap();
                let stderr = text(&output.stderr);
                let code = output.status.code();
                let what = format!("{name} {how:?}, {args:?}: exit {code:?}: {stderr}");
                if code == Some(101) || stderr.contains("panicked") {
                    problems.push(format!("panicked: {what}"));
                } else if code == Some(2)
                    && !(stderr.contains("logidx doctor") || stderr.contains("sync again"))
                {
                    problems.push(format!("no advice: {what}"));
                } else if code == Some(2)
                    && matches!(how, Damage::Truncate)
                    && !name.ends_with("meta.json")
                    && !stderr.contains(&format!("is corrupt: `{name}`"))
                {
                    problems.push(format!("not named: {what}"));
                } else if args[0] == "doctor" && code != Some(1) {
                    problems.push(format!("doctor did not find it: {what}"));
                } else if args[0] == "doctor"
                    && !text(&output.stdout).contains(file.file_name().unwrap().to_str().unwrap())
                {
                    problems.push(format!(
                        "doctor did not name it: {what} {}",
                        text(&output.stdout)
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn doctor_finds_a_run_whose_steps_are_gone_and_repair_has_the_next_sync_fetch_it_again() {
    use logidx::index::AttemptState;
    let env = Env::start(4, |_| ());
    env.sync();
    let whole = lines_per_run(&env, &env.index());
    let output = env.run(&["doctor"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("healthy"),
        "{}",
        text(&output.stdout)
    );

    // Its record stays, its steps go: what a lost write would leave.
    let run = first_run(&env);
    {
        let index = logidx::Index::open(env.index()).unwrap();
        let record = index.attempt("acme/widgets", run, 1).unwrap().unwrap();
        let mut writer = index.writer().unwrap();
        let mut state = record.state.clone();
        if let AttemptState::Indexed { steps, .. } = &mut state {
            *steps += 1;
        }
        writer.mark_attempt(&record.attempt, state).unwrap();
        writer.commit().unwrap();
    }
    let output = env.run(&["doctor"]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "incomplete: acme/widgets run `{run}` (attempts 1): its records have"
        )) && stdout.contains("logidx doctor --repair"),
        "{stdout}"
    );

    let output = env.run(&["doctor", "--repair", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["healthy"], false);
    assert_eq!(report["repaired_runs"], serde_json::json!([run]));
    assert_eq!(report["incomplete_runs"][0]["run_id"], run);
    assert_eq!(env.run(&["doctor"]).status.code(), Some(0), "repaired");

    env.sync();
    assert_eq!(
        lines_per_run(&env, &env.index()),
        whole,
        "fetched again, whole"
    );
}
