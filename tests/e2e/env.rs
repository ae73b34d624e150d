//! A fakehub on loopback, an index directory, and the `logidx` binary pointed at both.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output};
use std::time::{Duration, Instant};

use fakehub::{Config, FakeHub, Run, Status};

/// A fakehub serving from its own runtime, and a scratch directory for indexes.
pub(crate) struct Env {
    pub(crate) hub: FakeHub,
    pub(crate) dir: tempfile::TempDir,
    // Serves the hub; dropped last.
    _runtime: tokio::runtime::Runtime,
}

/// Where fakehub put a line: the ground truth a hit is checked against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Place {
    pub(crate) run_id: u64,
    pub(crate) attempt: u32,
    pub(crate) job_id: u64,
    pub(crate) step_number: u32,
    pub(crate) line_number: u32,
}

impl Env {
    /// fakehub over `acme/widgets` with `runs` short runs (every archive ready at once).
    pub(crate) fn start(runs: usize, configure: impl FnOnce(&mut Config)) -> Env {
        let mut config = Config {
            runs,
            days: 10,
            lines_per_job: 60,
            not_ready_for: std::time::Duration::ZERO,
            ..Config::default()
        };
        configure(&mut config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let hub = runtime.block_on(FakeHub::start(config)).unwrap();
        Env {
            hub,
            dir: tempfile::tempdir().unwrap(),
            _runtime: runtime,
        }
    }

    /// fakehub over 30 runs with slow archives, so that a sync is still running when a test
    /// acts on it (kills it, signals it, closes its pipes).
    pub(crate) fn slow() -> Env {
        let env = Env::start(30, |c| c.lines_per_job = 120);
        env.hub.inject(fakehub::Fault::blob(
            "/logs.zip",
            fakehub::FaultKind::Slow(150_000),
        ));
        env
    }

    /// Takes GitHub off the network: the hub stops, its ports closed, while `gone` runs and
    /// `meanwhile` moves its world on; then the same world is served again on the same ports.
    pub(crate) fn offline_while(
        &mut self,
        gone: impl FnOnce(),
        meanwhile: impl FnOnce(&mut fakehub::World),
    ) {
        // A placeholder on other ports, so that `self.hub` stays a hub while the real one is down.
        let placeholder = self
            ._runtime
            .block_on(FakeHub::start(Config {
                runs: 1,
                ..Config::default()
            }))
            .unwrap();
        let hub = std::mem::replace(&mut self.hub, placeholder);
        let mut stopped = self._runtime.block_on(hub.stop());
        gone();
        meanwhile(stopped.world_mut());
        let back = self._runtime.block_on(stopped.serve_again()).unwrap();
        let placeholder = std::mem::replace(&mut self.hub, back);
        self._runtime.block_on(placeholder.shutdown());
    }

    /// The default index of this environment.
    pub(crate) fn index(&self) -> PathBuf {
        self.dir.path().join("index")
    }

    /// `logidx` with the hub's API and token and this environment's index, nothing inherited
    /// that could change its behaviour (tokens, `GH_HOST`, `NO_COLOR`, `gh` on the path).
    pub(crate) fn logidx(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_logidx"));
        command
            .env_clear()
            .env("HOME", self.dir.path())
            .env("GH_TOKEN", self.hub.token())
            .env("LOGIDX_API_URL", self.hub.api_url())
            .env("LOGIDX_INDEX", self.index());
        command
    }

    /// Runs `logidx args…` to the end.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.logidx().args(args).output().unwrap()
    }

    /// Syncs every run of the last 30 days and checks that it succeeded.
    pub(crate) fn sync(&self) -> serde_json::Value {
        self.sync_since("30d")
    }

    /// Syncs every run created since `since` and checks that it succeeded.
    pub(crate) fn sync_since(&self, since: &str) -> serde_json::Value {
        let output = self.run(&["sync", "acme/widgets", "--since", since, "--json"]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Every place, in every completed attempt's archive, of a line containing `needle`.
    pub(crate) fn places_of(&self, needle: &str) -> BTreeSet<Place> {
        self.places_where(|text| text.contains(needle))
    }

    /// Every place, in every completed attempt's archive, of a line whose text (as fakehub
    /// wrote it, ANSI codes and all) `keep` keeps.
    pub(crate) fn places_where(&self, keep: impl Fn(&str) -> bool) -> BTreeSet<Place> {
        self.places_in_runs_where(|_, text| keep(text))
    }

    /// Every place, as [`Env::places_where`], of a line that `keep` keeps with its run.
    pub(crate) fn places_in_runs_where(
        &self,
        keep: impl Fn(&Run, &str) -> bool,
    ) -> BTreeSet<Place> {
        let repo = self.hub.repo("acme/widgets").unwrap();
        let mut places = BTreeSet::new();
        for run in &repo.runs {
            for attempt in run
                .attempts
                .iter()
                .filter(|a| a.status == Status::Completed)
            {
                for job in attempt.archived_jobs() {
                    let log = self.hub.job_log("acme/widgets", job.id).unwrap();
                    for step in &log.steps {
                        for (i, line) in step.lines.iter().enumerate() {
                            if keep(run, &String::from_utf8_lossy(&line.text)) {
                                places.insert(Place {
                                    run_id: run.id,
                                    attempt: attempt.number,
                                    job_id: job.id,
                                    step_number: step.number,
                                    line_number: i as u32 + 1,
                                });
                            }
                        }
                    }
                }
            }
        }
        places
    }
}

/// Parses JSON lines.
pub(crate) fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The place a `--json` line names.
pub(crate) fn place(hit: &serde_json::Value) -> Place {
    let n = |field: &str| {
        hit[field]
            .as_u64()
            .unwrap_or_else(|| panic!("{field} in {hit}"))
    };
    Place {
        run_id: n("run_id"),
        attempt: n("run_attempt") as u32,
        job_id: n("job_id"),
        step_number: n("step_number") as u32,
        line_number: n("line_number") as u32,
    }
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits for `child` at most a minute: a sync or watch that outlives it hangs.
pub(crate) fn wait_briefly(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the logidx process did not end within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
