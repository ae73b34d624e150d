//! What users read: the JSON contract, colors, grouping, exit codes, closed pipes.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::env::{Env, json_lines, text};

/// The `--json` fields README.md promises, in order.
const FIELDS: [&str; 20] = [
    "repo",
    "run_id",
    "run_attempt",
    "run_number",
    "workflow_name",
    "head_branch",
    "head_sha",
    "event",
    "job_id",
    "job_name",
    "job_conclusion",
    "step_number",
    "step_name",
    "line_number",
    "timestamp",
    "level",
    "text",
    "url",
    "before",
    "after",
];

#[test]
fn search_json_has_exactly_the_documented_fields() {
    let env = Env::start(10, |_| ());
    env.sync();
    let output = env.run(&["search", "error", "--json", "-C", "2", "-n", "20"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let hits = json_lines(&output);
    assert!((2..=20).contains(&hits.len()), "{}", hits.len());
    for (hit, raw) in hits.iter().zip(text(&output.stdout).lines()) {
        assert_eq!(fields_in_order(raw), FIELDS, "{raw}");
        let timestamp = hit["timestamp"].as_str().unwrap();
        assert_eq!(timestamp.len(), "2024-01-28T19:27:26.054762800Z".len());
        timestamp.parse::<jiff::Timestamp>().unwrap();
        assert!(hit["before"].as_array().unwrap().len() <= 2);
        assert!(
            hit["after"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t.is_string())
        );
    }
    // `show --json` lines carry the same fields.
    let run = hits[0]["run_id"].to_string();
    let show = env.run(&["show", &run, "--json"]);
    let lines = json_lines(&show);
    assert!(!lines.is_empty());
    let raw = text(&show.stdout);
    assert_eq!(fields_in_order(raw.lines().next().unwrap()), FIELDS);
}

/// The top-level keys of a JSON object, in the order written.
fn fields_in_order(raw: &str) -> Vec<String> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(raw).unwrap();
    let mut keys: Vec<(usize, String)> = object
        .keys()
        .map(|k| {
            let at = raw.find(&format!("{}:", serde_json::Value::from(k.as_str())));
            (at.expect("a top-level key"), k.clone())
        })
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

#[test]
fn colors_are_off_when_piped_and_on_when_asked() {
    let env = Env::start(6, |_| ());
    env.sync();
    let piped = env.run(&["search", "error", "-n", "5"]);
    assert_eq!(piped.status.code(), Some(0));
    assert!(!piped.stdout.contains(&0x1b), "{}", text(&piped.stdout));
    let forced = env.run(&["--color", "always", "search", "error", "-n", "5"]);
    assert!(text(&forced.stdout).contains("\x1b[1;31m"));
    // The global flag works after the subcommand too.
    let after = env.run(&["search", "error", "-n", "5", "--color", "never"]);
    assert!(!after.stdout.contains(&0x1b));
}

#[test]
fn human_output_groups_hits_under_their_run_and_step_and_gives_the_total() {
    let env = Env::start(10, |_| ());
    env.sync();
    let output = env.run(&["search", "\"Process completed with exit code\"", "-n", "2"]);
    let out = text(&output.stdout);
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("acme/widgets · "), "{out}");
    assert!(first.contains("/actions/runs/"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains(": ##[error]Process completed")),
        "{out}"
    );
    let total = env.run(&["search", "\"Process completed with exit code\"", "--count"]);
    let total = text(&total.stdout).trim().to_owned();
    // The footer is not data: it goes to stderr.
    let err = text(&output.stderr);
    assert!(
        err.trim_end()
            .ends_with(&format!("2 of {total} matching lines (use -n to see more)")),
        "{err}"
    );
}

#[test]
fn no_match_exits_1_and_a_closed_pipe_exits_0_quietly() {
    let env = Env::start(10, |_| ());
    env.sync();
    let none = env.run(&["search", "zzzz_never_written"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(none.stdout.is_empty() && none.stderr.is_empty());

    let mut child = env
        .logidx()
        .args(["search", "", "-n", "100000", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone: like `| head -1`.
    let output = child.wait_with_output().unwrap();
    assert!(first.starts_with('{'));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
}

#[test]
fn stats_and_prune_account_for_what_the_index_holds() {
    let env = Env::start(10, |_| ());
    let summary = env.sync();
    let stats = env.run(&["stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    let repo = &stats["repos"][0];
    assert_eq!(repo["repo"], "acme/widgets");
    assert_eq!(repo["attempts_indexed"], summary["attempts_indexed"]);
    assert_eq!(repo["lines"], summary["lines"]);
    assert!(stats["bytes_on_disk"].as_u64().unwrap() > 0);

    let pruned = env.run(&["prune", "--repo", "acme/widgets", "--json"]);
    assert_eq!(pruned.status.code(), Some(0), "{}", text(&pruned.stderr));
    let pruned: serde_json::Value = serde_json::from_slice(&pruned.stdout).unwrap();
    assert_eq!(pruned["attempts"], summary["attempts_indexed"]);
    let after = env.run(&["search", "", "--count"]);
    assert_eq!(text(&after.stdout).trim(), "0");
    assert_eq!(after.status.code(), Some(1));
}

#[test]
fn completions_are_printed_for_each_shell() {
    let env = Env::start(1, |_| ());
    for shell in ["bash", "zsh", "fish"] {
        let output = env.run(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0));
        assert!(text(&output.stdout).contains("search"), "{shell}");
    }
}

#[test]
fn a_log_line_pasted_as_a_query_finds_itself() {
    let env = Env::start(10, |_| ());
    env.sync();
    let count = |query: &str| {
        let output = env.run(&["search", query, "--count"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{query}: {}",
            text(&output.stderr)
        );
        text(&output.stdout).trim().parse::<u64>().unwrap()
    };
    let pasted = count("##[error]Process completed with exit code 101.");
    assert!(pasted > 0);
    assert_eq!(
        pasted,
        count("\"Process completed with exit code 101\" level:error")
    );
    assert!(count("\"Os { code: 110, kind: TimedOut\"") > 0);
}

#[test]
fn context_lines_are_the_steps_own_neighbours() {
    let env = Env::start(10, |_| ());
    env.sync();
    let output = env.run(&["search", "\"panicked at\"", "--json", "-C", "2", "-n", "5"]);
    let hits = json_lines(&output);
    assert!(!hits.is_empty());
    for hit in &hits {
        let show = env.run(&[
            "show",
            &hit["run_id"].to_string(),
            "--attempt",
            &hit["run_attempt"].to_string(),
            "--job",
            &hit["job_id"].to_string(),
            "--step",
            &hit["step_number"].to_string(),
            "--json",
        ]);
        let step: Vec<String> = json_lines(&show)
            .iter()
            .map(|l| l["text"].as_str().unwrap().to_owned())
            .collect();
        let at = hit["line_number"].as_u64().unwrap() as usize - 1;
        assert_eq!(hit["text"].as_str().unwrap(), step[at]);
        let texts = |field: &str| -> Vec<String> {
            hit[field]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(texts("before"), step[at.saturating_sub(2)..at]);
        assert_eq!(texts("after"), step[at + 1..(at + 3).min(step.len())]);
    }

    // Human output: `N:` for the hit, `N-` for context, in order.
    let human = env.run(&["search", "\"panicked at\"", "-C", "1", "-n", "1"]);
    let out = text(&human.stdout);
    let numbered: Vec<(u64, char)> = out
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let end = l.find(|c: char| !c.is_ascii_digit())?;
            let mark = l[end..].chars().next().filter(|c| matches!(c, '-' | ':'))?;
            Some((l[..end].parse().ok()?, mark))
        })
        .collect();
    assert_eq!(numbered.len(), 3, "{out}");
    let n = numbered[1].0;
    assert_eq!(numbered, [(n - 1, '-'), (n, ':'), (n + 1, '-')], "{out}");
}
