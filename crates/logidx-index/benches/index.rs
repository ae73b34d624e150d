//! Indexing throughput against raw tantivy with one document per line, on the same lines in
//! the same run, and query latencies, on fakehub's generated corpus.
//!
//! Size: `LOGIDX_BENCH_RUNS` runs (default 20) of `LOGIDX_BENCH_LINES` lines per job (default
//! 200). Corpus and index sizes are printed to stderr, in line text (what is indexed) and in log
//! text (as GitHub serves it, timestamps included). `LOGIDX_BENCH_DISTINCT=1` makes every
//! line distinct (a number appended to each, which the log text does not count), the worst
//! case for deduplication. Before criterion's groups, rounds that alternate the two designs
//! print their median ratio (`LOGIDX_BENCH_ROUNDS`, default 5; 0 skips them).
//!
//! Each timed build ends at its commit. Both designs leave merges running in the background
//! when their writer is dropped (raw tantivy's last one at 1 GB, 8 s of CPU), so every build
//! waits, untimed, for the process to go quiet before the next one starts.

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use logidx_index::{GroupBy, Index, Query, WriterOptions};

use logidx_test_support::{Corpus, PerLine};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The corpus and its size as log text, the bytes GitHub serves (each job's whole log, with
/// its timestamps, ANSI codes and line ends), which is what BENCHMARKS.md's MB/s and the pipeline
/// bench's "log text" count. The lines indexed are that text without timestamps and codes.
fn load_corpus() -> (Corpus, usize) {
    let runs = env_usize("LOGIDX_BENCH_RUNS", 20);
    let lines_per_job = env_usize("LOGIDX_BENCH_LINES", 200);
    let started = Instant::now();
    let mut corpus = Corpus::fakehub(runs, lines_per_job);
    let log_bytes = served_log_bytes(runs, lines_per_job);
    if env_usize("LOGIDX_BENCH_DISTINCT", 0) == 1 {
        // The worst case: no line repeats another, so nothing is saved by deduplication.
        let mut number = 0u64;
        for (_, steps) in &mut corpus.attempts {
            for line in steps.iter_mut().flat_map(|step| &mut step.lines) {
                number += 1;
                line.text.push_str(&format!(" #{number}"));
            }
        }
    }
    let lines = corpus.lines().count();
    let distinct = corpus
        .lines()
        .map(|(_, _, _, line)| line.text.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    eprintln!(
        "corpus: {runs} runs, {} attempts, {lines} lines, {:.1} MB of line text ({:.1} MB of log \
         text as served), {:.2}% distinct (generated in {:.1?})",
        corpus.attempts.len(),
        text_bytes(&corpus) as f64 / 1e6,
        log_bytes as f64 / 1e6,
        distinct as f64 * 100.0 / lines.max(1) as f64,
        started.elapsed()
    );
    (corpus, log_bytes)
}

/// The bytes of the whole-job logs of the jobs [`Corpus::fakehub`] takes (those of completed
/// attempts), as fakehub serves them. A whole-job log also holds a few lines before the first
/// step that no step file has (and the corpus lacks).
fn served_log_bytes(runs: usize, lines_per_job: usize) -> usize {
    let world = Corpus::fakehub_world(runs, lines_per_job);
    let repo = &world.repos()[0];
    Corpus::completed_attempts(repo)
        .flat_map(|(_, attempt)| attempt.archived_jobs())
        .map(|job| world.job_text(&repo.full_name(), job.id).unwrap().len())
        .sum()
}

fn text_bytes(corpus: &Corpus) -> usize {
    corpus
        .lines()
        .map(|(_, _, _, line)| line.text.len() + 1)
        .sum()
}

fn build_dedup(corpus: &Corpus, dir: &Path) -> Index {
    let index = Index::open(dir).unwrap();
    let mut writer = index
        .writer_with(WriterOptions::default().threads(2))
        .unwrap();
    for (attempt, steps) in &corpus.attempts {
        writer.add_attempt(attempt, steps).unwrap();
    }
    writer.commit().unwrap();
    drop(writer);
    index
}

fn build_per_line(corpus: &Corpus, dir: &Path) -> PerLine {
    PerLine::build(
        Some(dir),
        corpus.lines().enumerate().map(|(n, (_, _, _, line))| {
            // In nanoseconds, as tantivy's per-line baseline keeps time: no i128 per line.
            let at = line.timestamp;
            let nanos = at.as_second() * 1_000_000_000 + i64::from(at.subsec_nanosecond());
            (n as u64, nanos, line.text.as_str())
        }),
        2,
    )
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

/// The CPU time this process has used, from `/proc` (Linux; elsewhere none).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command's closing parenthesis; utime and stime are 12th and 13th.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    // Linux reports in USER_HZ: 100 on x86_64 and aarch64.
    Some(Duration::from_millis(ticks * 10))
}

/// Waits until the merges a dropped writer left behind are done (the process uses under a
/// tenth of a core for three tenths of a second in a row), at most a minute: else they would
/// run during the next build, and slow it by up to a core.
fn settle() {
    let Some(mut before) = cpu_time() else {
        return;
    };
    let started = Instant::now();
    let mut quiet = 0;
    while quiet < 3 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
        let Some(now) = cpu_time() else { return };
        quiet = if now.saturating_sub(before) <= Duration::from_millis(10) {
            quiet + 1
        } else {
            0
        };
        before = now;
    }
}

/// Times a build, then settles.
fn timed(build: impl FnOnce(&Path)) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    build(dir.path());
    let elapsed = started.elapsed();
    settle();
    elapsed
}

/// This VM's speed drifts by a quarter from one minute to the next, and criterion measures all
/// of one design before the other. Rounds that alternate the two see the same drift, so the
/// median of their ratios holds still.
fn paired_rounds(corpus: &Corpus, bytes: usize, log_bytes: usize) {
    let rounds = env_usize("LOGIDX_BENCH_ROUNDS", 5);
    if rounds == 0 {
        return;
    }
    let (mut dedup, mut per_line, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let ours = timed(|dir| drop(build_dedup(corpus, dir))).as_secs_f64();
        let theirs = timed(|dir| drop(build_per_line(corpus, dir))).as_secs_f64();
        dedup.push(ours);
        per_line.push(theirs);
        ratios.push(theirs / ours);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let low = ratios.iter().copied().fold(f64::MAX, f64::min);
    let high = ratios.iter().copied().fold(0.0, f64::max);
    let mib = bytes as f64 / (1 << 20) as f64;
    let dedup_median = median(&mut dedup);
    eprintln!(
        "paired, {rounds} rounds: deduplicated {:.0} ms ({:.1} MiB/s of line text, {:.1} MB/s of \
         log text), one doc per line {:.0} ms, deduplicated {:.2}× faster (median of rounds; \
         {:.2}–{:.2}×)",
        1e3 * dedup_median,
        mib / dedup_median,
        log_bytes as f64 / 1e6 / dedup_median,
        1e3 * median(&mut per_line),
        median(&mut ratios),
        low,
        high,
    );
}

fn benches(c: &mut Criterion) {
    let (corpus, log_bytes) = load_corpus();
    let bytes = text_bytes(&corpus);
    paired_rounds(&corpus, bytes, log_bytes);

    let mut group = c.benchmark_group("indexing");
    group
        .sample_size(10)
        .throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("deduplicated", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| timed(|dir| drop(build_dedup(&corpus, dir))))
                .sum()
        })
    });
    group.bench_function("one_doc_per_line", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| timed(|dir| drop(build_per_line(&corpus, dir))))
                .sum()
        })
    });
    group.finish();

    let dir = tempfile::tempdir().unwrap();
    let index = build_dedup(&corpus, dir.path());
    let baseline = tempfile::tempdir().unwrap();
    build_per_line(&corpus, baseline.path());
    eprintln!(
        "size on disk: deduplicated {:.3}× the line text ({:.3}× the log text), one doc per \
         line {:.3}× the line text (text not stored)",
        dir_size(dir.path()) as f64 / bytes as f64,
        dir_size(dir.path()) as f64 / log_bytes as f64,
        dir_size(baseline.path()) as f64 / bytes as f64,
    );

    let job = corpus.attempts.last().unwrap().1[0].meta.job_id;
    let mut group = c.benchmark_group("query");
    let panicked = Query::parse("\"panicked at\"").unwrap();
    group.bench_function("panicked_at_top20_newest", |b| {
        b.iter(|| index.search(&panicked).unwrap())
    });
    let in_job = Query::parse(&format!("\"panicked at\" job:{job}")).unwrap();
    group.bench_function("panicked_at_in_job", |b| {
        b.iter(|| index.search(&in_job).unwrap())
    });
    let common = Query::parse("test").unwrap();
    group.bench_function("common_word_top20", |b| {
        b.iter(|| index.search(&common).unwrap())
    });
    group.bench_function("common_word_count", |b| {
        b.iter(|| index.count(&common, GroupBy::Nothing).unwrap())
    });
    group.bench_function("open", |b| b.iter(|| Index::open(dir.path()).unwrap()));
    group.finish();
}

criterion_group!(index_benches, benches);
criterion_main!(index_benches);
