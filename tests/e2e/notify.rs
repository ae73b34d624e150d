//! `--notify`: webhook messages for new failures on the default branch, against fakehub's
//! planted failures and a receiver on loopback that records what it is sent.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use fakehub::{Conclusion, Status};

use crate::env::{Env, text};

/// A webhook receiver on loopback: answers each request with the status `answer` gives for
/// its number (from 0), and records every body with what it answered.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<(serde_json::Value, u16)>>>,
}

impl Receiver {
    fn start(answer: impl Fn(usize) -> u16 + Send + 'static) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // The query string is the kind of secret a webhook URL carries.
        let url = format!(
            "http://{}/hooks/T0/B0?token=s3cret",
            listener.local_addr().unwrap()
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let status = answer(n);
                if let Some(body) = serve(stream, status) {
                    log.lock().unwrap().push((body, status));
                }
            }
        });
        Receiver { url, received }
    }

    /// The bodies it answered with 200, in order.
    fn delivered(&self) -> Vec<serde_json::Value> {
        let received = self.received.lock().unwrap();
        received
            .iter()
            .filter(|(_, status)| *status == 200)
            .map(|(body, _)| body.clone())
            .collect()
    }

    fn requests(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

/// Reads one HTTP/1.1 request and answers `status`, closing the connection.
fn serve(stream: TcpStream, status: u16) -> Option<serde_json::Value> {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    assert!(
        first.starts_with("POST /hooks/T0/B0?token=s3cret "),
        "{first}"
    );
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut stream = reader.into_inner();
    let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    stream.write_all(reply.as_bytes()).ok()?;
    serde_json::from_slice(&body).ok()
}

/// fakehub's `acme/widgets` with failures on `main`.
fn env() -> Env {
    Env::start(40, |c| c.in_progress = 0)
}

/// The signatures that a first sync of every run should tell: error lines of `main` whose
/// signature's first line on `main` is in a failed job, from fakehub's ground truth.
fn new_on_main(env: &Env) -> BTreeSet<String> {
    let repo = env.hub.repo("acme/widgets").unwrap();
    let mut lines = Vec::new();
    for run in repo.runs.iter().filter(|r| r.head_branch == "main") {
        for attempt in run
            .attempts
            .iter()
            .filter(|a| a.status == Status::Completed)
        {
            for job in attempt.archived_jobs() {
                let failed = job.conclusion == Some(Conclusion::Failure);
                let log = env.hub.job_log("acme/widgets", job.id).unwrap();
                for (_, line) in log.job_file_lines() {
                    let plain = line.plain_text();
                    let plain = plain.trim_start_matches('\u{feff}');
                    if let Some(signature) = logidx::index::signature(plain) {
                        lines.push((line.ticks, signature, failed));
                    }
                }
            }
        }
    }
    lines.sort();
    let mut first: BTreeMap<u64, bool> = BTreeMap::new();
    for (_, signature, failed) in lines {
        first.entry(signature).or_insert(failed);
    }
    first
        .into_iter()
        .filter(|(_, failed)| *failed)
        .map(|(signature, _)| format!("{signature:016x}"))
        .collect()
}

fn sync(env: &Env, receiver_url: &str) -> std::process::Output {
    let output = env.run(&[
        "sync",
        "acme/widgets",
        "--since",
        "30d",
        "--notify",
        receiver_url,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert!(
        !all.contains("s3cret"),
        "the webhook's secret was printed: {all}"
    );
    output
}

#[test]
fn one_message_per_new_signature_on_the_default_branch_and_none_on_a_second_sync() {
    let env = env();
    let receiver = Receiver::start(|_| 200);
    sync(&env, &receiver.url);
    let messages = receiver.delivered();
    let expected = new_on_main(&env);
    assert!(!expected.is_empty(), "fakehub planted no failure on main");

    let told: Vec<String> = messages
        .iter()
        .filter(|m| m["kind"] == "new_signature")
        .map(|m| m["signature"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(told.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(
        told.len(),
        expected.len(),
        "a signature was told twice: {told:?}"
    );
    let repo = env.hub.repo("acme/widgets").unwrap();
    let runs: BTreeMap<u64, &fakehub::Run> = repo.runs.iter().map(|r| (r.id, r)).collect();
    for message in &messages {
        assert_eq!(message["repo"], "acme/widgets");
        assert_eq!(message["branch"], "main");
        let run = runs[&message["run_id"].as_u64().unwrap()];
        assert_eq!(run.head_branch, "main");
        let attempt = &run.attempts[message["run_attempt"].as_u64().unwrap() as usize - 1];
        let job = attempt
            .jobs
            .iter()
            .find(|j| j.id == message["job_id"].as_u64().unwrap())
            .unwrap();
        assert_eq!(job.conclusion, Some(Conclusion::Failure), "{message}");
        assert_eq!(message["job_name"], job.name);
        // Slack's text says it all, with the line and its link.
        let slack = message["text"].as_str().unwrap();
        assert!(slack.starts_with("acme/widgets: "), "{slack}");
        let url = message["url"].as_str().unwrap();
        assert!(slack.ends_with(url), "{slack}");
        let job_page = format!("/acme/widgets/actions/runs/{}/job/{}", run.id, job.id);
        assert!(url.contains(&job_page), "{url}");
        if message["kind"] == "new_signature" {
            let example = message["example"].as_str().unwrap();
            let signature = logidx::index::signature(example).unwrap();
            assert_eq!(message["signature"], format!("{signature:016x}"));
        } else {
            assert_eq!(message["kind"], "started_failing");
            assert_eq!(message["started_failing"], true);
        }
    }

    // Nothing new: nothing sent, even by a new process reading what was sent.
    let before = receiver.requests();
    sync(&env, &receiver.url);
    assert_eq!(receiver.requests(), before);
    let state = std::fs::read_to_string(env.index().join("notify.json")).unwrap();
    assert!(
        !state.contains("s3cret") && !state.contains("127.0.0.1"),
        "{state}"
    );
}

#[test]
fn a_receiver_answering_500_is_retried_until_it_takes_each_message_once() {
    let env = env();
    let receiver = Receiver::start(|n| if n < 2 { 500 } else { 200 });
    let output = sync(&env, &receiver.url);
    let stderr = text(&output.stderr);
    let delivered = receiver.delivered();
    assert!(!delivered.is_empty());
    assert_eq!(receiver.requests(), delivered.len() + 2);
    let keys: BTreeSet<String> = delivered
        .iter()
        .map(|m| format!("{}{}{}", m["signature"], m["run_id"], m["job_id"]))
        .collect();
    assert_eq!(keys.len(), delivered.len(), "a message was delivered twice");
    let host = receiver.url.split('/').nth(2).unwrap();
    assert!(
        stderr.contains(&format!(
            "warning: notify http://{host}/…: HTTP 500 (retrying)"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("not delivered"), "{stderr}");
}

#[test]
fn a_receiver_that_is_down_neither_blocks_nor_fails_the_sync_and_is_told_later() {
    let env = env();
    // A port nothing listens on.
    let down = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!(
            "http://{}/hooks/T0/B0?token=s3cret",
            listener.local_addr().unwrap()
        )
    };
    let output = sync(&env, &down);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot connect (retrying)"), "{stderr}");
    assert!(
        stderr.contains("messages not delivered yet; the next sync sends them"),
        "{stderr}"
    );
    assert!(
        text(&output.stdout).contains("attempts indexed"),
        "{summary}"
    );

    // The next sync, with the receiver up, sends what the first could not.
    let receiver = Receiver::start(|_| 200);
    let output = sync(&env, &receiver.url);
    assert!(!text(&output.stderr).contains("not delivered"));
    let told: BTreeSet<String> = receiver
        .delivered()
        .iter()
        .filter(|m| m["kind"] == "new_signature")
        .map(|m| m["signature"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(told, new_on_main(&env));
}
