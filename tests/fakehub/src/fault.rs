//! Faults fakehub injects on request, to prove clients survive them.

use std::fmt;
use std::str::FromStr;

/// Which listener a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The REST API.
    Api,
    /// Blob storage (archives and job logs behind the redirects).
    Blob,
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status (a 5xx burst when repeated) and a JSON or XML error body; on
    /// the API host with the rate headers, and GitHub's message (`Not Found` for a 404).
    /// The API host applies this and [`FaultKind::Slow`]; the blob host applies all kinds.
    Status(u16),
    /// Send half the body, then close the connection (the `Content-Length` promised all).
    DropMidBody,
    /// Serve only the first half of the archive or job log, as a complete response.
    Truncate,
    /// Serve the archive or job log with bytes in its middle overwritten.
    Corrupt,
    /// Send the body at this many bytes per second (the API delays its answer as long).
    Slow(u64),
}

/// A fault rule: requests to `host` whose path contains `path` get `kind`, `times` times
/// (or always when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Listener.
    pub host: Host,
    /// Substring of the request path (`""` matches every path).
    pub path: String,
    /// What happens.
    pub kind: FaultKind,
    /// How many matching requests get it; `None` for all.
    pub times: Option<u32>,
}

impl Fault {
    /// A fault on every API request whose path contains `path`.
    pub fn api(path: impl Into<String>, kind: FaultKind) -> Fault {
        Fault {
            host: Host::Api,
            path: path.into(),
            kind,
            times: None,
        }
    }

    /// A fault on every blob request whose path contains `path`.
    pub fn blob(path: impl Into<String>, kind: FaultKind) -> Fault {
        Fault {
            host: Host::Blob,
            path: path.into(),
            kind,
            times: None,
        }
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    pub(crate) fn matches(&self, host: Host, path: &str) -> bool {
        self.host == host && path.contains(&self.path) && self.times != Some(0)
    }
}

/// Parses `HOST:KIND[@PATH][*TIMES]`, for example `api:503@/actions/runs*3`,
/// `blob:drop`, `blob:slow=65536@/logs`. Kinds: a status code, `drop`, `truncate`, `corrupt`,
/// `slow=BYTES_PER_SEC`.
impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        let (host, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("fault `{s}` has no `HOST:`"))?;
        let host = match host {
            "api" => Host::Api,
            "blob" => Host::Blob,
            other => return Err(format!("fault host `{other}` is neither `api` nor `blob`")),
        };
        let (rest, times) = match rest.rsplit_once('*') {
            Some((r, n)) => (
                r,
                Some(
                    n.parse()
                        .map_err(|_| format!("fault count `{n}` is not a number"))?,
                ),
            ),
            None => (rest, None),
        };
        let (kind, path) = rest.split_once('@').unwrap_or((rest, ""));
        let kind = match kind.split_once('=') {
            None if kind == "drop" => FaultKind::DropMidBody,
            None if kind == "truncate" => FaultKind::Truncate,
            None if kind == "corrupt" => FaultKind::Corrupt,
            Some(("slow", rate)) => FaultKind::Slow(
                rate.parse()
                    .map_err(|_| format!("slow rate `{rate}` is not a number"))?,
            ),
            None => FaultKind::Status(kind.parse().map_err(|_| {
                format!(
                    "fault kind `{kind}` is not a status, `drop`, `truncate`, `corrupt` or `slow=N`"
                )
            })?),
            Some(_) => return Err(format!("fault kind `{kind}` is unknown")),
        };
        Ok(Fault {
            host,
            path: path.to_owned(),
            kind,
            times,
        })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match self.host {
            Host::Api => "api",
            Host::Blob => "blob",
        };
        write!(f, "{host}:")?;
        match self.kind {
            FaultKind::Status(s) => write!(f, "{s}")?,
            FaultKind::DropMidBody => write!(f, "drop")?,
            FaultKind::Truncate => write!(f, "truncate")?,
            FaultKind::Corrupt => write!(f, "corrupt")?,
            FaultKind::Slow(rate) => write!(f, "slow={rate}")?,
        }
        if !self.path.is_empty() {
            write!(f, "@{}", self.path)?;
        }
        if let Some(n) = self.times {
            write!(f, "*{n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for text in [
            "api:503@/actions/runs*3",
            "blob:drop",
            "blob:slow=65536@/logs",
            "blob:truncate*1",
            "blob:corrupt",
        ] {
            let fault: Fault = text.parse().unwrap();
            assert_eq!(fault.to_string(), text);
        }
    }

    #[test]
    fn rejects_bad_rules_with_the_culprit_named() {
        for (text, culprit) in [
            ("cdn:drop", "cdn"),
            ("api:teapot", "teapot"),
            ("blob:drop*x", "x"),
            ("nothing", "nothing"),
        ] {
            let err = text.parse::<Fault>().unwrap_err();
            assert!(err.contains(culprit), "{err}");
        }
    }
}
