//! `fakehub`: serve a simulated GitHub Actions API on loopback until Ctrl-C.

use std::time::Duration;

use clap::Parser;
use fakehub::{App, Config, FakeHub, Fault, Layout, Owner, World};

/// A faithful GitHub Actions REST API and blob-storage simulator.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// API port (the blob host listens on another).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Blob-storage port (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    blob_port: u16,
    /// Repository to simulate, `owner/name`; repeat for several.
    #[arg(long = "repo", default_value = "acme/widgets")]
    repos: Vec<String>,
    /// An organisation owning `--repos` generated repositories (some archived, forks, or
    /// without Actions), listed by `GET /orgs/{org}/repos`; repeat for several.
    #[arg(long = "org", value_name = "LOGIN")]
    orgs: Vec<String>,
    /// A user owning `--repos` generated repositories, listed by `GET /users/{user}/repos`;
    /// repeat for several.
    #[arg(long = "user", value_name = "LOGIN")]
    users: Vec<String>,
    /// Repositories each `--org` and `--user` owns.
    #[arg(long = "repos", default_value_t = 8)]
    owner_repos: usize,
    /// Serve the test GitHub App (its id and keys are in tests/fakehub/keys, test keys),
    /// installed on every `--org` and `--user`.
    #[arg(long)]
    app: bool,
    /// The App's installation tokens expire after this many seconds (GitHub: 3600).
    #[arg(long, default_value_t = 3_600)]
    app_token_lifetime: u64,
    /// Runs per repository.
    #[arg(long, default_value_t = 300)]
    runs: usize,
    /// Days the runs are spread over, ending now.
    #[arg(long, default_value_t = 14)]
    days: u32,
    /// The newest this many runs of each repository are still in progress: some of their
    /// jobs have completed (one failed), the others complete on
    /// `POST /_fakehub/jobs/{id}/complete` or `POST /_fakehub/runs/{id}/complete-next-job`.
    #[arg(long, default_value_t = 1)]
    in_progress: usize,
    /// Seed of all generated data.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Token clients must send.
    #[arg(long, default_value = "fakehub")]
    token: String,
    /// Average log lines per job.
    #[arg(long, default_value_t = 200)]
    lines_per_job: usize,
    /// Share of lines made unique, 0 (all repeats) to 1 (none alike).
    #[arg(long, default_value_t = fakehub::DEFAULT_DISTINCT)]
    distinct: f64,
    /// Archive layout for every run: job-and-steps, job-only, underscored (default: a mix).
    #[arg(long, value_parser = parse_layout)]
    layout: Option<Layout>,
    /// Share of attempts whose archive leaves out a job, misnames it, or holds it under both
    /// services' names, 0 to 1 (by seed; the per-job endpoint still serves those jobs).
    #[arg(long, default_value_t = 0.0)]
    broken_archives: f64,
    /// Signed blob URLs expire after this many milliseconds.
    #[arg(long, default_value_t = 60_000)]
    url_expiry_ms: u64,
    /// A job's log answers 404 for this many milliseconds after the job completes, while
    /// GitHub finalises it (about 30 s on GitHub).
    #[arg(long, default_value_t = 30_000)]
    job_log_not_ready_ms: u64,
    /// Primary rate limit per window, for each token.
    #[arg(long, default_value_t = 5_000)]
    rate_limit: u32,
    /// The primary rate limit's window in seconds (GitHub: an hour).
    #[arg(long, default_value_t = 3_600)]
    rate_window_secs: u64,
    /// Live mode: every this many milliseconds, in one repository after the other, a run in
    /// progress completes and a new one starts (every third time a failed run is re-run too);
    /// `POST /_fakehub/tick` does the same on demand.
    #[arg(long, value_name = "MS")]
    live_ms: Option<u64>,
    /// Fault rule `HOST:KIND[@PATH][*TIMES]`, e.g. `blob:drop*2`, `api:503@/actions/runs*3`.
    #[arg(long = "fault")]
    faults: Vec<Fault>,
    /// The oldest this many runs of each repository carry control characters and escape
    /// sequences in their names and log lines, as a fork's pull request can.
    #[arg(long, default_value_t = 0)]
    hostile_runs: usize,
    /// A step of one run prints `y` this many times, all but the first without a timestamp (its
    /// files compress about 1,030×).
    #[arg(long, default_value_t = 0)]
    repeated_lines: u64,
    /// A step of one run prints varied lines until its job's log is this many bytes (written
    /// once to a temporary file before fakehub answers, never held in memory).
    #[arg(long, default_value_t = 0)]
    huge_log_bytes: u64,
    /// A step of one run prints one line of this many bytes.
    #[arg(long, default_value_t = 0)]
    huge_line_bytes: usize,
    /// Generate every log once and print the corpus size and distinct-line ratio first.
    #[arg(long)]
    summary: bool,
}

fn parse_layout(s: &str) -> Result<Layout, String> {
    match s {
        "job-and-steps" => Ok(Layout::JobAndSteps),
        "job-only" => Ok(Layout::JobOnly),
        "underscored" => Ok(Layout::Underscored),
        _ => Err(format!(
            "layout `{s}` is not job-and-steps, job-only or underscored"
        )),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let owners: Vec<Owner> = (args.orgs.iter().map(|o| Owner::org(o, args.owner_repos)))
        .chain(args.users.iter().map(|u| Owner::user(u, args.owner_repos)))
        .collect();
    let app = args.app.then(|| {
        let accounts: Vec<&str> = owners.iter().map(|o| o.login.as_str()).collect();
        App {
            token_lifetime: Duration::from_secs(args.app_token_lifetime),
            ..App::test(&accounts)
        }
    });
    let config = Config {
        owners,
        app,
        repos: args.repos.clone(),
        runs: args.runs,
        days: args.days,
        seed: args.seed,
        in_progress: args.in_progress,
        token: args.token,
        api_port: args.port,
        blob_port: args.blob_port,
        lines_per_job: args.lines_per_job,
        distinct: args.distinct,
        layout: args.layout,
        broken_archives: args.broken_archives,
        url_expiry: Duration::from_millis(args.url_expiry_ms),
        job_log_not_ready_for: Duration::from_millis(args.job_log_not_ready_ms),
        rate_limit: args.rate_limit,
        rate_window: Duration::from_secs(args.rate_window_secs.max(1)),
        live: args.live_ms.map(Duration::from_millis),
        faults: args.faults,
        hostile_runs: args.hostile_runs,
        repeated_lines: args.repeated_lines,
        huge_log_bytes: args.huge_log_bytes,
        huge_line_bytes: args.huge_line_bytes,
        ..Config::default()
    };
    let world = World::generate(config)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let world = tokio::task::spawn_blocking(move || {
        world.prepare_bulk();
        world
    })
    .await?;
    for bulk in world.bulk_logs() {
        eprintln!(
            "bulk: {:?} in run {} attempt {} job {} step {} from line {}: {} lines, {} bytes of text; job log {} bytes",
            bulk.kind,
            bulk.run_id,
            bulk.attempt,
            bulk.job_id,
            bulk.step,
            bulk.first_line,
            bulk.lines,
            bulk.text_bytes,
            bulk.job_log_bytes
        );
    }
    let hub = FakeHub::serve(world).await?;
    if args.summary {
        let s = hub.corpus_summary();
        eprintln!(
            "corpus: {} jobs, {} lines, {:.1} MB, {:.1}% distinct lines",
            s.jobs,
            s.lines,
            s.bytes as f64 / 1e6,
            100.0 * s.distinct_ratio()
        );
    }
    eprintln!(
        "fakehub: {} with {} runs each over {} days (seed {})",
        args.repos.join(", "),
        args.runs,
        args.days,
        args.seed
    );
    println!("api:   {}", hub.api_url());
    println!("blob:  {}", hub.blob_url());
    println!("token: {}", hub.token());
    if let Some(app) = &hub.config().app {
        println!(
            "app:   id {} (key: tests/fakehub/keys/test-app.pem, a test key), installations {:?}",
            app.id, app.installations
        );
    }
    eprintln!(
        "try:   LOGIDX_API_URL={} GH_TOKEN={} logidx sync {}",
        hub.api_url(),
        hub.token(),
        args.repos[0]
    );
    eprintln!(
        "control: curl -X POST {}/_fakehub/runs/RUN_ID/complete-next-job (or jobs/JOB_ID/complete, runs/RUN_ID/complete, tick)",
        hub.api_url()
    );
    tokio::signal::ctrl_c().await?;
    hub.shutdown().await;
    Ok(())
}
