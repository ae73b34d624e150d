//! How a sync lives and dies: closed or full stdout and stderr, signals; reading an index
//! without writing to it; where links point.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use fakehub::Status;

use crate::env::{Env, text, wait_briefly};

/// `sync -v --json`, committing only at its end (or when stopped), with `stdout` and `stderr`.
fn spawn_sync(env: &Env, stdout: Stdio, stderr: Stdio) -> Child {
    env.logidx()
        .args([
            "sync",
            "acme/widgets",
            "--since",
            "30d",
            "--commit-every",
            "3600",
            "-j",
            "2",
            "-v",
            "--json",
        ])
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// Lines of `stream` as they come, on a thread of their own.
fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits for the line `sync -v` prints once an attempt is indexed (not yet committed).
fn until_an_attempt_is_indexed(lines: &mpsc::Receiver<String>) {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the sync indexed nothing");
        if line.ends_with(" lines") {
            return;
        }
    }
}

/// Attempts the index holds, as `stats` counts them.
fn attempts_indexed(env: &Env) -> u64 {
    let stats = env.run(&["stats", "--json"]);
    assert_eq!(stats.status.code(), Some(0), "{}", text(&stats.stderr));
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    stats["repos"][0]["attempts_indexed"].as_u64().unwrap_or(0)
}

/// The next sync is not refused (the lock was let go) and finishes what was left.
fn the_next_sync_finishes(env: &Env, committed: u64) {
    let next = env.sync();
    assert_eq!(next["attempts_skipped"].as_u64(), Some(committed), "{next}");
    let repo = env.hub.repo("acme/widgets").unwrap();
    let attempts = repo.runs.iter().flat_map(|run| &run.attempts);
    let completed = attempts.filter(|a| a.status == Status::Completed).count() as u64;
    assert_eq!(
        next["attempts_indexed"].as_u64().unwrap() + committed,
        completed
    );
}

/// The sync's `--json` `summary` says it was cut short after indexing `at_least` attempts; the
/// index holds what it says was indexed, and the next sync finishes the rest.
fn committed_what_it_indexed(env: &Env, summary: &str, at_least: u64) {
    let summary: serde_json::Value = serde_json::from_str(summary).unwrap();
    assert_eq!(summary["cancelled"], true, "{summary}");
    let indexed = summary["attempts_indexed"].as_u64().unwrap();
    assert!(indexed >= at_least, "{summary}");
    assert_eq!(attempts_indexed(env), indexed);
    the_next_sync_finishes(env, indexed);
}

#[test]
fn a_closed_stderr_ends_the_sync_quietly_and_commits_what_it_indexed() {
    let env = Env::slow();
    let mut child = spawn_sync(&env, Stdio::piped(), Stdio::piped());
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = child.stderr.take().unwrap();
    let mut stderr = BufReader::new(stderr);
    let mut line = String::new();
    while !line.ends_with(" lines\n") {
        line.clear();
        assert_ne!(
            stderr.read_line(&mut line).unwrap(),
            0,
            "no attempt indexed"
        );
    }
    drop(stderr); // as `| head` does

    let status = wait_briefly(&mut child);
    assert_eq!(status.code(), Some(0), "{status}");
    let summary = stdout.recv_timeout(Duration::from_secs(5)).unwrap();
    committed_what_it_indexed(&env, &summary, 1);
}

#[test]
fn stdout_and_stderr_on_one_closed_pipe_end_the_sync_quietly() {
    // `logidx sync -v 2>&1 | head -2`
    let env = Env::slow();
    let (reader, writer) = std::io::pipe().unwrap();
    let mut child = spawn_sync(&env, writer.try_clone().unwrap().into(), writer.into());
    let lines = lines_of(reader);
    until_an_attempt_is_indexed(&lines);
    drop(lines); // the reading thread leaves at the next line, closing the pipe

    let status = wait_briefly(&mut child);
    assert_eq!(status.code(), Some(0), "{status}");
    let committed = attempts_indexed(&env);
    assert!(committed >= 1);
    the_next_sync_finishes(&env, committed);
}

#[test]
fn a_full_stderr_ends_the_sync_and_commits_what_it_indexed() {
    let env = Env::slow();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut child = spawn_sync(&env, Stdio::piped(), full.into());
    let status = wait_briefly(&mut child);
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{status}");
    committed_what_it_indexed(&env, &stdout, 0);
}

#[test]
fn a_closed_stdout_lets_the_sync_finish_and_exit_quietly() {
    let env = Env::start(6, |_| ());
    let mut child = spawn_sync(&env, Stdio::piped(), Stdio::piped());
    drop(child.stdout.take());
    let stderr = lines_of(child.stderr.take().unwrap());
    let status = wait_briefly(&mut child);
    let said: Vec<String> = stderr.iter().collect();
    assert_eq!(status.code(), Some(0), "{status}: {said:?}");
    assert!(said.iter().all(|l| !l.contains("error")), "{said:?}");
    assert!(attempts_indexed(&env) >= 6);
    assert_eq!(env.sync()["attempts_indexed"], 0, "all was committed");
}

/// Sends `signal` to a sync once it has indexed an attempt (uncommitted: it commits only at
/// its end), then checks that it committed that work and exited with `code`.
fn a_signal_commits_what_was_indexed(signal: &str, code: i32) {
    let env = Env::slow();
    let mut child = spawn_sync(&env, Stdio::piped(), Stdio::piped());
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    until_an_attempt_is_indexed(&stderr);
    let kill = std::process::Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());

    let status = wait_briefly(&mut child);
    assert_eq!(status.signal(), None, "killed by the signal: {status}");
    assert_eq!(status.code(), Some(code), "{status}");
    let said: Vec<String> = stderr.iter().collect();
    assert!(
        said.iter().any(|l| l.starts_with("interrupted")),
        "{said:?}"
    );
    let summary = stdout.recv_timeout(Duration::from_secs(5)).unwrap();
    committed_what_it_indexed(&env, &summary, 1);
}

#[test]
fn sigterm_commits_what_was_indexed_and_exits_143() {
    a_signal_commits_what_was_indexed("TERM", 143);
}

#[test]
fn sighup_commits_what_was_indexed_and_exits_129() {
    a_signal_commits_what_was_indexed("HUP", 129);
}

/// Every file and directory under `dir`: its path, size and modification time.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    let mut entries = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                todo.push(entry.path());
            }
            entries.push((entry.path(), meta.len(), meta.modified().unwrap()));
        }
        let meta = std::fs::metadata(&dir).unwrap();
        entries.push((dir, meta.len(), meta.modified().unwrap()));
    }
    entries.sort();
    entries
}

/// `chmod -R a+rX,a-w` (or `u+w` back): a copy shared read-only.
fn set_writable(dir: &Path, writable: bool) {
    let mode = if writable { "u+w" } else { "a+rX,a-w" };
    let chmod = std::process::Command::new("chmod")
        .args(["-R", mode])
        .arg(dir)
        .status()
        .unwrap();
    assert!(chmod.success());
}

/// The run id and attempt number of an indexed attempt with a failed job.
fn a_failed_attempt(env: &Env) -> (String, String) {
    let hit = env.run(&[
        "search",
        "level:error conclusion:failure",
        "-n",
        "1",
        "--json",
    ]);
    let hit: serde_json::Value = serde_json::from_slice(&hit.stdout).unwrap();
    (hit["run_id"].to_string(), hit["run_attempt"].to_string())
}

/// The commands that only read, with the arguments that make each find something.
fn reading_commands(env: &Env) -> Vec<Vec<String>> {
    let (run, attempt) = a_failed_attempt(env);
    [
        vec!["search", "level:error", "-n", "3"],
        vec!["search", "", "--count-by", "run"],
        vec!["show", &run],
        vec!["stats"],
        vec!["errors"],
        vec!["flaky"],
        vec!["new", &run, "--attempt", &attempt],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(str::to_owned).collect())
    .collect()
}

/// Runs `args` and checks that it answered (found something or nothing) without an error.
fn answers(mut command: std::process::Command, args: &[String]) {
    let output = command.args(args).output().unwrap();
    let stderr = text(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(0 | 1)) && !stderr.contains("error"),
        "{args:?}: {}\n{stderr}",
        output.status
    );
}

#[test]
fn reading_commands_write_nothing_in_the_index() {
    let env = Env::start(12, |_| ());
    env.sync();
    let commands = reading_commands(&env);
    set_writable(&env.index(), false);
    let before = snapshot(&env.index());
    for args in &commands {
        answers(env.logidx(), args);
        assert_eq!(
            snapshot(&env.index()),
            before,
            "{args:?} wrote in the index"
        );
    }
    set_writable(&env.index(), true);
}

#[test]
fn another_users_read_only_index_can_be_read() {
    let env = Env::start(12, |_| ());
    env.sync();
    let commands = reading_commands(&env);
    set_writable(&env.index(), false);
    let root = text(
        &std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    );
    // Root writes through `chmod`: run as `nobody` instead, where `setpriv` can.
    let as_reader = || {
        let command = env.logidx();
        if root.trim() != "0" {
            return Some(command);
        }
        let setpriv = Path::new("/usr/bin/setpriv");
        if !setpriv.exists() {
            return None;
        }
        let mut reader = std::process::Command::new(setpriv);
        reader
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(command.get_program())
            .env_clear()
            .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))));
        Some(reader)
    };
    // The scratch directory is root's own (0700): let `nobody` through to the index.
    let reach = std::process::Command::new("chmod")
        .arg("a+rx")
        .arg(env.dir.path())
        .status()
        .unwrap();
    assert!(reach.success());
    for args in &commands {
        let Some(command) = as_reader() else {
            eprintln!("skipped: running as root without /usr/bin/setpriv to drop to `nobody`");
            return;
        };
        answers(command, args);
    }
    set_writable(&env.index(), true);
}

#[test]
fn links_point_at_the_host_the_data_was_synced_from() {
    let env = Env::start(40, |_| ());
    env.sync();
    let (run, attempt) = a_failed_attempt(&env);
    // fakehub's web pages are on its API host.
    let synced_from = env.hub.api_url().trim_end_matches('/').to_owned();
    let elsewhere = "https://ghe.example.com/api/v3";
    let link_printers: [&[&str]; 6] = [
        &["search", "level:error", "-n", "3"],
        &["search", "level:error", "-n", "3", "--json"],
        &["errors"],
        &["errors", "--json"],
        &["show", &run, "--attempt", &attempt, "--json"],
        &["new", &run, "--attempt", &attempt, "--json"],
    ];
    for args in link_printers.iter().copied().chain([
        &["flaky"][..],
        &["flaky", "--json"],
        &["new", &run, "--attempt", &attempt],
    ]) {
        let output = env
            .logidx()
            .args(args)
            .args(["--api-url", elsewhere])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&output.stderr)
        );
        let stdout = text(&output.stdout);
        assert!(!stdout.contains("ghe.example.com"), "{args:?}: {stdout}");
        if link_printers.contains(&args) {
            assert!(
                stdout.contains(&format!("{synced_from}/acme/widgets/actions/runs/")),
                "{args:?}: {stdout}"
            );
        }
    }
}

/// Bytes of the files under `dir`.
fn size_of(dir: &Path) -> u64 {
    snapshot(dir)
        .iter()
        .filter(|(path, ..)| path.is_file())
        .map(|(_, len, _)| len)
        .sum()
}

#[test]
fn the_etag_cache_keeps_what_a_304_needs_and_stays_small() {
    let env = Env::start(300, |c| c.lines_per_job = 20);
    let since = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(30 * 24))
        .unwrap()
        .to_string();
    let first = env.sync_since(&since);
    let etags = env.index().join("etags");
    let pages: Vec<PathBuf> = snapshot(&etags)
        .into_iter()
        .map(|(path, ..)| path)
        .filter(|path| path.is_file())
        .collect();
    assert!(pages.len() >= 3, "{pages:?}");
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        // The parts of a run logidx never reads.
        for unread in ["\"repository\"", "\"head_commit\"", "\"pull_requests\""] {
            assert!(!text.contains(unread), "{} keeps {unread}", page.display());
        }
    }
    let index = size_of(&env.index().join("texts")) + size_of(&env.index().join("steps"));
    let cache = size_of(&etags);
    assert!(cache * 5 < index, "cache {cache} B, index {index} B");

    // The kept pages still answer a re-sync: every list page is a free 304.
    let before = env.hub.stats();
    let second = env.sync_since(&since);
    let after = env.hub.stats();
    assert_eq!(second["runs"], first["runs"]);
    assert_eq!(second["attempts_indexed"], 0);
    let lists = after.count("list_runs") - before.count("list_runs");
    let free = after.count_status("list_runs", 304) - before.count_status("list_runs", 304);
    assert_eq!(free, lists);
}
