//! What fakehub saw: requests by endpoint and status, bytes served, token leaks.

use std::collections::BTreeMap;

/// A snapshot of fakehub's counters, from [`crate::FakeHub::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests by endpoint and status. API endpoints are named after their route
    /// (`list_runs`, `attempt_logs`, `job_logs`, …); the blob host's are `blob` (archives) and
    /// `blob_job_log` (one job's log); fakehub's own control endpoints are `control`.
    pub requests: BTreeMap<&'static str, BTreeMap<u16, u64>>,
    /// Body bytes the blob host sent (archives and job logs).
    pub blob_bytes: u64,
    /// Requests to the blob host that carried an `Authorization` header (the token leaked).
    pub auth_header_violations: u64,
    /// API requests that came when their token's primary rate limit was spent, refused with
    /// 403 or 429: a polite client makes none.
    pub rate_limit_violations: u64,
    /// API requests that spent a token's rate limit (`304`s, faults and refusals do not).
    pub counted_requests: u64,
    /// Archive redirects served (`302` of `…/attempts/{n}/logs`), in order: `(run, attempt)`.
    pub archive_order: Vec<(u64, u32)>,
}

impl Stats {
    /// Requests to `endpoint`, whatever their status.
    pub fn count(&self, endpoint: &str) -> u64 {
        self.requests
            .get(endpoint)
            .map_or(0, |by_status| by_status.values().sum())
    }

    /// Requests to `endpoint` answered with `status`.
    pub fn count_status(&self, endpoint: &str, status: u16) -> u64 {
        self.requests
            .get(endpoint)
            .and_then(|s| s.get(&status))
            .copied()
            .unwrap_or(0)
    }

    /// Requests to GitHub's API on the API host, whatever the endpoint (not `control`).
    pub fn api_requests(&self) -> u64 {
        self.requests
            .iter()
            .filter(|(e, _)| !e.starts_with("blob") && **e != "control")
            .map(|(e, _)| self.count(e))
            .sum()
    }

    pub(crate) fn record(&mut self, endpoint: &'static str, status: u16) {
        *self
            .requests
            .entry(endpoint)
            .or_default()
            .entry(status)
            .or_default() += 1;
    }
}
