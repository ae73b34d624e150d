//! logidx-urls: every GitHub URL logidx builds, in one place, each path segment escaped.
//!
//! An [`ApiBase`] is where the REST API lives (`https://api.github.com`, or
//! `https://HOST/api/v3` for GitHub Enterprise Server); it builds the endpoint URLs the client
//! requests. [`web_base`] is the matching web host, and [`run_url`], [`attempt_url`],
//! [`job_url`] and [`line_url`] link to a run's pages on it.
//!
//! ```
//! use logidx_urls::{ApiBase, LinePlace, line_url, web_base};
//!
//! let api = ApiBase::for_host("ghe.example.com");
//! assert_eq!(api.as_str(), "https://ghe.example.com/api/v3");
//! assert_eq!(
//!     api.workflow_runs("acme", "widgets", "a b#c.yml").as_str(),
//!     "https://ghe.example.com/api/v3/repos/acme/widgets/actions/workflows/a%20b%23c.yml/runs",
//! );
//! let web = web_base(api.as_str());
//! let place = LinePlace { repo: "acme/widgets", run_id: 7, run_attempt: 1, job_id: 9, step_number: 3, line_number: 12 };
//! assert_eq!(line_url(&web, &place), "https://ghe.example.com/acme/widgets/actions/runs/7/job/9#step:3:12");
//! ```

#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

pub use url::Url;

/// The public GitHub API.
pub const GITHUB_API: &str = "https://api.github.com";

/// The host `gh` calls the public GitHub.
const GITHUB_HOST: &str = "github.com";

/// Where the REST API lives. Parsed once; every endpoint is built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase {
    url: Url,
    /// The URL as given, without a trailing `/`, as [`ApiBase::as_str`] shows it.
    text: String,
}

/// A text that is not an `http(s)` URL, given as an API base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotHttpUrl(pub String);

impl fmt::Display for NotHttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not an http(s) URL", self.0)
    }
}

impl std::error::Error for NotHttpUrl {}

impl FromStr for ApiBase {
    type Err = NotHttpUrl;

    fn from_str(text: &str) -> Result<ApiBase, NotHttpUrl> {
        let text = text.trim_end_matches('/');
        match Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && !url.cannot_be_a_base() => {
                Ok(ApiBase {
                    url,
                    text: text.to_owned(),
                })
            }
            _ => Err(NotHttpUrl(text.to_owned())),
        }
    }
}

impl Default for ApiBase {
    fn default() -> ApiBase {
        GITHUB_API.parse().expect("the public API base is a URL")
    }
}

impl fmt::Display for ApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl ApiBase {
    /// The API of a host as `gh` names hosts (`GH_HOST`): `github.com` is
    /// `https://api.github.com`, any other a GitHub Enterprise Server at `https://HOST/api/v3`.
    pub fn for_host(host: &str) -> ApiBase {
        if host.eq_ignore_ascii_case(GITHUB_HOST) {
            return ApiBase::default();
        }
        format!("https://{host}/api/v3").parse().unwrap_or_default()
    }

    /// The URL as given, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The host whose token goes with this API, as `gh` names hosts: `github.com` for
    /// `api.github.com`, else the URL's host (and port).
    pub fn token_host(&self) -> String {
        let host = self.url.host_str().unwrap_or_default().to_ascii_lowercase();
        match (host.as_str(), self.url.port()) {
            ("api.github.com", _) => GITHUB_HOST.to_owned(),
            (_, Some(port)) => format!("{host}:{port}"),
            (_, None) => host,
        }
    }

    /// `…/repos/{owner}/{name}`: a repository, with its `default_branch`.
    pub fn repo(&self, owner: &str, name: &str) -> Url {
        self.repo_endpoint(owner, name, &[])
    }

    /// `…/repos/{owner}/{name}/actions/runs`: a repository's runs.
    pub fn runs(&self, owner: &str, name: &str) -> Url {
        self.repo_endpoint(owner, name, &["actions", "runs"])
    }

    /// `…/repos/{owner}/{name}/actions/workflows`: a repository's workflows.
    pub fn workflows(&self, owner: &str, name: &str) -> Url {
        self.repo_endpoint(owner, name, &["actions", "workflows"])
    }

    /// `…/repos/{owner}/{name}/actions/workflows/{workflow}/runs`: one workflow's runs, by
    /// file name or id.
    pub fn workflow_runs(&self, owner: &str, name: &str, workflow: &str) -> Url {
        self.repo_endpoint(owner, name, &["actions", "workflows", workflow, "runs"])
    }

    /// `…/actions/runs/{run_id}`: a run (its latest attempt).
    pub fn run(&self, owner: &str, name: &str, run_id: u64) -> Url {
        self.repo_endpoint(owner, name, &["actions", "runs", &run_id.to_string()])
    }

    /// `…/actions/runs/{run_id}/jobs`: the jobs of the run's latest attempt, or with
    /// `filter=all` of every attempt.
    pub fn run_jobs(&self, owner: &str, name: &str, run_id: u64) -> Url {
        self.repo_endpoint(
            owner,
            name,
            &["actions", "runs", &run_id.to_string(), "jobs"],
        )
    }

    /// `…/actions/runs/{run_id}/attempts/{attempt}`, then `rest` (`jobs`, `logs`, or nothing).
    pub fn attempt(
        &self,
        owner: &str,
        name: &str,
        run_id: u64,
        attempt: u32,
        rest: &[&str],
    ) -> Url {
        let (run_id, attempt) = (run_id.to_string(), attempt.to_string());
        let path = ["actions", "runs", &run_id, "attempts", &attempt];
        self.repo_endpoint(owner, name, &[&path[..], rest].concat())
    }

    /// `…/orgs/{org}/repos`: an organisation's repositories.
    pub fn org_repos(&self, org: &str) -> Url {
        self.endpoint(&["orgs", org, "repos"])
    }

    /// `…/users/{user}/repos`: a user's repositories (an organisation's too).
    pub fn user_repos(&self, user: &str) -> Url {
        self.endpoint(&["users", user, "repos"])
    }

    /// `…/installation/repositories`: the repositories of the App installation whose token
    /// asks.
    pub fn installation_repositories(&self) -> Url {
        self.endpoint(&["installation", "repositories"])
    }

    /// `…/repos/{owner}/{name}/installation`: the App's installation on a repository.
    pub fn repo_installation(&self, owner: &str, name: &str) -> Url {
        self.repo_endpoint(owner, name, &["installation"])
    }

    /// `…/orgs/{org}/installation`: the App's installation on an organisation.
    pub fn org_installation(&self, org: &str) -> Url {
        self.endpoint(&["orgs", org, "installation"])
    }

    /// `…/users/{user}/installation`: the App's installation on a user.
    pub fn user_installation(&self, user: &str) -> Url {
        self.endpoint(&["users", user, "installation"])
    }

    /// `…/app/installations/{id}/access_tokens`: where an App's JWT becomes an installation
    /// token.
    pub fn installation_access_tokens(&self, installation: u64) -> Url {
        let id = installation.to_string();
        self.endpoint(&["app", "installations", &id, "access_tokens"])
    }

    /// `…/repos/{owner}/{name}/actions/jobs/{job_id}/logs`: one job's plain-text log, served
    /// as soon as the job completes, also while its run goes on.
    pub fn job_logs(&self, owner: &str, name: &str, job_id: u64) -> Url {
        let job_id = job_id.to_string();
        self.repo_endpoint(owner, name, &["actions", "jobs", &job_id, "logs"])
    }

    /// `…/repos/{owner}/{name}/{path…}`, each segment escaped.
    fn repo_endpoint(&self, owner: &str, name: &str, path: &[&str]) -> Url {
        self.endpoint(&[&["repos", owner, name][..], path].concat())
    }

    /// `…/{path…}`, each segment escaped.
    fn endpoint(&self, path: &[&str]) -> Url {
        let mut url = self.url.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has a path")
            .pop_if_empty()
            .extend(path);
        url
    }
}

/// The web host for an API base: `https://api.github.com` → `https://github.com`, GitHub
/// Enterprise Server's `https://HOST/api/v3` → `https://HOST`; any other base is its own
/// (fakehub serves both from one address).
pub fn web_base(api_base: &str) -> String {
    let base = api_base.trim_end_matches('/');
    if let Some(host) = base.strip_suffix("/api/v3") {
        return host.to_owned();
    }
    match base.split_once("://api.") {
        Some((scheme, host)) => format!("{scheme}://{host}"),
        None => base.to_owned(),
    }
}

/// A run's page: `{web_base}/{repo}/actions/runs/{run_id}`.
pub fn run_url(web_base: &str, repo: &str, run_id: u64) -> String {
    page(web_base, repo, run_id, &[], None)
}

/// An attempt's page: `…/actions/runs/{run_id}/attempts/{attempt}`.
pub fn attempt_url(web_base: &str, repo: &str, run_id: u64, attempt: u32) -> String {
    page(
        web_base,
        repo,
        run_id,
        &["attempts", &attempt.to_string()],
        None,
    )
}

/// A job's page: `…/actions/runs/{run_id}/job/{job_id}`.
pub fn job_url(web_base: &str, repo: &str, run_id: u64, job_id: u64) -> String {
    page(web_base, repo, run_id, &["job", &job_id.to_string()], None)
}

/// Where a line is: its run, attempt, job and step, as the index keeps them (job id 0 for a
/// file that matches no job, step number 0 for lines outside steps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinePlace<'a> {
    /// `owner/name`.
    pub repo: &'a str,
    /// The run.
    pub run_id: u64,
    /// The attempt.
    pub run_attempt: u32,
    /// The job, or 0.
    pub job_id: u64,
    /// The step, or 0.
    pub step_number: u32,
    /// The line, from 1 in its step.
    pub line_number: u32,
}

/// The web page of a line: its step's line anchor (`…/job/{job}#step:{n}:{line}`); the job's
/// page for lines outside steps; the attempt's page for a file that matches no job.
pub fn line_url(web_base: &str, place: &LinePlace<'_>) -> String {
    let (repo, run) = (place.repo, place.run_id);
    match (place.job_id, place.step_number) {
        (0, _) => attempt_url(web_base, repo, run, place.run_attempt),
        (job, 0) => job_url(web_base, repo, run, job),
        (job, step) => page(
            web_base,
            repo,
            run,
            &["job", &job.to_string()],
            Some(&format!("step:{step}:{}", place.line_number)),
        ),
    }
}

/// `{web_base}/{owner}/{name}/actions/runs/{run_id}/{rest…}#{fragment}`, each segment escaped.
/// A web base that is not a URL is kept as written, the rest joined to it.
///
/// A search builds a link per hit: parsing the base for each one cost 1.8 µs a link, most of a
/// search for a rare word. So when `Url` would write the base back as it is and no segment
/// needs escaping (the common case), the link is written directly, to the same text.
fn page(web_base: &str, repo: &str, run_id: u64, rest: &[&str], fragment: Option<&str>) -> String {
    let base = web_base.trim_end_matches('/');
    let run_id = run_id.to_string();
    let path = [
        &repo.split('/').collect::<Vec<_>>()[..],
        &["actions", "runs", &run_id],
        rest,
    ]
    .concat();
    if !(is_canonical(base) && path.iter().all(|segment| is_plain(segment))) {
        return page_through_url(base, &path, fragment);
    }
    let mut text = String::with_capacity(base.len() + 64);
    text.push_str(base);
    for segment in path {
        text.push('/');
        text.push_str(segment);
    }
    if let Some(fragment) = fragment {
        text.push('#');
        text.push_str(fragment);
    }
    text
}

/// [`page`] for any base and segments, through `Url`: it escapes and normalises.
fn page_through_url(base: &str, path: &[&str], fragment: Option<&str>) -> String {
    match Url::parse(base) {
        Ok(mut url) if !url.cannot_be_a_base() => {
            url.path_segments_mut()
                .expect("checked: the URL can be a base")
                .pop_if_empty()
                .extend(path);
            url.set_fragment(fragment);
            url.into()
        }
        _ => {
            let mut text = format!("{base}/{}", path.join("/"));
            if let Some(fragment) = fragment {
                text.push('#');
                text.push_str(fragment);
            }
            text
        }
    }
}

/// A path segment that `Url` writes as it is: letters, digits and `-._~`, not `.` or `..`.
fn is_plain(segment: &str) -> bool {
    !matches!(segment, "" | "." | "..")
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Whether `Url` writes `base` back unchanged: `http(s)://`, a lowercase host of plain labels
/// (no punycode, no IPv4 in a form it would rewrite), a port without leading zeros that is not
/// the scheme's default, and plain path segments. Anything else goes through `Url`.
fn is_canonical(base: &str) -> bool {
    let (rest, default_port) = if let Some(rest) = base.strip_prefix("https://") {
        (rest, "443")
    } else if let Some(rest) = base.strip_prefix("http://") {
        (rest, "80")
    } else {
        return false;
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
    let labels_plain = host.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with("xn--")
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    // Where the last label is a number (or `0x…`), `Url` reads the host as IPv4 and may
    // rewrite it (`127.1`, `0x7f.1` → `127.0.0.1`).
    let last = host.rsplit('.').next().unwrap_or_default();
    let numeric = last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x");
    let ipv4_as_written = host.split('.').count() == 4
        && host
            .split('.')
            .all(|part| part.parse::<u8>().is_ok_and(|n| n.to_string() == part));
    let port_as_written = port.is_empty()
        || (port != default_port && port.parse::<u16>().is_ok_and(|n| n.to_string() == port));
    labels_plain
        && (!numeric || ipv4_as_written)
        && port_as_written
        && (path.is_empty() || path.split('/').all(is_plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEB: &str = "https://github.com";

    #[test]
    fn links_written_directly_are_what_url_writes() {
        let bases = [
            "https://github.com",
            "https://github.com/",
            "http://127.0.0.1:8787",
            "https://ghe.corp/sub/path",
            "https://GitHub.com",
            "https://github.com:443",
            "http://127.1:80",
            "http://0x7f.1",
            "https://example.123",
            "http://127.0.0.1:08787",
            "https://xn--bcher-kva.example",
            "https://a..b",
            "https://ghe.corp/a b",
            "not a url",
        ];
        let repos = ["acme/widgets", "ac me/wid#gets", "a/..", "acme/wid.gets~1"];
        for base in bases {
            for repo in repos {
                let path = [
                    &repo.split('/').collect::<Vec<_>>()[..],
                    &["actions", "runs", "7"],
                ]
                .concat();
                let via_url =
                    page_through_url(base.trim_end_matches('/'), &path, Some("step:3:12"));
                assert_eq!(
                    page(base, repo, 7, &[], Some("step:3:12")),
                    via_url,
                    "{base} {repo}"
                );
            }
        }
        assert!(is_canonical("http://127.0.0.1:8787") && is_canonical("https://github.com"));
        assert!(!is_canonical("https://GitHub.com") && !is_canonical("http://h:80"));
    }

    fn place(job_id: u64, step_number: u32) -> LinePlace<'static> {
        LinePlace {
            repo: "acme/widgets",
            run_id: 7,
            run_attempt: 2,
            job_id,
            step_number,
            line_number: 12,
        }
    }

    #[test]
    fn lines_link_to_their_step_job_or_attempt() {
        let cases = [
            (
                place(9, 3),
                "https://github.com/acme/widgets/actions/runs/7/job/9#step:3:12",
            ),
            (
                place(9, 0),
                "https://github.com/acme/widgets/actions/runs/7/job/9",
            ),
            (
                place(0, 3),
                "https://github.com/acme/widgets/actions/runs/7/attempts/2",
            ),
        ];
        for (place, want) in cases {
            assert_eq!(line_url(WEB, &place), want, "{place:?}");
        }
        assert_eq!(
            run_url(WEB, "acme/widgets", 7),
            "https://github.com/acme/widgets/actions/runs/7"
        );
        // fakehub's base: an address with a port and no path.
        assert_eq!(
            line_url("http://127.0.0.1:8080", &place(9, 3)),
            "http://127.0.0.1:8080/acme/widgets/actions/runs/7/job/9#step:3:12"
        );
    }

    #[test]
    fn odd_characters_are_escaped() {
        let api = ApiBase::default();
        assert_eq!(
            api.workflow_runs("acme", "widgets", "a b#c.yml").as_str(),
            "https://api.github.com/repos/acme/widgets/actions/workflows/a%20b%23c.yml/runs"
        );
        assert_eq!(
            api.workflow_runs("acme", "widgets", "../../x?y").as_str(),
            "https://api.github.com/repos/acme/widgets/actions/workflows/..%2F..%2Fx%3Fy/runs"
        );
        let odd = LinePlace {
            repo: "ac me/wid#gets",
            ..place(9, 3)
        };
        assert_eq!(
            line_url(WEB, &odd),
            "https://github.com/ac%20me/wid%23gets/actions/runs/7/job/9#step:3:12"
        );
    }

    #[test]
    fn endpoints_hang_under_the_api_base() {
        for (base, want) in [
            (
                "https://api.github.com",
                "https://api.github.com/repos/o/r/actions/runs/5/attempts/2/logs",
            ),
            (
                "https://ghe.corp/api/v3/",
                "https://ghe.corp/api/v3/repos/o/r/actions/runs/5/attempts/2/logs",
            ),
            (
                "http://127.0.0.1:8787",
                "http://127.0.0.1:8787/repos/o/r/actions/runs/5/attempts/2/logs",
            ),
        ] {
            let api: ApiBase = base.parse().unwrap();
            assert_eq!(
                api.attempt("o", "r", 5, 2, &["logs"]).as_str(),
                want,
                "{base}"
            );
        }
        let api = ApiBase::default();
        assert_eq!(
            api.runs("o", "r").as_str(),
            "https://api.github.com/repos/o/r/actions/runs"
        );
        assert_eq!(
            api.run("o", "r", 5).as_str(),
            "https://api.github.com/repos/o/r/actions/runs/5"
        );
        assert_eq!(
            api.job_logs("o", "r", 9).as_str(),
            "https://api.github.com/repos/o/r/actions/jobs/9/logs"
        );
        assert!("api.github.com".parse::<ApiBase>().is_err());
        assert!("ftp://h".parse::<ApiBase>().is_err());
    }

    #[test]
    fn owner_and_app_endpoints_hang_under_the_api_base_escaped() {
        let api: ApiBase = "https://ghe.corp/api/v3".parse().unwrap();
        let cases = [
            (api.org_repos("acme"), "orgs/acme/repos"),
            (api.user_repos("a b"), "users/a%20b/repos"),
            (api.installation_repositories(), "installation/repositories"),
            (api.repo_installation("o", "r"), "repos/o/r/installation"),
            (api.org_installation("../x"), "orgs/..%2Fx/installation"),
            (api.user_installation("u"), "users/u/installation"),
            (
                api.installation_access_tokens(42),
                "app/installations/42/access_tokens",
            ),
        ];
        for (url, path) in cases {
            assert_eq!(url.as_str(), format!("https://ghe.corp/api/v3/{path}"));
        }
    }

    #[test]
    fn enterprise_hosts_have_their_api_under_api_v3() {
        assert_eq!(ApiBase::for_host("github.com").as_str(), GITHUB_API);
        let ghes = ApiBase::for_host("ghe.example.com");
        assert_eq!(ghes.as_str(), "https://ghe.example.com/api/v3");
        assert_eq!(ghes.token_host(), "ghe.example.com");
        assert_eq!(web_base(ghes.as_str()), "https://ghe.example.com");
        assert_eq!(
            attempt_url(&web_base(ghes.as_str()), "acme/widgets", 7, 3),
            "https://ghe.example.com/acme/widgets/actions/runs/7/attempts/3"
        );
    }

    #[test]
    fn tokens_are_looked_up_for_the_api_urls_own_host() {
        for (api, host) in [
            ("https://api.github.com", "github.com"),
            ("https://API.github.com/", "github.com"),
            ("https://ghe.corp/api/v3", "ghe.corp"),
            ("http://127.0.0.1:8787", "127.0.0.1:8787"),
        ] {
            assert_eq!(api.parse::<ApiBase>().unwrap().token_host(), host, "{api}");
        }
    }

    #[test]
    fn web_host_derives_from_the_api_base() {
        let cases = [
            ("https://api.github.com", "https://github.com"),
            ("https://api.github.com/", "https://github.com"),
            ("https://ghe.example.com/api/v3/", "https://ghe.example.com"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ];
        for (api, web) in cases {
            assert_eq!(web_base(api), web, "{api}");
        }
    }
}
