//! The whole pipeline against the tools users reach for, on one corpus, in one run: sync end to
//! end from fakehub on loopback (the real `logidx` binary), raw inflate and raw per-line tantivy
//! on the same lines, search latency in-process and per process, `rg` over the extracted text,
//! `unzip -p` piped to `rg` over the archives, sizes, and a re-sync. `benches/compare.sh` runs it and
//! installs what it needs; BENCHMARKS.md records the results.
//!
//! `LOGIDX_BENCH_SIZE=small|medium|large` (50 MB, 1 GB, 5 GB of log text; default small). The
//! corpus (archives and extracted text) is cached in `target/bench-corpus/SIZE`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use logidx::extract::{ArchiveId, Extractor, JobInfo, StepInfo};
use logidx::{Index, Query};
use logidx_test_support::PerLine;

#[path = "support/logidx.rs"]
#[allow(dead_code)] // The watch helpers are org.rs's.
mod logidx_bin;
#[path = "support/process.rs"]
mod process;
use process::timed;

/// The corpus's generator settings: fixed seeds, sizes of 50 MB, 1 GB and 5 GB of text.
fn corpus_config(size: &str) -> fakehub::Config {
    let (runs, lines_per_job) = match size {
        "small" => (300, 620),
        "medium" => (2_000, 1_900),
        "large" => (5_000, 3_800),
        other => panic!("LOGIDX_BENCH_SIZE is small, medium or large, not `{other}`"),
    };
    fakehub::Config {
        runs,
        lines_per_job,
        days: 60,
        seed: 7,
        not_ready_for: Duration::ZERO,
        // A fixed end, so that the cached corpus and the served one are the same.
        end: Some("2026-11-01T00:00:00Z".parse().unwrap()),
        ..fakehub::Config::default()
    }
}

const REPO: &str = "acme/widgets";

/// The searches, each with what `rg` runs for the same text.
const SEARCHES: [(&str, &str, &[&str]); 5] = [
    ("phrase", "\"panicked at\"", &["-F", "panicked at"]),
    (
        "rare word",
        "connect_with_retry",
        &["-i", "-w", "connect_with_retry"],
    ),
    ("common word", "test", &["-i", "-w", "test"]),
    (
        "phrase, job filter",
        "\"panicked at\" job:\"test (ubuntu-24.04, stable)\"",
        &["-F", "panicked at"],
    ),
    (
        "word, last week only",
        "error after:2026-10-25",
        &["-i", "-w", "error"],
    ),
];

struct Corpus {
    dir: PathBuf,
    zips: Vec<PathBuf>,
    text_bytes: u64,
    zip_bytes: u64,
    lines: u64,
    distinct: f64,
}

fn main() {
    let size = std::env::var("LOGIDX_BENCH_SIZE").unwrap_or_else(|_| "small".to_owned());
    let config = corpus_config(&size);
    let world = fakehub::World::generate(config.clone()).unwrap();
    let corpus = cached_corpus(&world, &size);
    let mut report = Report::new(&size, &corpus);

    // Raw inflate of every entry, one thread: the floor of any extraction.
    let started = Instant::now();
    let mut inflated = 0u64;
    let mut sink = vec![0u8; 1 << 16];
    for zip in &corpus.zips {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).unwrap();
            while let Ok(n @ 1..) = entry.read(&mut sink) {
                inflated += n as u64;
            }
        }
    }
    report.rate(
        "raw inflate, 1 thread (all entries)",
        inflated,
        started.elapsed(),
    );

    // Raw tantivy, one document per line, on the lines extract gives.
    let lines = extracted_lines(&world, &corpus);
    let line_bytes: u64 = lines.iter().map(|(_, _, t)| t.len() as u64).sum();
    let per_line_dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    PerLine::build(
        Some(per_line_dir.path()),
        lines.iter().map(|(n, t, text)| (*n, *t, text.as_str())),
        2,
    );
    let raw_tantivy = started.elapsed();
    report.rate(
        "raw tantivy, one doc per line (2 threads)",
        line_bytes,
        raw_tantivy,
    );
    let raw_size = dir_size(per_line_dir.path());
    drop(lines);

    // Sync end to end: the real binary against fakehub on loopback, serving the cached zips so
    // that generating them costs the machine nothing during the sync.
    let mut world = world;
    for zip in &corpus.zips {
        let (run_id, attempt) = archive_key(zip);
        world.record_archive(REPO, run_id, attempt, std::fs::read(zip).unwrap());
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hub = runtime.block_on(fakehub::FakeHub::serve(world)).unwrap();
    let work = tempfile::tempdir().unwrap();
    let index_dir = work.path().join("index");
    let logidx = |args: &[&str]| {
        let mut command = logidx_bin::logidx(&hub, &index_dir);
        command.args(args);
        command
    };
    let sync_args = ["sync", REPO, "--since", "2026-01-01", "--json"];
    let (summary, wall, peak_rss) = timed(logidx(&sync_args));
    let summary: serde_json::Value = serde_json::from_slice(&summary).unwrap();
    let attempts = summary["attempts_indexed"].as_u64().unwrap();
    let stats = hub.stats();
    report.sync(
        &summary,
        wall,
        peak_rss,
        &stats,
        raw_tantivy,
        line_bytes,
        corpus.text_bytes,
    );

    // Re-sync of the unchanged window.
    let (_, rewall, _) = timed(logidx(&sync_args));
    let after = hub.stats();
    report.row(
        "re-sync, unchanged window",
        format!(
            "{:.2} s, {} API requests ({} answered 304), {} downloads",
            rewall.as_secs_f64(),
            after.api_requests() - stats.api_requests(),
            after.count_status("list_runs", 304) - stats.count_status("list_runs", 304),
            after.count("blob") - stats.count("blob"),
        ),
    );

    // Sizes.
    let index_size = dir_size(&index_dir);
    report.row(
        "index size",
        format!(
            "{} = {:.3}× the text, {:.2}× the zips; raw per-line tantivy {} = {:.3}× ({attempts} attempts)",
            mib(index_size),
            index_size as f64 / corpus.text_bytes as f64,
            index_size as f64 / corpus.zip_bytes as f64,
            mib(raw_size),
            raw_size as f64 / corpus.text_bytes as f64,
        ),
    );

    // Searches: in-process, per process, rg over the text, unzip | rg over the archives.
    let index = Index::open(&index_dir).unwrap();
    let text_dir = corpus.dir.join("text");
    let zip_dir = corpus.dir.join("zips");
    for (name, query, rg_args) in SEARCHES {
        let parsed = Query::parse(query).unwrap().limit(20);
        let hits = index.search(&parsed).unwrap().len();
        let total = index
            .count(&parsed, logidx::GroupBy::Nothing)
            .unwrap()
            .total;
        let in_process = percentiles(30, || {
            index.search(&parsed).unwrap();
        });
        let counting = percentiles(5, || {
            index.count(&parsed, logidx::GroupBy::Nothing).unwrap();
        });
        let process = percentiles(10, || {
            let mut command = logidx(&["search", query, "--json", "-n", "20"]);
            command.stdout(Stdio::null()).status().unwrap();
        });
        let (_, _, process_rss) = timed(logidx(&["search", query, "--json", "-n", "20"]));
        let rg = percentiles(5, || {
            let mut command = Command::new("rg");
            command.args(rg_args).arg(&text_dir).stdout(Stdio::null());
            command
                .status()
                .expect("rg is installed (benches/compare.sh installs it)");
        });
        let unzip_rg = percentiles(2, || {
            let pattern = rg_args.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>();
            let script = format!(
                "for z in '{}'/*.zip; do unzip -p \"$z\"; done | rg {} > /dev/null",
                zip_dir.display(),
                pattern.join(" ")
            );
            Command::new("sh").args(["-c", &script]).status().unwrap();
        });
        report.search(Searched {
            name,
            query,
            hits,
            total,
            in_process,
            counting: counting.0,
            process: process.0,
            process_rss,
            rg: rg.0,
            unzip_rg: unzip_rg.0,
        });
    }
    // Failure intelligence: every error signature of the whole corpus.
    let everything = Query::default();
    let groups = index.errors(&everything).unwrap().len();
    let in_process = percentiles(10, || {
        index.errors(&everything).unwrap();
    });
    let process = percentiles(5, || {
        let mut command = logidx(&["errors", "--since", "2026-01-01", "--json", "-n", "100"]);
        command.stdout(Stdio::null()).status().unwrap();
    });
    report.row(
        "errors: every signature of the corpus",
        format!(
            "{groups} signatures; in-process p50 {} p95 {}; `logidx errors --json` {}",
            ms(in_process.0),
            ms(in_process.1),
            ms(process.0)
        ),
    );
    report.print(&corpus.dir.join("results.md"));
    runtime.block_on(hub.shutdown());
}

/// Writes every completed attempt's archive and every archived job's whole-job log (what `rg`
/// searches) once; later runs reuse them.
fn cached_corpus(world: &fakehub::World, size: &str) -> Corpus {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-corpus")
        .join(size);
    let done = dir.join("complete");
    if !done.exists() {
        eprintln!("writing the {size} corpus to {}", dir.display());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("zips")).unwrap();
        std::fs::create_dir_all(dir.join("text")).unwrap();
        let repo = world.repo(REPO).unwrap();
        for run in &repo.runs {
            for attempt in run
                .attempts
                .iter()
                .filter(|a| a.status == fakehub::Status::Completed)
            {
                let zip = world.archive(REPO, run.id, attempt.number).unwrap();
                let name = format!("{}-{}", run.id, attempt.number);
                std::fs::write(dir.join("zips").join(format!("{name}.zip")), zip).unwrap();
                for job in attempt.archived_jobs() {
                    let text = world.job_text(REPO, job.id).unwrap();
                    let path = dir.join("text").join(format!("{name}-{}.txt", job.id));
                    std::fs::write(path, text).unwrap();
                }
            }
        }
        let summary = world.corpus_summary();
        std::fs::write(
            &done,
            format!("{} {}", summary.lines, summary.distinct_ratio()),
        )
        .unwrap();
    }
    let (lines, distinct) = {
        let saved = std::fs::read_to_string(&done).unwrap();
        let (lines, distinct) = saved.split_once(' ').unwrap();
        (lines.parse().unwrap(), distinct.parse().unwrap())
    };
    let mut zips: Vec<PathBuf> = std::fs::read_dir(dir.join("zips"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    zips.sort();
    Corpus {
        text_bytes: dir_size(&dir.join("text")),
        zip_bytes: dir_size(&dir.join("zips")),
        zips,
        dir,
        lines,
        distinct,
    }
}

/// Every line the sync indexes, as (ordinal, timestamp, text), extracted from the cached zips.
fn extracted_lines(world: &fakehub::World, corpus: &Corpus) -> Vec<(u64, i64, String)> {
    let repo = world.repo(REPO).unwrap();
    let extractor = Extractor::new();
    let mut lines = Vec::new();
    for zip in &corpus.zips {
        let (run_id, attempt) = archive_key(zip);
        let run = repo.run(run_id).unwrap();
        let jobs: Vec<JobInfo> = run
            .attempt(attempt)
            .unwrap()
            .jobs
            .iter()
            .map(|job| JobInfo {
                id: job.id,
                name: job.name.clone(),
                steps: job
                    .steps
                    .iter()
                    .map(|s| StepInfo {
                        number: s.number,
                        name: s.name.clone(),
                        started_at: s
                            .started_at
                            .map(|t| jiff::Timestamp::from_second(t).unwrap()),
                        completed_at: s
                            .completed_at
                            .map(|t| jiff::Timestamp::from_second(t).unwrap()),
                        conclusion: s.conclusion.map(|c| c.as_str().to_owned()),
                    })
                    .collect(),
            })
            .collect();
        let bytes = std::fs::read(zip).unwrap();
        let log = extractor
            .extract_bytes(ArchiveId { run_id, attempt }, &jobs, &bytes)
            .unwrap();
        for line in log.lines() {
            let n = lines.len() as u64;
            lines.push((
                n,
                line.timestamp.map_or(0, |t| t.as_nanosecond() as i64),
                line.text.to_owned(),
            ));
        }
    }
    lines
}

/// The run and attempt a cached zip (`RUN-ATTEMPT.zip`) holds.
fn archive_key(zip: &Path) -> (u64, u32) {
    let name = zip.file_stem().unwrap().to_str().unwrap();
    let (run_id, attempt) = name.split_once('-').unwrap();
    (run_id.parse().unwrap(), attempt.parse().unwrap())
}

/// One search's figures, for its row of the table.
struct Searched<'a> {
    name: &'a str,
    query: &'a str,
    hits: usize,
    total: u64,
    /// p50 and p95 of the search in this process.
    in_process: (Duration, Duration),
    /// p50 of counting every matching line in this process (`logidx search --count`).
    counting: Duration,
    /// p50 of a whole `logidx search` process.
    process: Duration,
    /// Peak RSS of one such process, in KiB.
    process_rss: Option<u64>,
    rg: Duration,
    unzip_rg: Duration,
}

/// p50 and p95 of `runs` timed calls (after one warm-up).
fn percentiles(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                dir_size(&entry.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The results as a markdown table, printed and saved beside the corpus.
struct Report {
    rows: Vec<(String, String)>,
    header: String,
}

impl Report {
    fn new(size: &str, corpus: &Corpus) -> Report {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        Report {
            rows: Vec::new(),
            header: format!(
                "corpus `{size}`: {} of log text in {} lines ({:.1}% distinct), {} of zips ({} archives); {cores} cores",
                mib(corpus.text_bytes),
                corpus.lines,
                corpus.distinct * 100.0,
                mib(corpus.zip_bytes),
                corpus.zips.len(),
            ),
        }
    }

    fn row(&mut self, what: &str, figure: String) {
        eprintln!("{what}: {figure}");
        self.rows.push((what.to_owned(), figure));
    }

    fn rate(&mut self, what: &str, bytes: u64, took: Duration) {
        let rate = bytes as f64 / took.as_secs_f64() / f64::from(1 << 20);
        self.row(
            what,
            format!(
                "{rate:.1} MiB/s ({} in {:.2} s)",
                mib(bytes),
                took.as_secs_f64()
            ),
        );
    }

    #[allow(clippy::too_many_arguments, reason = "one row of the table")]
    fn sync(
        &mut self,
        summary: &serde_json::Value,
        wall: Duration,
        peak_rss: Option<u64>,
        stats: &fakehub::Stats,
        raw_tantivy: Duration,
        line_bytes: u64,
        text_bytes: u64,
    ) {
        let lines = summary["lines"].as_u64().unwrap();
        let attempts = summary["attempts_indexed"].as_u64().unwrap().max(1);
        let seconds = wall.as_secs_f64();
        let per_second = |bytes: u64| bytes as f64 / seconds / f64::from(1 << 20);
        self.row(
            "sync end to end (fakehub on loopback, same machine)",
            format!(
                "{:.1} MiB/s of log text ({:.1} MiB/s of indexed line text), {:.0} lines/s, {seconds:.2} s, peak RSS {}, {:.2} API requests per attempt; {:.2}× raw per-line tantivy on the same lines",
                per_second(text_bytes),
                per_second(line_bytes),
                lines as f64 / seconds,
                peak_rss.map_or("n/a".to_owned(), |kib| mib(kib * 1024)),
                stats.api_requests() as f64 / attempts as f64,
                raw_tantivy.as_secs_f64() / seconds,
            ),
        );
    }

    fn search(&mut self, s: Searched) {
        self.row(
            &format!("search: {} `{}`", s.name, s.query),
            format!(
                "{} shown of {}; in-process p50 {} p95 {}; counting them all {}; `logidx search --json` {} (peak RSS {}); rg {} ({:.0}×); unzip -p + rg {} ({:.0}×)",
                s.hits,
                s.total,
                ms(s.in_process.0),
                ms(s.in_process.1),
                ms(s.counting),
                ms(s.process),
                s.process_rss.map_or("n/a".to_owned(), |kib| mib(kib * 1024)),
                ms(s.rg),
                s.rg.as_secs_f64() / s.process.as_secs_f64(),
                ms(s.unzip_rg),
                s.unzip_rg.as_secs_f64() / s.process.as_secs_f64(),
            ),
        );
    }

    fn print(&self, path: &Path) {
        let mut table = format!("{}\n\n| measure | result |\n|---|---|\n", self.header);
        for (what, figure) in &self.rows {
            table.push_str(&format!("| {what} | {figure} |\n"));
        }
        println!("\n{table}");
        std::fs::write(path, table).unwrap();
    }
}
