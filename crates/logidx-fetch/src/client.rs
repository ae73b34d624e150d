//! The client: one place for authentication, rate limits, retries, concurrency and `etag`s.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use logidx_urls::{ApiBase, GITHUB_API};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::sync::Semaphore;

use crate::app::{Auth, GitHubApp};
use crate::budget::{Budget, BudgetPolicy, BudgetStatus, Ticket, Wait};
use crate::error::{Error, Failure, Result, TryError, describe};
use crate::logs::Streak;
use crate::reporter::{NoReporter, Reporter};
use crate::token::Token;

/// How failed requests are retried: server errors, broken connections, secondary rate limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub max_tries: u32,
    /// Wait before the second try; doubles with each try, with jitter.
    pub base_delay: Duration,
    /// The longest wait between tries.
    pub max_delay: Duration,
    /// Wait after a secondary rate limit that names no `retry-after` (GitHub: at least 60 s).
    pub secondary_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_tries: 6,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            secondary_wait: Duration::from_secs(60),
        }
    }
}

/// How an archive that answers 404 right after its run completed is waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReadyPolicy {
    /// A 404 for a run updated longer ago than this means "gone", not "not ready".
    pub window: Duration,
    /// Wait between tries.
    pub delay: Duration,
    /// Tries before reporting it not ready.
    pub tries: u32,
}

impl Default for NotReadyPolicy {
    fn default() -> NotReadyPolicy {
        NotReadyPolicy {
            window: Duration::from_secs(600),
            delay: Duration::from_secs(15),
            tries: 3,
        }
    }
}

/// Builds a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    api_url: String,
    token: Option<Token>,
    app: Option<GitHubApp>,
    user_agent: String,
    api_concurrency: usize,
    download_concurrency: usize,
    retry: RetryPolicy,
    pub(crate) not_ready: NotReadyPolicy,
    reporter: Arc<dyn Reporter>,
    budget: BudgetPolicy,
    pub(crate) spool_threshold: usize,
    pub(crate) max_archive_bytes: u64,
    etag_dir: Option<PathBuf>,
    timeout: Duration,
    pub(crate) outage_after: u32,
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            api_url: GITHUB_API.to_owned(),
            token: None,
            app: None,
            user_agent: concat!("logidx/", env!("CARGO_PKG_VERSION")).to_owned(),
            api_concurrency: 4,
            download_concurrency: 4,
            retry: RetryPolicy::default(),
            not_ready: NotReadyPolicy::default(),
            reporter: Arc::new(NoReporter),
            budget: BudgetPolicy::default(),
            spool_threshold: 32 << 20,
            max_archive_bytes: 4 << 30,
            etag_dir: None,
            timeout: Duration::from_secs(30),
            outage_after: 5,
        }
    }
}

impl ClientBuilder {
    /// API base: `https://api.github.com` (the default) or `https://HOST/api/v3` for GitHub
    /// Enterprise Server.
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The token, sent to the API host and nowhere else.
    pub fn token(mut self, token: Token) -> Self {
        self.token = Some(token);
        self
    }

    /// Authenticate as a GitHub App's installation instead of with a token: each request
    /// carries the installation's token, got with the App's JWT and renewed before it
    /// expires (and when GitHub refuses it), sent to the API host and nowhere else.
    pub fn app(mut self, app: GitHubApp) -> Self {
        self.app = Some(app);
        self
    }

    /// `User-Agent` (GitHub requires one).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Most API requests in flight at once (default 4; octokit's throttling allows 10).
    pub fn api_concurrency(mut self, n: usize) -> Self {
        self.api_concurrency = n.max(1);
        self
    }

    /// Most archive downloads at once (default 4), counted apart from API requests.
    pub fn download_concurrency(mut self, n: usize) -> Self {
        self.download_concurrency = n.max(1);
        self
    }

    /// How failures are retried.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How archives not yet finalised are waited for.
    pub fn not_ready(mut self, policy: NotReadyPolicy) -> Self {
        self.not_ready = policy;
        self
    }

    /// Who hears about progress, waits and retries.
    pub fn reporter(mut self, reporter: Arc<dyn Reporter>) -> Self {
        self.reporter = reporter;
        self
    }

    /// How much of the token's rate limit to spend, and how fast: by default all but 20%,
    /// as fast as it allows ([`BudgetPolicy`]).
    pub fn budget(mut self, policy: BudgetPolicy) -> Self {
        self.budget = policy;
        self
    }

    /// Archives up to this size stay in memory; larger ones spool to a temporary file.
    pub fn spool_threshold(mut self, bytes: usize) -> Self {
        self.spool_threshold = bytes;
        self
    }

    /// Archives over this size are refused (default 4 GiB).
    pub fn max_archive_bytes(mut self, bytes: u64) -> Self {
        self.max_archive_bytes = bytes;
        self
    }

    /// Keeps the `etag`s and bodies of list pages in this directory, so that a later process
    /// re-listing an unchanged window gets free `304`s.
    pub fn etag_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.etag_dir = Some(dir.into());
        self
    }

    /// Timeout for connecting and for each read (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// After this many downloads in a row, of more than one attempt, fail the same way
    /// (default 5), blob storage is taken to be down: every download from then on is
    /// [`Error::BlobOutage`] at once.
    pub fn outage_after(mut self, downloads: u32) -> Self {
        self.outage_after = downloads.max(1);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let api = self
            .api_url
            .parse::<ApiBase>()
            .map_err(|_| Error::BadBaseUrl(self.api_url.clone()))?;
        // rustls needs a process-wide crypto provider; ring builds without C toolchains'
        // extras. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(&self.user_agent)
            .connect_timeout(self.timeout)
            .read_timeout(self.timeout)
            .build()
            .map_err(Error::Client)?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                api,
                api_slots: Semaphore::new(self.api_concurrency),
                api_limit: std::sync::atomic::AtomicUsize::new(self.api_concurrency),
                download_slots: Arc::new(Semaphore::new(self.download_concurrency)),
                budget: Budget::new(self.budget.clone()),
                blob_streak: Mutex::new(Streak::default()),
                etags: EtagCache::new(self.etag_dir.clone()),
                not_found: Mutex::new(HashMap::new()),
                auth: Auth::new(self.token.clone(), self.app.clone()),
                builder: self,
            }),
        })
    }
}

/// A GitHub REST client for Actions runs, jobs and log archives. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    api: ApiBase,
    api_slots: Semaphore,
    /// Permits `api_slots` still has in all, lowered by secondary rate limits.
    api_limit: std::sync::atomic::AtomicUsize,
    pub(crate) download_slots: Arc<Semaphore>,
    budget: Budget,
    /// Blob downloads that failed in a row, for [`Error::BlobOutage`].
    pub(crate) blob_streak: Mutex<Streak>,
    etags: EtagCache,
    /// Conditional URLs answered `404`, when and with what body: see [`NOT_FOUND_KEPT`].
    not_found: Mutex<HashMap<String, (Instant, Vec<u8>)>>,
    /// Where each request's token comes from: the builder's token, or the App's.
    auth: Auth,
    pub(crate) builder: ClientBuilder,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = &self.inner.builder;
        f.debug_struct("Client")
            .field("api_url", &b.api_url)
            .field("token", &b.token)
            .field("app", &b.app)
            .field("api_concurrency", &b.api_concurrency)
            .field("download_concurrency", &b.download_concurrency)
            .finish_non_exhaustive()
    }
}

/// A response read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) url: String,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            url: self.url.clone(),
            source,
        })
    }

    /// GitHub's `message`, or the start of the body.
    pub(crate) fn message(&self) -> String {
        #[derive(serde::Deserialize)]
        struct Message {
            message: String,
        }
        match serde_json::from_slice::<Message>(&self.body) {
            Ok(m) => m.message,
            Err(_) => String::from_utf8_lossy(&self.body[..self.body.len().min(200)]).into_owned(),
        }
    }

    pub(crate) fn into_error(self) -> Error {
        let message = self.message();
        Error::Status {
            url: self.url,
            status: self.status.as_u16(),
            message,
        }
    }

    /// The `Link` header's `rel="next"` URL, when it is on the host this answer came from:
    /// the token goes with every request, so a page elsewhere is never followed.
    pub(crate) fn next_link(&self) -> Option<String> {
        let link = self.headers.get(header::LINK)?.to_str().ok()?;
        let next = link.split(',').find_map(|part| {
            let (url, rel) = part.split_once(';')?;
            rel.contains("rel=\"next\"")
                .then(|| url.trim().trim_matches(['<', '>']).to_owned())
        })?;
        let origin = |url: &str| reqwest::Url::parse(url).ok().map(|u| u.origin());
        let here = origin(&self.url)?;
        (origin(&next)? == here).then_some(next)
    }
}

impl Client {
    /// A builder with GitHub's defaults.
    ///
    /// ```
    /// use logidx_fetch::{Client, Token};
    ///
    /// let client = Client::builder()
    ///     .api_url("https://ghe.example.com/api/v3/")
    ///     .token(Token::new("ghp_…"))
    ///     .api_concurrency(8)
    ///     .build()?;
    /// assert_eq!(client.api_url(), "https://ghe.example.com/api/v3");
    /// # Ok::<(), logidx_fetch::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// What this client has spent of its rate-limit budget, and what is left.
    pub fn budget(&self) -> BudgetStatus {
        self.inner.budget.status()
    }

    /// The API base URL.
    pub fn api_url(&self) -> &str {
        self.inner.api.as_str()
    }

    /// The API, to build endpoint URLs from.
    pub(crate) fn api(&self) -> &ApiBase {
        &self.inner.api
    }

    pub(crate) fn reporter(&self) -> &dyn Reporter {
        &*self.inner.builder.reporter
    }

    /// The HTTP client, which follows no redirect.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The GitHub App the client authenticates as, if any.
    pub fn github_app(&self) -> Option<&GitHubApp> {
        self.inner.auth.app()
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.builder.retry
    }

    /// GETs an API URL with the token, waiting out rate limits and retrying server errors and
    /// broken connections. With `conditional`, sends the `etag` of a previous answer and turns a
    /// `304` back into that answer. Answers that are not retried (404, 410, 302, …) are returned
    /// for the caller to read; 401 is an error at once.
    pub(crate) async fn get(&self, url: &str, conditional: bool) -> Result<Answer> {
        if conditional && let Some(answer) = self.kept_not_found(url) {
            return Ok(answer);
        }
        let policy = self.retry_policy().clone();
        let mut tries = 0;
        let mut renewed = false;
        loop {
            tries += 1;
            let token = self.inner.auth.bearer(self).await?;
            let ticket = self.wait_for_quota().await;
            let cached = if conditional {
                self.inner.etags.get(url)
            } else {
                None
            };
            let result = {
                let _slot = self
                    .inner
                    .api_slots
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                let etag = cached.as_ref().map(|c| c.etag.as_str());
                self.send(url, token.as_ref(), etag).await
            };
            let (failed, wait) = match result {
                Err(e) if unreachable(&e) => {
                    if tries >= UNREACHABLE_TRIES {
                        return Err(Error::Unreachable {
                            host: host_of(url),
                            cause: cause_of(&e),
                            source: e,
                        });
                    }
                    let failed = TryError {
                        failure: Failure::Connection,
                        source: Some(e),
                    };
                    (failed, UNREACHABLE_WAIT * tries)
                }
                Err(e) => (
                    TryError {
                        failure: Failure::Connection,
                        source: Some(e),
                    },
                    backoff(&policy, tries),
                ),
                Ok(answer) => {
                    ticket.answered(&answer.headers, answer.status == StatusCode::NOT_MODIFIED);
                    self.reporter().on_budget(&self.inner.budget.status());
                    match answer.status {
                        StatusCode::NOT_MODIFIED => {
                            let Some(cached) = cached else {
                                return Ok(answer);
                            };
                            let mut headers = answer.headers;
                            if let Ok(link) = HeaderValue::from_str(&cached.link)
                                && !cached.link.is_empty()
                            {
                                headers.insert(header::LINK, link);
                            }
                            return Ok(Answer {
                                status: StatusCode::OK,
                                headers,
                                body: cached.body,
                                url: answer.url,
                            });
                        }
                        StatusCode::OK => {
                            if conditional && let Some(etag) = answer.headers.get(header::ETAG) {
                                let text = |v: Option<&HeaderValue>| {
                                    v.and_then(|v| v.to_str().ok())
                                        .unwrap_or_default()
                                        .to_owned()
                                };
                                let link = text(answer.headers.get(header::LINK));
                                self.inner
                                    .etags
                                    .put(url, &text(Some(etag)), &link, &answer.body);
                            }
                            return Ok(answer);
                        }
                        StatusCode::UNAUTHORIZED => {
                            // An App's token expired early or was revoked: once, a new one.
                            if !renewed && self.inner.auth.refused(token.as_ref()).await {
                                renewed = true;
                                tracing::debug!(url, "token refused: getting a new one");
                                continue;
                            }
                            return Err(Error::Unauthorized {
                                url: url.to_owned(),
                            });
                        }
                        StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => {
                            match limit_kind(&answer) {
                                Some(Limit::Secondary(retry_after)) => {
                                    self.slow_down();
                                    let wait = retry_after
                                        .unwrap_or(policy.secondary_wait)
                                        .max(backoff(&policy, tries));
                                    self.announce_long_wait(wait);
                                    (TryError::of(Failure::SecondaryRateLimit), wait)
                                }
                                Some(Limit::Unnamed(status)) => {
                                    self.slow_down();
                                    let wait = backoff(&policy, tries);
                                    self.announce_long_wait(wait);
                                    (TryError::of(Failure::RateLimited(status)), wait)
                                }
                                Some(Limit::Primary(reset)) => {
                                    self.announce_pause(reset);
                                    (TryError::of(Failure::RateLimitExhausted), until(reset))
                                }
                                None => return Ok(answer),
                            }
                        }
                        s if s.is_server_error() => (
                            TryError::of(Failure::Status(s.as_u16())),
                            backoff(&policy, tries),
                        ),
                        StatusCode::NOT_FOUND if conditional => {
                            self.inner
                                .not_found
                                .lock()
                                .expect("not-found lock")
                                .insert(url.to_owned(), (Instant::now(), answer.body.clone()));
                            return Ok(answer);
                        }
                        _ => return Ok(answer),
                    }
                }
            };
            if tries >= policy.max_tries {
                return Err(Error::GaveUp {
                    url: url.to_owned(),
                    tries,
                    last: failed.failure,
                    source: failed.source,
                });
            }
            let reason = failed.reason();
            tracing::debug!(url, tries, reason, wait = %describe(wait), "retrying");
            self.reporter().on_retry(url, tries, &reason, wait);
            tokio::time::sleep(wait).await;
        }
    }

    /// The `404` a conditional `url` got less than [`NOT_FOUND_KEPT`] ago, as it was.
    fn kept_not_found(&self, url: &str) -> Option<Answer> {
        let mut kept = self.inner.not_found.lock().expect("not-found lock");
        let (at, body) = kept.get(url)?;
        if at.elapsed() >= NOT_FOUND_KEPT {
            kept.remove(url);
            return None;
        }
        Some(Answer {
            url: url.to_owned(),
            status: StatusCode::NOT_FOUND,
            headers: HeaderMap::new(),
            body: body.clone(),
        })
    }

    async fn send(
        &self,
        url: &str,
        token: Option<&Token>,
        etag: Option<&str>,
    ) -> std::result::Result<Answer, reqwest::Error> {
        let mut request = self
            .inner
            .http
            .get(url)
            .header(header::ACCEPT, "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if let Some(token) = token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Answer {
            url: url.to_owned(),
            status,
            headers,
            body,
        })
    }

    /// A plain GET without the token, for blob storage.
    pub(crate) async fn get_blob(
        &self,
        url: &str,
    ) -> std::result::Result<reqwest::Response, reqwest::Error> {
        self.inner.http.get(url).send().await
    }

    /// After a secondary rate limit, allows one request fewer in flight from now on (never
    /// fewer than one), as GitHub asks clients to back off rather than retry as hard.
    fn slow_down(&self) {
        let limit = &self.inner.api_limit;
        let current = limit.load(Ordering::SeqCst);
        if current > 1 && self.inner.api_slots.forget_permits(1) == 1 {
            limit.store(current - 1, Ordering::SeqCst);
            tracing::info!(
                concurrency = current - 1,
                "secondary rate limit: fewer requests in flight"
            );
        }
    }

    /// Waits until the budget lets a request go ([`crate::budget`]): its pace, or the reset of
    /// a window whose share is spent (announced).
    async fn wait_for_quota(&self) -> Ticket<'_> {
        loop {
            let now = std::time::Instant::now();
            match self.inner.budget.take(now, Timestamp::now().as_second()) {
                Ok(ticket) => return ticket,
                Err(Wait::Reset(reset)) => {
                    self.announce_pause(reset);
                    tokio::time::sleep(until(reset)).await;
                }
                Err(Wait::Pace(wait)) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Announces a rate-limit wait long enough to look like a hang; shorter ones are retries.
    fn announce_long_wait(&self, wait: Duration) {
        if wait >= ANNOUNCED_WAIT {
            let resume = Timestamp::now() + wait;
            // Rounded up, so the announced second is never before the retry.
            self.announce_pause(resume.as_second() + 1);
        }
    }

    fn announce_pause(&self, reset: i64) {
        if self.inner.budget.announce(reset) {
            let resume = Timestamp::from_second(reset).unwrap_or_else(|_| Timestamp::now());
            tracing::info!(%resume, "rate limited");
            self.reporter().on_rate_limited(resume);
        }
    }
}

enum Limit {
    /// A secondary limit, with its `retry-after` if it gave one.
    Secondary(Option<Duration>),
    /// The primary limit is spent until this Unix second.
    Primary(i64),
    /// A 429 that names neither limit: backed off exponentially.
    Unnamed(u16),
}

/// Tries at an API host that refuses connections or does not resolve: waiting won't help.
/// How long a conditional listing's `404` (an organisation that is a user, a repository
/// without Actions) stands for itself: GitHub sends a `404` no `etag` to revalidate, and
/// asking again every watch cycle would spend the budget on the same answer. Within the hour,
/// a repository whose Actions is turned on is seen.
pub(crate) const NOT_FOUND_KEPT: Duration = Duration::from_secs(3_600);

const UNREACHABLE_TRIES: u32 = 3;

/// The wait after the first of those tries, and twice it after the second.
const UNREACHABLE_WAIT: Duration = Duration::from_millis(100);

/// Rate-limit waits this long or longer are announced to the reporter with their end.
const ANNOUNCED_WAIT: Duration = Duration::from_secs(3);

/// Whether a connection failed in a way a retry seconds later will not fix: refused, a name
/// that does not resolve, TLS refused. Timeouts are not: they may pass.
fn unreachable(error: &reqwest::Error) -> bool {
    error.is_connect() && !error.is_timeout()
}

/// `host` or `host:port`, as the URL names it.
fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(url) => match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => url.to_string(),
        },
        Err(_) => url.to_owned(),
    }
}

/// Why a connection failed, in a few words: `connection refused`, `dns error: …`, or the
/// innermost error (TLS's `invalid peer certificate: …`).
fn cause_of(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut dns = false;
    let mut innermost: Option<&(dyn std::error::Error + 'static)> = None;
    let mut source = error.source();
    while let Some(cause) = source {
        dns |= cause.to_string().starts_with("dns error");
        innermost = Some(cause);
        source = cause.source();
    }
    let Some(innermost) = innermost else {
        return error.to_string();
    };
    let io_kind = innermost
        .downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind);
    match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_owned(),
        _ if dns => format!("dns error: {innermost}"),
        _ => innermost.to_string(),
    }
}

/// Tells a rate-limit 403/429 from a permission 403. Every 429 is a rate limit.
fn limit_kind(answer: &Answer) -> Option<Limit> {
    let header = |name: &str| answer.headers.get(name).and_then(|v| v.to_str().ok());
    let message = answer.message().to_ascii_lowercase();
    if message.contains("secondary rate limit") || header("retry-after").is_some() {
        let after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
        return Some(Limit::Secondary(after.map(Duration::from_secs)));
    }
    if header("x-ratelimit-remaining") == Some("0") || message.contains("rate limit exceeded") {
        let reset = header("x-ratelimit-reset").and_then(|v| v.parse().ok());
        return Some(Limit::Primary(
            reset.unwrap_or_else(|| Timestamp::now().as_second() + 60),
        ));
    }
    (answer.status == StatusCode::TOO_MANY_REQUESTS).then_some(Limit::Unnamed(429))
}

/// From now until a Unix second, plus a second's margin for clock skew.
fn until(reset: i64) -> Duration {
    let now = Timestamp::now();
    let target = Timestamp::from_second(reset + 1).unwrap_or(now);
    target
        .duration_since(now)
        .try_into()
        .unwrap_or(Duration::ZERO)
}

/// Exponential backoff with jitter: half to all of `base × 2^(try−1)`, capped.
pub(crate) fn backoff(policy: &RetryPolicy, tries: u32) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(1 << (tries.saturating_sub(1)).min(16));
    let capped = exp.min(policy.max_delay);
    capped.mul_f64(0.5 + 0.5 * fastrand::f64())
}

/// On disk, a page unused this long is deleted when a client opens the cache: its window is
/// no longer asked for (an age's `since` moves with the hour) or its repository no longer
/// synced.
const ETAG_UNUSED_FOR: Duration = Duration::from_secs(7 * 24 * 3_600);

/// `etag`s and bodies of list pages: in memory, and on disk when a directory is given. A body
/// is kept as [`crate::model::slim_page`] leaves it: only what a `304` turned back into it is
/// read for.
struct EtagCache {
    memory: Mutex<HashMap<String, Cached>>,
    dir: Option<PathBuf>,
}

#[derive(Clone)]
struct Cached {
    etag: String,
    /// The page's `Link` header: a `304` may not repeat it, and pagination needs it.
    link: String,
    body: Vec<u8>,
}

impl EtagCache {
    fn new(dir: Option<PathBuf>) -> EtagCache {
        if let Some(dir) = &dir {
            evict_unused(dir, ETAG_UNUSED_FOR);
        }
        EtagCache {
            memory: Mutex::new(HashMap::new()),
            dir,
        }
    }

    fn get(&self, url: &str) -> Option<Cached> {
        if let Some(hit) = self.memory.lock().expect("etag lock").get(url) {
            return Some(hit.clone());
        }
        let path = self.path(url)?;
        let data = std::fs::read(&path).ok()?;
        // Used: kept from eviction (a read-only cache stays as it is).
        let _ = std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_modified(std::time::SystemTime::now()));
        // File: the URL, the etag and the link header on lines of their own, then the body.
        let mut parts = data.splitn(4, |&b| b == b'\n');
        let (stored_url, etag, link, body) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (stored_url == url.as_bytes()).then(|| Cached {
            etag: text(etag),
            link: text(link),
            body: body.to_vec(),
        })
    }

    fn put(&self, url: &str, etag: &str, link: &str, body: &[u8]) {
        let body = &*crate::model::slim_page(body);
        let cached = Cached {
            etag: etag.to_owned(),
            link: link.to_owned(),
            body: body.to_vec(),
        };
        self.memory
            .lock()
            .expect("etag lock")
            .insert(url.to_owned(), cached);
        if let Some(path) = self.path(url) {
            let mut data = format!("{url}\n{etag}\n{link}\n").into_bytes();
            data.extend_from_slice(body);
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| {
                    let tmp = path.with_extension("tmp");
                    std::fs::write(&tmp, &data)?;
                    std::fs::rename(&tmp, &path)
                });
            if let Err(e) = written {
                tracing::warn!(path = %path.display(), error = %e, "cannot cache a list page");
            }
        }
    }

    fn path(&self, url: &str) -> Option<PathBuf> {
        let hash = fnv(url.as_bytes());
        Some(self.dir.as_ref()?.join(format!("{hash:016x}.page")))
    }
}

/// Deletes the pages in `dir` not used for `unused_for`; what cannot be read or deleted stays.
fn evict_unused(dir: &std::path::Path, unused_for: Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        let path = entry.path();
        let unused = entry
            .metadata()
            .and_then(|meta| meta.modified())
            .is_ok_and(|used| now.duration_since(used).is_ok_and(|age| age > unused_for));
        let page = path
            .extension()
            .is_some_and(|ext| ext == "page" || ext == "tmp");
        if page
            && unused
            && let Err(e) = std::fs::remove_file(&path)
        {
            tracing::debug!(path = %path.display(), error = %e, "cannot evict a cached page");
        }
    }
}

/// FNV-1a: a stable file name for a URL (the URL inside the file is checked on read).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_page_is_followed_only_on_the_answers_host() {
        let answer = |link: &str| Answer {
            url: "https://api.github.com/repos/o/r/actions/runs?page=1".to_owned(),
            status: StatusCode::OK,
            headers: HeaderMap::from_iter([(header::LINK, link.parse().unwrap())]),
            body: Vec::new(),
        };
        let here = r#"<https://api.github.com/repos/o/r/actions/runs?page=2>; rel="next""#;
        assert_eq!(
            answer(here).next_link().as_deref(),
            Some("https://api.github.com/repos/o/r/actions/runs?page=2")
        );
        for elsewhere in [
            r#"<https://evil.example/runs?page=2>; rel="next""#,
            r#"<http://api.github.com/repos/o/r/actions/runs?page=2>; rel="next""#,
            r#"<https://api.github.com:8443/runs?page=2>; rel="next""#,
        ] {
            assert_eq!(answer(elsewhere).next_link(), None, "{elsewhere}");
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        for tries in 1..10 {
            let wait = backoff(&policy, tries);
            let full = Duration::from_millis(100 * (1 << (tries - 1))).min(Duration::from_secs(1));
            assert!(wait >= full / 2 && wait <= full, "try {tries}: {wait:?}");
        }
    }

    #[test]
    fn pages_unused_for_a_week_are_evicted_and_a_read_keeps_one() {
        let dir = tempfile::tempdir().unwrap();
        let week_ago = std::time::SystemTime::now() - ETAG_UNUSED_FOR - Duration::from_secs(60);
        let cache = EtagCache::new(Some(dir.path().to_path_buf()));
        for url in ["https://api/old", "https://api/read", "https://api/fresh"] {
            cache.put(url, "\"e\"", "", b"{}");
        }
        let path = |url| cache.path(url).unwrap();
        let age = |url| {
            let file = std::fs::File::options().write(true).open(path(url));
            file.unwrap().set_modified(week_ago).unwrap();
        };
        age("https://api/old");
        age("https://api/read");
        let other = dir.path().join("notes.txt");
        std::fs::write(&other, "not a page").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(week_ago)
            .unwrap();
        // A later process reads one of the old pages, then another opens the cache.
        let reader = EtagCache::new(None);
        let reader = EtagCache {
            dir: Some(dir.path().to_path_buf()),
            ..reader
        };
        assert_eq!(reader.get("https://api/read").unwrap().etag, "\"e\"");
        let _ = EtagCache::new(Some(dir.path().to_path_buf()));
        assert!(!path("https://api/old").exists());
        assert!(path("https://api/read").exists());
        assert!(path("https://api/fresh").exists());
        assert!(other.exists());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let client = Client::builder()
            .token(Token::new("ghp_supersecret"))
            .build()
            .unwrap();
        let text = format!("{client:?}");
        assert!(
            !text.contains("supersecret") && text.contains("***"),
            "{text}"
        );
    }

    #[test]
    fn base_urls_must_be_http() {
        assert!(matches!(
            Client::builder().api_url("api.github.com").build(),
            Err(Error::BadBaseUrl(_))
        ));
    }
}
