//! API bodies, field for field as GitHub's REST API writes them (its docs' example responses,
//! `docs/github.md` section 1). Every URL inside points back at fakehub.

use serde_json::{Value, json};

use crate::model::{Attempt, Job, Repo, Run, Step, Workflow};
use crate::time::{api_time, api_time_with_offset};

/// Where bodies point: fakehub's API and the configured web host.
pub(crate) struct Urls<'a> {
    pub(crate) api: &'a str,
    pub(crate) web: &'a str,
}

fn user(urls: &Urls<'_>, login: &str) -> Value {
    let api = urls.api;
    json!({
        "login": login,
        "id": crate::rng::hash_bytes(login.as_bytes()) % 100_000_000,
        "node_id": "MDQ6VXNlcjE=",
        "avatar_url": format!("{}/images/error/{login}_happy.gif", urls.web),
        "gravatar_id": "",
        "url": format!("{api}/users/{login}"),
        "html_url": format!("{}/{login}", urls.web),
        "followers_url": format!("{api}/users/{login}/followers"),
        "following_url": format!("{api}/users/{login}/following{{/other_user}}"),
        "gists_url": format!("{api}/users/{login}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/users/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/users/{login}/subscriptions"),
        "organizations_url": format!("{api}/users/{login}/orgs"),
        "repos_url": format!("{api}/users/{login}/repos"),
        "events_url": format!("{api}/users/{login}/events{{/privacy}}"),
        "received_events_url": format!("{api}/users/{login}/received_events"),
        "type": if login.ends_with("[bot]") { "Bot" } else { "User" },
        "site_admin": false
    })
}

/// The repository object, as in `GET /repos/{owner}/{repo}` and inside runs.
pub(crate) fn repository(urls: &Urls<'_>, repo: &Repo) -> Value {
    let full = repo.full_name();
    let base = format!("{}/repos/{full}", urls.api);
    let mut value = json!({
        "id": repo.id,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": repo.name,
        "full_name": full,
        "owner": user(urls, &repo.owner),
        "private": false,
        "html_url": format!("{}/{full}", urls.web),
        "description": "A repository simulated by fakehub",
        "fork": repo.fork,
        "archived": repo.archived,
        "disabled": false,
        "visibility": "public",
        "url": base,
        "default_branch": repo.default_branch,
    });
    let templated = [
        ("archive_url", "{archive_format}{/ref}"),
        ("assignees_url", "assignees{/user}"),
        ("blobs_url", "git/blobs{/sha}"),
        ("branches_url", "branches{/branch}"),
        ("collaborators_url", "collaborators{/collaborator}"),
        ("comments_url", "comments{/number}"),
        ("commits_url", "commits{/sha}"),
        ("compare_url", "compare/{base}...{head}"),
        ("contents_url", "contents/{+path}"),
        ("contributors_url", "contributors"),
        ("deployments_url", "deployments"),
        ("downloads_url", "downloads"),
        ("events_url", "events"),
        ("forks_url", "forks"),
        ("git_commits_url", "git/commits{/sha}"),
        ("git_refs_url", "git/refs{/sha}"),
        ("git_tags_url", "git/tags{/sha}"),
        ("issue_comment_url", "issues/comments{/number}"),
        ("issue_events_url", "issues/events{/number}"),
        ("issues_url", "issues{/number}"),
        ("keys_url", "keys{/key_id}"),
        ("labels_url", "labels{/name}"),
        ("languages_url", "languages"),
        ("merges_url", "merges"),
        ("milestones_url", "milestones{/number}"),
        (
            "notifications_url",
            "notifications{?since,all,participating}",
        ),
        ("pulls_url", "pulls{/number}"),
        ("releases_url", "releases{/id}"),
        ("stargazers_url", "stargazers"),
        ("statuses_url", "statuses/{sha}"),
        ("subscribers_url", "subscribers"),
        ("subscription_url", "subscription"),
        ("tags_url", "tags"),
        ("teams_url", "teams"),
        ("trees_url", "git/trees{/sha}"),
        ("hooks_url", "hooks"),
    ];
    let object = value.as_object_mut().expect("built as an object");
    for (field, suffix) in templated {
        let sep = if suffix.starts_with('{') { "" } else { "/" };
        object.insert(field.to_owned(), json!(format!("{base}{sep}{suffix}")));
    }
    object.insert(
        "git_url".into(),
        json!(format!(
            "git:{}/{full}.git",
            urls.web.trim_start_matches("https:")
        )),
    );
    object.insert(
        "ssh_url".into(),
        json!(format!("git@github.com:{full}.git")),
    );
    value
}

/// A workflow object.
pub(crate) fn workflow(urls: &Urls<'_>, repo: &Repo, wf: &Workflow) -> Value {
    let full = repo.full_name();
    json!({
        "id": wf.id,
        "node_id": "MDg6V29ya2Zsb3cxNjEzMzU=",
        "name": wf.name,
        "path": wf.path,
        "state": "active",
        "created_at": "2020-01-08T23:48:37.000-08:00",
        "updated_at": "2020-01-08T23:50:21.000-08:00",
        "url": format!("{}/repos/{full}/actions/workflows/{}", urls.api, wf.id),
        "html_url": format!("{}/{full}/blob/main/{}", urls.web, wf.path),
        "badge_url": format!("{}/{full}/workflows/{}/badge.svg", urls.web, wf.name),
    })
}

/// A workflow run as one attempt of it shows it (the latest, for `GET …/runs/{id}`).
pub(crate) fn run(urls: &Urls<'_>, repo: &Repo, run: &Run, attempt: &Attempt) -> Value {
    let full = repo.full_name();
    let wf = &repo.workflows[run.workflow];
    let base = format!("{}/repos/{full}/actions/runs/{}", urls.api, run.id);
    let updated = attempt.completed_at.unwrap_or(attempt.started_at);
    let previous = (attempt.number > 1).then(|| format!("{base}/attempts/{}", attempt.number - 1));
    json!({
        "id": run.id,
        "name": wf.name,
        "node_id": "MDEyOldvcmtmbG93IFJ1bjI2OTI4OQ==",
        "check_suite_id": run.id + 1,
        "check_suite_node_id": "MDEwOkNoZWNrU3VpdGU0Mg==",
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": wf.path,
        "run_number": run.run_number,
        "event": run.event,
        "display_title": run.title,
        "status": attempt.status.as_str(),
        "conclusion": attempt.conclusion.map(|c| c.as_str()),
        "workflow_id": wf.id,
        "url": base,
        "html_url": format!("{}/{full}/actions/runs/{}", urls.web, run.id),
        "pull_requests": [],
        "created_at": api_time(run.created_at),
        "updated_at": api_time(updated),
        "actor": user(urls, &run.actor),
        "run_attempt": attempt.number,
        "referenced_workflows": [],
        "run_started_at": api_time(attempt.started_at),
        "triggering_actor": user(urls, &run.actor),
        "jobs_url": format!("{base}/jobs"),
        "logs_url": format!("{base}/logs"),
        "check_suite_url": format!("{}/repos/{full}/check-suites/{}", urls.api, run.id + 1),
        "artifacts_url": format!("{base}/artifacts"),
        "cancel_url": format!("{base}/cancel"),
        "rerun_url": format!("{base}/rerun"),
        "previous_attempt_url": previous,
        "workflow_url": format!("{}/repos/{full}/actions/workflows/{}", urls.api, wf.id),
        "head_commit": {
            "id": run.head_sha,
            "tree_id": format!("{:040x}", u128::from(crate::rng::hash_bytes(run.head_sha.as_bytes()))),
            "message": run.title,
            "timestamp": api_time(run.created_at - 60),
            "author": { "name": "Octo Cat", "email": "octocat@github.com" },
            "committer": { "name": "GitHub", "email": "noreply@github.com" }
        },
        "repository": repository(urls, repo),
        "head_repository": repository(urls, repo),
    })
}

/// A job object.
pub(crate) fn job(urls: &Urls<'_>, repo: &Repo, run: &Run, job: &Job) -> Value {
    let full = repo.full_name();
    let wf = &repo.workflows[run.workflow];
    let steps: Vec<Value> = job
        .steps
        .iter()
        .map(|s| step(s, job.offset_times))
        .collect();
    let labels = if job.name.contains("macos") {
        vec!["macos-14"]
    } else {
        vec!["ubuntu-24.04"]
    };
    json!({
        "id": job.id,
        "run_id": run.id,
        "workflow_name": wf.name,
        "head_branch": run.head_branch,
        "run_url": format!("{}/repos/{full}/actions/runs/{}", urls.api, run.id),
        "run_attempt": job.run_attempt,
        "node_id": "MDg6Q2hlY2tSdW40",
        "head_sha": run.head_sha,
        "url": format!("{}/repos/{full}/actions/jobs/{}", urls.api, job.id),
        "html_url": format!("{}/{full}/actions/runs/{}/job/{}", urls.web, run.id, job.id),
        "status": job.status.as_str(),
        "conclusion": job.conclusion.map(|c| c.as_str()),
        "created_at": api_time(job.started_at - 2),
        "started_at": api_time(job.started_at),
        "completed_at": job.completed_at.map(api_time),
        "name": job.name,
        "steps": steps,
        "check_run_url": format!("{}/repos/{full}/check-runs/{}", urls.api, job.id),
        "labels": labels,
        "runner_id": job.id % 100,
        "runner_name": job.runner_name,
        "runner_group_id": 2,
        "runner_group_name": "GitHub Actions",
    })
}

fn step(step: &Step, offset_times: bool) -> Value {
    let time = |t: i64| {
        if offset_times {
            api_time_with_offset(t, -8)
        } else {
            api_time(t)
        }
    };
    json!({
        "name": step.name,
        "status": step.status.as_str(),
        "conclusion": step.conclusion.map(|c| c.as_str()),
        "number": step.number,
        "started_at": step.started_at.map(time),
        "completed_at": step.completed_at.map(time),
    })
}

/// An error body: `{"message", "documentation_url", "status"}`.
pub(crate) fn error(message: &str, status: u16) -> Value {
    json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.to_string(),
    })
}
