//! Hostile runs ([`Config::hostile_runs`](crate::Config::hostile_runs)): what a pull request
//! from a fork can make GitHub serve. Its workflow file names the workflow, the jobs and the
//! steps, its commit message is anyone's, and its steps print any bytes; a terminal that is
//! shown them raw would obey their escape sequences (retitle the window, clear the screen,
//! forge a link, ring).

use crate::logs::LogLine;
use crate::model::{Repo, Run};

/// What hostile names carry: OSC sequences (a window title, an OSC 8 link ended by ST), a C1
/// CSI (U+009B), a CSI that clears the screen, BEL, backspaces, NUL, DEL and NEL (U+0085).
pub const CONTROLS: &str = " \x1b]0;owned\x07\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\\u{9b}2J\x1b[2J\x07\x08\x08\0\x7f\u{85}!";

/// A hostile run's branch: git refuses C0 controls, DEL and spaces in ref names, not C1
/// controls (a fork's branch is named by whoever forked).
pub const BRANCH: &str = "feat/\u{9b}2J\u{85}\u{9d}8;;x\u{9c}";

/// A hostile run's actor. GitHub's logins are letters, digits and hyphens: this one is beyond
/// what GitHub sends, there to check that logidx does not trust it either.
pub const ACTOR: &str = "mallory\x1b]0;owned\x07\u{9b}2J";

/// A hostile run's commit message (`display_title`, `head_commit.message`).
pub const MESSAGE: &str = "Innocent fix\x1b]0;owned\x07\u{9b}2J\x08\x08\0";

/// A hostile run's workflow name, a copy of its workflow under this name.
pub const WORKFLOW: &str = "CI\x1b]0;owned\x07\u{9b}2J\x07";

/// The lines a hostile run's every step ends with: the bytes the runner writes (escape
/// sequences, C1 controls, BEL, backspace, NUL, DEL, invalid UTF-8), and the text a reader is
/// shown for each: what GitHub's viewer would not render (CSI and OSC sequences, a BOM, CR) is
/// gone, invalid UTF-8 is U+FFFD, the other controls stay (printers must make them inert).
pub const LINES: [(&[u8], &str); 7] = [
    (
        b"\x1b]0;owned title\x07osc title then text",
        "osc title then text",
    ),
    (
        b"link: \x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\ done",
        "link: click me done",
    ),
    (b"c1 csi: \xc2\x9b2J cleared", "c1 csi: \u{9b}2J cleared"),
    (
        b"bell \x07 backspace \x08\x08\x08 nul \x00 del \x7f end",
        "bell \x07 backspace \x08\x08\x08 nul \x00 del \x7f end",
    ),
    (
        b"invalid utf-8: \xff\xfe \xc3\x28 lone c1 \x9b end",
        "invalid utf-8: \u{fffd}\u{fffd} \u{fffd}( lone c1 \u{fffd} end",
    ),
    (
        b"##[error]hostile \x1b[2J\x1b[Hscreen clear \xc2\x9b31m red",
        "##[error]hostile screen clear \u{9b}31m red",
    ),
    (
        b"nel \xc2\x85 st \xc2\x9c osc \xc2\x9d end",
        "nel \u{85} st \u{9c} osc \u{9d} end",
    ),
];

/// Makes the oldest `runs` runs of `repo` hostile: their workflow (a copy under [`WORKFLOW`]),
/// branch, actor, commit message, and every job's and step's name (with [`CONTROLS`] after
/// it); [`job_lines`] adds the log lines.
pub(crate) fn apply(repo: &mut Repo, runs: usize) {
    if runs == 0 {
        return;
    }
    let mut copies: Vec<(usize, usize)> = Vec::new();
    for run in repo.runs.iter_mut().take(runs) {
        let copy = match copies.iter().find(|(of, _)| *of == run.workflow) {
            Some(&(_, copy)) => copy,
            None => {
                let mut workflow = repo.workflows[run.workflow].clone();
                workflow.id += 1_000_000;
                workflow.name = WORKFLOW.to_owned();
                workflow.path = format!(".github/workflows/hostile-{}.yml", copies.len());
                repo.workflows.push(workflow);
                copies.push((run.workflow, repo.workflows.len() - 1));
                repo.workflows.len() - 1
            }
        };
        run.workflow = copy;
        run.head_branch = BRANCH.to_owned();
        run.actor = ACTOR.to_owned();
        run.title = MESSAGE.to_owned();
        for job in run.attempts.iter_mut().flat_map(|a| a.jobs.iter_mut()) {
            job.name.push_str(CONTROLS);
            for step in &mut job.steps {
                step.name.push_str(CONTROLS);
            }
        }
    }
}

/// Whether `run` is one [`apply`] made hostile.
pub(crate) fn is_hostile(run: &Run) -> bool {
    run.head_branch == BRANCH
}

/// The [`LINES`] as log lines, to end a step of a hostile run with.
pub(crate) fn job_lines() -> impl Iterator<Item = LogLine> {
    LINES.iter().map(|(bytes, _)| LogLine {
        ticks: 0,
        text: bytes.to_vec(),
        continuation: false,
        bom: false,
    })
}
