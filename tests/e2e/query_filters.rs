//! Filters and dates as users write them: every filter narrows, closed fields check their
//! values, job and step names match as people type them, sha prefixes as pasted, days in the
//! chosen time zone.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::env::{Env, Place, json_lines, place, text};

/// Every line `search ARGS --json` finds, checking the exit code says whether it found any.
fn hits(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["search", "--json", "-n", "1000000"];
    all.extend_from_slice(args);
    let output = env.run(&all);
    let hits = json_lines(&output);
    let want = if hits.is_empty() { 1 } else { 0 };
    assert_eq!(
        output.status.code(),
        Some(want),
        "{args:?}: {}",
        text(&output.stderr)
    );
    hits
}

fn places<'h>(hits: impl IntoIterator<Item = &'h Value>) -> Places {
    Places(hits.into_iter().map(place).collect())
}

/// Places of hits, shown by their number and first few when an assertion fails.
#[derive(PartialEq, Eq)]
struct Places(BTreeSet<Place>);

impl std::ops::Deref for Places {
    type Target = BTreeSet<Place>;

    fn deref(&self) -> &BTreeSet<Place> {
        &self.0
    }
}

impl std::fmt::Debug for Places {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first: Vec<_> = self.0.iter().take(2).collect();
        write!(f, "{} places, first {first:?}", self.0.len())
    }
}

/// The stderr of a command that must fail with exit code 2.
fn refused(env: &Env, args: &[&str]) -> String {
    let output = env.run(args);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?}");
    stderr
}

/// A field's value in a hit, as a query or a flag writes it.
fn value_of(hit: &Value, key: &str) -> String {
    match &hit[key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Two distinct values of `key` among `hits`, the most frequent first.
fn two_values(hits: &[Value], key: &str) -> (String, String) {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for hit in hits {
        *counts.entry(value_of(hit, key)).or_default() += 1;
    }
    let mut by_count: Vec<_> = counts.into_iter().collect();
    by_count.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    assert!(by_count.len() >= 2, "{key} has one value only");
    (by_count[0].0.clone(), by_count[1].0.clone())
}

#[test]
fn a_flag_narrows_what_the_query_filters_on_every_field() {
    let env = Env::start(14, |c| {
        c.repos = vec!["acme/widgets".into(), "acme/gadgets".into()]
    });
    let output = env.run(&["sync", "acme/widgets", "acme/gadgets", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let all = hits(&env, &[""]);
    // (query field, flag, `--json` key)
    let fields = [
        ("repo", "--repo", "repo"),
        ("run", "--run", "run_id"),
        ("attempt", "--attempt", "run_attempt"),
        ("job", "--job", "job_name"),
        ("step", "--step", "step_number"),
        ("branch", "--branch", "head_branch"),
        ("level", "--level", "level"),
    ];
    for (field, flag, key) in fields {
        let (a, b) = two_values(&all, key);
        let with = |value: &str| places(all.iter().filter(|h| value_of(h, key) == value));
        let (only_a, only_b) = (with(&a), with(&b));
        let filter = |value: &str| format!("{field}:\"{value}\"");
        assert_eq!(
            places(&hits(&env, &[&filter(&a), flag, &a])),
            only_a,
            "{field}:{a} {flag} {a}"
        );
        assert_eq!(
            places(&hits(&env, &[&filter(&a), flag, &b])),
            Places(BTreeSet::new()),
            "{field}:{a} {flag} {b} must narrow, not widen"
        );
        // Within the query, filters of one field are alternatives.
        let either = format!("{} {}", filter(&a), filter(&b));
        let union = Places(only_a.union(&only_b).cloned().collect());
        assert_eq!(places(&hits(&env, &[&either])), union, "{either}");
        assert_eq!(
            places(&hits(&env, &[&either, flag, &b])),
            only_b,
            "{either}"
        );
    }
    // The time window narrows too: the later start and the earlier end win, whoever wrote them.
    let mut times: Vec<&str> = all
        .iter()
        .map(|h| h["timestamp"].as_str().unwrap())
        .collect();
    times.sort();
    let (early, late) = (times[times.len() / 4], times[times.len() / 2]);
    // (query field, flag, the time that must win)
    for (field, flag, wins) in [("after", "--since", late), ("before", "--until", early)] {
        let want = places(&hits(&env, &["", flag, wins]));
        assert!(!want.is_empty() && want.len() < all.len(), "{flag} {wins}");
        for (in_query, in_flag) in [(early, late), (late, early)] {
            let query = format!("{field}:{in_query}");
            assert_eq!(
                places(&hits(&env, &[&query, flag, in_flag])),
                want,
                "{query} {flag} {in_flag}"
            );
        }
    }
}

#[test]
fn closed_fields_refuse_values_that_never_match_and_list_the_valid_ones() {
    let env = Env::start(3, |_| ());
    env.sync();
    for (args, value, listed) in [
        (
            &["search", "conclusion:failed"][..],
            "`failed`",
            &["failure", "success", "cancelled", "timed_out"][..],
        ),
        (
            &["search", "error event:pushed"],
            "`pushed`",
            &["push", "pull_request", "schedule", "workflow_dispatch"],
        ),
        (&["search", "error -event:pr"], "`pr`", &["pull_request"]),
        (
            &["sync", "acme/widgets", "--status", "bogus"],
            "`bogus`",
            &["completed", "in_progress", "failure", "success"],
        ),
        (
            &["sync", "acme/widgets", "--event", "pr"],
            "`pr`",
            &["push", "pull_request"],
        ),
    ] {
        let stderr = refused(&env, args);
        assert!(stderr.contains(value), "{args:?}: {stderr}");
        for valid in listed {
            assert!(stderr.contains(valid), "{args:?} lists {valid}: {stderr}");
        }
    }
    // Valid values in any case are accepted.
    let failures = hits(&env, &["conclusion:FAILURE"]);
    assert!(failures.iter().all(|h| h["job_conclusion"] == "failure"));
    let event = value_of(&hits(&env, &[""])[0], "event");
    let same = hits(&env, &[&format!("event:{}", event.to_uppercase())]);
    assert!(!same.is_empty() && same.iter().all(|h| h["event"] == *event));
    let output = env.run(&[
        "sync",
        "acme/widgets",
        "--status",
        "Completed",
        "--event",
        "push",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn job_and_step_names_match_their_base_name_and_prefixes() {
    let env = Env::start(8, |_| ());
    env.sync();
    let all = hits(&env, &[""]);
    let names = |hits: &[Value], key: &str| -> BTreeSet<String> {
        hits.iter().map(|h| value_of(h, key)).collect()
    };
    let where_name = |key: &str, holds: &dyn Fn(&str) -> bool| {
        places(
            all.iter()
                .filter(|h| holds(&value_of(h, key).to_lowercase())),
        )
    };

    // A matrix job by its base name, before ` (`, in any case, from the query and the flag.
    let tests = where_name("job_name", &|n| n == "test" || n.starts_with("test ("));
    let matrix = hits(&env, &["job:test"]);
    assert!(
        names(&matrix, "job_name").len() >= 2,
        "{:?}",
        names(&matrix, "job_name")
    );
    assert_eq!(places(&matrix), tests);
    assert_eq!(places(&hits(&env, &["", "--job", "TEST"])), tests);

    // A prefix with a trailing `*`.
    let ubuntu = where_name("job_name", &|n| n.starts_with("test (ubuntu"));
    assert!(!ubuntu.is_empty() && ubuntu.len() < tests.len());
    assert_eq!(places(&hits(&env, &["job:\"Test (ubuntu*\""])), ubuntu);
    assert_eq!(places(&hits(&env, &["", "--job", "test (ubuntu*"])), ubuntu);
    let runs = where_name("step_name", &|n| n.starts_with("run "));
    let posts = where_name("step_name", &|n| n.starts_with("post run "));
    assert!(!runs.is_empty() && !posts.is_empty());
    assert_eq!(places(&hits(&env, &["step:\"run *\""])), runs);
    assert_eq!(places(&hits(&env, &["", "--step", "Run *"])), runs);
    // A base name is not a prefix: `tes` is no job.
    assert!(hits(&env, &["job:tes"]).is_empty());

    // `show` takes the same names.
    let run = value_of(&all[0], "run_id");
    let shown = |args: &[&str]| {
        let mut all = vec!["show", &run, "--json"];
        all.extend_from_slice(args);
        let output = env.run(&all);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&output.stderr)
        );
        json_lines(&output)
    };
    let checkout = shown(&["--step", "run ACTIONS/checkout*"]);
    assert!(!checkout.is_empty());
    assert_eq!(
        names(&checkout, "step_name"),
        ["Run actions/checkout@v4".to_owned()].into()
    );
    let first = shown(&["--step", "1"]);
    assert_eq!(names(&first, "step_number"), ["1".to_owned()].into());
    let matrix = shown(&["--job", "test"]);
    let jobs = names(&matrix, "job_name");
    assert!(
        jobs.len() >= 2 && jobs.iter().all(|j| j.starts_with("test (")),
        "{jobs:?}"
    );

    // So do `new` …
    let failed = all
        .iter()
        .find(|h| h["job_conclusion"] == "failure" && value_of(h, "job_name").starts_with("test ("))
        .expect("a failed matrix job");
    let output = env.run(&[
        "new",
        &value_of(failed, "run_id"),
        "--job",
        "test",
        "--json",
    ]);
    assert_ne!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let jobs = names(&json_lines(&output), "job_name");
    assert!(jobs.iter().all(|j| j.starts_with("test (")), "{jobs:?}");

    // … and `errors`.
    let output = env.run(&["errors", "--job", "test", "--json", "-n", "1000"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    for group in json_lines(&output) {
        for job in group["jobs"].as_array().unwrap() {
            assert!(job.as_str().unwrap().starts_with("test ("), "{group}");
        }
    }
}

#[test]
fn sha_prefixes_match_as_pasted() {
    let env = Env::start(6, |_| ());
    env.sync();
    let all = hits(&env, &[""]);
    let sha = value_of(&all[0], "head_sha");
    let same = places(all.iter().filter(|h| value_of(h, "head_sha") == sha));
    for prefix in [&sha[..7], &sha[..12], &sha] {
        for written in [prefix.to_owned(), prefix.to_uppercase()] {
            let query = format!("sha:{written}");
            assert_eq!(places(&hits(&env, &[&query])), same, "{query}");
        }
    }
    let stderr = refused(&env, &["search", "sha:g00d"]);
    assert!(stderr.contains("`g00d`"), "{stderr}");
}

#[test]
fn dates_ages_and_time_zones_mean_the_same_everywhere() {
    let env = Env::start(16, |_| ());
    env.sync();
    let all = hits(&env, &[""]);
    let at = |h: &Value| {
        h["timestamp"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };

    // An age in the query is an age on the command line.
    let since = places(&hits(&env, &["", "--since", "5d"]));
    assert!(!since.is_empty() && since.len() < all.len());
    assert_eq!(places(&hits(&env, &["after:5d"])), since);
    assert_eq!(places(&hits(&env, &["", "--since", "120h"])), since);
    assert!(hits(&env, &["", "--since", "1min"]).len() < all.len());
    assert_eq!(places(&hits(&env, &["", "--since", "1mo"])), places(&all));

    // A day as the end of a range includes it, written any way.
    let mut days: Vec<jiff::civil::Date> = all
        .iter()
        .map(|h| jiff::tz::TimeZone::UTC.to_datetime(at(h)).date())
        .collect();
    days.sort();
    let day = days[days.len() / 2];
    let through_day = places(
        all.iter()
            .filter(|h| jiff::tz::TimeZone::UTC.to_datetime(at(h)).date() <= day),
    );
    assert!(through_day.len() < all.len());
    let day = day.to_string();
    assert_eq!(places(&hits(&env, &["", "--until", &day])), through_day);
    assert_eq!(
        places(&hits(&env, &[&format!("date:..{day}")])),
        through_day
    );
    assert_eq!(
        places(&hits(&env, &[&format!("before:{day}")])),
        through_day
    );

    // A bare day is that day in `--tz` (or LOGIDX_TZ). The zone is one that puts a hit on
    // another day than UTC does, whatever the hour the corpus was generated at: UTC+14 moves
    // every hour from 10:00 to the next day, UTC-10 every hour before 10:00 to the day before.
    let hit = &all[all.len() / 2];
    let utc = jiff::tz::TimeZone::UTC.to_datetime(at(hit));
    let zone_name = if utc.hour() >= 10 {
        "Pacific/Kiritimati"
    } else {
        "Pacific/Honolulu"
    };
    let zone = jiff::tz::TimeZone::get(zone_name).unwrap();
    let day = utc.date().to_string();
    let in_zone = places(
        all.iter()
            .filter(|h| zone.to_datetime(at(h)).date().to_string() == day),
    );
    let in_utc = places(all.iter().filter(|h| {
        jiff::tz::TimeZone::UTC
            .to_datetime(at(h))
            .date()
            .to_string()
            == day
    }));
    assert_ne!(in_zone, in_utc);
    let query = format!("date:{day}");
    assert_eq!(places(&hits(&env, &[&query])), in_utc);
    assert_eq!(places(&hits(&env, &["--tz", zone_name, &query])), in_zone);
    let output = env
        .logidx()
        .args(["search", "--json", "-n", "1000000", &query])
        .env("LOGIDX_TZ", zone_name)
        .output()
        .unwrap();
    assert_eq!(places(&json_lines(&output)), in_zone);
    // … and times print in it, except in JSON.
    let output = env.run(&["search", "--tz", "Asia/Tokyo", "error", "-n", "1"]);
    assert!(
        text(&output.stdout).contains("JST"),
        "{}",
        text(&output.stdout)
    );
    let output = env.run(&["search", "error", "-n", "1"]);
    assert!(
        text(&output.stdout).contains("UTC"),
        "{}",
        text(&output.stdout)
    );
    assert!(
        hits(&env, &["--tz", "Asia/Tokyo", "error"])
            .iter()
            .all(|h| h["timestamp"].as_str().unwrap().ends_with('Z'))
    );

    // Nonsense is refused, naming it.
    for (args, says) in [
        (
            &["search", "date:2026-11-20..2026-11-10"][..],
            "`2026-11-20..2026-11-10`",
        ),
        (
            &[
                "search",
                "x",
                "--since",
                "2026-11-20",
                "--until",
                "2026-11-10",
            ],
            "--since",
        ),
        (
            &["errors", "--since", "2026-11-20", "--until", "2026-11-10"],
            "--since",
        ),
        (
            &[
                "sync",
                "acme/widgets",
                "--since",
                "2026-11-20",
                "--until",
                "2026-11-10",
            ],
            "--since",
        ),
        (&["search", "x", "--since", "1m"], "1min"),
        (&["search", "after:1m"], "1mo"),
        (&["flaky", "--since", "3m"], "`3min`"),
        (&["prune", "--older-than", "3m"], "`3mo`"),
        (&["search", "x", "--tz", "Mars/Olympus"], "`Mars/Olympus`"),
    ] {
        let stderr = refused(&env, args);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
