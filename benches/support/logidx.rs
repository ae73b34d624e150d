//! The real `logidx` binary pointed at a fakehub, for the benches that drive it.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `logidx` with fakehub's API, its token only (a real one from the environment must never
/// reach it) and `index`.
pub(crate) fn logidx(hub: &fakehub::FakeHub, index: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_logidx"));
    for name in [
        "GITHUB_TOKEN",
        "GH_ENTERPRISE_TOKEN",
        "GITHUB_ENTERPRISE_TOKEN",
        "GH_HOST",
        "LOGIDX_APP_ID",
        "LOGIDX_APP_KEY",
        "LOGIDX_NOTIFY",
    ] {
        command.env_remove(name);
    }
    command
        .env("LOGIDX_INDEX", index)
        .env("LOGIDX_API_URL", hub.api_url())
        .env("GH_TOKEN", hub.token())
        .env("XDG_CONFIG_HOME", index.with_extension("config"));
    command
}

/// Lines of `stream` as they come, each with when it came, on a thread of their own.
pub(crate) fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<(Instant, String)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            if tx.send((Instant::now(), line.unwrap_or_default())).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits (`within` at most) for a line `wanted` accepts.
pub(crate) fn until_line(
    lines: &mpsc::Receiver<(Instant, String)>,
    within: Duration,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (_, line) = lines.recv_timeout(left).expect("no such line in time");
        if wanted(&line) {
            return line;
        }
    }
}

/// Stops a watch as a service manager does, and waits for it.
pub(crate) fn terminate(child: &mut std::process::Child) {
    let kill = Command::new("kill")
        .args(["-TERM".to_owned(), child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    child.wait().unwrap();
}
