//! What a fakehub serves and how it misbehaves.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use jiff::Timestamp;

use crate::fault::Fault;
use crate::model::{Ecosystem, Layout};

/// Everything a [`crate::FakeHub`] is started with. `Config::default()` is a small repository
/// suitable for tests; change fields with struct update syntax.
#[derive(Debug, Clone)]
pub struct Config {
    /// Repositories as `owner/name`; each gets its own workflows and runs.
    pub repos: Vec<String>,
    /// Runs per repository.
    pub runs: usize,
    /// The runs are spread over this many days, ending at [`Config::end`].
    pub days: u32,
    /// Creation time of the newest run; `None` means the moment fakehub starts.
    pub end: Option<Timestamp>,
    /// Seed of all generated data.
    pub seed: u64,
    /// The token clients must send (`Authorization: Bearer …` or `token …`).
    pub token: String,
    /// More tokens the API accepts: other users sharing the API, each with its own rate limit.
    pub other_tokens: Vec<String>,
    /// Base of `html_url`s (`https://github.com`).
    pub web_base: String,
    /// Address both listeners bind to.
    pub host: IpAddr,
    /// API port (0 picks a free one).
    pub api_port: u16,
    /// Blob-storage port (0 picks a free one).
    pub blob_port: u16,
    /// How long a signed blob URL stays valid (GitHub: one minute).
    pub url_expiry: Duration,
    /// An attempt's archive answers 404 for this long after it completes.
    pub not_ready_for: Duration,
    /// A job's log (`GET …/actions/jobs/{id}/logs`) answers 404 for this long after the job
    /// completes, while GitHub finalises it (`docs/github.md` section 10: about 30 s).
    pub job_log_not_ready_for: Duration,
    /// Archives of runs created longer ago than this are gone.
    pub retention: Duration,
    /// Status for a gone archive: 410 (usual) or 404.
    pub gone_status: u16,
    /// Primary rate limit: requests per window, for each token apart (GitHub: 5,000 an hour
    /// for a user's token), as `x-ratelimit-*` headers say it. A request past it is refused
    /// and counted in [`crate::Stats::rate_limit_violations`]; `304`s are free.
    pub rate_limit: u32,
    /// Primary rate limit window (GitHub: one hour), short in tests (a minute, a few seconds);
    /// each token's starts with its first request.
    pub rate_window: Duration,
    /// Status when the primary limit is exhausted: 403 or 429.
    pub rate_limited_status: u16,
    /// Secondary rate limit: more concurrent API requests than this are refused.
    pub max_concurrent: usize,
    /// `retry-after` sent with a secondary limit; `None` sends it blank.
    pub retry_after: Option<u64>,
    /// The newest this many runs of each repository are still in progress.
    pub in_progress: usize,
    /// Average log lines a job writes.
    pub lines_per_job: usize,
    /// Share of lines made unique, from 0 (all repeats) to 1 (no two lines alike).
    pub distinct: f64,
    /// One layout for every archive, or `None` for a realistic mix.
    pub layout: Option<Layout>,
    /// One ecosystem for every repository, or `None` to vary by repository.
    pub ecosystem: Option<Ecosystem>,
    /// Share of attempts whose archive the results service broke for one of their jobs (left
    /// out, misnamed, or under both services' names: [`crate::ArchiveBreak`]), chosen by seed;
    /// 0 (none) by default. [`crate::World::break_archive`] breaks a chosen one.
    pub broken_archives: f64,
    /// Faults to inject; more can be added at run time with [`crate::FakeHub::inject`].
    pub faults: Vec<Fault>,
    /// The oldest this many runs of each repository are hostile, as a fork's pull request can
    /// make them: control characters and escape sequences in their workflow, job, step and
    /// branch names, actor and commit message, and log lines with them and invalid UTF-8
    /// ([`crate::hostile`]).
    pub hostile_runs: usize,
    /// Organisations and users owning many generated repositories, listed by
    /// `GET /orgs/{org}/repos` and `GET /users/{user}/repos` ([`Owner`]). An owner of a
    /// repository in [`Config::repos`] that is none of these is an organisation.
    pub owners: Vec<Owner>,
    /// The GitHub App that may authenticate, with its installations; `None` (the default):
    /// no App, and the App's endpoints answer 401.
    pub app: Option<App>,
    /// Live mode: every this often, [`crate::World::tick`] moves the world on (in one
    /// repository after the other, a run in progress completes and a new one starts; now and
    /// then a failed run is re-run). `None` (the default): only `POST /_fakehub/tick` and the
    /// other control endpoints move it.
    pub live: Option<Duration>,
    /// A step of one run prints [`crate::REPEATED_TEXT`] this many times, all but the first
    /// without a timestamp, so that its files compress about 1,030× ([`crate::BulkLog`]); 0 (none)
    /// by default. [`crate::World::bulk_log`] says where.
    pub repeated_lines: u64,
    /// A step of one run prints varied lines until its job's whole-job log is this many bytes
    /// (at most; within a line of it); 0 (none) by default. Served from a temporary file,
    /// never held in memory.
    pub huge_log_bytes: u64,
    /// A step of one run prints one line of this many bytes; 0 (none) by default.
    pub huge_line_bytes: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            repos: vec!["acme/widgets".to_owned()],
            runs: 40,
            days: 14,
            end: None,
            seed: 7,
            token: "fakehub".to_owned(),
            other_tokens: Vec::new(),
            web_base: "https://github.com".to_owned(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            api_port: 0,
            blob_port: 0,
            url_expiry: Duration::from_secs(60),
            not_ready_for: Duration::from_secs(30),
            job_log_not_ready_for: Duration::from_secs(30),
            retention: Duration::from_secs(90 * 86_400),
            gone_status: 410,
            rate_limit: 5_000,
            rate_window: Duration::from_secs(3_600),
            rate_limited_status: 403,
            max_concurrent: 100,
            retry_after: Some(60),
            in_progress: 1,
            lines_per_job: 200,
            distinct: DEFAULT_DISTINCT,
            layout: None,
            ecosystem: None,
            broken_archives: 0.0,
            faults: Vec::new(),
            hostile_runs: 0,
            owners: Vec::new(),
            app: None,
            live: None,
            repeated_lines: 0,
            huge_log_bytes: 0,
            huge_line_bytes: 0,
        }
    }
}

/// Share of fresh lines that, with the generator's stable lines, gives about the 8.2% distinct
/// lines measured on real job logs of one workflow (`docs/github.md` section 9) at the default
/// size of a few hundred runs.
pub const DEFAULT_DISTINCT: f64 = 0.09;

impl Config {
    pub(crate) fn end_second(&self) -> i64 {
        self.end.unwrap_or_else(Timestamp::now).as_second()
    }
}

/// An organisation or a user owning `repos` generated repositories, named `service-01`,
/// `lib-02`, `app-03`, … in turn. Of each eight, in order: five as usual but the 2nd with its
/// default branch `trunk` (not `main`), the 3rd archived, the 5th a fork, the 6th with Actions disabled (its actions endpoints answer 404) and the
/// 8th with Actions unused (no workflows, no runs); [`crate::Repo`]'s fields say which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Its login.
    pub login: String,
    /// Organisation or user.
    pub kind: OwnerKind,
    /// How many repositories it owns.
    pub repos: usize,
}

impl Owner {
    /// An organisation owning `repos` repositories.
    pub fn org(login: &str, repos: usize) -> Owner {
        Owner {
            login: login.to_owned(),
            kind: OwnerKind::Organization,
            repos,
        }
    }

    /// A user owning `repos` repositories.
    pub fn user(login: &str, repos: usize) -> Owner {
        Owner {
            login: login.to_owned(),
            kind: OwnerKind::User,
            repos,
        }
    }
}

/// What an owner is, as GitHub's `type` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    /// `Organization`: its repositories are at `GET /orgs/{org}/repos`.
    Organization,
    /// `User`: at `GET /users/{user}/repos`.
    User,
}

impl OwnerKind {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Organization => "Organization",
            OwnerKind::User => "User",
        }
    }
}

/// A GitHub App: its id, the public key its JWTs are checked with, where it is installed and
/// how long its installation tokens last (`docs/github.md` section 11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The App's id, the JWT's `iss`.
    pub id: u64,
    /// Its public key, PEM: PKCS#1 (`RSA PUBLIC KEY`).
    pub public_key: String,
    /// Its installations: (id, the account it is installed on), each on all of the account's
    /// repositories.
    pub installations: Vec<(u64, String)>,
    /// How long an installation token is valid (GitHub: an hour); then it gets 401 "Bad
    /// credentials".
    pub token_lifetime: Duration,
}

/// The test App's id ([`App::test`]).
pub const TEST_APP_ID: u64 = 424_242;

/// The test App's public key (`keys/test-app.pub.pem`): a test key, not secret.
pub const TEST_APP_PUBLIC_KEY: &str = include_str!("../keys/test-app.pub.pem");

/// The test App's private key in PKCS#1, as GitHub issues them (`keys/test-app.pem`): a test key,
/// committed on purpose, never a real App's.
pub const TEST_APP_PRIVATE_KEY: &str = include_str!("../keys/test-app.pem");

/// The same private key in PKCS#8 (`keys/test-app.pkcs8.pem`).
pub const TEST_APP_PRIVATE_KEY_PKCS8: &str = include_str!("../keys/test-app.pkcs8.pem");

/// A private key that is no App's (`keys/other-app.pem`), for tests of a wrong key.
pub const OTHER_PRIVATE_KEY: &str = include_str!("../keys/other-app.pem");

impl App {
    /// The test App ([`TEST_APP_ID`], [`TEST_APP_PUBLIC_KEY`]) installed on each of
    /// `accounts`, installation ids from 1,000 in order, with hour-long tokens.
    pub fn test(accounts: &[&str]) -> App {
        App {
            id: TEST_APP_ID,
            public_key: TEST_APP_PUBLIC_KEY.to_owned(),
            installations: accounts
                .iter()
                .enumerate()
                .map(|(i, account)| (1_000 + i as u64, (*account).to_owned()))
                .collect(),
            token_lifetime: Duration::from_secs(3_600),
        }
    }
}
