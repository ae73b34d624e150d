//! Owners: which repositories `logidx sync OWNER` means. An organisation's or a user's
//! repositories as fetch lists them, narrowed by an [`OwnerFilter`] (names excluded, archived
//! repositories and forks left out unless asked for), joined with the repositories named.
//! [`crate::sync`] resolves [`SyncOptions::owners`](crate::SyncOptions::owners) this way when
//! it starts; `serve` can call [`resolve`] itself.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;

use logidx_fetch::{Client, RepoName, Repository};
use serde::Serialize;

/// What a sync is asked for: all of an owner's repositories, or one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// An organisation or a user (`acme`).
    Owner(String),
    /// One repository (`acme/widgets`).
    Repo(RepoName),
}

impl FromStr for Target {
    type Err = logidx_fetch::Error;

    /// `OWNER/REPO` is a repository, a name without `/` an owner.
    fn from_str(text: &str) -> Result<Target, logidx_fetch::Error> {
        if text.contains('/') {
            return text.parse().map(Target::Repo);
        }
        // An owner is what the first half of `owner/name` may be.
        let name: RepoName = format!("{text}/x")
            .parse()
            .map_err(|_| logidx_fetch::Error::BadRepoName(text.to_owned()))?;
        Ok(Target::Owner(name.owner))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Owner(owner) => f.write_str(owner),
            Target::Repo(repo) => repo.fmt(f),
        }
    }
}

/// Which of an owner's repositories are synced. `Default`: all but archived ones and forks.
/// The repositories named one by one are always synced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerFilter {
    /// Globs on names (`*` any characters, `?` one), in any case: a pattern with a `/`
    /// matches `owner/name`, one without the name alone (`legacy-*`).
    pub exclude: Vec<String>,
    /// Sync archived repositories too.
    pub include_archived: bool,
    /// Sync forks too.
    pub include_forks: bool,
}

impl OwnerFilter {
    /// Why `repo` is left out, if it is.
    pub fn skips(&self, repo: &Repository) -> Option<SkipReason> {
        let (full, name) = (repo.name.to_string(), &repo.name.name);
        if let Some(pattern) = self.exclude.iter().find(|p| {
            let against = if p.contains('/') { &full } else { name };
            glob_matches(p, against)
        }) {
            return Some(SkipReason::Excluded {
                pattern: pattern.clone(),
            });
        }
        if repo.archived && !self.include_archived {
            return Some(SkipReason::Archived);
        }
        if repo.fork && !self.include_forks {
            return Some(SkipReason::Fork);
        }
        None
    }
}

/// A repository of an owner that a sync left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedRepo {
    /// `owner/name`.
    pub repo: String,
    /// Why.
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// Why an owner's repository was left out. Never a failure: the sync goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SkipReason {
    /// Its name matches an [`OwnerFilter::exclude`] pattern.
    Excluded {
        /// The pattern.
        pattern: String,
    },
    /// It is archived ([`OwnerFilter::include_archived`] syncs it).
    Archived,
    /// It is a fork ([`OwnerFilter::include_forks`] syncs it).
    Fork,
    /// Actions is disabled: its runs answer 404.
    NoActions,
    /// It has no workflow runs to sync.
    NoRuns,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Excluded { pattern } => write!(f, "excluded by `{pattern}`"),
            SkipReason::Archived => f.write_str("archived"),
            SkipReason::Fork => f.write_str("a fork"),
            SkipReason::NoActions => f.write_str("Actions disabled (its runs answer 404)"),
            SkipReason::NoRuns => f.write_str("no workflow runs to sync"),
        }
    }
}

/// The repositories targets come to.
#[derive(Debug, Default)]
pub struct Resolved {
    /// What to sync, each once: the named repositories, then the owners' in order of names.
    pub repos: Vec<RepoName>,
    /// Those of them an owner's listing gave (a 404 on their runs means Actions is disabled).
    pub from_owners: HashSet<RepoName>,
    /// The owners' repositories left out.
    pub skipped: Vec<SkippedRepo>,
    /// The owners whose listing failed, with the error: the others go on.
    pub failed: Vec<(String, logidx_fetch::Error)>,
    /// The default branch of each repository synced that GitHub named one for, by lowercased
    /// `owner/name`: from the owners' listings, and [`default_branches`] for the others.
    pub default_branches: BTreeMap<String, String>,
}

/// Lists each owner's repositories and narrows them by `filter`; repositories are kept as
/// named. Errors that stop every request (a refused token or App, an unreachable API) are
/// returned; an owner that cannot be listed is in [`Resolved::failed`].
pub async fn resolve(
    client: &Client,
    targets: &[Target],
    filter: &OwnerFilter,
) -> Result<Resolved, logidx_fetch::Error> {
    let mut resolved = Resolved::default();
    let mut seen = HashSet::new();
    let mut add = |resolved: &mut Resolved, repo: &RepoName| {
        if seen.insert(repo.to_string().to_lowercase()) {
            resolved.repos.push(repo.clone());
            true
        } else {
            false
        }
    };
    for target in targets {
        if let Target::Repo(repo) = target {
            add(&mut resolved, repo);
        }
    }
    for target in targets {
        let Target::Owner(owner) = target else {
            continue;
        };
        let listed = match client.owner_repos(owner).await {
            Ok(listed) => listed,
            Err(e) if crate::sync::stops_everything(&e) => return Err(e),
            Err(e) => {
                resolved.failed.push((owner.clone(), e));
                continue;
            }
        };
        for repo in listed {
            match filter.skips(&repo) {
                Some(reason) => resolved.skipped.push(SkippedRepo {
                    repo: repo.name.to_string(),
                    reason,
                }),
                None => {
                    if add(&mut resolved, &repo.name) {
                        if let Some(branch) = &repo.default_branch {
                            let key = repo.name.to_string().to_lowercase();
                            resolved.default_branches.insert(key, branch.clone());
                        }
                        resolved.from_owners.insert(repo.name);
                    }
                }
            }
        }
    }
    Ok(resolved)
}

/// Adds to `known` the default branch of each of `repos` it lacks, asked of GitHub
/// (`GET /repos/{o}/{r}`, revalidated with its `etag`: free while unchanged). A repository
/// GitHub does not answer for is left out: its default branch is then guessed, and its runs'
/// listing says what is wrong. An error that stops every request (an unreachable API, a refused
/// token) is returned at once, so a dead host is not asked once per repository.
pub async fn default_branches(
    client: &Client,
    repos: &[RepoName],
    known: &mut BTreeMap<String, String>,
) -> Result<(), logidx_fetch::Error> {
    for repo in repos {
        let key = repo.to_string().to_lowercase();
        if known.contains_key(&key) {
            continue;
        }
        match client.repository(repo).await {
            Ok(Repository {
                default_branch: Some(branch),
                ..
            }) => {
                known.insert(key, branch);
            }
            Err(e) if crate::sync::stops_everything(&e) => return Err(e),
            // Any other error is the runs listing's to tell.
            Ok(_) | Err(_) => {}
        }
    }
    Ok(())
}

/// Whether `text` matches the glob `pattern` (`*` any run of characters, `?` one), ignoring
/// ASCII case as GitHub's names do.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (
        pattern.to_ascii_lowercase().chars().collect(),
        text.to_ascii_lowercase().chars().collect(),
    );
    // The classic backtracking match: on a mismatch, the last `*` takes one more character.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_a_shell_in_any_case() {
        let cases = [
            ("legacy-*", "legacy-api", true),
            ("legacy-*", "Legacy-API", true),
            ("legacy-*", "api-legacy", false),
            ("*-01", "service-01", true),
            ("lib-0?", "lib-02", true),
            ("lib-0?", "lib-020", false),
            ("*", "", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("**x", "yyx", true),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(glob_matches(pattern, text), want, "{pattern} {text}");
        }
    }

    #[test]
    fn the_filter_skips_excluded_archived_and_forks_unless_asked() {
        let repo = |name: &str, archived, fork| Repository {
            name: name.parse().unwrap(),
            archived,
            fork,
            default_branch: None,
        };
        let filter = OwnerFilter {
            exclude: vec!["lib-*".into(), "acme/app-03".into()],
            ..OwnerFilter::default()
        };
        let cases = [
            (repo("acme/service-01", false, false), None),
            (
                repo("acme/lib-02", false, false),
                Some(SkipReason::Excluded {
                    pattern: "lib-*".into(),
                }),
            ),
            (
                repo("ACME/App-03", false, false),
                Some(SkipReason::Excluded {
                    pattern: "acme/app-03".into(),
                }),
            ),
            (repo("acme/old", true, false), Some(SkipReason::Archived)),
            (repo("acme/copy", false, true), Some(SkipReason::Fork)),
        ];
        for (repo, want) in &cases {
            assert_eq!(filter.skips(repo).as_ref(), want.as_ref(), "{}", repo.name);
        }
        let all = OwnerFilter {
            include_archived: true,
            include_forks: true,
            ..OwnerFilter::default()
        };
        assert_eq!(all.skips(&repo("acme/old", true, true)), None);
    }

    #[test]
    fn targets_are_owners_without_a_slash() {
        assert_eq!(
            "acme".parse::<Target>().unwrap(),
            Target::Owner("acme".into())
        );
        assert_eq!(
            "acme/widgets".parse::<Target>().unwrap(),
            Target::Repo("acme/widgets".parse().unwrap())
        );
        for bad in ["", "a b", "acme/", "a/b/c", "ac\u{1b}me"] {
            assert!(bad.parse::<Target>().is_err(), "{bad:?}");
        }
    }
}
