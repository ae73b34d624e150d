//! Builds the simulated world from a [`Config`]: deterministic for a given seed.

use crate::config::Config;
use crate::model::*;
use crate::rng::{Rng, hash_bytes};

/// A failure mode the generator plants: recurring, flaky, or a regression from a known date.
#[derive(Debug, Clone, Copy)]
pub struct FailureMode {
    /// Stable name; [`Planted::mode`].
    pub id: &'static str,
    /// The ecosystem whose jobs it hits.
    pub ecosystem: Ecosystem,
    /// The kind of script step that fails.
    pub step: Script,
    /// Chance per eligible job.
    pub chance: f64,
    /// Passes when re-run.
    pub flaky: bool,
    /// Active from this fraction of the generated time range on (0 = from the start).
    pub starts_at: f64,
    /// Only jobs whose name contains this.
    pub job_filter: Option<&'static str>,
}

/// Every failure mode, in the order they are tried. One table so that tests and the log text
/// agree on what was planted.
pub const FAILURE_MODES: &[FailureMode] = &[
    mode(
        "rust-roundtrip-panic",
        Ecosystem::Rust,
        Script::Test,
        0.03,
        false,
        0.0,
        None,
    ),
    mode(
        "rust-connect-timeout",
        Ecosystem::Rust,
        Script::Test,
        0.04,
        true,
        0.0,
        None,
    ),
    mode(
        "rust-e0425-on-beta",
        Ecosystem::Rust,
        Script::Build,
        0.9,
        false,
        0.7,
        Some("beta"),
    ),
    mode(
        "py-module-not-found",
        Ecosystem::Python,
        Script::Test,
        0.03,
        false,
        0.0,
        None,
    ),
    mode(
        "py-flaky-timeout",
        Ecosystem::Python,
        Script::Test,
        0.04,
        true,
        0.0,
        None,
    ),
    mode(
        "py-assert-regression",
        Ecosystem::Python,
        Script::Test,
        0.9,
        false,
        0.7,
        Some("3.12"),
    ),
    mode(
        "node-jest-snapshot",
        Ecosystem::Node,
        Script::Test,
        0.03,
        false,
        0.0,
        None,
    ),
    mode(
        "node-econnreset",
        Ecosystem::Node,
        Script::Test,
        0.04,
        true,
        0.0,
        None,
    ),
    mode(
        "node-eresolve",
        Ecosystem::Node,
        Script::Install,
        0.9,
        false,
        0.7,
        Some("22"),
    ),
    mode(
        "go-fail-parse",
        Ecosystem::Go,
        Script::Test,
        0.03,
        false,
        0.0,
        None,
    ),
    mode(
        "go-flaky-race",
        Ecosystem::Go,
        Script::Test,
        0.04,
        true,
        0.0,
        None,
    ),
    mode(
        "go-index-panic",
        Ecosystem::Go,
        Script::Test,
        0.9,
        false,
        0.7,
        Some("1.23"),
    ),
];

#[allow(clippy::too_many_arguments)]
const fn mode(
    id: &'static str,
    ecosystem: Ecosystem,
    step: Script,
    chance: f64,
    flaky: bool,
    starts_at: f64,
    job_filter: Option<&'static str>,
) -> FailureMode {
    FailureMode {
        id,
        ecosystem,
        step,
        chance,
        flaky,
        starts_at,
        job_filter,
    }
}

/// Looks a failure mode up by its id.
pub fn failure_mode(id: &str) -> Option<&'static FailureMode> {
    FAILURE_MODES.iter().find(|m| m.id == id)
}

const ACTORS: &[&str] = &[
    "octocat",
    "hubot",
    "monalisa",
    "dependabot[bot]",
    "renovate[bot]",
    "ada-l",
];
const TOPICS: &[&str] = &[
    "parser", "timeout", "cache", "docs", "retry", "config", "cli", "deps",
];

/// Builds every configured repository.
pub(crate) fn build(config: &Config) -> Vec<Repo> {
    let mut repos: Vec<Repo> = config
        .repos
        .iter()
        .enumerate()
        .map(|(i, full)| {
            let mut repo = build_repo(config, i, full);
            crate::hostile::apply(&mut repo, config.hostile_runs);
            repo
        })
        .collect();
    for owner in &config.owners {
        for i in 0..owner.repos {
            let full = owner_repo_name(&owner.login, i);
            if repos
                .iter()
                .any(|r| r.full_name().eq_ignore_ascii_case(&full))
            {
                continue;
            }
            let mut repo = build_repo(config, repos.len(), &full);
            match i % 8 {
                1 => default_branch_is(&mut repo, "trunk"),
                2 => repo.archived = true,
                4 => repo.fork = true,
                5 => repo.actions = Actions::Disabled,
                7 => {
                    repo.actions = Actions::Unused;
                    repo.workflows.clear();
                    repo.runs.clear();
                }
                _ => {}
            }
            crate::hostile::apply(&mut repo, config.hostile_runs);
            repos.push(repo);
        }
    }
    repos
}

/// Makes `branch` the default branch of `repo`, generated on `main`: its runs there move too.
fn default_branch_is(repo: &mut Repo, branch: &str) {
    for run in repo
        .runs
        .iter_mut()
        .filter(|r| r.head_branch == repo.default_branch)
    {
        run.head_branch = branch.to_owned();
    }
    repo.default_branch = branch.to_owned();
}

/// The `i`th (from 0) generated repository of an owner: `owner/service-01`, `owner/lib-02`, ….
fn owner_repo_name(owner: &str, i: usize) -> String {
    let kind = ["service", "lib", "app"][i % 3];
    format!("{owner}/{kind}-{:02}", i + 1)
}

fn build_repo(config: &Config, index: usize, full_name: &str) -> Repo {
    let (owner, name) = full_name
        .split_once('/')
        .expect("repo names are validated as owner/name");
    let name_hash = hash_bytes(full_name.as_bytes());
    let mut rng = Rng::derive(config.seed, &[name_hash]);
    let ecosystem = config.ecosystem.unwrap_or(
        [
            Ecosystem::Rust,
            Ecosystem::Python,
            Ecosystem::Node,
            Ecosystem::Go,
        ][index % 4],
    );
    let workflows = workflows(ecosystem, name_hash);
    let mut repo = Repo {
        id: 100_000_000 + rng.below(800_000_000),
        owner: owner.to_owned(),
        name: name.to_owned(),
        default_branch: "main".to_owned(),
        ecosystem,
        workflows,
        runs: Vec::with_capacity(config.runs),
        archived: false,
        fork: false,
        actions: Actions::Enabled,
    };

    let end = config.end_second();
    let span = i64::from(config.days) * 86_400;
    let start = end - span;
    let mut run_id = 10_000_000_000 + rng.below(1_000_000_000);
    let mut job_id = 30_000_000_000 + rng.below(1_000_000_000);
    let mut run_numbers = vec![0u64; repo.workflows.len()];
    let mut main_sha = sha(&mut rng);
    let mut branch_sha: Vec<(String, String)> = Vec::new();

    for i in 0..config.runs {
        // Evenly spread with jitter, oldest first; ids grow with time as on GitHub.
        let slot = span / config.runs.max(1) as i64;
        let created = start + slot * i as i64 + rng.below(slot.max(1) as u64) as i64;
        let still_running = i + config.in_progress >= config.runs;
        let workflow = pick_workflow(&mut rng, &repo.workflows);
        // A run in progress is a CI run, the workflow with the most jobs, so that some of its
        // jobs have completed while others have not.
        let workflow = if still_running { 0 } else { workflow };
        let event = *rng.pick(&repo.workflows[workflow].events);
        let (branch, head_sha, title) = match event {
            "pull_request" => {
                if branch_sha.is_empty() || rng.chance(0.3) {
                    let topic = rng.pick(TOPICS);
                    branch_sha.push((format!("feat/{topic}-{}", rng.below(500)), sha(&mut rng)));
                    if branch_sha.len() > 6 {
                        branch_sha.remove(0);
                    }
                }
                let k = rng.below(branch_sha.len() as u64) as usize;
                if rng.chance(0.6) {
                    branch_sha[k].1 = sha(&mut rng);
                }
                let (b, s) = branch_sha[k].clone();
                let title = format!("Fix {} handling", b.trim_start_matches("feat/"));
                (b, s, title)
            }
            "push" => {
                if rng.chance(0.7) {
                    main_sha = sha(&mut rng);
                }
                let topic = rng.pick(TOPICS);
                (
                    "main".to_owned(),
                    main_sha.clone(),
                    format!("Merge pull request #{} from feat/{topic}", 100 + i),
                )
            }
            _ => ("main".to_owned(), main_sha.clone(), "Nightly".to_owned()),
        };
        run_numbers[workflow] += 1;
        run_id += rng.range(3, 400);
        let mut run = Run {
            id: run_id,
            workflow,
            run_number: run_numbers[workflow],
            event,
            head_branch: branch,
            head_sha,
            title,
            actor: (*rng.pick(ACTORS)).to_owned(),
            created_at: created,
            layout: config.layout.unwrap_or_else(|| {
                *rng.pick(&[
                    Layout::JobAndSteps,
                    Layout::JobAndSteps,
                    Layout::JobOnly,
                    Layout::Underscored,
                ])
            }),
            attempts: Vec::new(),
        };
        let frac = (created - start) as f64 / span.max(1) as f64;
        simulate_attempts(
            &mut run,
            &repo,
            frac,
            still_running,
            &mut job_id,
            config.seed,
        );
        if still_running {
            // The older of several runs in progress has been running longer.
            let age = (config.runs - 1 - i) as i64 * IN_PROGRESS_AGE_STEP;
            observe_in_progress(&mut run, &repo, end, age, config.seed);
        }
        repo.runs.push(run);
    }
    repo
}

fn pick_workflow(rng: &mut Rng, workflows: &[Workflow]) -> usize {
    // CI dominates, as in most repositories.
    match rng.below(100) {
        0..80 => 0,
        80..88 => 1.min(workflows.len() - 1),
        _ => 2.min(workflows.len() - 1),
    }
}

fn sha(rng: &mut Rng) -> String {
    format!(
        "{:016x}{:016x}{:08x}",
        rng.next_u64(),
        rng.next_u64(),
        rng.next_u64() as u32
    )
}

/// Plays a run out: attempt 1, then re-runs of failures (partial or full), each with jobs,
/// steps and times.
fn simulate_attempts(
    run: &mut Run,
    repo: &Repo,
    frac: f64,
    still_running: bool,
    job_id: &mut u64,
    seed: u64,
) {
    let mut rng = Rng::derive(seed, &[run.id, 1]);
    let workflow = &repo.workflows[run.workflow];
    let mut start = run.created_at + rng.range(2, 30) as i64;
    let cancelled = rng.chance(0.02);

    // Attempt 1: every job of the workflow.
    let mut planted: Vec<Option<Planted>> = workflow
        .jobs
        .iter()
        .map(|spec| plant(&mut rng, repo.ecosystem, spec, frac))
        .collect();
    let mut to_run: Vec<usize> = (0..workflow.jobs.len()).collect();
    let mut carried: Vec<Job> = Vec::new();
    let mut number = 1;
    loop {
        let running = still_running && number == 1;
        let mut jobs = carried.clone();
        for &spec in &to_run {
            *job_id += rng.range(1, 40);
            let cancel = cancelled && number == 1 && spec == to_run[to_run.len() - 1];
            jobs.push(make_job(
                &mut rng,
                run,
                workflow,
                spec,
                number,
                *job_id,
                start,
                planted[spec],
                cancel,
            ));
        }
        jobs.sort_by_key(|j| j.spec);
        let attempt = finish_attempt(number, start, jobs, running);
        let failed: Vec<usize> = attempt
            .jobs
            .iter()
            .filter(|j| j.run_attempt == number && j.conclusion == Some(Conclusion::Failure))
            .map(|j| j.spec)
            .collect();
        let any_flaky = failed.iter().any(|&s| planted[s].is_some_and(|p| p.flaky));
        let completed_at = attempt.completed_at;
        let prior = attempt.jobs.clone();
        run.attempts.push(attempt);
        let rerun = !failed.is_empty() && number < 3 && (any_flaky || rng.chance(0.3));
        let Some(done) = completed_at.filter(|_| rerun) else {
            break;
        };
        number += 1;
        start = done + rng.range(60, 3600) as i64;
        let partial = rng.chance(0.6);
        to_run = if partial {
            failed.clone()
        } else {
            (0..workflow.jobs.len()).collect()
        };
        carried = prior
            .into_iter()
            .filter(|j| !to_run.contains(&j.spec))
            .collect();
        // A flaky failure passes when re-run; a real one fails again.
        for p in planted.iter_mut() {
            if p.is_some_and(|p| p.flaky) {
                *p = None;
            }
        }
    }
}

fn plant(rng: &mut Rng, eco: Ecosystem, spec: &JobSpec, frac: f64) -> Option<Planted> {
    let scripts: Vec<Script> = spec
        .steps
        .iter()
        .filter_map(|s| match s.kind {
            StepKind::Script(k) => Some(k),
            _ => None,
        })
        .collect();
    FAILURE_MODES
        .iter()
        .filter(|m| m.ecosystem == eco && scripts.contains(&m.step) && frac >= m.starts_at)
        .filter(|m| m.job_filter.is_none_or(|f| spec.name.contains(f)))
        .find(|m| rng.chance(m.chance))
        .map(|m| Planted {
            mode: m.id,
            flaky: m.flaky,
        })
}

#[allow(clippy::too_many_arguments)]
fn make_job(
    rng: &mut Rng,
    run: &Run,
    workflow: &Workflow,
    spec_index: usize,
    attempt: u32,
    id: u64,
    attempt_start: i64,
    planted: Option<Planted>,
    cancel: bool,
) -> Job {
    let spec = &workflow.jobs[spec_index];
    let started = attempt_start + rng.range(1, 20) as i64;
    let mut job = Job {
        id,
        run_attempt: attempt,
        spec: spec_index,
        name: spec.name.clone(),
        status: Status::Completed,
        conclusion: Some(Conclusion::Success),
        started_at: started,
        completed_at: Some(started),
        runner_name: format!("GitHub Actions {}", rng.range(1, 999)),
        steps: Vec::new(),
        planted,
        log_seed: rng.next_u64(),
        crlf: rng.chance(0.1),
        bom: rng.chance(0.3),
        offset_times: rng.chance(0.2),
    };
    if spec.push_only && run.event != "push" {
        job.conclusion = Some(Conclusion::Skipped);
        return job;
    }
    let failing_step = planted.and_then(|p| {
        let kind = crate::generate::failure_mode(p.mode).map(|m| m.step)?;
        spec.steps
            .iter()
            .position(|s| s.kind == StepKind::Script(kind))
    });
    let cancel_step = cancel
        .then(|| {
            spec.steps
                .iter()
                .rposition(|s| matches!(s.kind, StepKind::Script(_)))
        })
        .flatten();
    let stop_at = failing_step.or(cancel_step);

    let main_steps = spec
        .steps
        .iter()
        .filter(|s| !matches!(s.kind, StepKind::Post(_) | StepKind::Complete))
        .count();
    let mut t = started;
    let mut post_number = 2 * main_steps as u32;
    for (i, step_spec) in spec.steps.iter().enumerate() {
        let is_tail = matches!(step_spec.kind, StepKind::Post(_) | StepKind::Complete);
        let number = if is_tail {
            post_number += 1;
            post_number - 1
        } else {
            i as u32 + 1
        };
        let mut step = Step {
            number,
            spec: i,
            name: step_spec.name.clone(),
            status: Status::Completed,
            conclusion: Some(Conclusion::Success),
            started_at: Some(t),
            completed_at: Some(t),
            has_log: true,
        };
        let after_stop = stop_at.is_some_and(|s| i > s) && !is_tail;
        if step_spec.kind == StepKind::Conditional || after_stop {
            step.conclusion = Some(Conclusion::Skipped);
            step.has_log = false;
        } else {
            t += duration(rng, &step_spec.kind);
            step.completed_at = Some(t);
            if Some(i) == failing_step {
                step.conclusion = Some(Conclusion::Failure);
                job.conclusion = Some(Conclusion::Failure);
            } else if Some(i) == cancel_step && failing_step.is_none() {
                step.conclusion = Some(Conclusion::Cancelled);
                job.conclusion = Some(Conclusion::Cancelled);
            }
        }
        job.steps.push(step);
    }
    job.completed_at = Some(t);
    job
}

fn duration(rng: &mut Rng, kind: &StepKind) -> i64 {
    let (lo, hi) = match kind {
        StepKind::SetUp => (1, 3),
        StepKind::Checkout => (1, 5),
        StepKind::Action(_) => (1, 20),
        StepKind::Script(Script::Install) => (10, 60),
        StepKind::Script(Script::Build) => (30, 300),
        StepKind::Script(Script::Test) => (20, 400),
        StepKind::Script(Script::Lint) => (5, 60),
        StepKind::Post(_) => (0, 2),
        StepKind::Complete | StepKind::Conditional => (0, 1),
    };
    rng.range(lo, hi) as i64
}

fn finish_attempt(number: u32, started_at: i64, jobs: Vec<Job>, running: bool) -> Attempt {
    let own = || jobs.iter().filter(|j| j.run_attempt == number);
    let conclusion = if running {
        None
    } else if jobs
        .iter()
        .any(|j| j.conclusion == Some(Conclusion::Failure))
    {
        Some(Conclusion::Failure)
    } else if own().any(|j| j.conclusion == Some(Conclusion::Cancelled)) {
        Some(Conclusion::Cancelled)
    } else {
        Some(Conclusion::Success)
    };
    let completed_at = (!running).then(|| {
        own()
            .filter_map(|j| j.completed_at)
            .max()
            .unwrap_or(started_at)
    });
    Attempt {
        number,
        status: if running {
            Status::InProgress
        } else {
            Status::Completed
        },
        conclusion,
        started_at,
        completed_at,
        jobs,
    }
}

/// What one ecosystem's workflows run.
struct Toolchain {
    setup: &'static str,
    versions: [&'static str; 2],
    cache: Option<&'static str>,
    install: &'static str,
    build: &'static str,
    test: &'static str,
    lint: &'static str,
    docs: &'static str,
}

fn toolchain(eco: Ecosystem) -> Toolchain {
    match eco {
        Ecosystem::Rust => Toolchain {
            setup: "dtolnay/rust-toolchain@stable",
            versions: ["stable", "beta"],
            cache: Some("Swatinem/rust-cache@v2"),
            install: "cargo fetch --locked",
            build: "cargo build --locked --all-targets",
            test: "cargo test --locked --workspace",
            lint: "cargo clippy --all-targets -- -D warnings",
            docs: "cargo doc --no-deps",
        },
        Ecosystem::Python => Toolchain {
            setup: "actions/setup-python@v5",
            versions: ["3.11", "3.12"],
            cache: None,
            install: "pip install -e .[test]",
            build: "python -m build",
            test: "pytest -q --durations=10",
            lint: "ruff check .",
            docs: "mkdocs build --strict",
        },
        Ecosystem::Node => Toolchain {
            setup: "actions/setup-node@v4",
            versions: ["20", "22"],
            cache: Some("actions/cache@v4"),
            install: "npm ci",
            build: "npm run build",
            test: "npm test",
            lint: "npm run lint",
            docs: "npm run docs",
        },
        Ecosystem::Go => Toolchain {
            setup: "actions/setup-go@v5",
            versions: ["1.22", "1.23"],
            cache: None,
            install: "go mod download",
            build: "go build ./...",
            test: "go test -race ./...",
            lint: "golangci-lint run",
            docs: "go doc ./...",
        },
    }
}

fn workflows(eco: Ecosystem, name_hash: u64) -> Vec<Workflow> {
    let tc = toolchain(eco);
    let id0 = 60_000_000 + name_hash % 1_000_000;
    let ci_jobs = vec![
        job_spec(
            &tc,
            "test",
            &format!("test (ubuntu-24.04, {})", tc.versions[0]),
            &[Script::Install, Script::Build, Script::Test],
            true,
            false,
        ),
        job_spec(
            &tc,
            "test",
            &format!("test (ubuntu-24.04, {})", tc.versions[1]),
            &[Script::Install, Script::Build, Script::Test],
            true,
            false,
        ),
        job_spec(
            &tc,
            "test",
            &format!("test (macos-14, {})", tc.versions[0]),
            &[Script::Install, Script::Build, Script::Test],
            true,
            false,
        ),
        job_spec(&tc, "lint", "lint", &[Script::Lint], false, false),
        job_spec(&tc, "docs", "docs / build", &[Script::Build], false, false),
        job_spec(
            &tc,
            "deploy",
            "🚀 deploy: preview",
            &[Script::Build],
            false,
            true,
        ),
    ];
    let nightly_jobs = vec![
        job_spec(
            &tc,
            "integration",
            "integration (ubuntu-24.04, postgres-16, redis-7, all-features, extended-timeouts, shard 1 of 2)",
            &[Script::Install, Script::Test],
            true,
            false,
        ),
        job_spec(
            &tc,
            "smoke",
            &format!("smokes {}", "🔥".repeat(42)),
            &[Script::Test],
            false,
            false,
        ),
    ];
    let docs_jobs = vec![job_spec(
        &tc,
        "spellcheck",
        "spellcheck",
        &[Script::Lint],
        false,
        false,
    )];
    vec![
        Workflow {
            id: id0,
            name: "CI".into(),
            path: ".github/workflows/ci.yml".into(),
            events: vec!["push", "pull_request", "pull_request"],
            jobs: ci_jobs,
        },
        Workflow {
            id: id0 + 1,
            name: "Nightly".into(),
            path: ".github/workflows/nightly.yml".into(),
            events: vec!["schedule"],
            jobs: nightly_jobs,
        },
        Workflow {
            id: id0 + 2,
            name: "Docs".into(),
            path: ".github/workflows/docs.yml".into(),
            events: vec!["pull_request"],
            jobs: docs_jobs,
        },
    ]
}

fn job_spec(
    tc: &Toolchain,
    key: &str,
    name: &str,
    scripts: &[Script],
    coverage: bool,
    push_only: bool,
) -> JobSpec {
    let mut steps = vec![
        StepSpec {
            name: "Set up job".into(),
            kind: StepKind::SetUp,
            command: String::new(),
        },
        StepSpec {
            name: "Run actions/checkout@v4".into(),
            kind: StepKind::Checkout,
            command: String::new(),
        },
        StepSpec {
            name: format!("Run {}", tc.setup),
            kind: StepKind::Action(tc.setup.into()),
            command: String::new(),
        },
    ];
    if let Some(cache) = tc.cache {
        steps.push(StepSpec {
            name: format!("Run {cache}"),
            kind: StepKind::Action(cache.into()),
            command: String::new(),
        });
    }
    for &script in scripts {
        let command = match (key, script) {
            ("docs", _) => tc.docs,
            ("deploy", _) => "./scripts/deploy.sh preview",
            (_, Script::Install) => tc.install,
            (_, Script::Build) => tc.build,
            (_, Script::Test) => tc.test,
            (_, Script::Lint) => tc.lint,
        };
        steps.push(StepSpec {
            name: format!("Run {command}"),
            kind: StepKind::Script(script),
            command: command.into(),
        });
    }
    if coverage {
        steps.push(StepSpec {
            name: "Upload coverage".into(),
            kind: StepKind::Conditional,
            command: String::new(),
        });
    }
    if let Some(cache) = tc.cache {
        steps.push(StepSpec {
            name: format!("Post Run {cache}"),
            kind: StepKind::Post(cache.into()),
            command: String::new(),
        });
    }
    steps.push(StepSpec {
        name: "Post Run actions/checkout@v4".into(),
        kind: StepKind::Post("actions/checkout@v4".into()),
        command: String::new(),
    });
    steps.push(StepSpec {
        name: "Complete job".into(),
        kind: StepKind::Complete,
        command: String::new(),
    });
    JobSpec {
        key: key.into(),
        name: name.into(),
        steps,
        push_only,
    }
}

/// A new run of `repo`'s CI workflow for live mode ([`crate::World::tick`]): a push to the
/// default branch, observed in progress at `now` as runs in progress are at start-up (a job
/// failed, the others running or queued). Its ids follow the repository's newest; `tick`
/// seeds it.
pub(crate) fn live_run(repo: &Repo, config: &Config, now: i64, tick: u64) -> Run {
    let mut rng = Rng::derive(
        config.seed,
        &[hash_bytes(repo.full_name().as_bytes()), tick, 4],
    );
    let last_run = repo
        .runs
        .iter()
        .map(|r| r.id)
        .max()
        .unwrap_or(10_000_000_000);
    let mut job_id = repo
        .runs
        .iter()
        .flat_map(|r| &r.attempts)
        .flat_map(|a| &a.jobs)
        .map(|j| j.id)
        .max()
        .unwrap_or(30_000_000_000);
    let run_number = repo
        .runs
        .iter()
        .filter(|r| r.workflow == 0)
        .map(|r| r.run_number)
        .max()
        .unwrap_or(0)
        + 1;
    let topic = rng.pick(TOPICS);
    let mut run = Run {
        id: last_run + rng.range(3, 400),
        workflow: 0,
        run_number,
        event: "push",
        head_branch: repo.default_branch.clone(),
        head_sha: sha(&mut rng),
        title: format!("Merge pull request #{} from feat/{topic}", 1000 + tick),
        actor: (*rng.pick(ACTORS)).to_owned(),
        created_at: now,
        layout: config.layout.unwrap_or(Layout::JobAndSteps),
        attempts: Vec::new(),
    };
    simulate_attempts(&mut run, repo, 1.0, true, &mut job_id, config.seed);
    observe_in_progress(&mut run, repo, now, 0, config.seed);
    run
}

/// Appends an attempt that re-runs every job of `run`, starting at `start` and passing, as a
/// user's "Re-run all jobs" does. Job ids continue after `last_job_id`. Returns its number.
pub(crate) fn rerun(run: &mut Run, repo: &Repo, last_job_id: u64, start: i64, seed: u64) -> u32 {
    let number = run.attempts.len() as u32 + 1;
    let mut rng = Rng::derive(seed, &[run.id, u64::from(number), 2]);
    let workflow = &repo.workflows[run.workflow];
    let mut id = last_job_id;
    let jobs = (0..workflow.jobs.len())
        .map(|spec| {
            id += rng.range(1, 40);
            make_job(
                &mut rng, run, workflow, spec, number, id, start, None, false,
            )
        })
        .collect();
    run.attempts
        .push(finish_attempt(number, start, jobs, false));
    number
}

/// Completes the latest attempt of a run still in progress: its unfinished jobs complete at
/// about `now` ([`finish_job`]). False when it had already completed.
pub(crate) fn complete(run: &mut Run, repo: &Repo, now: i64) -> bool {
    let workflow = &repo.workflows[run.workflow];
    let attempt = run
        .attempts
        .last_mut()
        .expect("a run has at least one attempt");
    if attempt.status == Status::Completed {
        return false;
    }
    for job in attempt
        .jobs
        .iter_mut()
        .filter(|j| j.status != Status::Completed)
    {
        finish_job(job, &workflow.jobs[job.spec], now);
    }
    let started = attempt.started_at;
    let jobs = std::mem::take(&mut attempt.jobs);
    *attempt = finish_attempt(attempt.number, started, jobs, false);
    true
}

/// Completes one unfinished job of the latest attempt of `run` at about `now`; the attempt
/// completes with its last job. False when the latest attempt has no such unfinished job.
pub(crate) fn complete_job(run: &mut Run, repo: &Repo, job_id: u64, now: i64) -> bool {
    let workflow = &repo.workflows[run.workflow];
    let attempt = run
        .attempts
        .last_mut()
        .expect("a run has at least one attempt");
    let Some(job) = attempt
        .jobs
        .iter_mut()
        .find(|j| j.id == job_id && j.status != Status::Completed)
    else {
        return false;
    };
    finish_job(job, &workflow.jobs[job.spec], now);
    if attempt.jobs.iter().all(|j| j.status == Status::Completed) {
        let started = attempt.started_at;
        let jobs = std::mem::take(&mut attempt.jobs);
        *attempt = finish_attempt(attempt.number, started, jobs, false);
    }
    true
}

/// Runs a job's unfinished steps to their end by `now`, one second apart (sharing seconds when
/// they are more than the time since its last finished step, never past `now`): they pass, and
/// the job fails only if a step it finished before had failed.
fn finish_job(job: &mut Job, spec: &JobSpec, now: i64) {
    let runs = |s: &Step| {
        s.status != Status::Completed && spec.steps[s.spec].kind != StepKind::Conditional
    };
    let pending = job.steps.iter().filter(|s| runs(s)).count() as i64;
    let last_done = job
        .steps
        .iter()
        .filter_map(|s| s.completed_at)
        .max()
        .unwrap_or(job.started_at);
    let mut t = (now - pending).max(last_done).min(now);
    if job.status == Status::Queued {
        job.started_at = t;
    }
    for step in job
        .steps
        .iter_mut()
        .filter(|s| s.status != Status::Completed)
    {
        step.status = Status::Completed;
        if spec.steps[step.spec].kind == StepKind::Conditional {
            step.conclusion = Some(Conclusion::Skipped);
            step.started_at = Some(t);
            step.completed_at = Some(t);
            continue;
        }
        step.conclusion = Some(Conclusion::Success);
        step.started_at = Some(step.started_at.unwrap_or(t).min(t));
        t = (t + 1).min(now);
        step.completed_at = Some(t);
        step.has_log = true;
    }
    let failed = job
        .steps
        .iter()
        .any(|s| s.conclusion == Some(Conclusion::Failure));
    job.status = Status::Completed;
    job.conclusion = Some(if failed {
        Conclusion::Failure
    } else {
        Conclusion::Success
    });
    job.completed_at = Some(t);
}

/// The completed jobs of a run in progress completed at least this long before fakehub
/// started (seconds): past GitHub's ~30 s of finalising, so their logs are served at once.
const IN_PROGRESS_SETTLED: i64 = 90;

/// How much longer each older run in progress has been running than the next (seconds): more
/// than any generated job takes, so that runs in progress stay in creation order.
const IN_PROGRESS_AGE_STEP: i64 = 1_800;

/// Turns the latest attempt of `run`, generated as if its jobs had all completed, into what the
/// API shows of it at one moment: the jobs done by then completed (at least one failed), the
/// others in progress or queued. Then moves the whole run in time so that the moment is `now`
/// and its first failure completed [`IN_PROGRESS_SETTLED`] seconds or more (plus `age`) before.
fn observe_in_progress(run: &mut Run, repo: &Repo, now: i64, age: i64, seed: u64) {
    let mut rng = Rng::derive(seed, &[run.id, 3]);
    let workflow = &repo.workflows[run.workflow];
    let logged = |j: &Job| j.conclusion != Some(Conclusion::Skipped);
    let by_completion = |jobs: &[Job]| {
        let mut order: Vec<usize> = (0..jobs.len()).filter(|&i| logged(&jobs[i])).collect();
        order.sort_by_key(|&i| (jobs[i].completed_at, jobs[i].spec));
        order
    };

    // At least one job fails before the run completes, so that it can be found early: the
    // first to complete that a failure mode of the ecosystem can hit.
    let latest = run.latest();
    if !latest
        .jobs
        .iter()
        .any(|j| j.conclusion == Some(Conclusion::Failure))
    {
        let forced = by_completion(&latest.jobs).into_iter().find_map(|i| {
            let job = &latest.jobs[i];
            let spec = &workflow.jobs[job.spec];
            let mode = FAILURE_MODES.iter().find(|m| {
                m.ecosystem == repo.ecosystem
                    && !m.flaky
                    && m.job_filter.is_none_or(|f| spec.name.contains(f))
                    && spec
                        .steps
                        .iter()
                        .any(|s| s.kind == StepKind::Script(m.step))
            })?;
            let planted = Planted {
                mode: mode.id,
                flaky: false,
            };
            let remade = make_job(
                &mut rng,
                run,
                workflow,
                job.spec,
                latest.number,
                job.id,
                latest.started_at,
                Some(planted),
                false,
            );
            Some((i, remade))
        });
        if let Some((i, job)) = forced {
            run.attempts.last_mut().expect("latest").jobs[i] = job;
        }
    }

    let attempt = run
        .attempts
        .last_mut()
        .expect("a run has at least one attempt");
    let order = by_completion(&attempt.jobs);
    let first_failure = order
        .iter()
        .copied()
        .find(|&i| attempt.jobs[i].conclusion == Some(Conclusion::Failure));
    let Some(&first) = first_failure.as_ref().or(order.first()) else {
        return;
    };
    let done_at = attempt.jobs[first].completed_at.expect("generated whole");
    let seen_at = done_at + IN_PROGRESS_SETTLED + rng.range(0, 120) as i64 + age;
    let mut cuts: Vec<(usize, i64)> = order
        .iter()
        .filter(|&&i| attempt.jobs[i].completed_at.is_some_and(|c| c > seen_at))
        .map(|&i| (i, seen_at))
        .collect();
    if cuts.is_empty() {
        // Every job would be done by then: the slowest other one is still running, halfway.
        if let Some(&slowest) = order.iter().rev().find(|&&i| i != first) {
            let job = &attempt.jobs[slowest];
            let done = job.completed_at.expect("generated whole");
            cuts.push((slowest, job.started_at + (done - job.started_at) / 2));
        }
    }
    // macOS runners are scarce: a macOS job that is not running yet waits for one.
    let waiting = order.iter().copied().find(|&i| {
        i != first && attempt.jobs[i].name.contains("macos") && !cuts.iter().any(|&(c, _)| c == i)
    });
    if let Some(i) = waiting {
        cuts.push((i, attempt.jobs[i].started_at - 1));
    }
    for (i, at) in cuts {
        cut_job(&mut attempt.jobs[i], at, seen_at);
    }
    let started = attempt.started_at;
    let jobs = std::mem::take(&mut attempt.jobs);
    *attempt = finish_attempt(attempt.number, started, jobs, true);

    let shift = now - seen_at;
    run.created_at += shift;
    for attempt in &mut run.attempts {
        attempt.started_at += shift;
        for job in &mut attempt.jobs {
            job.started_at += shift;
            job.completed_at = job.completed_at.map(|t| t + shift);
            for step in &mut job.steps {
                step.started_at = step.started_at.map(|t| t + shift);
                step.completed_at = step.completed_at.map(|t| t + shift);
            }
        }
    }
}

/// A whole generated job as it stood at `at`: queued if it had not started (then waiting
/// since `seen_at`), else in progress in the step that was running, later steps queued. A
/// failure it had not reached yet is not planted any more: it will pass.
fn cut_job(job: &mut Job, at: i64, seen_at: i64) {
    let queued = job.started_at > at;
    if queued {
        job.status = Status::Queued;
        job.started_at = seen_at;
    } else {
        job.status = Status::InProgress;
    }
    job.conclusion = None;
    job.completed_at = None;
    let mut running = queued;
    for step in &mut job.steps {
        if !running && step.completed_at.is_some_and(|c| c <= at) {
            continue;
        }
        step.conclusion = None;
        step.completed_at = None;
        step.has_log = false;
        if running {
            step.status = Status::Queued;
            step.started_at = None;
        } else {
            step.status = Status::InProgress;
            running = true;
        }
    }
    let failed = job
        .steps
        .iter()
        .any(|s| s.conclusion == Some(Conclusion::Failure));
    if !failed {
        job.planted = None;
    }
}
