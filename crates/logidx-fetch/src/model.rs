//! The parts of GitHub's REST API objects logidx uses, as GitHub writes them.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// `owner/name`, validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RepoName {
    /// The owner.
    pub owner: String,
    /// The repository.
    pub name: String,
}

impl RepoName {
    /// Parses `owner/name`; the same as `text.parse()`.
    pub fn parse(text: &str) -> crate::Result<RepoName> {
        text.parse()
    }
}

impl std::str::FromStr for RepoName {
    type Err = crate::Error;

    fn from_str(text: &str) -> crate::Result<RepoName> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        match text.split_once('/') {
            Some((owner, name)) if valid(owner) && valid(name) => Ok(RepoName {
                owner: owner.to_owned(),
                name: name.to_owned(),
            }),
            _ => Err(crate::Error::BadRepoName(text.to_owned())),
        }
    }
}

impl std::fmt::Display for RepoName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A repository, as an owner's or an installation's listing gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repository {
    /// `owner/name`.
    pub name: RepoName,
    /// Archived: read-only; its runs stay.
    pub archived: bool,
    /// A fork of another repository.
    pub fork: bool,
    /// The branch pushes and pull requests go to (`main`, `master`, `trunk`, …); `None` when
    /// GitHub did not say.
    pub default_branch: Option<String>,
}

/// A repository as GitHub writes it (listed, or `GET /repos/{o}/{r}`): the parts
/// [`Repository`] keeps.
#[derive(Debug, Deserialize)]
pub(crate) struct RepositoryBody {
    pub(crate) full_name: String,
    #[serde(default)]
    pub(crate) archived: bool,
    #[serde(default)]
    pub(crate) fork: bool,
    #[serde(default)]
    pub(crate) default_branch: Option<String>,
}

/// A page of `GET /installation/repositories`.
#[derive(Debug, Deserialize)]
pub(crate) struct InstallationReposPage {
    pub(crate) repositories: Vec<RepositoryBody>,
}

/// A workflow (`GET …/actions/workflows`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    /// Its id.
    pub id: u64,
    /// Its display name (`CI`), from the file's `name:`.
    pub name: String,
    /// Its file (`.github/workflows/ci.yml`).
    pub path: String,
}

impl Workflow {
    /// The file name (`ci.yml`), which the API takes in place of the id.
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A page of `GET …/actions/workflows`.
#[derive(Debug, Deserialize)]
pub(crate) struct WorkflowsPage {
    pub(crate) workflows: Vec<Workflow>,
}

/// A user, as `actor` in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The login.
    pub login: String,
}

/// A workflow run (`GET …/actions/runs/{id}` or one attempt of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// Run id.
    pub id: u64,
    /// Workflow name.
    #[serde(default)]
    pub name: Option<String>,
    /// Workflow file path (`.github/workflows/ci.yml`).
    #[serde(default)]
    pub path: Option<String>,
    /// Per-workflow counter.
    pub run_number: u64,
    /// The attempt this object describes (the latest for a run).
    #[serde(default = "first_attempt")]
    pub run_attempt: u32,
    /// `push`, `pull_request`, …
    pub event: String,
    /// `queued`, `in_progress`, `completed`, …
    #[serde(default)]
    pub status: Option<String>,
    /// `success`, `failure`, … once completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Branch.
    #[serde(default)]
    pub head_branch: Option<String>,
    /// Commit.
    pub head_sha: String,
    /// Who triggered it.
    #[serde(default)]
    pub actor: Option<Actor>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update (for a completed run, about when it completed).
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// When this attempt started.
    #[serde(default)]
    pub run_started_at: Option<Timestamp>,
    /// Its page on the web.
    #[serde(default)]
    pub html_url: Option<String>,
    /// The commit title or PR title.
    #[serde(default)]
    pub display_title: Option<String>,
}

fn first_attempt() -> u32 {
    1
}

impl Run {
    /// Whether it has finished (only finished attempts have archives).
    pub fn is_completed(&self) -> bool {
        self.status.as_deref() == Some("completed")
    }
}

/// A job of an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Job id.
    pub id: u64,
    /// Its run.
    pub run_id: u64,
    /// The attempt it ran in (older than the listed attempt for jobs a partial re-run kept).
    #[serde(default)]
    pub run_attempt: Option<u32>,
    /// Display name.
    pub name: String,
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
    /// Conclusion once completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Start.
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    /// End.
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
    /// Its page on the web.
    #[serde(default)]
    pub html_url: Option<String>,
    /// Runner labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Runner name.
    #[serde(default)]
    pub runner_name: Option<String>,
    /// Workflow name.
    #[serde(default)]
    pub workflow_name: Option<String>,
    /// Its steps; numbers can skip.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// A step of a job. Its times are whole seconds: hints, not boundaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Its number, as the archive's step files and line links use it.
    pub number: u32,
    /// Display name.
    pub name: String,
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
    /// Conclusion once completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Start.
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    /// End.
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct RunsPage {
    pub(crate) total_count: u64,
    pub(crate) workflow_runs: Vec<Run>,
}

/// A list page's body as the `etag` cache keeps it: a runs page with only the fields [`Run`]
/// reads (a tenth of GitHub's, whose runs repeat the repository and the head commit), so that
/// the cache stays small beside the index; any other body whole.
pub(crate) fn slim_page(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match serde_json::from_slice::<RunsPage>(body).and_then(|page| serde_json::to_vec(&page)) {
        Ok(slim) if slim.len() < body.len() => slim.into(),
        _ => body.into(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct JobsPage {
    pub(crate) jobs: Vec<Job>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slim_runs_page_reads_as_the_page_it_was() {
        let body = br#"{"total_count": 2, "workflow_runs": [
            {"id": 7, "name": "CI", "run_number": 3, "run_attempt": 2, "event": "push",
             "status": "completed", "conclusion": "failure", "head_branch": "main",
             "head_sha": "abc", "actor": {"login": "octocat", "id": 1},
             "created_at": "2026-11-01T10:00:00Z", "html_url": "https://github.com/a/b",
             "repository": {"id": 1, "full_name": "a/b", "description": "long text"},
             "head_commit": {"message": "a commit message"}, "pull_requests": []},
            {"id": 8, "run_number": 4, "event": "pull_request", "head_sha": "def",
             "created_at": "2026-11-02T10:00:00Z"}]}"#;
        let slim = slim_page(body);
        assert!(slim.len() < body.len());
        let text = String::from_utf8_lossy(&slim);
        for unread in ["repository", "head_commit", "pull_requests", "\"id\":1"] {
            assert!(!text.contains(unread), "{unread} in {text}");
        }
        let (was, is): (RunsPage, RunsPage) = (
            serde_json::from_slice(body).unwrap(),
            serde_json::from_slice(&slim).unwrap(),
        );
        assert_eq!(is.total_count, was.total_count);
        assert_eq!(is.workflow_runs, was.workflow_runs);
        // Not a runs page: kept whole.
        assert_eq!(&*slim_page(b"{\"jobs\": []}"), b"{\"jobs\": []}");
    }

    #[test]
    fn repo_names_are_validated() {
        assert_eq!(
            RepoName::parse("acme/widgets").unwrap().to_string(),
            "acme/widgets"
        );
        for bad in ["acme", "acme/", "/w", "a/b/c", "a b/c", ""] {
            assert!(RepoName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn step_times_parse_in_both_documented_shapes() {
        let step: Step = serde_json::from_str(
            r#"{"name":"Set up job","status":"completed","conclusion":"success","number":1,
               "started_at":"2020-01-20T09:42:40.000-08:00","completed_at":"2020-01-20T17:42:41Z"}"#,
        )
        .unwrap();
        assert_eq!(
            step.started_at.unwrap().as_second() + 1,
            step.completed_at.unwrap().as_second()
        );
    }
}
