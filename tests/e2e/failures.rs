//! Failure intelligence against fakehub's planted failures: each failure mode's first error
//! line is one signature (never split by the numbers, ports and paths that vary between runs,
//! never merged with another mode), with the right runs, counts and first and last sighting.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fakehub::Status;

use crate::env::{Env, json_lines, text};

/// Each planted failure mode and a part of the line that starts it (after ANSI removal).
const KEY_LINES: &[(&str, &str)] = &[
    ("rust-roundtrip-panic", "panicked at src/parser.rs"),
    ("rust-connect-timeout", "panicked at src/net.rs"),
    ("rust-e0425-on-beta", "error[E0425]"),
    ("py-module-not-found", "E   ModuleNotFoundError"),
    ("py-flaky-timeout", "E       TimeoutError"),
    ("py-assert-regression", "E       assert "),
    ("node-jest-snapshot", "FAIL  src/format/render.test.ts"),
    ("node-econnreset", "Error: read ECONNRESET"),
    ("node-eresolve", "npm ERR! code ERESOLVE"),
    ("go-fail-parse", "--- FAIL: TestParseDuration"),
    ("go-flaky-race", "WARNING: DATA RACE"),
    ("go-index-panic", "panic: runtime error: index out of range"),
];

/// One repository per ecosystem (fakehub gives the n-th repository the n-th ecosystem).
const REPOS: [&str; 4] = ["acme/widgets", "acme/snakes", "acme/nodes", "acme/gophers"];

/// A planted key line: its mode, run and time (ns).
struct Planted {
    mode: &'static str,
    run: (String, u64),
    timestamp: i64,
    text: String,
}

fn planted(env: &Env) -> Vec<Planted> {
    let mut found = Vec::new();
    for repo_name in REPOS {
        let repo = env.hub.repo(repo_name).unwrap();
        for run in &repo.runs {
            for attempt in run
                .attempts
                .iter()
                .filter(|a| a.status == Status::Completed)
            {
                for job in attempt.archived_jobs() {
                    let Some(planted) = job.planted else { continue };
                    let (mode, key) = KEY_LINES
                        .iter()
                        .find(|(mode, _)| *mode == planted.mode)
                        .unwrap_or_else(|| panic!("no key line for `{}`", planted.mode));
                    // Job-only archives are indexed from the whole-job file, whose timestamps
                    // differ from the step files' by microseconds (written separately).
                    let log = env.hub.job_log(repo_name, job.id).unwrap();
                    let lines: Vec<fakehub::LogLine> = if run.layout == fakehub::Layout::JobOnly {
                        log.job_file_lines().into_iter().map(|(_, l)| l).collect()
                    } else {
                        log.steps.into_iter().flat_map(|s| s.lines).collect()
                    };
                    let line = lines
                        .iter()
                        .find(|l| l.plain_text().contains(key))
                        .unwrap_or_else(|| panic!("`{mode}` wrote no `{key}` in job {}", job.id));
                    found.push(Planted {
                        mode,
                        run: (repo_name.to_owned(), run.id),
                        timestamp: line.ticks * 100,
                        text: line.plain_text().trim_start_matches('\u{feff}').to_owned(),
                    });
                }
            }
        }
    }
    found
}

#[test]
fn errors_finds_each_planted_failure_as_one_signature_with_its_runs_and_dates() {
    let env = Env::start(40, |c| {
        c.repos = REPOS.iter().map(|r| r.to_string()).collect();
        c.in_progress = 0;
    });
    let mut args = vec!["sync", "--since", "30d"];
    args.extend(REPOS);
    let sync = env.run(&args);
    assert_eq!(sync.status.code(), Some(0), "{}", text(&sync.stderr));

    let planted = planted(&env);
    let mut by_mode: BTreeMap<&str, Vec<&Planted>> = BTreeMap::new();
    for p in &planted {
        by_mode.entry(p.mode).or_default().push(p);
    }
    assert!(
        by_mode.len() >= 8,
        "too few modes planted: {:?}",
        by_mode.keys()
    );
    eprintln!(
        "planted: {} key lines of {} modes",
        planted.len(),
        by_mode.len()
    );

    let output = env.run(&["errors", "--since", "30d", "--json", "-n", "100000"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let groups: HashMap<String, serde_json::Value> = json_lines(&output)
        .into_iter()
        .map(|g| (g["signature"].as_str().unwrap().to_owned(), g))
        .collect();

    let mut signatures_of_modes = BTreeSet::new();
    for (mode, lines) in &by_mode {
        let signatures: BTreeSet<u64> = lines
            .iter()
            .map(|p| logidx::index::signature(&p.text).expect("a key line is an error line"))
            .collect();
        assert_eq!(signatures.len(), 1, "`{mode}` is split: {signatures:?}");
        let signature = *signatures.iter().next().unwrap();
        assert!(
            signatures_of_modes.insert(signature),
            "`{mode}` merged with another"
        );
        let group = &groups[&format!("{signature:016x}")];

        let runs: BTreeSet<_> = lines.iter().map(|p| &p.run).collect();
        assert_eq!(group["runs"], runs.len() as u64, "{mode}");
        assert_eq!(group["occurrences"], lines.len() as u64, "{mode}");
        let first = lines.iter().map(|p| p.timestamp).min().unwrap();
        let last = lines.iter().map(|p| p.timestamp).max().unwrap();
        let at = |sighting: &serde_json::Value| {
            let t: jiff::Timestamp = sighting["timestamp"].as_str().unwrap().parse().unwrap();
            t.as_nanosecond() as i64
        };
        assert_eq!(at(&group["first_seen"]), first, "{mode}");
        assert_eq!(at(&group["last_seen"]), last, "{mode}");
    }
}

#[test]
fn new_shows_the_planted_failure_in_a_few_error_lines() {
    let env = Env::start(40, |c| c.in_progress = 0);
    env.sync();
    // A planted failure on main after a success of the same job on main.
    let repo = env.hub.repo("acme/widgets").unwrap();
    let (run, attempt, job, mode) = repo
        .runs
        .iter()
        .filter(|r| r.head_branch == "main")
        .flat_map(|r| r.attempts.iter().map(move |a| (r, a)))
        .flat_map(|(r, a)| a.archived_jobs().map(move |j| (r, a, j)))
        .find_map(|(run, attempt, job)| {
            let planted = job.planted?;
            let succeeded_before = repo.runs.iter().any(|earlier| {
                earlier.head_branch == "main"
                    && earlier.created_at < run.created_at
                    && earlier.workflow == run.workflow
                    && earlier.attempts.iter().flat_map(|a| &a.jobs).any(|j| {
                        j.name == job.name && j.conclusion == Some(fakehub::Conclusion::Success)
                    })
            });
            succeeded_before.then_some((run.id, attempt.number, job.id, planted.mode))
        })
        .expect("a planted failure on main after a success");
    let key = KEY_LINES.iter().find(|(m, _)| *m == mode).unwrap().1;

    let output = env.run(&[
        "new",
        &run.to_string(),
        "--attempt",
        &attempt.to_string(),
        "--job",
        &job.to_string(),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let lines = json_lines(&output);
    assert!((1..=10).contains(&lines.len()), "{}", text(&output.stdout));
    assert!(
        lines
            .iter()
            .any(|l| l["text"].as_str().unwrap().contains(key)),
        "{mode}"
    );
    for line in &lines {
        assert_eq!(line["job_id"], job);
        assert!(
            logidx::index::is_error_line(line["text"].as_str().unwrap()),
            "{line}"
        );
    }
    let human = env.run(&["new", &run.to_string(), "--attempt", &attempt.to_string()]);
    assert!(
        text(&human.stdout).contains("compared with"),
        "{}",
        text(&human.stdout)
    );
}

#[test]
fn flaky_finds_the_jobs_that_failed_and_passed_on_one_commit_and_no_others() {
    let env = Env::start(60, |c| c.in_progress = 0);
    env.sync();
    // Ground truth: per (workflow, job name), the commits with both outcomes, from fakehub.
    let repo = env.hub.repo("acme/widgets").unwrap();
    let mut outcomes: BTreeMap<(String, String), BTreeMap<String, (bool, bool)>> = BTreeMap::new();
    let mut rerun_flakes: BTreeSet<(String, String)> = BTreeSet::new();
    for run in &repo.runs {
        let workflow = repo.workflows[run.workflow].name.clone();
        for attempt in &run.attempts {
            for job in attempt.archived_jobs() {
                let on = outcomes
                    .entry((workflow.clone(), job.name.clone()))
                    .or_default()
                    .entry(run.head_sha.clone())
                    .or_default();
                match job.conclusion {
                    Some(fakehub::Conclusion::Success) => on.0 = true,
                    Some(fakehub::Conclusion::Failure) => on.1 = true,
                    _ => {}
                }
                let passed_later = run.attempts.iter().any(|later| {
                    later.number > attempt.number
                        && later.archived_jobs().any(|j| {
                            j.name == job.name && j.conclusion == Some(fakehub::Conclusion::Success)
                        })
                });
                if job.planted.is_some_and(|p| p.flaky) && passed_later {
                    rerun_flakes.insert((workflow.clone(), job.name.clone()));
                }
            }
        }
    }
    let expected: BTreeMap<(String, String), u64> = outcomes
        .into_iter()
        .map(|(job, commits)| {
            (
                job,
                commits.values().filter(|(p, f)| *p && *f).count() as u64,
            )
        })
        .filter(|(_, flaky)| *flaky > 0)
        .collect();
    assert!(
        !rerun_flakes.is_empty(),
        "the corpus should re-run planted flaky failures"
    );

    let output = env.run(&["flaky", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let found: BTreeMap<(String, String), u64> = json_lines(&output)
        .iter()
        .map(|j| {
            let name = |f: &str| j[f].as_str().unwrap().to_owned();
            (
                (name("workflow_name"), name("job_name")),
                j["flaky_commits"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, expected);
    for job in &rerun_flakes {
        assert!(
            found.contains_key(job),
            "planted flaky job {job:?} not found"
        );
    }
}
