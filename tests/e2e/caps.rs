//! The caps on what an archive may inflate to: a refusal names the run, the attempt, the
//! entry, the cap and the flag that raises it; raised, the same attempts are indexed.

use crate::env::{Env, text};

fn summary_of(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stderr)))
}

#[test]
fn an_entry_or_archive_over_its_cap_fails_naming_it_and_the_flag_and_a_larger_cap_indexes_it() {
    let env = Env::start(3, |_| ());
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", "acme/widgets", "--since", "30d", "--json"];
        args.extend(extra);
        env.run(&args)
    };
    let cases = [
        (
            ["--max-entry-size", "1KiB"],
            "over the entry cap of `1 KiB`",
            "`sync --max-entry-size`",
        ),
        (
            ["--max-archive-size", "2KiB"],
            "inflates past the archive cap of `2 KiB` at entry `",
            "`sync --max-archive-size`",
        ),
    ];
    for (flag, refusal, hint) in cases {
        let output = sync(&flag);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
        let summary = summary_of(&output);
        assert_eq!(summary["attempts_indexed"], 0, "{summary}");
        let failures = summary["failures"].as_array().unwrap();
        assert!(!failures.is_empty(), "{summary}");
        for failure in failures {
            let (run, attempt) = (&failure["run_id"], &failure["attempt"]);
            let error = failure["error"].as_str().unwrap();
            assert!(
                error.contains(&format!("run `{run}` attempt `{attempt}`")),
                "{error}"
            );
            assert!(error.contains("entry `"), "{error}");
            assert!(error.contains(refusal), "{error}");
            assert!(error.contains(hint), "{error}");
        }
    }

    // With the default caps, the attempts refused are fetched again and indexed.
    let output = sync(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary = summary_of(&output);
    assert_eq!(summary["failures"], serde_json::json!([]), "{summary}");
    assert!(
        summary["attempts_indexed"].as_u64().unwrap() > 0,
        "{summary}"
    );
}

#[test]
fn a_cap_that_is_not_a_size_is_refused_naming_the_flag() {
    let env = Env::start(1, |_| ());
    let output = env.run(&["sync", "acme/widgets", "--max-entry-size", "8 parsecs"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--max-entry-size"), "{stderr}");
    assert!(stderr.contains("unknown unit `parsecs`"), "{stderr}");
}
