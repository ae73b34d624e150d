//! The token, kept out of logs, and found where `gh` users keep it.

use std::fmt;
use std::process::Command;

use crate::error::{Error, Result};

/// A GitHub token. Its `Debug` and `Display` never show it; only [`Token::expose`] does, and
/// the client calls that for the API host alone.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Token {
        Token(token.into())
    }

    /// The secret itself, for the `Authorization` header of API requests.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Finds a token as `gh` users expect: `GH_TOKEN`, then `GITHUB_TOKEN` (for GitHub Enterprise
/// hosts `GH_ENTERPRISE_TOKEN` and `GITHUB_ENTERPRISE_TOKEN` first), then `gh auth token` for
/// `host` (from `GH_HOST`) when given.
pub fn discover_token(host: Option<&str>) -> Result<Token> {
    discover_with(host, |name| std::env::var(name).ok(), gh_auth_token)
}

fn discover_with(
    host: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
    gh: impl Fn(Option<&str>) -> Option<String>,
) -> Result<Token> {
    let enterprise = host.is_some_and(|h| h != "github.com");
    let names: &[&str] = if enterprise {
        &[
            "GH_ENTERPRISE_TOKEN",
            "GITHUB_ENTERPRISE_TOKEN",
            "GH_TOKEN",
            "GITHUB_TOKEN",
        ]
    } else {
        &["GH_TOKEN", "GITHUB_TOKEN"]
    };
    names
        .iter()
        .filter_map(|name| env(name))
        .chain(std::iter::once_with(|| gh(host)).flatten())
        .map(|t| t.trim().to_owned())
        .find(|t| !t.is_empty())
        .map(Token)
        .ok_or(Error::NoToken)
}

/// `gh auth token [--hostname HOST]`, if `gh` is installed and logged in.
fn gh_auth_token(host: Option<&str>) -> Option<String> {
    let mut command = Command::new("gh");
    command.args(["auth", "token"]);
    if let Some(host) = host {
        command.args(["--hostname", host]);
    }
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn lookup_order_is_ghs() {
        let none = |_: Option<&str>| None;
        let gh = |_: Option<&str>| Some("from-gh\n".to_owned());
        /// Environment, `GH_HOST`, whether `gh` has a token, the token wanted.
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            Option<&'a str>,
            bool,
            Option<&'a str>,
        );
        let cases: [Case<'_>; 6] = [
            (
                &[("GH_TOKEN", "a"), ("GITHUB_TOKEN", "b")],
                None,
                true,
                Some("a"),
            ),
            (&[("GITHUB_TOKEN", "b")], None, true, Some("b")),
            (&[("GH_TOKEN", "  ")], None, true, Some("from-gh")),
            (&[], None, false, None),
            (
                &[("GH_TOKEN", "a"), ("GH_ENTERPRISE_TOKEN", "e")],
                Some("ghe.example.com"),
                false,
                Some("e"),
            ),
            (
                &[("GH_ENTERPRISE_TOKEN", "e")],
                Some("github.com"),
                false,
                None,
            ),
        ];
        for (vars, host, with_gh, want) in cases {
            let got = if with_gh {
                discover_with(host, env(vars), gh)
            } else {
                discover_with(host, env(vars), none)
            };
            assert_eq!(
                got.ok().map(|t| t.0),
                want.map(str::to_owned),
                "{vars:?} {host:?}"
            );
        }
    }

    #[test]
    fn the_token_never_prints() {
        let token = Token::new("ghp_secret");
        assert_eq!(format!("{token:?} {token}"), "Token(***) ***");
        assert!(Error::NoToken.hint().unwrap().contains("set `GH_TOKEN`"));
    }
}
