//! `fakehub`: serve a simulated GitHub Actions API on loopback until Ctrl-C.

use std::time::Duration;

use clap::Parser;
use fakehub::{Config, FakeHub, Fault, Layout, World};

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
    /// Primary rate limit per hour.
    #[arg(long, default_value_t = 5_000)]
    rate_limit: u32,
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
    let config = Config {
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
    eprintln!(
        "try:   LOGIDX_API_URL={} GH_TOKEN={} logidx sync {}",
        hub.api_url(),
        hub.token(),
        args.repos[0]
    );
    eprintln!(
        "control: curl -X POST {}/_fakehub/runs/RUN_ID/complete-next-job (or jobs/JOB_ID/complete, runs/RUN_ID/complete)",
        hub.api_url()
    );
    tokio::signal::ctrl_c().await?;
    hub.shutdown().await;
    Ok(())
}
