//! `fakehub`: serve a simulated GitHub Actions API on loopback until Ctrl-C.

use std::time::Duration;

use clap::Parser;
use fakehub::{Config, FakeHub, Fault, Layout};

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
    /// Signed blob URLs expire after this many milliseconds.
    #[arg(long, default_value_t = 60_000)]
    url_expiry_ms: u64,
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
        token: args.token,
        api_port: args.port,
        blob_port: args.blob_port,
        lines_per_job: args.lines_per_job,
        distinct: args.distinct,
        layout: args.layout,
        url_expiry: Duration::from_millis(args.url_expiry_ms),
        rate_limit: args.rate_limit,
        faults: args.faults,
        hostile_runs: args.hostile_runs,
        ..Config::default()
    };
    let hub = FakeHub::start(config).await?;
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
    tokio::signal::ctrl_c().await?;
    hub.shutdown().await;
    Ok(())
}
