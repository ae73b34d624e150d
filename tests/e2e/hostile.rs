//! What a fork's pull request can make GitHub serve (fakehub's `hostile_runs`: control
//! characters and escape sequences in names and log lines, invalid UTF-8 in the archive),
//! through every human output of the real binary: nothing reaches the terminal that it would
//! obey, except logidx's own SGR colors and, when asked, its OSC 8 links; `--json` keeps the
//! exact text.

use std::process::Output;

use fakehub::hostile;

use crate::env::{Env, json_lines, text};

/// Three hostile runs of six, synced.
fn hostile_env() -> (Env, Vec<u64>) {
    let env = Env::start(6, |c| c.hostile_runs = 3);
    env.sync();
    let runs = env
        .hub
        .repo("acme/widgets")
        .unwrap()
        .runs
        .iter()
        .filter(|run| run.head_branch == hostile::BRANCH)
        .map(|run| run.id)
        .collect();
    (env, runs)
}

/// Where `bytes` holds something a terminal would act on: a C0 control but line feed and tab,
/// ESC other than logidx's own SGR (`ESC [ digits;… m`) or, with `links`, an OSC 8 link to a
/// printable-ASCII URL, DEL, or a C1 control (`C2 80`–`C2 9F` in UTF-8). Also refuses output
/// that is not UTF-8.
fn obeyed(bytes: &[u8], links: bool) -> Option<String> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Some(format!("not UTF-8: {e}"));
    }
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let skip = match rest[0] {
            0x1b => {
                let sgr = rest
                    .strip_prefix(b"\x1b[")
                    .and_then(|params| params.iter().position(|&b| b == b'm').map(|m| (params, m)))
                    .filter(|(params, m)| {
                        params[..*m]
                            .iter()
                            .all(|b| b.is_ascii_digit() || *b == b';')
                    })
                    .map(|(_, m)| m + 3);
                let link = links
                    .then(|| rest.strip_prefix(b"\x1b]8;;"))
                    .flatten()
                    .and_then(|url| {
                        url.windows(2)
                            .position(|w| w == b"\x1b\\")
                            .map(|end| (url, end))
                    })
                    .filter(|(url, end)| url[..*end].iter().all(|b| (0x21..=0x7e).contains(b)))
                    .map(|(_, end)| end + 7);
                sgr.or(link)
            }
            b'\n' | b'\t' => Some(1),
            0..0x20 | 0x7f => None,
            0xc2 if matches!(rest.get(1), Some(0x80..=0x9f)) => None,
            _ => Some(1),
        };
        match skip {
            Some(n) => i += n,
            None => {
                let from = i.saturating_sub(40);
                let to = (i + 40).min(bytes.len());
                return Some(format!(
                    "byte {:#04x} at {i}: {:?}",
                    bytes[i],
                    String::from_utf8_lossy(&bytes[from..to])
                ));
            }
        }
    }
    None
}

/// Runs `args` and checks that neither stdout nor stderr holds anything a terminal would obey.
fn run_inert(env: &Env, args: &[&str], links: bool) -> Output {
    let output = env.run(args);
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        if let Some(problem) = obeyed(bytes, links) {
            panic!(
                "{args:?} {stream}: {problem}\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    output
}

/// Text the hostile names and lines show as, once inert (without the words searched for, which
/// colors paint).
const VISIBLE: [&str; 6] = [
    r"\x1b]0;owned\x07",
    r"\u{9b}2J",
    r"\x08\x08\x00\x7f\u{85}",
    r" \x08\x08\x08 nul \x00 del \x7f end",
    r" \u{85} st \u{9c} ",
    "\u{fffd}\u{fffd} \u{fffd}( lone c1 \u{fffd} end",
];

#[test]
fn every_human_output_prints_what_github_sent_inert() {
    let (env, runs) = hostile_env();
    assert_eq!(runs.len(), 3);
    let run = runs[0].to_string();
    let commands: Vec<(Vec<&str>, &[&str])> = vec![
        (
            vec![
                "search",
                "\"backspace\" OR \"osc\" OR nel OR utf",
                "-C",
                "2",
                "-n",
                "50",
            ],
            &VISIBLE,
        ),
        (
            vec!["search", "backspace", "--count-by", "job"],
            &[r"\x1b]0;owned\x07"],
        ),
        (
            vec!["search", "backspace", "--count-by", "step"],
            &[r"\u{9b}2J"],
        ),
        (
            vec!["search", "backspace", "--count-by", "run"],
            &[r"CI\x1b]0;owned\x07"],
        ),
        (
            vec!["search", "backspace", "--count-by", "branch"],
            &[r"feat/\u{9b}2J\u{85}"],
        ),
        (vec!["show", &run], &VISIBLE),
        (vec!["show", &run, "--timestamps"], &VISIBLE[3..]),
        (
            vec!["runs"],
            &[r"CI\x1b]0;owned\x07\u{9b}2J\x07", r"feat/\u{9b}2J\u{85}"],
        ),
        (vec!["stats"], &[]),
        (
            vec!["errors", "--since", "30d"],
            &[r"screen clear \u{9b}31m red"],
        ),
        (vec!["flaky"], &[]),
        // Error messages quote names GitHub sent: the jobs and steps the run has.
        (
            vec!["show", &run, "--job", "no such job"],
            &[r"\x1b]0;owned\x07"],
        ),
        (vec!["show", &run, "--step", "99"], &[r"\u{9b}2J"]),
        // A query pasted from a log: the note on a word with nothing to search quotes it.
        (
            vec!["search", "backspace \x1b]\x07\u{9b}"],
            &[r"\x1b]\x07\u{9b}"],
        ),
    ];
    for color in ["always", "never"] {
        for (command, visible) in &commands {
            let mut args = command.clone();
            args.extend(["--color", color]);
            let output = run_inert(&env, &args, false);
            let both = format!("{}{}", text(&output.stdout), text(&output.stderr));
            for form in *visible {
                assert!(both.contains(form), "{args:?} lacks {form:?}:\n{both}");
            }
            if color == "always" && command[0] == "search" && command.len() < 4 {
                assert!(
                    both.contains("\x1b[1;31m"),
                    "{args:?} has no colors:\n{both}"
                );
            }
        }
    }
    // `new` for each hostile run: its output or its error, inert.
    for run in &runs {
        run_inert(&env, &["new", &run.to_string(), "--color", "always"], false);
    }
    // OSC 8 links are logidx's own, to inert URLs.
    let linked = run_inert(
        &env,
        &[
            "search",
            "backspace",
            "--color",
            "always",
            "--hyperlinks",
            "always",
        ],
        true,
    );
    assert!(
        text(&linked.stdout).contains("\x1b]8;;"),
        "{}",
        text(&linked.stdout)
    );
}

#[test]
fn sync_messages_are_inert() {
    let env = Env::start(6, |c| c.hostile_runs = 3);
    let output = run_inert(
        &env,
        &[
            "sync",
            "acme/widgets",
            "--since",
            "30d",
            "-v",
            "--color",
            "always",
        ],
        false,
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn json_keeps_the_exact_text_of_names_and_lines() {
    let (env, runs) = hostile_env();
    for (_, shown) in hostile::LINES {
        // The line's words as a phrase: punctuation and escapes are not words.
        let words: Vec<String> = logidx::index::tokenize(shown)
            .into_iter()
            .filter(|w| w.chars().all(|c| c.is_ascii_alphanumeric()))
            .collect();
        let query = format!("\"{}\"", words.join(" "));
        let output = env.run(&["search", &query, "--json", "-n", "100"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{query}: {}",
            text(&output.stderr)
        );
        assert_eq!(obeyed(&output.stdout, false), None, "{query}");
        let hits = json_lines(&output);
        let in_hostile: Vec<_> = hits
            .iter()
            .filter(|hit| runs.contains(&hit["run_id"].as_u64().unwrap()))
            .collect();
        assert!(!in_hostile.is_empty(), "{query} found nothing: {hits:?}");
        for hit in in_hostile {
            assert_eq!(hit["text"], shown, "{query}");
            assert_eq!(hit["workflow_name"], hostile::WORKFLOW);
            assert_eq!(hit["head_branch"], hostile::BRANCH);
            let job = hit["job_name"].as_str().unwrap();
            let step = hit["step_name"].as_str().unwrap();
            assert!(job.ends_with(hostile::CONTROLS), "{job:?}");
            assert!(step.ends_with(hostile::CONTROLS), "{step:?}");
        }
    }
    let output = env.run(&["runs", "--json"]);
    assert_eq!(obeyed(&output.stdout, false), None);
    let hostile_runs: Vec<_> = json_lines(&output)
        .into_iter()
        .filter(|run| run["head_branch"] == hostile::BRANCH)
        .collect();
    assert_eq!(hostile_runs.len(), 3);
    for run in hostile_runs {
        assert_eq!(run["actor"], hostile::ACTOR, "{run}");
        assert_eq!(run["workflow_name"], hostile::WORKFLOW, "{run}");
    }
}

#[test]
fn a_failure_naming_a_hostile_entry_is_reported_inert() {
    let env = Env::start(6, |c| {
        c.hostile_runs = 3;
        c.layout = Some(fakehub::Layout::JobOnly);
    });
    let run = env.hub.repo("acme/widgets").unwrap().runs[0].id;
    // Bytes in the middle of the archive overwritten: an entry (named after a hostile job) is
    // corrupt, and the error names it.
    env.hub.inject(fakehub::Fault::blob(
        format!("/runs/{run}/"),
        fakehub::FaultKind::Corrupt,
    ));
    for args in [
        &[
            "sync",
            "acme/widgets",
            "--since",
            "30d",
            "--color",
            "always",
        ][..],
        &[
            "sync",
            "acme/widgets",
            "--since",
            "30d",
            "-v",
            "--color",
            "never",
        ],
        &["sync", "acme/widgets", "--since", "30d", "--json"],
    ] {
        let output = run_inert(&env, args, false);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let both = format!("{}{}", text(&output.stdout), text(&output.stderr));
        let named = if args.contains(&"--json") {
            // JSON escapes them: the same text, still exact.
            let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            let in_file_name = fakehub::file_name_part(hostile::CONTROLS, fakehub::Layout::JobOnly);
            summary["failures"][0]["error"]
                .as_str()
                .is_some_and(|error| error.contains(&in_file_name))
        } else {
            both.contains(r"\x1b]0;owned\x07\x1b]8;;httpsevil.example\x1b\link")
        };
        assert!(named, "{args:?} does not name the entry:\n{both}");
    }
    let show = run_inert(
        &env,
        &["show", &run.to_string(), "--color", "always"],
        false,
    );
    assert_eq!(show.status.code(), Some(2));
    let runs = run_inert(&env, &["runs", "--color", "always"], false);
    assert!(
        text(&runs.stdout).contains(r"\u{9b}2J"),
        "{}",
        text(&runs.stdout)
    );
}
