//! Log text: what each job writes, step by step, generated lazily from the job's seed.
//!
//! Repetition is what real CI logs have and what logidx's index exploits, so the generator
//! models it: each line comes from a template whose variable parts are either *stable* (the
//! same in every run: crate versions, test names) or *volatile* (durations, temp paths, ids).
//! [`Config::distinct`](crate::Config::distinct) sets how often they take fresh values.

use crate::bulk::{self, BulkKind, BulkLog};
use crate::generate::failure_mode;
use crate::model::{Ecosystem, Job, JobSpec, Repo, Run, Script, StepKind};
use crate::rng::{Rng, hash_bytes, mix};
use crate::time::{TICKS_PER_SEC, Ticks};

/// One line as the runner wrote it, before the timestamp prefix and line end are added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When it was written (100 ns ticks since the epoch).
    pub ticks: Ticks,
    /// The message: ANSI codes included, possibly invalid UTF-8, no line end.
    pub text: Vec<u8>,
    /// Written without a timestamp (a continuation of the previous line).
    pub continuation: bool,
    /// A UTF-8 BOM precedes it (the runner rolled to a new page here).
    pub bom: bool,
}

impl LogLine {
    /// The text as a reader sees it: ANSI codes removed, invalid UTF-8 replaced. This is what
    /// a log indexer should store for the line.
    pub fn plain_text(&self) -> String {
        String::from_utf8_lossy(&strip_ansi(&self.text)).into_owned()
    }
}

/// Removes ANSI CSI sequences (`ESC [ … final`), the form GitHub logs use.
pub(crate) fn strip_ansi(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == 0x1b && text.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < text.len() && !(0x40..=0x7e).contains(&text[i]) {
                i += 1;
            }
            i += 1;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

/// The lines of one step, as its per-step file holds them.
#[derive(Debug, Clone)]
pub struct StepLog {
    /// The step's `number`.
    pub number: u32,
    /// The step's name.
    pub name: String,
    /// Its lines.
    pub lines: Vec<LogLine>,
}

/// Everything one job wrote.
#[derive(Debug, Clone)]
pub struct JobLog {
    /// Lines that only the whole-job file has, before the first step ("Requested labels: …").
    pub preamble: Vec<LogLine>,
    /// The steps that wrote a log, in order.
    pub steps: Vec<StepLog>,
}

/// Where a line of the whole-job file belongs: the ground truth for step attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineOrigin {
    /// The step's `number`, or `None` for the preamble, which no step file holds.
    pub step: Option<u32>,
    /// 1-based line number within that step's file (within the preamble for `None`).
    pub line: u32,
}

impl JobLog {
    /// Every line of the whole-job file in order, each with its origin and with the timestamp
    /// offset the separately written copy has.
    pub fn job_file_lines(&self) -> Vec<(LineOrigin, LogLine)> {
        let mut out = Vec::with_capacity(self.line_count());
        for (i, line) in self.preamble.iter().enumerate() {
            out.push((
                LineOrigin {
                    step: None,
                    line: i as u32 + 1,
                },
                line.clone(),
            ));
        }
        for step in &self.steps {
            for (i, line) in step.lines.iter().enumerate() {
                let mut copy = line.clone();
                copy.ticks = job_copy_ticks(line.ticks, step.number);
                out.push((
                    LineOrigin {
                        step: Some(step.number),
                        line: i as u32 + 1,
                    },
                    copy,
                ));
            }
        }
        out
    }

    /// Lines in the whole-job file.
    pub fn line_count(&self) -> usize {
        self.preamble.len() + self.steps.iter().map(|s| s.lines.len()).sum::<usize>()
    }
}

/// When the whole-job file's copy of a line of step `step` written at `ticks` was written: the
/// job file is written separately, so its stamps differ by microseconds.
pub(crate) fn job_copy_ticks(ticks: Ticks, step: u32) -> Ticks {
    ticks + (mix(ticks as u64 ^ u64::from(step)) % 900) as i64 + 5
}

/// Where a job's log holds a [`BulkLog`]: what [`job_log`] gives has the bulk log's first line
/// (a huge line, a repeated line's first copy) but not the lines [`stream_bulk`] makes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Splice {
    /// Index into [`JobLog::steps`].
    pub(crate) step: usize,
    /// Index into that step's lines of the first bulk line.
    pub(crate) first: usize,
    /// Index into that step's lines where the streamed lines go.
    pub(crate) at: usize,
    /// The tick of the line the streamed lines follow.
    pub(crate) start_tick: Ticks,
}

/// Generates the log of `job` of `run`, with `bulk` when it is planted in this job; the
/// [`Splice`] says where its streamed lines go.
pub(crate) fn job_log(
    repo: &Repo,
    run: &Run,
    job: &Job,
    lines_per_job: usize,
    distinct: f64,
    bulk: Option<&BulkLog>,
) -> (JobLog, Option<Splice>) {
    let bulk = bulk.filter(|b| b.job_id == job.id);
    let mut splice = None;
    let workflow = &repo.workflows[run.workflow];
    let spec = &workflow.jobs[job.spec];
    let mut rng = Rng::new(job.log_seed);
    let budget = (lines_per_job as f64 * (0.5 + rng.below(1000) as f64 / 1000.0)) as usize;
    let ctx = Ctx {
        repo,
        run,
        job,
        spec,
        budget,
    };
    let mut w = Writer::new(rng, hash_bytes(repo.full_name().as_bytes()), distinct);

    let mut steps = Vec::new();
    let mut cursor = job.started_at * TICKS_PER_SEC;
    for step in job.steps.iter().filter(|s| s.has_log) {
        let step_spec = &spec.steps[step.spec];
        w.lines.clear();
        write_step(
            &mut w,
            &ctx,
            &step_spec.kind,
            &step_spec.command,
            step.conclusion,
        );
        if crate::hostile::is_hostile(run) {
            w.lines.extend(crate::hostile::job_lines());
        }
        let mut lines = std::mem::take(&mut w.lines);
        let start = step.started_at.unwrap_or(job.started_at);
        let end = step.completed_at.unwrap_or(start);
        match bulk.filter(|b| b.step == step.number) {
            Some(b) => {
                let window = (start, end);
                let (last, at) = plant_in_step(&mut w.rng, &mut lines, b, job, window, cursor);
                cursor = last;
                splice = Some(Splice {
                    step: steps.len(),
                    ..at
                });
            }
            None => cursor = stamp(&mut w.rng, &mut lines, start, end, cursor),
        }
        steps.push(StepLog {
            number: step.number,
            name: step.name.clone(),
            lines,
        });
    }
    if job.bom {
        // The runner writes .NET UTF-8 streams: pages roll every 8 MB, each with a BOM.
        let mut n = 0;
        for line in steps.iter_mut().flat_map(|s| s.lines.iter_mut()) {
            n += 1;
            line.bom = n % 5_000 == 0;
        }
    }

    w.lines.clear();
    let labels = spec_runner(spec);
    w.text(&format!("Requested labels: {labels}"));
    w.text(&format!(
        "Job defined at: {}/{}@refs/heads/{}",
        repo.full_name(),
        workflow.path,
        run.head_branch
    ));
    w.text("Waiting for a runner to pick up this job...");
    w.line("runner-name", 0, |v| {
        format!(
            "Job is about to start running on the runner: GitHub Actions {} (hosted)",
            v.vol(1, 999)
        )
    });
    let mut preamble = std::mem::take(&mut w.lines);
    stamp(
        &mut w.rng,
        &mut preamble,
        job.started_at - 3,
        job.started_at - 1,
        0,
    );
    (JobLog { preamble, steps }, splice)
}

/// Puts `bulk`'s first line among a step's own `lines` (after the script's header group, before
/// its output) and stamps them over the step's `window` of seconds, never before `after`: a
/// huge log's streamed lines go between two of the step's own lines, and the later ones move
/// [`BulkLog::extra_secs`] on. Returns the step's last tick and where the bulk went (its `step`
/// left for the caller).
fn plant_in_step(
    rng: &mut Rng,
    lines: &mut Vec<LogLine>,
    bulk: &BulkLog,
    job: &Job,
    window: (i64, i64),
    after: Ticks,
) -> (Ticks, Splice) {
    let at = lines
        .iter()
        .position(|l| l.text == b"##[endgroup]")
        .map_or(lines.len() / 2, |i| i + 1);
    let first = |text: Vec<u8>| LogLine {
        ticks: 0,
        text,
        continuation: false,
        bom: false,
    };
    match bulk.kind {
        BulkKind::HugeLine => {
            let text = bulk::huge_line(job.log_seed, bulk.text_bytes as usize);
            lines.insert(at, first(text));
        }
        BulkKind::Repeated => lines.insert(at, first(bulk::REPEATED_TEXT.into())),
        BulkKind::HugeLog => {}
    }
    let (start, end) = window;
    let mut last = stamp(rng, lines, start, end - bulk.extra_secs, after);
    let start_tick = match bulk.kind {
        BulkKind::HugeLog => {
            let shift = bulk.extra_secs * TICKS_PER_SEC;
            for line in &mut lines[at..] {
                line.ticks += shift;
            }
            if at < lines.len() {
                last += shift;
            }
            // Past the whole-job file's copy of the line before, too (at most 905 ticks on).
            let before = at
                .checked_sub(1)
                .map_or(start * TICKS_PER_SEC, |i| lines[i].ticks);
            before + 1_000
        }
        BulkKind::Repeated | BulkKind::HugeLine => lines[at].ticks,
    };
    let splice = Splice {
        step: 0,
        first: at,
        at: at + usize::from(bulk.kind == BulkKind::Repeated),
        start_tick,
    };
    (last, splice)
}

/// Lines a huge log's step prints per round of its script's output.
const ROUND_LINES: usize = 400;

/// Bytes of a line's timestamp prefix, `2024-01-28T19:27:26.0547628Z `.
pub(crate) const PREFIX_BYTES: u64 = 29;

/// Makes the lines of `bulk` that are not among [`job_log`]'s (see [`Splice`]), a chunk at a
/// time, each chunk handed to `sink` and then dropped: the copies of a repeated line after its
/// first, or a huge log's lines, as the step's own file has them (the whole-job file's copy
/// stamps them as [`job_copy_ticks`] says). Nothing for a huge line.
pub(crate) fn stream_bulk(
    repo: &Repo,
    run: &Run,
    job: &Job,
    distinct: f64,
    bulk: &BulkLog,
    splice: &Splice,
    mut sink: impl FnMut(&[LogLine]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    match bulk.kind {
        BulkKind::HugeLine => Ok(()),
        BulkKind::Repeated => {
            let copy = LogLine {
                ticks: splice.start_tick,
                text: bulk::REPEATED_TEXT.into(),
                continuation: true,
                bom: false,
            };
            let chunk = vec![copy; 8_192];
            let mut left = bulk.lines.saturating_sub(1);
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                sink(&chunk[..n])?;
                left -= n as u64;
            }
            Ok(())
        }
        BulkKind::HugeLog => {
            let spec = &repo.workflows[run.workflow].jobs[job.spec];
            let script = job
                .steps
                .iter()
                .find(|s| s.number == bulk.step)
                .and_then(|s| match spec.steps[s.spec].kind {
                    StepKind::Script(script) => Some(script),
                    _ => None,
                })
                .unwrap_or(Script::Test);
            let salt = hash_bytes(b"huge log");
            let stable = hash_bytes(repo.full_name().as_bytes());
            let mut w = Writer::new(Rng::derive(job.log_seed, &[salt]), stable, distinct);
            let mut gaps = Rng::derive(job.log_seed, &[salt, 1]);
            let line_end = if job.crlf { 2 } else { 1 };
            let mut tick = splice.start_tick;
            let mut used = 0u64;
            for round in 0.. {
                // Each round its own seed, so that its rare lines (a state dump, binary
                // output) come and go as in the job's other runs, not in every round.
                let mut this = job.clone();
                this.log_seed = mix(job.log_seed ^ mix(round));
                this.planted = None;
                let ctx = Ctx {
                    repo,
                    run,
                    job: &this,
                    spec,
                    budget: ROUND_LINES,
                };
                w.lines.clear();
                match script {
                    Script::Install => install(&mut w, repo.ecosystem, ROUND_LINES),
                    Script::Build => build(&mut w, &ctx, ROUND_LINES),
                    Script::Test => test(&mut w, &ctx, ROUND_LINES),
                    Script::Lint => lint(&mut w, repo.ecosystem, ROUND_LINES),
                }
                let mut lines = std::mem::take(&mut w.lines);
                let mut kept = 0;
                for line in &mut lines {
                    let size = PREFIX_BYTES + line.text.len() as u64 + line_end;
                    if used + size > bulk.budget {
                        break;
                    }
                    used += size;
                    // 100–200 µs a line: a program printing as fast as the runner reads.
                    tick += 1_000 + gaps.below(1_000) as i64;
                    line.ticks = tick;
                    line.continuation = false;
                    line.bom = false;
                    kept += 1;
                }
                let full = kept < lines.len();
                lines.truncate(kept);
                sink(&lines)?;
                if full {
                    break;
                }
            }
            Ok(())
        }
    }
}

/// Counts lines as a file holds them, for [`crate::bulk::plant`]'s ground truth.
#[derive(Debug, Default)]
pub(crate) struct LineCount {
    pub(crate) lines: u64,
    pub(crate) text_bytes: u64,
    /// With timestamps, BOMs and line ends.
    pub(crate) rendered_bytes: u64,
    pub(crate) last_tick: Ticks,
}

impl LineCount {
    pub(crate) fn add(&mut self, lines: &[LogLine], crlf: bool) {
        let line_end = if crlf { 2 } else { 1 };
        for line in lines {
            self.lines += 1;
            self.text_bytes += line.text.len() as u64;
            self.rendered_bytes += line.text.len() as u64 + line_end;
            if !line.continuation {
                self.rendered_bytes += PREFIX_BYTES;
            }
            if line.bom {
                self.rendered_bytes += 3;
            }
            self.last_tick = self.last_tick.max(line.ticks);
        }
    }
}

/// The lines of the legacy "Prepare job" file (`-2147483648_<job key>.txt`).
pub(crate) fn prepare_log(run: &Run, key: &str) -> Vec<LogLine> {
    let mut w = Writer::new(Rng::derive(run.id, &[hash_bytes(key.as_bytes())]), 0, 0.0);
    w.text(&format!("##[section]Starting: Prepare job {key}"));
    for text in [
        "Evaluating strategy",
        &format!("Creating job '{key}'"),
        "Evaluating timeout",
        "Evaluating cancel timeout",
        "Evaluating continue on error",
        "Evaluating target",
    ] {
        w.text(text);
    }
    w.text(&format!("##[section]Finishing: Prepare job {key}"));
    let mut lines = std::mem::take(&mut w.lines);
    stamp(
        &mut w.rng,
        &mut lines,
        run.created_at,
        run.created_at + 1,
        0,
    );
    lines
}

/// The runner's own log in job-only archives (`<job>/system.txt`).
pub(crate) fn system_log(job: &Job) -> Vec<LogLine> {
    let mut w = Writer::new(Rng::new(job.log_seed ^ 0x5157), 0, 0.0);
    w.text(&format!("Requested labels: {}", "ubuntu-24.04"));
    w.text(&format!(
        "Job is about to start running on the runner: {} (hosted)",
        job.runner_name
    ));
    w.text(&format!("Job id: {}", job.id));
    w.text("Job completed.");
    let mut lines = std::mem::take(&mut w.lines);
    let end = job.completed_at.unwrap_or(job.started_at);
    stamp(&mut w.rng, &mut lines, job.started_at - 1, end, 0);
    lines
}

fn spec_runner(spec: &JobSpec) -> &'static str {
    if spec.name.contains("macos") {
        "macos-14"
    } else {
        "ubuntu-24.04"
    }
}

/// Spreads the lines over the step's time window `[start, end)` in whole seconds, in order,
/// never before `after` (the previous step's last line). Returns the last tick used.
fn stamp(rng: &mut Rng, lines: &mut [LogLine], start: i64, end: i64, after: Ticks) -> Ticks {
    let t0 = (start * TICKS_PER_SEC + rng.below(TICKS_PER_SEC as u64 / 50) as i64).max(after + 1);
    // A step within one second still takes a little time per line.
    let min_width = 1_000 * lines.len() as i64;
    let t1 = (end * TICKS_PER_SEC).max(t0 + min_width);
    let n = lines.len().max(1) as i64;
    let slot = (t1 - t0) / n;
    let mut last = after;
    for (i, line) in lines.iter_mut().enumerate() {
        line.ticks = t0 + slot * i as i64 + rng.below(slot.max(1) as u64) as i64;
        last = line.ticks;
    }
    last
}

struct Ctx<'a> {
    repo: &'a Repo,
    run: &'a Run,
    job: &'a Job,
    spec: &'a JobSpec,
    budget: usize,
}

/// Accumulates lines and decides, per line, whether its variable parts repeat or not.
struct Writer {
    rng: Rng,
    stable_seed: u64,
    /// Chance a volatile part (duration, temp path, id) takes a fresh value.
    p_volatile: f64,
    /// Chance a stable part (version, test name) does.
    p_stable: f64,
    /// Every line unique: plain lines get a nonce too (the knob's far end).
    all_unique: bool,
    lines: Vec<LogLine>,
}

/// Draws the variable parts of one line.
struct Vary<'a> {
    rng: &'a mut Rng,
    stable: Rng,
    fresh_volatile: bool,
    fresh_stable: bool,
    used_fresh: bool,
}

impl Vary<'_> {
    /// A volatile number: differs between runs unless `distinct` is 0.
    fn vol(&mut self, lo: u64, hi: u64) -> u64 {
        let stable = self.stable.range(lo, hi);
        if self.fresh_volatile {
            self.used_fresh = true;
            self.rng.range(lo, hi)
        } else {
            stable
        }
    }

    /// A stable number: the same in every run unless `distinct` is near 1.
    fn fix(&mut self, lo: u64, hi: u64) -> u64 {
        let stable = self.stable.range(lo, hi);
        if self.fresh_stable {
            self.used_fresh = true;
            self.rng.range(lo, hi.saturating_mul(3))
        } else {
            stable
        }
    }

    /// A volatile lowercase hex string of `n` digits.
    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.vol(0, u64::MAX - 1)));
        }
        s.truncate(n);
        s
    }

    /// A volatile duration in seconds with two decimals.
    fn secs(&mut self, lo: u64, hi: u64) -> String {
        let centis = self.vol(lo * 100, hi * 100);
        format!("{}.{:02}", centis / 100, centis % 100)
    }

    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

impl Writer {
    fn new(rng: Rng, stable_seed: u64, distinct: f64) -> Writer {
        let distinct = distinct.clamp(0.0, 1.0);
        Writer {
            rng,
            stable_seed,
            p_volatile: (distinct * 10.0).min(1.0),
            p_stable: distinct,
            all_unique: distinct >= 1.0,
            lines: Vec::new(),
        }
    }

    /// A line with variable parts; `key` and `salt` name its stable values.
    fn line(&mut self, key: &str, salt: u64, f: impl FnOnce(&mut Vary<'_>) -> String) {
        let fresh_volatile = self.rng.chance(self.p_volatile);
        let fresh_stable = self.rng.chance(self.p_stable);
        let stable = Rng::derive(self.stable_seed, &[hash_bytes(key.as_bytes()), salt]);
        let mut vary = Vary {
            rng: &mut self.rng,
            stable,
            fresh_volatile,
            fresh_stable,
            used_fresh: false,
        };
        let mut text = f(&mut vary);
        if self.all_unique && text != "##[endgroup]" {
            text.push_str(&format!(" ({:x})", self.rng.next_u64()));
        }
        self.push(text.into_bytes());
    }

    /// A line without variable parts.
    fn text(&mut self, text: &str) {
        if self.all_unique && text != "##[endgroup]" {
            let nonce = self.rng.next_u64();
            self.push(format!("{text} ({nonce:x})").into_bytes());
        } else {
            self.push(text.as_bytes().to_vec());
        }
    }

    fn push(&mut self, text: Vec<u8>) {
        self.lines.push(LogLine {
            ticks: 0,
            text,
            continuation: false,
            bom: false,
        });
    }

    fn group(&mut self, title: &str, body: &[&str]) {
        self.text(&format!("##[group]{title}"));
        for line in body {
            self.text(line);
        }
        self.text("##[endgroup]");
    }

    /// `##[group]Run <command>`, the script in cyan, `shell:`, `env:`, `##[endgroup]`.
    fn script_header(&mut self, command: &str, env: &[(&str, &str)]) {
        self.text(&format!("##[group]Run {command}"));
        self.text(&format!("\x1b[36;1m{command}\x1b[0m"));
        self.text("shell: /usr/bin/bash -e {0}");
        if !env.is_empty() {
            self.text("env:");
            for (k, v) in env {
                self.text(&format!("  {k}: {v}"));
            }
        }
        self.text("##[endgroup]");
    }
}

fn write_step(
    w: &mut Writer,
    ctx: &Ctx<'_>,
    kind: &StepKind,
    command: &str,
    conclusion: Option<crate::model::Conclusion>,
) {
    use crate::model::Conclusion;
    let failed = conclusion == Some(Conclusion::Failure);
    match kind {
        StepKind::SetUp => set_up(w, ctx),
        StepKind::Checkout => checkout(w, ctx),
        StepKind::Action(name) => action(w, ctx, name),
        StepKind::Script(script) => {
            let eco = ctx.repo.ecosystem;
            w.script_header(command, &env_of(eco));
            let planted = ctx
                .job
                .planted
                .filter(|_| failed)
                .and_then(|p| failure_mode(p.mode));
            let n = script_budget(ctx.budget, *script);
            match script {
                Script::Install => install(w, eco, n),
                Script::Build => build(w, ctx, n),
                Script::Test => test(w, ctx, n),
                Script::Lint => lint(w, eco, n),
            }
            if let Some(mode) = planted {
                failure(w, ctx, mode.id);
            }
            if conclusion == Some(Conclusion::Cancelled) {
                w.text("##[error]The operation was canceled.");
            }
        }
        StepKind::Post(name) => post(w, ctx, name),
        StepKind::Complete => complete(w),
        StepKind::Conditional => {}
    }
}

fn env_of(eco: Ecosystem) -> Vec<(&'static str, &'static str)> {
    match eco {
        Ecosystem::Rust => vec![("CARGO_TERM_COLOR", "always"), ("RUST_BACKTRACE", "1")],
        Ecosystem::Python => vec![("PYTHONUNBUFFERED", "1")],
        Ecosystem::Node => vec![("CI", "true")],
        Ecosystem::Go => vec![("GOFLAGS", "-mod=readonly")],
    }
}

fn script_budget(budget: usize, script: Script) -> usize {
    let share = match script {
        Script::Install => 0.15,
        Script::Build => 0.3,
        Script::Test => 0.45,
        Script::Lint => 0.1,
    };
    ((budget as f64 * share) as usize).max(3)
}

fn set_up(w: &mut Writer, ctx: &Ctx<'_>) {
    w.text("Current runner version: '2.321.0'");
    let image = spec_runner(ctx.spec);
    w.group("Operating System", &["Ubuntu", "24.04.1", "LTS"]);
    w.text("##[group]Runner Image");
    w.text(&format!("Image: {image}"));
    w.line("image-version", 0, |v| {
        format!("Version: 20241117.{}.0", v.fix(1, 3))
    });
    w.line("image-readme", 0, |v| {
        format!(
            "Included Software: https://github.com/actions/runner-images/blob/{image}/{}/README.md",
            v.fix(20241110, 20241117)
        )
    });
    w.text("##[endgroup]");
    w.group(
        "GITHUB_TOKEN Permissions",
        &["Contents: read", "Metadata: read", "Packages: read"],
    );
    w.text("Secret source: Actions");
    w.text("Prepare workflow directory");
    w.text("Prepare all required actions");
    w.text("Getting action download info");
    for (i, action) in ["actions/checkout@v4", "actions/cache@v4"]
        .iter()
        .enumerate()
    {
        w.line("download-action", i as u64, |v| {
            format!(
                "Download action repository '{action}' (SHA:{})",
                v_fixed_sha(v)
            )
        });
    }
    w.text(&format!("Complete job name: {}", ctx.job.name));
}

fn v_fixed_sha(v: &mut Vary<'_>) -> String {
    (0..5)
        .map(|_| format!("{:08x}", v.fix(0, u64::from(u32::MAX)) as u32))
        .collect()
}

fn checkout(w: &mut Writer, ctx: &Ctx<'_>) {
    let full = ctx.repo.full_name();
    let name = &ctx.repo.name;
    let run = ctx.run;
    w.text("##[group]Run actions/checkout@v4");
    w.text("with:");
    w.text(&format!("  repository: {full}"));
    w.text("  token: ***");
    w.text("  ssh-strict: true");
    w.text("  persist-credentials: true");
    w.text("  clean: true");
    w.text("  fetch-depth: 1");
    w.text("##[endgroup]");
    w.text(&format!("Syncing repository: {full}"));
    w.group(
        "Getting Git version info",
        &[
            &format!("Working directory is '/home/runner/work/{name}/{name}'"),
            "[command]/usr/bin/git version",
            "git version 2.47.1",
        ],
    );
    w.line("checkout-home", 0, |v| {
        format!("Temporarily overriding HOME='/home/runner/work/_temp/{}' before making global git config changes", v.uuid())
    });
    w.text("Adding repository directory to the temporary git global config as a safe directory");
    w.text(&format!(
        "[command]/usr/bin/git config --global --add safe.directory /home/runner/work/{name}/{name}"
    ));
    w.text(&format!(
        "Deleting the contents of '/home/runner/work/{name}/{name}'"
    ));
    w.group(
        "Initializing the repository",
        &[
            &format!("[command]/usr/bin/git init /home/runner/work/{name}/{name}"),
            "hint: Using 'master' as the name for the initial branch.",
        ],
    );
    w.text("##[group]Fetching the repository");
    w.text(&format!(
        "[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +{}:refs/remotes/origin/{}",
        run.head_sha, run.head_branch
    ));
    w.text(&format!(
        " * [new ref]         {} -> origin/{}",
        run.head_sha, run.head_branch
    ));
    w.text("##[endgroup]");
    w.group(
        "Checking out the ref",
        &[&format!(
            "[command]/usr/bin/git checkout --progress --force -B {0} refs/remotes/origin/{0}",
            run.head_branch
        )],
    );
    w.text("[command]/usr/bin/git log -1 --format=%H");
    w.text(&run.head_sha);
}

fn action(w: &mut Writer, ctx: &Ctx<'_>, name: &str) {
    w.text(&format!("##[group]Run {name}"));
    w.text("with:");
    let version = ctx
        .spec
        .name
        .split(", ")
        .nth(1)
        .map(|v| v.trim_end_matches(')'))
        .unwrap_or("stable");
    w.text(&format!("  version: {version}"));
    w.text("##[endgroup]");
    let n = ctx.budget / 40 + 2;
    for i in 0..n as u64 {
        w.line("action-progress", i, |v| {
            format!(
                "Attempting to download {version} ({} of {n}) from cache {}",
                i + 1,
                v.fix(100, 999)
            )
        });
    }
    w.line("action-restored", 0, |v| {
        format!("Cache restored successfully in {}s", v.secs(0, 9))
    });
    if name.contains("cache") {
        w.line("cache-key", 0, |v| {
            format!("Cache hit for: v0-{}-Linux-x64-{}", ctx.repo.name, v.hex(8))
        });
    }
}

const RUST_CRATES: &[&str] = &[
    "proc-macro2",
    "unicode-ident",
    "quote",
    "syn",
    "serde",
    "serde_derive",
    "libc",
    "memchr",
    "itoa",
    "ryu",
    "serde_json",
    "cfg-if",
    "once_cell",
    "bytes",
    "pin-project-lite",
    "tokio",
    "futures-core",
    "log",
    "tracing",
    "regex-syntax",
    "aho-corasick",
    "regex",
    "thiserror",
    "anyhow",
    "clap",
    "tempfile",
];
const PY_PACKAGES: &[&str] = &[
    "requests",
    "urllib3",
    "certifi",
    "idna",
    "charset-normalizer",
    "pytest",
    "pluggy",
    "iniconfig",
    "packaging",
    "pyyaml",
    "attrs",
    "hypothesis",
    "coverage",
    "tomli",
];
const NODE_TESTS: &[&str] = &[
    "parser", "lexer", "client", "server", "cache", "router", "config", "retry", "format", "cli",
];
const GO_PACKAGES: &[&str] = &[
    "parser",
    "server",
    "client",
    "cache",
    "config",
    "retry",
    "internal/lexer",
    "internal/store",
];

fn install(w: &mut Writer, eco: Ecosystem, n: usize) {
    match eco {
        Ecosystem::Rust => {
            for i in 0..n as u64 {
                let krate = RUST_CRATES[i as usize % RUST_CRATES.len()];
                w.line("rust-download", i, |v| {
                    format!(
                        "  Downloaded {krate} v{}.{}.{}",
                        v.fix(0, 2),
                        v.fix(0, 99),
                        v.fix(0, 30)
                    )
                });
            }
            w.line("rust-downloaded", 0, |v| {
                format!(
                    "  Downloaded {n} crates ({}.{} MB) in {}s",
                    v.vol(1, 40),
                    v.vol(0, 9),
                    v.secs(0, 9)
                )
            });
        }
        Ecosystem::Python => {
            for i in 0..n as u64 / 2 {
                let pkg = PY_PACKAGES[i as usize % PY_PACKAGES.len()];
                w.line("py-collect", i, |v| {
                    format!("Collecting {pkg}>={}.{}", v.fix(1, 9), v.fix(0, 20))
                });
                w.line("py-download", i, |v| {
                    format!(
                        "  Downloading {pkg}-{}.{}.{}-py3-none-any.whl.metadata ({} kB)",
                        v.fix(1, 9),
                        v.fix(0, 20),
                        v.fix(0, 9),
                        v.fix(2, 90)
                    )
                });
            }
            w.text(
                "Successfully installed widgets-0.1.0 requests-2.32.3 pytest-8.3.3 pluggy-1.5.0",
            );
        }
        Ecosystem::Node => {
            for i in 0..n as u64 / 2 {
                w.line("npm-warn", i, |v| format!("npm warn deprecated inflight@1.0.{}: This module is not supported, and leaks memory.", v.fix(0, 6)));
                w.line("npm-fetch", i, |v| {
                    format!(
                        "npm http fetch GET 200 https://registry.npmjs.org/pkg-{} {}ms (cache hit)",
                        v.fix(0, 400),
                        v.vol(1, 90)
                    )
                });
            }
            w.line("npm-added", 0, |v| {
                format!(
                    "added {} packages, and audited {} packages in {}s",
                    v.fix(900, 1300),
                    v.fix(1300, 1400),
                    v.vol(8, 40)
                )
            });
            w.text("found 0 vulnerabilities");
        }
        Ecosystem::Go => {
            for i in 0..n as u64 {
                w.line("go-download", i, |v| {
                    format!(
                        "go: downloading github.com/stretchr/mod{} v1.{}.{}",
                        v.fix(0, 60),
                        v.fix(0, 20),
                        v.fix(0, 9)
                    )
                });
            }
        }
    }
}

fn build(w: &mut Writer, ctx: &Ctx<'_>, n: usize) {
    let name = &ctx.repo.name;
    match ctx.repo.ecosystem {
        Ecosystem::Rust => {
            for i in 0..n.saturating_sub(3) as u64 {
                let krate = RUST_CRATES[i as usize % RUST_CRATES.len()];
                w.line("rust-compiling", i, |v| {
                    format!(
                        "\x1b[1m\x1b[92m   Compiling\x1b[0m {krate} v{}.{}.{}",
                        v.fix(0, 2),
                        v.fix(0, 99),
                        v.fix(0, 30)
                    )
                });
            }
            w.text(&format!(
                "\x1b[1m\x1b[92m   Compiling\x1b[0m {name} v0.1.0 (/home/runner/work/{name}/{name})"
            ));
            if ctx.job.id.is_multiple_of(7) {
                w.text("\x1b[1m\x1b[33mwarning\x1b[0m\x1b[1m: unused variable: `retries`\x1b[0m");
                w.line("rust-warn-loc", 0, |v| {
                    format!(
                        "  \x1b[1m\x1b[94m--> \x1b[0msrc/client.rs:{}:{}",
                        v.fix(10, 400),
                        v.fix(5, 30)
                    )
                });
            }
            w.line("rust-finished", 0, |v| {
                format!("\x1b[1m\x1b[92m    Finished\x1b[0m `test` profile [unoptimized + debuginfo] target(s) in {}m {}s", v.vol(0, 4), v.vol(0, 59))
            });
        }
        Ecosystem::Python => {
            w.text("* Creating isolated environment: venv+pip...");
            for i in 0..n as u64 {
                w.line("py-build", i, |v| {
                    format!(
                        "copying src/{name}/module_{}.py -> build/lib/{name}",
                        v.fix(0, 200)
                    )
                });
            }
            w.text(&format!(
                "Successfully built {name}-0.1.0.tar.gz and {name}-0.1.0-py3-none-any.whl"
            ));
        }
        Ecosystem::Node => {
            w.text(&format!("> {name}@1.0.0 build"));
            w.text("> tsc -p tsconfig.json && vite build");
            for i in 0..n as u64 {
                w.line("vite-chunk", i, |v| {
                    format!(
                        "dist/assets/chunk-{}.js  {}.{} kB │ gzip: {}.{} kB",
                        v.hex(8),
                        v.fix(1, 300),
                        v.fix(0, 99),
                        v.fix(1, 90),
                        v.fix(0, 99)
                    )
                });
            }
            w.line("vite-built", 0, |v| {
                format!("✓ built in {}ms", v.vol(300, 9000))
            });
        }
        Ecosystem::Go => {
            for i in 0..n as u64 {
                let pkg = GO_PACKAGES[i as usize % GO_PACKAGES.len()];
                w.line("go-build", i, |v| {
                    format!(
                        "github.com/{}/{name}/{pkg} [build {}]",
                        ctx.repo.owner,
                        v.fix(0, 3)
                    )
                });
            }
        }
    }
}

fn test(w: &mut Writer, ctx: &Ctx<'_>, n: usize) {
    let name = &ctx.repo.name;
    match ctx.repo.ecosystem {
        Ecosystem::Rust => {
            w.line("rust-running", 0, |v| format!("\x1b[1m\x1b[92m     Running\x1b[0m unittests src/lib.rs (target/debug/deps/{name}-{})", v.hex(16)));
            w.text(&format!("running {} tests", n));
            for i in 0..n as u64 {
                let module = GO_PACKAGES[i as usize % GO_PACKAGES.len()].replace("internal/", "");
                w.line("rust-test", i, |v| {
                    format!(
                        "test {module}::tests::case_{} ... \x1b[32mok\x1b[0m",
                        v.fix(0, 500)
                    )
                });
            }
            w.line("rust-result", 0, |v| {
                format!("test result: \x1b[32mok\x1b[0m. {n} passed; 0 failed; {} ignored; 0 measured; 0 filtered out; finished in {}s", v.fix(0, 3), v.secs(0, 30))
            });
        }
        Ecosystem::Python => {
            w.text(
                "============================= test session starts ==============================",
            );
            w.line("py-platform", 0, |v| {
                format!(
                    "platform linux -- Python 3.12.{}, pytest-8.3.3, pluggy-1.5.0",
                    v.fix(0, 8)
                )
            });
            w.text(&format!("rootdir: /home/runner/work/{name}/{name}"));
            w.text("configfile: pyproject.toml");
            w.text(&format!("collected {} items", n * 10));
            for i in 0..n as u64 {
                let pct = (i + 1) * 100 / n as u64;
                w.line("py-progress", i, |_| {
                    format!(
                        "tests/test_{}.py \x1b[32m..........\x1b[0m{:>40}",
                        NODE_TESTS[i as usize % NODE_TESTS.len()],
                        format!("[{pct:>3}%]")
                    )
                });
            }
            w.text(
                "============================= slowest 10 durations =============================",
            );
            w.line("py-slowest", 0, |v| {
                format!(
                    "{}s call     tests/test_client.py::test_retry_backoff",
                    v.secs(0, 9)
                )
            });
            w.line("py-passed", 0, |v| format!("\x1b[32m======================== {} passed in {}s =========================\x1b[0m", n * 10, v.secs(1, 90)));
        }
        Ecosystem::Node => {
            w.text(&format!("> {name}@1.0.0 test"));
            w.text("> jest --ci");
            for i in 0..n as u64 {
                let t = NODE_TESTS[i as usize % NODE_TESTS.len()];
                w.line("jest-pass", i, |v| {
                    format!(
                        "\x1b[42m\x1b[30m PASS \x1b[39m\x1b[49m src/{t}/case{}.test.ts ({}.{} s)",
                        v.fix(0, 40),
                        v.vol(0, 9),
                        v.vol(100, 999)
                    )
                });
            }
            w.text(&format!("Test Suites: {n} passed, {n} total"));
            w.line("jest-time", 0, |v| {
                format!("Time:        {}s", v.secs(2, 60))
            });
        }
        Ecosystem::Go => {
            for i in 0..n as u64 {
                let pkg = GO_PACKAGES[i as usize % GO_PACKAGES.len()];
                if i % 3 == 0 {
                    w.line("go-ok", i, |v| {
                        format!(
                            "ok  \tgithub.com/{}/{name}/{pkg}\t{}s",
                            ctx.repo.owner,
                            v.secs(0, 9)
                        )
                    });
                } else {
                    w.line("go-run", i, |v| {
                        format!("=== RUN   Test{}{}", pkg.replace('/', "_"), v.fix(0, 80))
                    });
                }
            }
        }
    }
    // A very long line now and then (a minified JSON dump), and bytes that are not UTF-8.
    if ctx.job.log_seed.is_multiple_of(37) {
        let body: String = (0..7_000).map(|i| format!("{{\"k\":{i}}},")).collect();
        w.push(format!("debug: state dump [{body}]").into_bytes());
        // The dump's last part arrived as a line of its own, without a timestamp.
        w.push(b"debug: end of state dump".to_vec());
        if let Some(last) = w.lines.last_mut() {
            last.continuation = true;
        }
    }
    if ctx.job.log_seed.is_multiple_of(23) {
        // C1 controls (CSI U+009B, NEL U+0085) and DEL are valid UTF-8 and stay in the text.
        w.push(b"binary output: \xff\xfe\x00garbage \xc3\x28 \xc2\x9b2K\xc2\x85 \x7f end".to_vec());
    }
}

fn lint(w: &mut Writer, eco: Ecosystem, n: usize) {
    for i in 0..n as u64 {
        match eco {
            Ecosystem::Rust => w.line("clippy-check", i, |v| {
                format!(
                    "\x1b[1m\x1b[92m    Checking\x1b[0m {} v{}.{}.0",
                    RUST_CRATES[i as usize % RUST_CRATES.len()],
                    v.fix(0, 2),
                    v.fix(0, 99)
                )
            }),
            Ecosystem::Python => w.line("ruff", i, |v| {
                format!("src/module_{}.py: ok", v.fix(0, 200))
            }),
            Ecosystem::Node => w.line("eslint", i, |v| {
                format!("src/file{}.ts: 0 problems", v.fix(0, 200))
            }),
            Ecosystem::Go => w.line("golangci", i, |v| {
                format!(
                    "level=info msg=\"[runner] linter took {}ms\"",
                    v.vol(1, 900)
                )
            }),
        }
    }
    if eco == Ecosystem::Rust {
        w.line("clippy-done", 0, |v| format!("\x1b[1m\x1b[92m    Finished\x1b[0m `dev` profile [unoptimized + debuginfo] target(s) in {}s", v.secs(2, 90)));
    }
    w.text("##[warning]The `set-output` command is deprecated and will be disabled soon. Please upgrade to using Environment Files.");
}

/// The text of a planted failure. Variable parts (line numbers, durations, temp paths) vary
/// between runs, as real failures do, so that signatures must mask them.
fn failure(w: &mut Writer, ctx: &Ctx<'_>, mode: &str) {
    let name = &ctx.repo.name;
    let rng = &mut w.rng;
    let (a, b) = (rng.range(1, 9), rng.range(10, 99));
    let line_no = 200 + rng.below(40);
    let col = 5 + rng.below(20);
    let tmp = format!("/tmp/.tmp{:06x}", rng.below(1 << 24));
    let secs = format!("{}.{:02}", rng.range(0, 40), rng.below(100));
    let port = 30_000 + rng.below(30_000);
    let lines: Vec<String> = match mode {
        "rust-roundtrip-panic" => vec![
            "failures:".into(),
            "".into(),
            "---- parser::tests::roundtrip stdout ----".into(),
            format!("thread 'parser::tests::roundtrip' panicked at src/parser.rs:{line_no}:{col}:"),
            "assertion `left == right` failed".into(),
            format!("  left: {a}"),
            format!(" right: {b}"),
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace".into(),
            format!("test result: \x1b[31mFAILED\x1b[0m. 41 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in {secs}s"),
            "\x1b[1m\x1b[91merror\x1b[0m\x1b[1m: test failed, to rerun pass `--lib`\x1b[0m".into(),
            "##[error]Process completed with exit code 101.".into(),
        ],
        "rust-connect-timeout" => vec![
            "---- net::tests::connect_with_retry stdout ----".into(),
            format!("thread 'net::tests::connect_with_retry' panicked at src/net.rs:{line_no}:{col}:"),
            format!("called `Result::unwrap()` on an `Err` value: Os {{ code: 110, kind: TimedOut, message: \"Connection timed out\" }} (127.0.0.1:{port})"),
            format!("test result: \x1b[31mFAILED\x1b[0m. 41 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in {secs}s"),
            "##[error]Process completed with exit code 101.".into(),
        ],
        "rust-e0425-on-beta" => vec![
            "\x1b[1m\x1b[91merror[E0425]\x1b[0m\x1b[1m: cannot find value `DEFAULT_TIMEOUT` in this scope\x1b[0m".into(),
            format!("  \x1b[1m\x1b[94m--> \x1b[0msrc/config.rs:{line_no}:{col}"),
            format!("\x1b[1m\x1b[91merror\x1b[0m\x1b[1m: could not compile `{name}` (lib) due to 1 previous error\x1b[0m"),
            "##[error]Process completed with exit code 101.".into(),
        ],
        "py-module-not-found" => vec![
            "==================================== ERRORS ====================================".into(),
            "\x1b[31m\x1b[1m_____________________ ERROR collecting tests/test_config.py _____________________\x1b[0m".into(),
            "Traceback (most recent call last):".into(),
            format!("  File \"/opt/hostedtoolcache/Python/3.12.{a}/x64/lib/python3.12/importlib/__init__.py\", line 90, in import_module"),
            format!("\x1b[1m\x1b[31mE   ModuleNotFoundError: No module named 'yaml'\x1b[0m"),
            format!("\x1b[31mERROR\x1b[0m tests/test_config.py - ModuleNotFoundError: No module named 'yaml'"),
            format!("\x1b[31m========================= 1 error in {secs}s =========================\x1b[0m"),
            "##[error]Process completed with exit code 2.".into(),
        ],
        "py-flaky-timeout" => vec![
            "=================================== FAILURES ===================================".into(),
            "\x1b[31m\x1b[1m______________________________ test_fetch_retries ______________________________\x1b[0m".into(),
            format!("\x1b[1m\x1b[31mE       TimeoutError: timed out after {secs}s waiting for 127.0.0.1:{port}\x1b[0m"),
            format!("tests/test_client.py:{line_no}: TimeoutError"),
            format!("\x1b[31mFAILED\x1b[0m tests/test_client.py::test_fetch_retries - TimeoutError: timed out after {secs}s waiting for 127.0.0.1:{port}"),
            "##[error]Process completed with exit code 1.".into(),
        ],
        "py-assert-regression" => vec![
            "=================================== FAILURES ===================================".into(),
            "\x1b[31m\x1b[1m_______________________________ test_parse_dates _______________________________\x1b[0m".into(),
            format!("\x1b[1m\x1b[31mE       assert {a} == {b}\x1b[0m"),
            format!("\x1b[1m\x1b[31mE        +  where {a} = parse_dates('{tmp}/dates.csv')\x1b[0m"),
            format!("\x1b[31mFAILED\x1b[0m tests/test_parser.py::test_parse_dates - assert {a} == {b}"),
            "##[error]Process completed with exit code 1.".into(),
        ],
        "node-jest-snapshot" => vec![
            "\x1b[41m\x1b[30m FAIL \x1b[39m\x1b[49m src/format/render.test.ts".into(),
            "  ● render › matches the snapshot".into(),
            format!("    expect(received).toMatchSnapshot() at src/format/render.test.ts:{line_no}:{col}"),
            "npm ERR! code ELIFECYCLE".into(),
            "npm ERR! errno 1".into(),
            format!("npm ERR! {name}@1.0.0 test: `jest --ci`"),
            "##[error]Process completed with exit code 1.".into(),
        ],
        "node-econnreset" => vec![
            "\x1b[41m\x1b[30m FAIL \x1b[39m\x1b[49m src/client/fetch.test.ts".into(),
            format!("  ● client › retries › Error: read ECONNRESET 127.0.0.1:{port}"),
            "npm ERR! code ELIFECYCLE".into(),
            "npm ERR! errno 1".into(),
            "##[error]Process completed with exit code 1.".into(),
        ],
        "node-eresolve" => vec![
            "npm ERR! code ERESOLVE".into(),
            "npm ERR! ERESOLVE unable to resolve dependency tree".into(),
            format!("npm ERR! Found: react@18.{a}.0"),
            format!("npm ERR! A complete log of this run can be found in: /home/runner/.npm/_logs/2024-11-{b:02}T08_00_00_000Z-debug-0.log"),
            "##[error]Process completed with exit code 1.".into(),
        ],
        "go-fail-parse" => vec![
            "=== RUN   TestParseDuration".into(),
            format!("    parse_test.go:{line_no}: got {a}s, want {b}s"),
            format!("--- FAIL: TestParseDuration ({secs}s)"),
            "FAIL".into(),
            format!("FAIL\tgithub.com/{}/{name}/parser\t{secs}s", ctx.repo.owner),
            "##[error]Process completed with exit code 1.".into(),
        ],
        "go-flaky-race" => vec![
            "==================".into(),
            "WARNING: DATA RACE".into(),
            format!("Write at 0x00c000{:06x} by goroutine {a}:", port),
            format!("--- FAIL: TestCacheConcurrent ({secs}s)"),
            "    testing.go:1399: race detected during execution of test".into(),
            "##[error]Process completed with exit code 1.".into(),
        ],
        "go-index-panic" => vec![
            format!("panic: runtime error: index out of range [{a}] with length {}", a.saturating_sub(1)),
            "".into(),
            format!("goroutine {b} [running]:"),
            format!("github.com/{}/{name}/server.(*Router).match(...)", ctx.repo.owner),
            format!("\t/home/runner/work/{name}/{name}/server/router.go:{line_no} +0x{:x}", port),
            format!("FAIL\tgithub.com/{}/{name}/server\t{secs}s", ctx.repo.owner),
            "##[error]Process completed with exit code 1.".into(),
        ],
        _ => vec!["##[error]Process completed with exit code 1.".into()],
    };
    for line in lines {
        w.push(line.into_bytes());
    }
}

fn post(w: &mut Writer, ctx: &Ctx<'_>, name: &str) {
    w.text("Post job cleanup.");
    if name.starts_with("actions/checkout") {
        let repo = &ctx.repo.name;
        w.text("[command]/usr/bin/git version");
        w.text("git version 2.47.1");
        w.line("post-home", 0, |v| {
            format!("Temporarily overriding HOME='/home/runner/work/_temp/{}' before making global git config changes", v.uuid())
        });
        w.text(
            "Adding repository directory to the temporary git global config as a safe directory",
        );
        w.text(&format!("[command]/usr/bin/git config --global --add safe.directory /home/runner/work/{repo}/{repo}"));
        w.text("[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand");
        w.text(
            "[command]/usr/bin/git config --local --unset-all http.https://github.com/.extraheader",
        );
    } else {
        w.line("cache-save", 0, |v| {
            format!(
                "Cache saved with key: v0-{}-Linux-x64-{}",
                ctx.repo.name,
                v.hex(8)
            )
        });
    }
}

fn complete(w: &mut Writer) {
    w.text("Cleaning up orphan processes");
    if w.rng.chance(0.2) {
        w.line("orphan", 0, |v| {
            format!(
                "Terminate orphan process: pid ({}) (sccache)",
                v.vol(1000, 9999)
            )
        });
    }
}
