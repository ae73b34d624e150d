//! Running a benchmark's child process and measuring it, for every bench.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Runs `command` to the end under `/usr/bin/time` when there is one: its stdout, wall time and
/// peak RSS in KiB. Panics with its stderr when it fails.
#[allow(dead_code)] // Not every bench uses both.
pub(crate) fn timed(command: Command) -> (Vec<u8>, Duration, Option<u64>) {
    let run = run_timed(command);
    assert!(
        run.output.status.success(),
        "{}",
        String::from_utf8_lossy(&run.output.stderr)
    );
    (run.output.stdout, run.wall, run.peak_rss)
}

/// What [`run_timed`] measured.
pub(crate) struct Timed {
    /// Its status, stdout and stderr (without `/usr/bin/time`'s line).
    pub(crate) output: Output,
    pub(crate) wall: Duration,
    /// Peak RSS in KiB, when `/usr/bin/time` could tell.
    pub(crate) peak_rss: Option<u64>,
}

/// Runs `command` to the end under `/usr/bin/time` when there is one, whatever its status.
pub(crate) fn run_timed(mut command: Command) -> Timed {
    let time = Path::new("/usr/bin/time");
    let mut command = if time.exists() {
        let mut wrapped = Command::new(time);
        wrapped
            .args(["-f", "%M"])
            .arg(command.get_program())
            .args(command.get_args());
        // Removals too: the commands above remove the token variables, so that no real token
        // reaches fakehub.
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
    } else {
        std::mem::replace(&mut command, Command::new("true"))
    };
    let started = Instant::now();
    let mut output = command.output().unwrap();
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let (rest, last) = stderr
        .trim_end()
        .rsplit_once('\n')
        .unwrap_or(("", stderr.trim_end()));
    let peak_rss = last.trim().parse().ok();
    if peak_rss.is_some() {
        output.stderr = rest.as_bytes().to_vec();
    }
    Timed {
        output,
        wall,
        peak_rss,
    }
}
