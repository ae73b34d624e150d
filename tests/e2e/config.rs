//! The configuration file: its values under the flags and the environment, `config show` and
//! `config path`, and the files refused (unknown keys, secrets, bad values) with their line.

use std::path::Path;

use crate::env::{Env, json_lines, text};

/// `config show --json`'s object for `key`.
fn shown(output: &std::process::Output, key: &str) -> serde_json::Value {
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    json_lines(output)
        .into_iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no `{key}` in {}", text(&output.stdout)))
}

/// Whether a sync made an index in `dir`.
fn has_index(dir: &Path) -> bool {
    dir.join("steps").is_dir()
}

#[test]
fn flags_beat_the_environment_which_beats_the_file_which_beats_defaults() {
    let env = Env::start(3, |_| {});
    let root = env.dir.path();
    let config = root.join("etc/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    // A relative path is the file's directory's.
    std::fs::write(
        &config,
        "index = \"from-file\"\n\n[sync]\nrepos = [\"acme/widgets\"]\njobs = 2\n",
    )
    .unwrap();
    let logidx = || {
        let mut command = env.logidx();
        command
            .env_remove("LOGIDX_INDEX")
            .arg("--config")
            .arg(&config);
        command
    };
    let (from_file, from_env, from_flag) = (
        root.join("etc/from-file"),
        root.join("from-env"),
        root.join("from-flag"),
    );

    // The file names what to sync and where: `sync` needs no argument.
    let output = logidx().args(["sync", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        summary["attempts_indexed"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert!(has_index(&from_file));
    let show = logidx()
        .args(["config", "show", "--json"])
        .output()
        .unwrap();
    let index = shown(&show, "index");
    assert_eq!(index["source"], "file");
    assert_eq!(index["from"], format!("{}:1", config.display()));
    assert_eq!(index["values"][0], from_file.display().to_string());
    let jobs = shown(&show, "sync.jobs");
    assert_eq!(
        (&jobs["source"], &jobs["values"][0]),
        (&"file".into(), &"2".into())
    );
    assert_eq!(jobs["from"], format!("{}:5", config.display()));
    let tz = shown(&show, "tz");
    assert_eq!(
        (&tz["source"], &tz["values"][0]),
        (&"default".into(), &"UTC".into())
    );
    let path = shown(&show, "config");
    assert_eq!(
        (&path["source"], &path["from"]),
        (&"flag".into(), &"--config".into())
    );
    // The token is said to be set, never shown.
    let token = shown(&show, "token");
    assert_eq!(
        (&token["source"], &token["from"]),
        (&"env".into(), &"GH_TOKEN".into())
    );
    assert!(!text(&show.stdout).contains(env.hub.token()));

    // The environment over the file.
    let output = logidx()
        .env("LOGIDX_INDEX", &from_env)
        .env("LOGIDX_TZ", "Europe/Berlin")
        .args(["sync", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(has_index(&from_env));
    let show = logidx()
        .env("LOGIDX_INDEX", &from_env)
        .env("LOGIDX_TZ", "Europe/Berlin")
        .args(["config", "show", "--json"])
        .output()
        .unwrap();
    let index = shown(&show, "index");
    assert_eq!(
        (&index["source"], &index["from"]),
        (&"env".into(), &"LOGIDX_INDEX".into())
    );
    assert_eq!(index["values"][0], from_env.display().to_string());
    assert_eq!(shown(&show, "tz")["source"], "env");

    // A flag over both; the command line's repositories over the file's.
    let output = logidx()
        .env("LOGIDX_INDEX", &from_env)
        .args(["--index"])
        .arg(&from_flag)
        .args(["sync", "acme/widgets", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(has_index(&from_flag));
    let show = logidx()
        .env("LOGIDX_INDEX", &from_env)
        .arg("--index")
        .arg(&from_flag)
        .args(["config", "show", "--json"])
        .output()
        .unwrap();
    let index = shown(&show, "index");
    assert_eq!(
        (&index["source"], &index["from"]),
        (&"flag".into(), &"--index".into())
    );

    // Without the file, the defaults: sync needs its repositories again.
    let output = env.logidx().args(["sync", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("OWNER[/REPO]"),
        "{}",
        text(&output.stderr)
    );
    let show = env.run(&["config", "show", "--json"]);
    assert_eq!(shown(&show, "sync.jobs")["source"], "default");
    assert_eq!(shown(&show, "sync.jobs")["values"][0], "4");
}

#[test]
fn config_show_reads_as_a_table_and_hides_webhook_secrets() {
    let env = Env::start(1, |_| {});
    let config = env.dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[sync]\nnotify = [\"https://hooks.example.com/services/T0/B0/s3cret?k=s3cret\"]\n",
    )
    .unwrap();
    let output = env
        .logidx()
        .env("LOGIDX_CONFIG", &config)
        .args(["config", "show"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(!out.contains("s3cret"), "{out}");
    let line = |key: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no `{key}` in {out}"))
            .to_owned()
    };
    assert!(
        line("sync.notify").contains("https://hooks.example.com/…"),
        "{out}"
    );
    assert!(
        line("sync.notify").ends_with(&format!("(file {}:2)", config.display())),
        "{out}"
    );
    assert!(line("config").ends_with("(env LOGIDX_CONFIG)"), "{out}");
    assert!(line("index").ends_with("(env LOGIDX_INDEX)"), "{out}");
    // Nor in --help, which shows defaults and the environment's values.
    let help = env
        .logidx()
        .env("LOGIDX_CONFIG", &config)
        .env("LOGIDX_NOTIFY", "https://hooks.example.com/x?k=s3cret")
        .args(["sync", "--help"])
        .output()
        .unwrap();
    assert!(
        !text(&help.stdout).contains("s3cret"),
        "{}",
        text(&help.stdout)
    );
}

#[test]
fn config_path_is_the_flag_the_environment_or_the_xdg_default() {
    let env = Env::start(1, |_| {});
    let path = |command: &mut std::process::Command| {
        let output = command.args(["config", "path"]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        text(&output.stdout).trim_end().to_owned()
    };
    let home = env.dir.path();
    assert_eq!(
        path(&mut env.logidx()),
        home.join(".config/logidx/config.toml")
            .display()
            .to_string()
    );
    assert_eq!(
        path(env.logidx().env("XDG_CONFIG_HOME", "/etc/xdg")),
        "/etc/xdg/logidx/config.toml"
    );
    assert_eq!(
        path(env.logidx().env("LOGIDX_CONFIG", "/srv/a.toml")),
        "/srv/a.toml"
    );
    assert_eq!(
        path(
            env.logidx()
                .env("LOGIDX_CONFIG", "/srv/a.toml")
                .args(["--config", "/srv/b.toml"])
        ),
        "/srv/b.toml"
    );
    // The default file is read when it is there.
    let default = home.join(".config/logidx/config.toml");
    std::fs::create_dir_all(default.parent().unwrap()).unwrap();
    std::fs::write(&default, "tz = \"Asia/Tokyo\"\n").unwrap();
    let show = env.run(&["config", "show", "--json"]);
    let tz = shown(&show, "tz");
    assert_eq!(tz["values"][0], "Asia/Tokyo");
    assert_eq!(tz["from"], format!("{}:1", default.display()));
}

#[test]
fn bad_files_are_errors_naming_the_file_the_line_and_what_to_do() {
    let env = Env::start(1, |_| {});
    let config = env.dir.path().join("config.toml");
    let cases: &[(&str, &[&str])] = &[
        // An unknown key, named with its line.
        (
            "index = \"x\"\n\n[sync]\njobz = 3\n",
            &["line 4", "unknown field `jobz`"],
        ),
        // A value the flag would refuse.
        (
            "[sync]\njobs = 40\n",
            &["line 2", "invalid `sync.jobs`", "40 is not in 1..=32"],
        ),
        (
            "tz = \"Mars/Olympus\"\n",
            &["line 1", "invalid `tz`", "Mars/Olympus"],
        ),
        // Secrets: never read, and never echoed.
        (
            "api_url = \"http://x\"\ntoken = \"ghp_s3cret\"\n",
            &[
                "line 2",
                "`token` is a secret",
                "hint: remove it and set GH_TOKEN",
            ],
        ),
        (
            "[app]\nid = 3\nkey = \"-----BEGIN RSA PRIVATE KEY-----s3cret\"\n",
            &[
                "line 3",
                "`app.key` is a secret",
                "hint: write the App's private key to a PEM file",
            ],
        ),
        ("[sync\n", &["line 1"]),
    ];
    for (file, expected) in cases {
        std::fs::write(&config, file).unwrap();
        let output = env
            .logidx()
            .arg("--config")
            .arg(&config)
            .arg("stats")
            .output()
            .unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(&format!("config file `{}`", config.display())),
            "{file}: {stderr}"
        );
        for part in *expected {
            assert!(stderr.contains(part), "{file}: no `{part}` in {stderr}");
        }
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
    // A file named but missing.
    let output = env
        .logidx()
        .args(["--config", "/nonexistent/logidx.toml", "stats"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("config file `/nonexistent/logidx.toml` not found"),
        "{}",
        text(&output.stderr)
    );
}
