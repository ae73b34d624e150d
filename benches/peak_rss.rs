//! Peak memory of a sync whose one job log is huge (issue 19): fakehub plants a job log of
//! `LOGIDX_BENCH_HUGE_MIB` MiB (default 1024: 1 GiB of text) in a job-only archive, so that it
//! is one entry, and serves it from its spool; the real `logidx` binary syncs the repository
//! under `/usr/bin/time`. Prints the sync's peak RSS and wall time, and whether the index holds
//! every line of the run's archives. BENCHMARKS.md records the results.
//!
//! `cargo bench --bench peak_rss` (`LOGIDX_BENCH_HUGE_MIB=256` for a quicker run).

use std::io::{BufRead, BufReader, Cursor};
use std::time::{Duration, Instant};

use fakehub::{BulkKind, Config, FakeHub, Layout, Status, World};
use logidx::{GroupBy, Index, Query};

#[path = "support/logidx.rs"]
#[allow(dead_code)] // The watch helpers are org.rs's.
mod logidx_bin;
#[path = "support/process.rs"]
mod process;

const REPO: &str = "acme/widgets";

fn main() {
    let mib: u64 = std::env::var("LOGIDX_BENCH_HUGE_MIB")
        .ok()
        .map_or(1024, |v| {
            v.parse().expect("LOGIDX_BENCH_HUGE_MIB is a number")
        });
    let config = Config {
        runs: 3,
        days: 1,
        in_progress: 0,
        seed: 7,
        layout: Some(Layout::JobOnly),
        huge_log_bytes: mib << 20,
        not_ready_for: Duration::ZERO,
        end: Some("2026-11-01T00:00:00Z".parse().unwrap()),
        ..Config::default()
    };
    let started = Instant::now();
    let world = World::generate(config).unwrap();
    let bulk = world.bulk_log(BulkKind::HugeLog).unwrap().clone();
    world.prepare_bulk();
    let archive = world.archive(REPO, bulk.run_id, bulk.attempt).unwrap();
    let run_lines = run_lines(&world, bulk.run_id);
    println!(
        "fakehub: job log of {} ({} lines; {} of them in one step) in a zip of {}, written in {:.1} s; the run's archives hold {run_lines} lines",
        mib_text(bulk.job_log_bytes),
        bulk.job_log_lines,
        bulk.step_lines,
        mib_text(archive.len() as u64),
        started.elapsed().as_secs_f64(),
    );
    drop(archive);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hub = runtime.block_on(FakeHub::serve(world)).unwrap();
    let work = tempfile::tempdir().unwrap();
    let index_dir = work.path().join("index");
    let mut sync = logidx_bin::logidx(&hub, &index_dir);
    sync.args(["sync", REPO, "--since", "2026-10-01", "--json"]);
    let run = process::run_timed(sync);
    let summary: serde_json::Value =
        serde_json::from_slice(&run.output.stdout).unwrap_or(serde_json::Value::Null);
    println!(
        "sync: exit {}, {:.1} s, peak RSS {}; summary: {} attempts indexed, {} failed, {} lines",
        run.output.status,
        run.wall.as_secs_f64(),
        run.peak_rss
            .map_or("n/a (no /usr/bin/time)".to_owned(), |kib| mib_text(
                kib * 1024
            )),
        summary["attempts_indexed"],
        summary["attempts_failed"],
        summary["lines"],
    );
    if !run.output.status.success() {
        println!(
            "sync stderr: {}",
            String::from_utf8_lossy(&run.output.stderr).trim()
        );
    }

    let index = Index::open(&index_dir).unwrap();
    let query = Query::parse(&format!("run:{}", bulk.run_id)).unwrap();
    let indexed = index.count(&query, GroupBy::Nothing).unwrap().total;
    println!(
        "index: {indexed} lines of the run (its archives hold {run_lines}): {}",
        if indexed == run_lines {
            "all indexed"
        } else {
            "NOT all indexed"
        }
    );
    println!(
        "this process (fakehub, then the count): peak RSS {}",
        own_peak_rss().map_or("n/a".to_owned(), |kib| mib_text(kib * 1024))
    );
    runtime.block_on(hub.shutdown());
}

/// Lines in every completed attempt's archive of a run, counted as they inflate.
fn run_lines(world: &World, run_id: u64) -> u64 {
    let run = world.repo(REPO).unwrap().run(run_id).unwrap().clone();
    let mut lines = 0;
    for attempt in run
        .attempts
        .iter()
        .filter(|a| a.status == Status::Completed)
    {
        let bytes = world.archive(REPO, run_id, attempt.number).unwrap();
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        for i in 0..zip.len() {
            let entry = zip.by_index(i).unwrap();
            if entry.is_dir() {
                continue;
            }
            let mut reader = BufReader::with_capacity(1 << 20, entry);
            loop {
                let chunk = reader.fill_buf().unwrap();
                if chunk.is_empty() {
                    break;
                }
                lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
                let n = chunk.len();
                reader.consume(n);
            }
        }
    }
    lines
}

/// This process's peak RSS in KiB (`VmHWM`), on Linux.
fn own_peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib_text(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}
