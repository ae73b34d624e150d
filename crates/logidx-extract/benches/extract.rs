//! Archive → `LogLine`s throughput on 1 and 2 threads, next to raw inflate of the same entries.
//!
//! The corpus is fakehub's at a fixed seed, in its realistic mix of layouts, generated until it
//! holds `LOGIDX_BENCH_MB` MB of log text (default 16; use 200 or more for real figures):
//! `LOGIDX_BENCH_MB=256 cargo bench -p logidx-extract`. Raw inflate is measured two ways:
//! through `zip`'s reader, and as extraction inflates (see [`Inflate`]). Before criterion's
//! groups, rounds that take turns over batches print the median ratios
//! (`LOGIDX_BENCH_ROUNDS`, default 7; 0 skips them).

use std::collections::HashSet;
use std::hint::black_box;
use std::io::{Cursor, Read};
use std::ops::Range;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use logidx_extract::{Archive, ArchiveId, Extractor, JobInfo, Source, StepInfo};
use rayon::prelude::*;

struct Corpus {
    archives: Vec<Archive>,
    /// Per archive, the indices of the entries extraction reads whole.
    read_entries: Vec<Vec<usize>>,
    text_bytes: u64,
}

fn corpus() -> Corpus {
    let megabytes: u64 = std::env::var("LOGIDX_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let target = megabytes * 1_000_000;
    let world = fakehub::World::generate(fakehub::Config {
        runs: (megabytes as usize * 2).max(10),
        lines_per_job: 2_000,
        seed: 11,
        end: Some(jiff::Timestamp::from_second(1_790_000_000).expect("valid")),
        in_progress: 0,
        ..Default::default()
    })
    .expect("valid config");
    let repo = &world.repos()[0];
    let mut corpus = Corpus {
        archives: Vec::new(),
        read_entries: Vec::new(),
        text_bytes: 0,
    };
    'runs: for run in &repo.runs {
        for attempt in &run.attempts {
            let Some(bytes) = world.archive(&repo.full_name(), run.id, attempt.number) else {
                continue;
            };
            let (entries, size) = entries_read(&bytes);
            corpus.text_bytes += size;
            corpus.read_entries.push(entries);
            corpus.archives.push(Archive {
                id: ArchiveId {
                    run_id: run.id,
                    attempt: attempt.number,
                },
                jobs: attempt.jobs.iter().map(job_info).collect(),
                source: Source::Bytes(Arc::from(bytes)),
            });
            if corpus.text_bytes >= target {
                break 'runs;
            }
        }
    }
    corpus
}

fn job_info(job: &fakehub::Job) -> JobInfo {
    let second = |s: i64| jiff::Timestamp::from_second(s).ok();
    JobInfo {
        id: job.id,
        name: job.name.clone(),
        steps: job
            .steps
            .iter()
            .map(|s| StepInfo {
                number: s.number,
                name: s.name.clone(),
                started_at: s.started_at.and_then(second),
                completed_at: s.completed_at.and_then(second),
                conclusion: s.conclusion.map(|c| c.as_str().to_owned()),
            })
            .collect(),
    }
}

/// The entries extraction inflates whole: step files where a job has them, else the whole-job
/// file; `system.txt`. Returns their indices and inflated size.
fn entries_read(bytes: &[u8]) -> (Vec<usize>, u64) {
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let names: Vec<String> = (0..zip.len())
        .map(|i| {
            zip.name_for_index(i)
                .expect("index")
                .expect("name")
                .into_owned()
        })
        .collect();
    let step_dirs: HashSet<&str> = names
        .iter()
        .filter_map(|n| n.split_once('/'))
        .filter(|(_, file)| !file.is_empty() && *file != "system.txt")
        .map(|(dir, _)| dir)
        .collect();
    let mut entries = Vec::new();
    let mut size = 0;
    let metadata = zip.metadata();
    for (index, name) in names.iter().enumerate() {
        let whole_job_of = name
            .strip_suffix(".txt")
            .filter(|n| !n.contains('/'))
            .and_then(|n| n.split_once('_'))
            .map(|(_, job)| job);
        let skip = name.ends_with('/') || whole_job_of.is_some_and(|job| step_dirs.contains(job));
        if !skip {
            entries.push(index);
            size += metadata.entry(index).expect("entry").size();
        }
    }
    (entries, size)
}

/// How raw inflate reads an entry.
#[derive(Debug, Clone, Copy)]
enum Inflate {
    /// Through `zip`'s reader, as a user of the crate would.
    ZipReader,
    /// As extraction does: one decompressor reused for every entry, fed the entry's bytes
    /// straight from the archive, with the CRC checked.
    Direct,
}

fn inflate(how: Inflate, archive: &Archive, entries: &[usize], buffer: &mut Vec<u8>) -> usize {
    let Source::Bytes(bytes) = &archive.source else {
        unreachable!("the corpus is in memory")
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(&bytes[..])).expect("a zip");
    let mut decompress = flate2::Decompress::new(false);
    let mut total = 0;
    for &index in entries {
        buffer.clear();
        match how {
            Inflate::ZipReader => {
                let mut file = zip.by_index(index).expect("entry");
                file.read_to_end(buffer).expect("inflates");
            }
            Inflate::Direct => {
                let file = zip.by_index_raw(index).expect("entry");
                let start = file.data_start().expect("a local header") as usize;
                let input = &bytes[start..start + file.compressed_size() as usize];
                buffer.reserve(file.size() as usize + 1);
                decompress.reset(false);
                let status = decompress
                    .decompress_vec(input, buffer, flate2::FlushDecompress::Finish)
                    .expect("inflates");
                assert_eq!(status, flate2::Status::StreamEnd);
                assert_eq!(crc32fast::hash(buffer), file.crc32());
            }
        }
        total += buffer.len();
    }
    total
}

/// Inflates every entry extraction reads of `archives`, on `pool`'s threads; returns the bytes
/// inflated.
fn inflate_all(
    how: Inflate,
    pool: &rayon::ThreadPool,
    corpus: &Corpus,
    archives: Range<usize>,
) -> usize {
    pool.install(|| {
        corpus.archives[archives.clone()]
            .par_iter()
            .zip(&corpus.read_entries[archives])
            .map_init(Vec::new, |buffer, (archive, entries)| {
                inflate(how, archive, entries, buffer)
            })
            .sum::<usize>()
    })
}

/// Extracts `archives` and reads every line's text; returns the bytes of text. The archives
/// are owned copies made beforehand, so that copying them is not timed.
fn extract_all(extractor: &Extractor, archives: Vec<Archive>) -> usize {
    let mut text_bytes = 0;
    extractor.extract_all(archives, 4, |log| {
        let log = log.expect("extracts");
        text_bytes += log.lines().map(|l| black_box(l.text).len()).sum::<usize>();
    });
    text_bytes
}

/// Archives per batch of the paired rounds.
const BATCH: usize = 32;

/// This VM's speed drifts by a quarter from one minute to the next, more than the gap to the
/// goal, and criterion measures all of inflate before all of extraction. Each round instead
/// times the two inflates and extraction over batches of [`BATCH`] archives (tens of
/// milliseconds each), taking turns at going first, and compares their sums: all three see
/// the same drift. The median of the rounds' ratios is printed, with their range.
fn paired_rounds(corpus: &Corpus, threads: usize, pool: &rayon::ThreadPool, extractor: &Extractor) {
    let rounds: usize = std::env::var("LOGIDX_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    if rounds == 0 {
        return;
    }
    let mib = corpus.text_bytes as f64 / (1 << 20) as f64;
    let batches: Vec<Range<usize>> = (0..corpus.archives.len())
        .step_by(BATCH)
        .map(|start| start..(start + BATCH).min(corpus.archives.len()))
        .collect();
    // Per round: seconds of zip's reader, of the direct inflate, of extraction.
    let mut seconds: Vec<[f64; 3]> = Vec::new();
    for _ in 0..rounds {
        let mut round = [0.0; 3];
        for (i, batch) in batches.iter().enumerate() {
            for turn in 0..3 {
                let which = (i + turn) % 3;
                let archives = corpus.archives[batch.clone()].to_vec();
                let start = std::time::Instant::now();
                match which {
                    0 => black_box(inflate_all(Inflate::ZipReader, pool, corpus, batch.clone())),
                    1 => black_box(inflate_all(Inflate::Direct, pool, corpus, batch.clone())),
                    _ => black_box(extract_all(extractor, archives)),
                };
                round[which] += start.elapsed().as_secs_f64();
            }
        }
        seconds.push(round);
    }
    // The median of the rounds, and their lowest and highest.
    let spread = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let speed = |which: usize| spread(seconds.iter().map(|r| mib / r[which]).collect()).0;
    let ratio = |which: usize| spread(seconds.iter().map(|r| r[which] / r[2]).collect());
    let (reader, reader_low, reader_high) = ratio(0);
    let (direct, direct_low, direct_high) = ratio(1);
    eprintln!(
        "paired, {threads} thread(s), {rounds} rounds: inflate through zip's reader {:.0} MiB/s, \
         direct inflate {:.0} MiB/s, extract {:.0} MiB/s; extract at {:.0}% of zip's reader \
         ({:.0}–{:.0}%), {:.0}% of the direct inflate ({:.0}–{:.0}%) (medians of rounds; ranges)",
        speed(0),
        speed(1),
        speed(2),
        100.0 * reader,
        100.0 * reader_low,
        100.0 * reader_high,
        100.0 * direct,
        100.0 * direct_low,
        100.0 * direct_high,
    );
}

fn bench(c: &mut Criterion) {
    let corpus = corpus();
    eprintln!(
        "corpus: {} archives, {:.1} MB of log text",
        corpus.archives.len(),
        corpus.text_bytes as f64 / 1e6
    );
    let mut group = c.benchmark_group("extract");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(corpus.text_bytes));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a pool");
        let extractor = Extractor::new().with_threads(threads).expect("a pool");
        paired_rounds(&corpus, threads, &pool, &extractor);
        group.bench_function(format!("inflate/{threads}"), |b| {
            b.iter(|| inflate_all(Inflate::ZipReader, &pool, &corpus, 0..corpus.archives.len()))
        });
        group.bench_function(format!("inflate_direct/{threads}"), |b| {
            b.iter(|| inflate_all(Inflate::Direct, &pool, &corpus, 0..corpus.archives.len()))
        });
        group.bench_function(format!("lines/{threads}"), |b| {
            b.iter_batched(
                || corpus.archives.clone(),
                |archives| extract_all(&extractor, archives),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
