//! What the read commands print (#27): names in counts, each hit's link, the footer on stderr,
//! `show`'s errors and timestamps, exit codes of `errors` and `flaky`, inert JSON, `runs`,
//! `prune --dry-run`, `search --offset`.

use std::collections::{BTreeSet, HashMap};

use crate::env::{Env, json_lines, text};

const PANIC: &str = "\"panicked at\"";

/// `logidx args…`, checked to exit with `code`.
fn run_ok(env: &Env, args: &[&str], code: i32) -> std::process::Output {
    let output = env.run(args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    output
}

#[test]
fn count_by_job_and_step_print_names_and_honour_limit_and_sort() {
    let env = Env::start(12, |_| ());
    env.sync();
    // The jobs and steps of every matching line, from the hits themselves.
    let hits = json_lines(&run_ok(
        &env,
        &["search", "error", "-n", "100000", "--json"],
        0,
    ));
    let mut per_job: HashMap<u64, (String, u64)> = HashMap::new();
    for hit in &hits {
        let job = per_job
            .entry(hit["job_id"].as_u64().unwrap())
            .or_insert_with(|| (hit["job_name"].as_str().unwrap().to_owned(), 0));
        job.1 += 1;
    }
    assert!(per_job.len() > 3, "{}", per_job.len());

    let json = run_ok(
        &env,
        &[
            "search",
            "error",
            "--count-by",
            "job",
            "-n",
            "1000",
            "--json",
        ],
        0,
    );
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let groups = json["groups"].as_array().unwrap();
    assert_eq!(groups.len(), per_job.len());
    for group in groups {
        let id: u64 = group["key"].as_str().unwrap().parse().unwrap();
        let (name, count) = &per_job[&id];
        assert_eq!(group["job_id"], id, "{group}");
        assert_eq!(group["job_name"], name.as_str(), "{group}");
        assert_eq!(group["count"], *count, "{group}");
        assert!(group["run_number"].as_u64().unwrap() > 0, "{group}");
    }
    // By count, most first, by default.
    let counts: Vec<u64> = groups
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .collect();
    assert!(counts.is_sorted_by(|a, b| a >= b), "{counts:?}");

    // Human output: names, never a bare id; `-n` keeps the top groups and says so on stderr.
    let human = run_ok(
        &env,
        &["search", "error", "--count-by", "job", "-n", "2"],
        0,
    );
    let out = text(&human.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for (line, group) in lines.iter().zip(groups) {
        let (name, count) = line.rsplit_once('\t').unwrap();
        assert_eq!(count, group["count"].to_string(), "{out}");
        assert!(
            name.starts_with(group["job_name"].as_str().unwrap()),
            "{out}"
        );
        assert!(!name.contains(group["key"].as_str().unwrap()), "{out}");
    }
    assert!(
        text(&human.stderr).contains(&format!("2 of {} groups", groups.len())),
        "{}",
        text(&human.stderr)
    );

    // Steps: `job › N step`; `--sort key` orders by the key.
    let steps = run_ok(
        &env,
        &[
            "search",
            "error",
            "--count-by",
            "step",
            "--sort",
            "key",
            "-n",
            "1000",
            "--json",
        ],
        0,
    );
    let steps: serde_json::Value = serde_json::from_slice(&steps.stdout).unwrap();
    let keys: Vec<(u64, u64)> = steps["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            assert!(
                g["step_name"].is_string() && g["job_name"].is_string(),
                "{g}"
            );
            (
                g["job_id"].as_u64().unwrap(),
                g["step_number"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(keys.is_sorted(), "{keys:?}");
    let human = run_ok(
        &env,
        &["search", "error", "--count-by", "step", "-n", "3"],
        0,
    );
    for line in text(&human.stdout).lines() {
        assert!(line.contains(" › "), "{line}");
    }
    // A hit order is not a group order.
    let wrong = run_ok(
        &env,
        &["search", "error", "--count-by", "step", "--sort", "oldest"],
        2,
    );
    assert!(
        text(&wrong.stderr).contains("`--sort oldest`"),
        "{}",
        text(&wrong.stderr)
    );
}

#[test]
fn each_hit_links_its_own_line_and_hyperlinks_only_when_asked() {
    let env = Env::start(10, |_| ());
    env.sync();
    let hits = json_lines(&run_ok(&env, &["search", PANIC, "-n", "5", "--json"], 0));
    assert!(!hits.is_empty());
    let piped = text(&run_ok(&env, &["search", PANIC, "-n", "5"], 0).stdout);
    for hit in &hits {
        let url = hit["url"].as_str().unwrap();
        assert!(url.contains("#step:"), "{url}");
        let line = piped
            .lines()
            .find(|l| l.ends_with(url))
            .unwrap_or_else(|| panic!("no line links {url}:\n{piped}"));
        assert!(
            line.contains(&format!("{}: ", hit["line_number"])),
            "{line}"
        );
    }
    assert!(!piped.contains("\x1b]8;"), "{piped}");
    let always = run_ok(
        &env,
        &["search", PANIC, "-n", "5", "--hyperlinks", "always"],
        0,
    );
    let always = text(&always.stdout);
    for hit in &hits {
        let url = hit["url"].as_str().unwrap();
        assert!(
            always.contains(&format!("\x1b]8;;{url}\x1b\\")),
            "{url}:\n{always:?}"
        );
    }
}

#[test]
fn the_footer_goes_to_stderr_so_stdout_counts_hits() {
    let env = Env::start(10, |_| ());
    env.sync();
    let output = run_ok(&env, &["search", "error", "-n", "3"], 0);
    let out = text(&output.stdout);
    assert!(!out.contains("matching line"), "{out}");
    let hit_lines = out
        .lines()
        .filter(|l| {
            l.trim_start()
                .split_once(": ")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .count();
    assert_eq!(hit_lines, 3, "{out}");
    let total = text(&run_ok(&env, &["search", "error", "--count"], 0).stdout);
    assert!(
        text(&output.stderr).contains(&format!("3 of {} matching lines", total.trim())),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn show_of_what_does_not_exist_is_an_error_naming_what_does() {
    let env = Env::start(10, |_| ());
    env.sync();
    let hit = &json_lines(&run_ok(&env, &["search", PANIC, "-n", "1", "--json"], 0))[0];
    let run = hit["run_id"].to_string();
    let attempt = hit["run_attempt"].to_string();
    let job = hit["job_name"].as_str().unwrap();

    let output = run_ok(&env, &["show", &run, "--attempt", "9"], 2);
    let err = text(&output.stderr);
    assert!(
        err.contains("attempt `9`") && err.contains(&format!("run `{run}` has attempts")),
        "{err}"
    );
    assert!(output.stdout.is_empty());

    let output = run_ok(
        &env,
        &["show", &run, "--attempt", &attempt, "--job", "no such job"],
        2,
    );
    let err = text(&output.stderr);
    assert!(err.contains("`no such job`") && err.contains(job), "{err}");

    let output = run_ok(
        &env,
        &[
            "show",
            &run,
            "--attempt",
            &attempt,
            "--job",
            job,
            "--step",
            "99",
        ],
        2,
    );
    let err = text(&output.stderr);
    assert!(err.contains("step `99`"), "{err}");
    assert!(
        err.contains(&format!(
            "{} {}",
            hit["step_number"],
            hit["step_name"].as_str().unwrap()
        )),
        "{err}"
    );
}

#[test]
fn show_timestamps_prints_each_lines_time() {
    let env = Env::start(6, |_| ());
    env.sync();
    let hit = &json_lines(&run_ok(&env, &["search", PANIC, "-n", "1", "--json"], 0))[0];
    let args = |extra: &str| {
        vec![
            "show".to_owned(),
            hit["run_id"].to_string(),
            "--attempt".to_owned(),
            hit["run_attempt"].to_string(),
            "--job".to_owned(),
            hit["job_id"].to_string(),
            "--step".to_owned(),
            hit["step_number"].to_string(),
            extra.to_owned(),
        ]
    };
    let run = |extra: &str| {
        let args = args(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_ok(&env, &args, 0)
    };
    let lines = json_lines(&run("--json"));
    let human = text(&run("--timestamps").stdout);
    let plain = text(&run("--color=never").stdout);
    assert!(!plain.contains(lines[0]["timestamp"].as_str().unwrap()));
    for line in &lines {
        let at = line["timestamp"].as_str().unwrap();
        assert!(
            human
                .lines()
                .any(|l| l.contains(at) && l.ends_with(line["text"].as_str().unwrap())),
            "{at}:\n{human}"
        );
    }
}

#[test]
fn errors_and_flaky_exit_1_when_nothing_is_found() {
    let env = Env::start(10, |_| ());
    env.sync();
    run_ok(&env, &["errors"], 0);
    let none = run_ok(&env, &["errors", "--branch", "no-such-branch"], 1);
    assert!(none.stdout.is_empty());
    let none = run_ok(&env, &["flaky", "--branch", "no-such-branch"], 1);
    assert!(none.stdout.is_empty());
}

#[test]
fn flaky_takes_limit_branch_workflow_and_job() {
    let env = Env::start(60, |c| c.in_progress = 0);
    env.sync();
    let all = json_lines(&run_ok(&env, &["flaky", "--json", "-n", "1000"], 0));
    assert!(all.len() > 1, "{all:?}");
    let one = json_lines(&run_ok(&env, &["flaky", "--json", "-n", "1"], 0));
    assert_eq!(one, all[..1]);

    let first = &all[0];
    let job = first["job_name"].as_str().unwrap();
    let of_job = json_lines(&run_ok(&env, &["flaky", "--json", "--job", job], 0));
    let expected: Vec<_> = all
        .iter()
        .filter(|j| j["job_name"] == job)
        .cloned()
        .collect();
    assert_eq!(of_job, expected);

    let workflow = first["workflow_name"].as_str().unwrap();
    let of_workflow = json_lines(&run_ok(
        &env,
        &["flaky", "--json", "--workflow", workflow],
        0,
    ));
    assert!(!of_workflow.is_empty());
    assert!(of_workflow.iter().all(|j| j["workflow_name"] == workflow));
    assert!(of_workflow.len() < all.len() || all.iter().all(|j| j["workflow_name"] == workflow));

    let branch = first["last_flake"]["head_branch"].as_str().unwrap();
    let on_branch = json_lines(&run_ok(&env, &["flaky", "--json", "--branch", branch], 0));
    assert!(!on_branch.is_empty());
    assert!(
        on_branch
            .iter()
            .all(|j| j["last_flake"]["head_branch"] == branch)
    );
}

#[test]
fn json_escapes_c1_controls_and_del_and_decodes_to_the_same_text() {
    let env = Env::start(30, |_| ());
    env.sync();
    let output = run_ok(
        &env,
        &["search", "\"binary output\"", "--json", "-n", "5"],
        0,
    );
    let raw = &output.stdout;
    assert!(!raw.contains(&0x7f), "{}", text(raw));
    let c1 = |text: &str| text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c));
    assert!(!c1(&text(raw)), "{}", text(raw));
    assert!(text(raw).contains("\\u009b"), "{}", text(raw));
    let hits = json_lines(&output);
    assert!(!hits.is_empty());
    for hit in &hits {
        let decoded = hit["text"].as_str().unwrap();
        assert!(decoded.contains("\u{9b}2K\u{85} \u{7f} end"), "{decoded:?}");
    }
    // `show --json` too, and it decodes to what search gave.
    let hit = &hits[0];
    let show = run_ok(&env, &["show", &hit["run_id"].to_string(), "--json"], 0);
    assert!(!show.stdout.contains(&0x7f));
    assert!(json_lines(&show).iter().any(|l| l["text"] == hit["text"]));
}

#[test]
fn runs_lists_the_indexed_runs_and_their_jobs() {
    let env = Env::start(8, |c| c.in_progress = 0);
    env.sync();
    let runs = json_lines(&run_ok(
        &env,
        &["runs", "--repo", "acme/widgets", "--json"],
        0,
    ));
    let repo = env.hub.repo("acme/widgets").unwrap();
    assert_eq!(runs.len(), repo.runs.len());
    for run in &runs {
        let id = run["run_id"].as_u64().unwrap();
        let truth = repo.runs.iter().find(|r| r.id == id).unwrap();
        assert_eq!(run["head_sha"], truth.head_sha.as_str());
        assert_eq!(run["head_branch"], truth.head_branch.as_str());
        let attempts = run["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), truth.attempts.len());
        for (attempt, true_attempt) in attempts.iter().zip(&truth.attempts) {
            assert_eq!(attempt["run_attempt"], true_attempt.number);
            let names: BTreeSet<&str> = attempt["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["job_name"].as_str().unwrap())
                .collect();
            let true_names: BTreeSet<&str> = true_attempt
                .archived_jobs()
                .map(|j| j.name.as_str())
                .collect();
            assert_eq!(names, true_names);
        }
    }
    // Newest first; `-n` keeps the newest; human output names each job.
    let created: Vec<&str> = runs
        .iter()
        .map(|r| r["created_at"].as_str().unwrap())
        .collect();
    assert!(created.is_sorted_by(|a, b| a >= b), "{created:?}");
    let two = json_lines(&run_ok(&env, &["runs", "-n", "2", "--json"], 0));
    assert_eq!(two, runs[..2]);
    let human = text(&run_ok(&env, &["runs", "-n", "1"], 0).stdout);
    let job = runs[0]["attempts"][0]["jobs"][0]["job_name"]
        .as_str()
        .unwrap();
    assert!(human.contains(job), "{human}");
    assert!(
        human.contains(&format!("#{}", runs[0]["run_number"])),
        "{human}"
    );
    run_ok(&env, &["runs", "--repo", "acme/nothing"], 1);
}

#[test]
fn prune_dry_run_says_what_it_would_delete_and_deletes_nothing() {
    let env = Env::start(10, |_| ());
    let summary = env.sync();
    let count = || text(&run_ok(&env, &["search", "", "--count"], 0).stdout);
    let before = count();
    let dry = run_ok(
        &env,
        &["prune", "--repo", "acme/widgets", "--dry-run", "--json"],
        0,
    );
    let dry: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(dry["attempts"], summary["attempts_indexed"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(count(), before);
    let human = text(&run_ok(&env, &["prune", "--repo", "acme/widgets", "--dry-run"], 0).stdout);
    assert!(human.starts_with("would prune"), "{human}");
    assert_eq!(count(), before);
    let pruned = run_ok(&env, &["prune", "--repo", "acme/widgets", "--json"], 0);
    let pruned: serde_json::Value = serde_json::from_slice(&pruned.stdout).unwrap();
    assert_eq!(pruned["attempts"], dry["attempts"]);
    assert_eq!(pruned["steps"], dry["steps"]);
}

#[test]
fn search_offset_pages_through_hits() {
    let env = Env::start(10, |_| ());
    env.sync();
    let all = json_lines(&run_ok(&env, &["search", "", "-n", "30", "--json"], 0));
    assert_eq!(all.len(), 30);
    let page = json_lines(&run_ok(
        &env,
        &["search", "", "-n", "10", "--offset", "10", "--json"],
        0,
    ));
    assert_eq!(page, all[10..20]);
    let human = run_ok(&env, &["search", "", "-n", "10", "--offset", "10"], 0);
    assert!(
        text(&human.stderr).contains("11-20 of"),
        "{}",
        text(&human.stderr)
    );
    run_ok(&env, &["search", "", "--offset", "100000000"], 1);
}

#[test]
fn errors_json_carries_the_masked_text_of_each_signature() {
    let env = Env::start(10, |_| ());
    env.sync();
    let rows = json_lines(&run_ok(&env, &["errors", "--json"], 0));
    assert!(!rows.is_empty());
    for row in &rows {
        let example = row["last_seen"]["text"].as_str().unwrap();
        assert_eq!(row["masked"], logidx::index::mask(example), "{row}");
        let hash = logidx::index::signature(example).unwrap();
        assert_eq!(row["signature"], format!("{hash:016x}"));
    }
}

#[test]
fn human_output_prints_control_characters_inert() {
    let env = Env::start(30, |_| ());
    env.sync();
    let hits = json_lines(&run_ok(
        &env,
        &["search", "\"binary output\"", "--json", "-n", "1"],
        0,
    ));
    let raw = |bytes: &[u8]| {
        let text = text(bytes);
        text.chars().find(|&c| {
            (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c)
        })
    };
    let search = run_ok(
        &env,
        &["search", "\"binary output\"", "-n", "1", "-C", "1"],
        0,
    );
    assert_eq!(raw(&search.stdout), None, "{:?}", text(&search.stdout));
    assert!(
        text(&search.stdout).contains(r"\u{9b}2K\u{85} \x7f end"),
        "{}",
        text(&search.stdout)
    );
    let show = run_ok(&env, &["show", &hits[0]["run_id"].to_string()], 0);
    assert_eq!(raw(&show.stdout), None);
    assert!(text(&show.stdout).contains(r"\x00garbage"));
}
