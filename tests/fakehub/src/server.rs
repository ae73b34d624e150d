//! The two listeners: the REST API and the blob storage its log redirects point at.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::bulk::Spool;
use crate::config::Config;
use crate::created;
use crate::fault::{Fault, FaultKind, Host};
use crate::json::{self, Urls};
use crate::model::{Actions, Conclusion, Repo, Run, Status};
use crate::rng::{hash_bytes, mix};
use crate::stats::Stats;
use crate::world::{Blob, Tick, World};

/// State both listeners share.
pub(crate) struct Shared {
    /// A copy of the world's configuration, read on every request.
    pub(crate) config: Config,
    pub(crate) world: RwLock<World>,
    pub(crate) api_url: String,
    pub(crate) blob_url: String,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) faults: Mutex<Vec<Fault>>,
    secret: u64,
    /// The App's installation tokens ([`crate::app`]).
    pub(crate) app_tokens: crate::app::Tokens,
    /// Each token's own window of the primary rate limit, by token.
    rate: Mutex<HashMap<String, RateWindow>>,
    inflight: AtomicUsize,
}

#[derive(Default)]
struct RateWindow {
    /// Unix second at which the window resets.
    reset_at: u64,
    used: u32,
}

impl Shared {
    pub(crate) fn new(world: World, api_url: String, blob_url: String) -> Shared {
        let config = world.config().clone();
        let secret = mix(config.seed ^ now_ms());
        Shared {
            app_tokens: crate::app::Tokens::new(config.app.as_ref()),
            faults: Mutex::new(config.faults.clone()),
            config,
            world: RwLock::new(world),
            api_url,
            blob_url,
            stats: Mutex::new(Stats::default()),
            secret,
            rate: Mutex::new(HashMap::new()),
            inflight: AtomicUsize::new(0),
        }
    }

    /// Takes one use of the first fault matching the request, if any.
    fn take_fault(&self, host: Host, path: &str) -> Option<FaultKind> {
        let mut faults = self.faults.lock().expect("fault list lock");
        let fault = faults.iter_mut().find(|f| f.matches(host, path))?;
        if let Some(n) = fault.times.as_mut() {
            *n -= 1;
        }
        Some(fault.kind.clone())
    }

    /// A secret of this fakehub's own, for what it signs and hands out.
    pub(crate) fn secret(&self) -> u64 {
        self.secret
    }

    pub(crate) fn record(&self, endpoint: &'static str, status: u16) {
        self.stats
            .lock()
            .expect("stats lock")
            .record(endpoint, status);
    }

    fn sign(&self, path: &str, expires_ms: u64) -> String {
        format!(
            "{:016x}",
            mix(self.secret ^ hash_bytes(path.as_bytes()) ^ mix(expires_ms))
        )
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Counts a request as in flight for the secondary rate limit until dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The API routes fakehub knows, parsed from the path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    RateLimit,
    Repo,
    ListRuns,
    ListWorkflows,
    Workflow(String),
    WorkflowRuns(String),
    Run(u64),
    Attempt(u64, u32),
    AttemptJobs(u64, u32),
    RunJobs(u64),
    RunLogs(u64),
    AttemptLogs(u64, u32),
    Job(u64),
    JobLogs(u64),
    /// An owner's or an installation's repositories ([`crate::owners`]).
    Repos(crate::owners::Listing),
}

impl Route {
    /// The name [`Stats`] counts it under.
    fn endpoint(&self) -> &'static str {
        match self {
            Route::RateLimit => "rate_limit",
            Route::Repo => "get_repo",
            Route::ListRuns => "list_runs",
            Route::ListWorkflows => "list_workflows",
            Route::Workflow(_) => "get_workflow",
            Route::WorkflowRuns(_) => "list_workflow_runs",
            Route::Run(_) => "get_run",
            Route::Attempt(..) => "get_attempt",
            Route::AttemptJobs(..) => "list_attempt_jobs",
            Route::RunJobs(_) => "list_run_jobs",
            Route::RunLogs(_) => "run_logs",
            Route::AttemptLogs(..) => "attempt_logs",
            Route::Job(_) => "get_job",
            Route::JobLogs(_) => "job_logs",
            Route::Repos(listing) => listing.endpoint(),
        }
    }
}

/// `(owner/name, route)` for a path under `/repos/{owner}/{name}`, or `/rate_limit`.
fn parse_route(path: &str) -> Option<(String, Route)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if parts == ["rate_limit"] {
        return Some((String::new(), Route::RateLimit));
    }
    if let Some(listing) = crate::owners::Listing::parse(path) {
        return Some((String::new(), Route::Repos(listing)));
    }
    let ["repos", owner, name, rest @ ..] = parts.as_slice() else {
        return None;
    };
    let id = |s: &str| s.parse::<u64>().ok();
    let n = |s: &str| s.parse::<u32>().ok().filter(|&n| n > 0);
    let route = match rest {
        [] => Route::Repo,
        ["actions", "runs"] => Route::ListRuns,
        ["actions", "workflows"] => Route::ListWorkflows,
        ["actions", "workflows", w] => Route::Workflow((*w).to_owned()),
        ["actions", "workflows", w, "runs"] => Route::WorkflowRuns((*w).to_owned()),
        ["actions", "runs", r] => Route::Run(id(r)?),
        ["actions", "runs", r, "jobs"] => Route::RunJobs(id(r)?),
        ["actions", "runs", r, "logs"] => Route::RunLogs(id(r)?),
        ["actions", "runs", r, "attempts", a] => Route::Attempt(id(r)?, n(a)?),
        ["actions", "runs", r, "attempts", a, "jobs"] => Route::AttemptJobs(id(r)?, n(a)?),
        ["actions", "runs", r, "attempts", a, "logs"] => Route::AttemptLogs(id(r)?, n(a)?),
        ["actions", "jobs", j] => Route::Job(id(j)?),
        ["actions", "jobs", j, "logs"] => Route::JobLogs(id(j)?),
        _ => return None,
    };
    Some((format!("{owner}/{name}"), route))
}

/// What a route answers before the cross-cutting headers are added.
pub(crate) enum Reply {
    Json {
        status: StatusCode,
        body: Value,
        link: Option<String>,
    },
    Redirect(String),
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply::Json {
            status: StatusCode::OK,
            body,
            link: None,
        }
    }

    pub(crate) fn error(status: StatusCode, message: &str) -> Reply {
        Reply::Json {
            status,
            body: json::error(message, status.as_u16()),
            link: None,
        }
    }

    pub(crate) fn not_found() -> Reply {
        Reply::error(StatusCode::NOT_FOUND, "Not Found")
    }
}

pub(crate) type Params = Vec<(String, String)>;

/// Query pairs, decoded; a malformed query reads as no parameters, as GitHub ignores it.
fn parse_query(query: Option<&str>) -> Params {
    query
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

pub(crate) fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The API listener's one handler: auth, limits, faults, routing, `etag`s, stats.
pub(crate) async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_query(query.as_deref());
    let path = uri.path();
    if let Some(rest) = path.strip_prefix(CONTROL_PREFIX) {
        let response = control(&shared, &method, rest);
        shared.record("control", response.status().as_u16());
        return response;
    }
    let parsed = parse_route(path);
    let endpoint = parsed.as_ref().map_or("unknown", |(_, r)| r.endpoint());

    let inflight = shared.inflight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&shared.inflight);
    if inflight > shared.config.max_concurrent {
        shared.record(endpoint, 403);
        let mut response = json_response(
            StatusCode::FORBIDDEN,
            &json::error(
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                403,
            ),
        );
        let retry = shared
            .config
            .retry_after
            .map(|s| s.to_string())
            .unwrap_or_default();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&retry).expect("digits"),
        );
        return response;
    }

    if let Some(response) = crate::app::answer(&shared, &method, path, &headers) {
        return response;
    }
    let installation = shared.app_tokens.installation_of(&headers);
    let token = crate::app::bearer(&headers).unwrap_or_default().to_owned();
    let known = token == shared.config.token
        || shared.config.other_tokens.contains(&token)
        || installation.is_some();
    if !known {
        shared.record(endpoint, 401);
        let message = if headers.contains_key(header::AUTHORIZATION) {
            "Bad credentials"
        } else {
            "Requires authentication"
        };
        return json_response(StatusCode::UNAUTHORIZED, &json::error(message, 401));
    }

    let fault = shared.take_fault(Host::Api, path);
    if let Some(FaultKind::Status(code)) = fault {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        shared.record(endpoint, status.as_u16());
        // GitHub's messages: "Not Found" for a 404, "Server Error" for a 410 and 5xx.
        let message = if status == StatusCode::NOT_FOUND {
            "Not Found"
        } else {
            "Server Error"
        };
        let mut response = json_response(status, &json::error(message, status.as_u16()));
        // Every answer carries the rate headers; a fault's costs nothing.
        rate_headers(&shared, &token, &mut response, false);
        return response;
    }

    let reply = match &parsed {
        Some((_, Route::Repos(listing))) => {
            let world = shared.world.read().expect("world lock");
            let urls = Urls {
                api: &shared.api_url,
                web: &shared.config.web_base,
            };
            crate::owners::answer(&world, &urls, listing, &params, installation)
        }
        Some((repo, route)) => answer(&shared, repo, route, &params),
        None => Reply::not_found(),
    };

    let mut response = match reply {
        Reply::Redirect(location) => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::FOUND;
            r.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_str(&location).expect("urls are ascii"),
            );
            r
        }
        Reply::Json { status, body, link } => {
            let text = serde_json::to_vec(&body).expect("json values serialise");
            if let Some(FaultKind::Slow(rate)) = fault {
                // A slow API: the request stays in flight, which the secondary limit sees.
                let secs = text.len() as f64 / rate.max(1) as f64;
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            }
            let etag = format!(
                "W/\"{:016x}{:016x}\"",
                hash_bytes(&text),
                mix(text.len() as u64)
            );
            let matches = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
            if status == StatusCode::OK && matches {
                // Conditional hits are free: they do not count against the rate limit.
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::NOT_MODIFIED;
                r.headers_mut()
                    .insert(header::ETAG, HeaderValue::from_str(&etag).expect("ascii"));
                rate_headers(&shared, &token, &mut r, false);
                shared.record(endpoint, 304);
                return r;
            }
            let mut r = json_bytes_response(status, text);
            if status == StatusCode::OK {
                r.headers_mut()
                    .insert(header::ETAG, HeaderValue::from_str(&etag).expect("ascii"));
            }
            if let Some(link) = link {
                r.headers_mut().insert(
                    header::LINK,
                    HeaderValue::from_str(&link).expect("urls are ascii"),
                );
            }
            r
        }
    };

    let counted = endpoint != "rate_limit";
    if counted && !rate_headers(&shared, &token, &mut response, true) {
        let status = StatusCode::from_u16(shared.config.rate_limited_status)
            .unwrap_or(StatusCode::FORBIDDEN);
        let mut limited = json_response(
            status,
            &json::error(
                "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
                status.as_u16(),
            ),
        );
        rate_headers(&shared, &token, &mut limited, false);
        shared.record(endpoint, status.as_u16());
        shared
            .stats
            .lock()
            .expect("stats lock")
            .rate_limit_violations += 1;
        return limited;
    }
    {
        let mut stats = shared.stats.lock().expect("stats lock");
        stats.counted_requests += u64::from(counted);
        if let (Some((_, Route::AttemptLogs(run, attempt))), StatusCode::FOUND) =
            (&parsed, response.status())
        {
            stats.archive_order.push((*run, *attempt));
        }
    }
    shared.record(endpoint, response.status().as_u16());
    response
}

/// Where fakehub's own control endpoints live on the API listener, outside GitHub's paths.
const CONTROL_PREFIX: &str = "/_fakehub/";

/// What a control request moves on.
enum Control {
    /// `POST /_fakehub/jobs/{job_id}/complete`: [`World::complete_job`].
    Job(u64),
    /// `POST /_fakehub/runs/{run_id}/complete-next-job`: [`World::complete_next_job`].
    NextJob(u64),
    /// `POST /_fakehub/runs/{run_id}/complete`: [`World::complete_run`].
    Run(u64),
}
// `POST /_fakehub/tick` ([`World::tick`]) is answered apart: it names no job or run.

/// fakehub's control endpoints, which GitHub does not have: they move the simulated world on
/// (jobs and runs complete), for tests in other processes and for trying the binary by hand.
/// They need no token, spend no rate limit and take no faults; [`Stats`] counts them as
/// `control`. A job or run is looked for in every repository. The answer is the job or run
/// as the API now shows it; 409 when it had already completed, 404 when it is unknown.
fn control(shared: &Shared, method: &Method, rest: &str) -> Response {
    let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
    if parts == ["tick"] {
        if method != Method::POST {
            return use_post();
        }
        let tick = shared.world.write().expect("world lock").tick();
        return json_response(StatusCode::OK, &tick_body(&tick));
    }
    let id = |s: &str| s.parse::<u64>().ok();
    let target = match parts.as_slice() {
        ["jobs", j, "complete"] => id(j).map(Control::Job),
        ["runs", r, "complete-next-job"] => id(r).map(Control::NextJob),
        ["runs", r, "complete"] => id(r).map(Control::Run),
        _ => None,
    };
    let Some(target) = target else {
        return json_response(StatusCode::NOT_FOUND, &json::error("Not Found", 404));
    };
    if method != Method::POST {
        return use_post();
    }
    let mut world = shared.world.write().expect("world lock");
    let run_of_job = |world: &World, job: u64| {
        world.repos().iter().find_map(|repo| {
            let run = repo
                .runs
                .iter()
                .find(|r| r.latest().jobs.iter().any(|j| j.id == job))?;
            Some((repo.full_name(), run.id))
        })
    };
    let repo_of_run = |world: &World, run: u64| {
        world
            .repos()
            .iter()
            .find(|repo| repo.run(run).is_some())
            .map(Repo::full_name)
    };
    let (full_name, run_id, job_id, changed) = match target {
        Control::Job(job) => {
            let Some((full_name, run)) = run_of_job(&world, job) else {
                return json_response(StatusCode::NOT_FOUND, &json::error("Not Found", 404));
            };
            let changed = world.complete_job(&full_name, job);
            (full_name, run, Some(job), changed)
        }
        Control::NextJob(run) => {
            let Some(full_name) = repo_of_run(&world, run) else {
                return json_response(StatusCode::NOT_FOUND, &json::error("Not Found", 404));
            };
            let job = world.complete_next_job(&full_name, run);
            (full_name, run, job, job.is_some())
        }
        Control::Run(run) => {
            let Some(full_name) = repo_of_run(&world, run) else {
                return json_response(StatusCode::NOT_FOUND, &json::error("Not Found", 404));
            };
            let changed = world.complete_run(&full_name, run);
            (full_name, run, None, changed)
        }
    };
    let urls = Urls {
        api: &shared.api_url,
        web: &shared.config.web_base,
    };
    let repo = world.repo(&full_name).expect("found above");
    let run = repo.run(run_id).expect("found above");
    let body = match job_id.and_then(|id| run.latest().jobs.iter().find(|j| j.id == id)) {
        Some(job) => json::job(&urls, repo, run, job),
        None => json::run(&urls, repo, run, run.latest()),
    };
    if changed {
        json_response(StatusCode::OK, &body)
    } else {
        let what = match job_id {
            Some(id) => format!("Job {id} has already completed"),
            None => format!("Run {run_id} has no job left to complete"),
        };
        json_response(StatusCode::CONFLICT, &json::error(&what, 409))
    }
}

/// What `POST /_fakehub/tick` answers: the attempts that completed and the runs that started.
fn tick_body(tick: &Tick) -> Value {
    let completed: Vec<Value> = tick
        .completed
        .iter()
        .map(|c| json!({ "repo": c.repo, "run_id": c.run_id, "attempt": c.attempt, "at": c.at.to_string() }))
        .collect();
    let started: Vec<Value> = tick
        .started
        .iter()
        .map(|(repo, run)| json!({ "repo": repo, "run_id": run }))
        .collect();
    json!({ "completed": completed, "started": started })
}

/// A control endpoint's answer to a method other than POST.
fn use_post() -> Response {
    let mut r = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &json::error("Use POST", 405),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
}

/// Adds the `x-ratelimit-*` headers of `token`'s own window; with `take`, spends one request
/// of it first. False when the limit was already spent (nothing is taken then).
fn rate_headers(shared: &Shared, token: &str, response: &mut Response, take: bool) -> bool {
    let now = now_ms() / 1000;
    let mut windows = shared.rate.lock().expect("rate lock");
    let rate = windows.entry(token.to_owned()).or_default();
    if now >= rate.reset_at {
        rate.reset_at = now + shared.config.rate_window.as_secs().max(1);
        rate.used = 0;
    }
    let limit = shared.config.rate_limit;
    let allowed = rate.used < limit;
    if take && allowed {
        rate.used += 1;
    }
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).expect("ascii"));
    };
    put("x-ratelimit-limit", limit.to_string());
    put(
        "x-ratelimit-remaining",
        limit.saturating_sub(rate.used).to_string(),
    );
    put("x-ratelimit-used", rate.used.to_string());
    put("x-ratelimit-reset", rate.reset_at.to_string());
    put("x-ratelimit-resource", "core".to_owned());
    !take || allowed
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    json_bytes_response(
        status,
        serde_json::to_vec(body).expect("json values serialise"),
    )
}

fn json_bytes_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        "x-github-api-version-selected",
        HeaderValue::from_static("2022-11-28"),
    );
    headers.insert(
        "x-github-media-type",
        HeaderValue::from_static("github.v3; format=json"),
    );
    r
}

fn answer(shared: &Shared, full_name: &str, route: &Route, params: &Params) -> Reply {
    if *route == Route::RateLimit {
        return Reply::ok(
            json!({ "resources": {}, "rate": { "limit": shared.config.rate_limit } }),
        );
    }
    let world = shared.world.read().expect("world lock");
    let Some(repo) = world.repo(full_name) else {
        return Reply::not_found();
    };
    if repo.actions == Actions::Disabled && *route != Route::Repo {
        return Reply::not_found();
    }
    let urls = Urls {
        api: &shared.api_url,
        web: &shared.config.web_base,
    };
    let base = format!(
        "{}{}",
        shared.api_url,
        format_args!("/repos/{}", repo.full_name())
    );
    match route {
        Route::RateLimit | Route::Repos(_) => unreachable!("answered above"),
        Route::Repo => Reply::ok(json::repository(&urls, repo)),
        Route::ListWorkflows => {
            let items: Vec<Value> = repo
                .workflows
                .iter()
                .map(|w| json::workflow(&urls, repo, w))
                .collect();
            Reply::ok(json!({ "total_count": items.len(), "workflows": items }))
        }
        Route::Workflow(key) => match find_workflow(repo, key) {
            Some(w) => Reply::ok(json::workflow(&urls, repo, &repo.workflows[w])),
            None => Reply::not_found(),
        },
        Route::ListRuns => list_runs(&urls, repo, None, params, &format!("{base}/actions/runs")),
        Route::WorkflowRuns(key) => match find_workflow(repo, key) {
            Some(w) => list_runs(
                &urls,
                repo,
                Some(w),
                params,
                &format!("{base}/actions/workflows/{key}/runs"),
            ),
            None => Reply::not_found(),
        },
        Route::Run(id) => match repo.run(*id) {
            Some(run) => Reply::ok(json::run(&urls, repo, run, run.latest())),
            None => Reply::not_found(),
        },
        Route::Attempt(id, n) => {
            match repo.run(*id).and_then(|run| Some((run, run.attempt(*n)?))) {
                Some((run, attempt)) => Reply::ok(json::run(&urls, repo, run, attempt)),
                None => Reply::not_found(),
            }
        }
        Route::AttemptJobs(id, n) => {
            match repo.run(*id).and_then(|run| Some((run, run.attempt(*n)?))) {
                Some((run, attempt)) => {
                    let jobs: Vec<Value> = attempt
                        .jobs
                        .iter()
                        .map(|j| json::job(&urls, repo, run, j))
                        .collect();
                    paged(
                        jobs,
                        "jobs",
                        params,
                        &format!("{base}/actions/runs/{id}/attempts/{n}/jobs"),
                    )
                }
                None => Reply::not_found(),
            }
        }
        Route::RunJobs(id) => match repo.run(*id) {
            Some(run) => {
                let jobs: Vec<Value> = match param(params, "filter").unwrap_or("latest") {
                    "latest" => run
                        .latest()
                        .jobs
                        .iter()
                        .map(|j| json::job(&urls, repo, run, j))
                        .collect(),
                    "all" => {
                        let mut seen = std::collections::BTreeSet::new();
                        run.attempts
                            .iter()
                            .flat_map(|a| a.jobs.iter())
                            .filter(|j| seen.insert(j.id))
                            .map(|j| json::job(&urls, repo, run, j))
                            .collect()
                    }
                    other => {
                        return Reply::error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            &format!("Invalid filter `{other}`: use `latest` or `all`"),
                        );
                    }
                };
                paged(
                    jobs,
                    "jobs",
                    params,
                    &format!("{base}/actions/runs/{id}/jobs"),
                )
            }
            None => Reply::not_found(),
        },
        Route::Job(id) => match repo.job(*id) {
            Some((run, job)) => Reply::ok(json::job(&urls, repo, run, job)),
            None => Reply::not_found(),
        },
        Route::RunLogs(id) => match repo.run(*id) {
            Some(run) => archive_redirect(shared, repo, run, run.latest().number),
            None => Reply::not_found(),
        },
        Route::AttemptLogs(id, n) => match repo.run(*id).filter(|r| r.attempt(*n).is_some()) {
            Some(run) => archive_redirect(shared, repo, run, *n),
            None => Reply::not_found(),
        },
        Route::JobLogs(id) => match repo.job(*id) {
            Some((run, job)) => {
                if let Some(reply) = unavailable(
                    shared,
                    run,
                    job.completed_at.filter(|_| job.status == Status::Completed),
                    shared.config.job_log_not_ready_for,
                ) {
                    return reply;
                }
                if job.conclusion == Some(Conclusion::Skipped) {
                    return Reply::not_found();
                }
                Reply::Redirect(signed_url(
                    shared,
                    &format!("/{}/jobs/{}/log.txt", repo.id, job.id),
                ))
            }
            None => Reply::not_found(),
        },
    }
}

fn find_workflow(repo: &Repo, key: &str) -> Option<usize> {
    repo.workflows
        .iter()
        .position(|w| w.id.to_string() == key || w.file_name() == key)
}

/// Why an archive or a job's log cannot be had: gone past retention, still running (no
/// `completed_at`), or completed less than `not_ready_for` ago and still being finalised.
fn unavailable(
    shared: &Shared,
    run: &Run,
    completed_at: Option<i64>,
    not_ready_for: Duration,
) -> Option<Reply> {
    let now = (now_ms() / 1000) as i64;
    if run.created_at < now - shared.config.retention.as_secs() as i64 {
        let status = StatusCode::from_u16(shared.config.gone_status).unwrap_or(StatusCode::GONE);
        let message = if status == StatusCode::GONE {
            "Server Error"
        } else {
            "Not Found"
        };
        return Some(Reply::error(status, message));
    }
    let Some(done) = completed_at else {
        return Some(Reply::not_found());
    };
    let ready_at = done as f64 + not_ready_for.as_secs_f64();
    (now_ms() as f64 / 1000.0 < ready_at).then(Reply::not_found)
}

fn archive_redirect(shared: &Shared, repo: &Repo, run: &Run, attempt: u32) -> Reply {
    let a = run.attempt(attempt).expect("checked by the caller");
    if let Some(reply) = unavailable(
        shared,
        run,
        a.completed_at.filter(|_| a.status == Status::Completed),
        shared.config.not_ready_for,
    ) {
        return reply;
    }
    Reply::Redirect(signed_url(
        shared,
        &format!("/{}/runs/{}/attempts/{attempt}/logs.zip", repo.id, run.id),
    ))
}

fn signed_url(shared: &Shared, path: &str) -> String {
    let expires = now_ms() + shared.config.url_expiry.as_millis() as u64;
    format!(
        "{}{path}?sv=2024-05-04&sp=r&se={expires}&sig={}",
        shared.blob_url,
        shared.sign(path, expires)
    )
}

/// Runs newest first, filtered, with the 1,000-result cap that filters impose.
fn list_runs(
    urls: &Urls<'_>,
    repo: &Repo,
    workflow: Option<usize>,
    params: &Params,
    base: &str,
) -> Reply {
    let window = match param(params, "created").map(created::parse).transpose() {
        Ok(w) => w,
        Err(e) => {
            return Reply::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Validation Failed: created: {e}"),
            );
        }
    };
    let matches = |run: &Run| {
        let latest = run.latest();
        let field = |name: &str, value: &str| param(params, name).is_none_or(|want| want == value);
        workflow.is_none_or(|w| run.workflow == w)
            && window.is_none_or(|w| w.contains(run.created_at))
            && field("branch", &run.head_branch)
            && field("event", run.event)
            && field("actor", &run.actor)
            && field("head_sha", &run.head_sha)
            && field("check_suite_id", &(run.id + 1).to_string())
            && param(params, "status").is_none_or(|s| {
                s == latest.status.as_str() || latest.conclusion.is_some_and(|c| c.as_str() == s)
            })
    };
    let filtered = [
        "actor",
        "branch",
        "check_suite_id",
        "created",
        "event",
        "head_sha",
        "status",
    ]
    .iter()
    .any(|p| param(params, p).is_some());
    let runs: Vec<&Run> = repo.runs.iter().rev().filter(|r| matches(r)).collect();
    let total = runs.len();
    let reachable = if filtered { total.min(1000) } else { total };
    let (per_page, page) = page_params(params);
    let items: Vec<Value> = runs
        .iter()
        .take(reachable)
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|run| json::run(urls, repo, run, run.latest()))
        .collect();
    let link = link_header(base, params, page, reachable.div_ceil(per_page));
    Reply::Json {
        status: StatusCode::OK,
        body: json!({ "total_count": total, "workflow_runs": items }),
        link,
    }
}

fn paged(items: Vec<Value>, key: &str, params: &Params, base: &str) -> Reply {
    let total = items.len();
    let (per_page, page) = page_params(params);
    let page_items: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link = link_header(base, params, page, total.div_ceil(per_page));
    Reply::Json {
        status: StatusCode::OK,
        body: json!({ "total_count": total, key: page_items }),
        link,
    }
}

/// `per_page` (default 30, at most 100) and `page` (from 1).
pub(crate) fn page_params(params: &Params) -> (usize, usize) {
    let per_page = param(params, "per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30usize)
        .clamp(1, 100);
    let page = param(params, "page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    (per_page, page)
}

/// `Link: <…page=2>; rel="next", <…page=5>; rel="last"`, as GitHub orders them.
pub(crate) fn link_header(base: &str, params: &Params, page: usize, last: usize) -> Option<String> {
    let url = |p: usize| {
        let mut query: Params = params
            .iter()
            .filter(|(k, _)| k != "page")
            .cloned()
            .collect();
        query.push(("page".to_owned(), p.to_string()));
        format!(
            "<{base}?{}>",
            serde_urlencoded::to_string(&query).expect("pairs of strings encode")
        )
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!(
            "{}; rel=\"prev\"",
            url((page - 1).min(last.max(1)))
        ));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

/// Azure's answer to a request it will not authenticate.
fn azure_denied(detail: &str) -> Response {
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.\nRequestId:00000000-0000-0000-0000-000000000000\nTime:{}</Message><AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail></Error>",
        jiff::Timestamp::now()
    );
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::FORBIDDEN;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    r
}

/// The blob listener: checks the signature and its expiry, refuses any `Authorization`,
/// then serves the archive or job log, with any fault that applies.
pub(crate) async fn blob(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_query(query.as_deref());
    let path = uri.path().to_owned();
    let response = blob_inner(&shared, &path, &headers, &params).await;
    shared.record(blob_endpoint(&path), response.status().as_u16());
    response
}

/// The name [`Stats`] counts a blob request under: `blob` for archives (and paths that name
/// nothing), `blob_job_log` for a job's log, so that tests tell the two downloads apart.
fn blob_endpoint(path: &str) -> &'static str {
    if path.ends_with("/log.txt") {
        "blob_job_log"
    } else {
        "blob"
    }
}

async fn blob_inner(
    shared: &Arc<Shared>,
    path: &str,
    headers: &HeaderMap,
    params: &Params,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        shared
            .stats
            .lock()
            .expect("stats lock")
            .auth_header_violations += 1;
        return azure_denied("Authorization header is not allowed with a shared access signature.");
    }
    let expires: Option<u64> = param(params, "se").and_then(|v| v.parse().ok());
    let (Some(expires), Some(sig)) = (expires, param(params, "sig")) else {
        return azure_denied("Signature fields not well formed.");
    };
    if sig != shared.sign(path, expires) {
        return azure_denied("Signature did not match.");
    }
    let now = now_ms();
    if now > expires {
        return azure_denied(&format!(
            "Signed expiry time [{expires}] must be after signed start time; current time [{now}]: Signature not valid in the specified time frame"
        ));
    }
    let fault = shared.take_fault(Host::Blob, path);
    if let Some(FaultKind::Status(code)) = fault {
        let mut r = Response::new(Body::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code></Error>",
        ));
        *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return r;
    }

    let shared2 = Arc::clone(shared);
    let path2 = path.to_owned();
    let made = tokio::task::spawn_blocking(move || make_blob(&shared2, &path2))
        .await
        .ok()
        .flatten();
    let Some((blob, content_type)) = made else {
        let mut r = Response::new(Body::from(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code></Error>",
        ));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let mut data = match blob {
        // A spool is read as it is sent; a fault that changes the bytes needs them in memory.
        Blob::Spooled(spool) if fault.is_none() => {
            shared.stats.lock().expect("stats lock").blob_bytes += spool.len();
            let mut r = Response::new(spooled_body(spool.clone()));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(spool.len()));
            return r;
        }
        Blob::Spooled(spool) => spool.read_all().unwrap_or_default(),
        Blob::Bytes(bytes) => bytes,
    };
    match fault {
        Some(FaultKind::Truncate) => data.truncate(data.len() / 2),
        Some(FaultKind::Corrupt) => {
            let mid = data.len() / 2;
            let end = (mid + 64).min(data.len());
            data[mid..end].iter_mut().for_each(|b| *b = !*b);
        }
        _ => {}
    }
    let len = data.len();
    let body = match fault {
        Some(FaultKind::DropMidBody) => {
            shared.stats.lock().expect("stats lock").blob_bytes += (len / 2) as u64;
            let half = Bytes::from(data).slice(..len / 2);
            // Let the headers and the first half reach the client before the connection breaks.
            let stream = futures_util::stream::unfold(Some(half), |state| async move {
                match state {
                    Some(half) => Some((Ok(half), None)),
                    None => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let reset = std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "fakehub dropped the connection",
                        );
                        Some((Err(reset), None))
                    }
                }
            });
            Body::from_stream(stream)
        }
        Some(FaultKind::Slow(rate)) => {
            shared.stats.lock().expect("stats lock").blob_bytes += len as u64;
            slow_body(Bytes::from(data), rate)
        }
        _ => {
            shared.stats.lock().expect("stats lock").blob_bytes += len as u64;
            Body::from(data)
        }
    };
    let mut r = Response::new(body);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    r
}

/// Sends `data` in ten chunks a second at `rate` bytes per second.
fn slow_body(data: Bytes, rate: u64) -> Body {
    let chunk = (rate / 10).max(1) as usize;
    let stream = futures_util::stream::unfold(0usize, move |at| {
        let data = data.clone();
        async move {
            if at >= data.len() {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            let end = (at + chunk).min(data.len());
            Some((Ok::<_, std::io::Error>(data.slice(at..end)), end))
        }
    });
    Body::from_stream(stream)
}

/// Sends a spool in chunks of 256 KiB, each read when the last has gone.
fn spooled_body(spool: Arc<Spool>) -> Body {
    const CHUNK: usize = 256 << 10;
    let stream = futures_util::stream::unfold(0u64, move |at| {
        let spool = Arc::clone(&spool);
        async move {
            if at >= spool.len() {
                return None;
            }
            let read = tokio::task::spawn_blocking(move || spool.read_at(at, CHUNK)).await;
            let chunk = read.unwrap_or_else(|e| Err(std::io::Error::other(e)));
            match chunk {
                Ok(bytes) => {
                    let next = at + bytes.len() as u64;
                    Some((Ok(Bytes::from(bytes)), next))
                }
                // Ends the stream: the client sees a body shorter than its length.
                Err(e) => Some((Err(e), u64::MAX)),
            }
        }
    });
    Body::from_stream(stream)
}

/// Builds the bytes a blob path names: `/{repo}/runs/{run}/attempts/{n}/logs.zip` or
/// `/{repo}/jobs/{job}/log.txt`.
fn make_blob(shared: &Shared, path: &str) -> Option<(Blob, &'static str)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let world = shared.world.read().expect("world lock");
    let repo_id: u64 = parts.first()?.parse().ok()?;
    let repo = world.repos().iter().find(|r| r.id == repo_id)?.full_name();
    match parts[1..] {
        ["runs", run, "attempts", n, "logs.zip"] => {
            let archive = world.archive_blob(&repo, run.parse().ok()?, n.parse().ok()?)?;
            Some((archive, "application/zip"))
        }
        ["jobs", job, "log.txt"] => Some((world.job_blob(&repo, job.parse().ok()?)?, "text/plain")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_and_reject_nonsense() {
        let cases = [
            ("/repos/a/b", Some(Route::Repo)),
            ("/repos/a/b/actions/runs", Some(Route::ListRuns)),
            (
                "/repos/a/b/actions/runs/5/attempts/2/logs",
                Some(Route::AttemptLogs(5, 2)),
            ),
            ("/repos/a/b/actions/runs/5/attempts/0/logs", None),
            (
                "/repos/a/b/actions/workflows/ci.yml/runs",
                Some(Route::WorkflowRuns("ci.yml".into())),
            ),
            ("/repos/a/b/actions/jobs/x", None),
            ("/repos/a/b/actions/cache", None),
        ];
        for (path, want) in cases {
            assert_eq!(parse_route(path).map(|(_, r)| r), want, "{path}");
        }
    }

    #[test]
    fn link_header_orders_rels_like_github() {
        let params = vec![
            ("per_page".to_owned(), "10".to_owned()),
            ("created".to_owned(), ">=2026-11-01".to_owned()),
        ];
        let middle = link_header("http://h/x", &params, 2, 3).unwrap();
        let rels: Vec<&str> = middle
            .split(", ")
            .map(|l| l.split("rel=").nth(1).unwrap())
            .collect();
        assert_eq!(rels, ["\"prev\"", "\"next\"", "\"last\"", "\"first\""]);
        assert!(middle.contains("created=%3E%3D2026-11-01"), "{middle}");
        assert_eq!(link_header("http://h/x", &params, 1, 1), None);
    }
}
