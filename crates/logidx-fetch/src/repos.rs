//! Listing an owner's repositories (`docs/github.md` section 11): an organisation's, else a
//! user's, or with a GitHub App its installation's.

use reqwest::StatusCode;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::{InstallationReposPage, RepoName, Repository, RepositoryBody};

impl Client {
    /// Every repository of `owner`, archived ones and forks included (their flags say so),
    /// sorted by name. With a GitHub App, the repositories of its installation that `owner`
    /// owns (`GET /installation/repositories`); else `GET /orgs/{owner}/repos?type=all`,
    /// falling back to `GET /users/{owner}/repos` when no organisation has the login. Pages
    /// are followed by `Link`, each revalidated with its `etag` (a `304` is free) and the
    /// organisation's `404` kept a while ([`Client`]'s cache of `404`s), so that listing an
    /// unchanged owner again, as each watch cycle does, costs no counted request.
    pub async fn owner_repos(&self, owner: &str) -> Result<Vec<Repository>> {
        let not_found = || Error::OwnerNotFound {
            owner: owner.to_owned(),
        };
        let mut repos = if self.github_app().is_some() {
            let url = self.api().installation_repositories();
            let listed = self.list_repos(with_per_page(url.as_str()), true).await?;
            let owned: Vec<Repository> = listed
                .ok_or_else(not_found)?
                .into_iter()
                .filter(|r| r.name.owner.eq_ignore_ascii_case(owner))
                .collect();
            if owned.is_empty() {
                return Err(not_found());
            }
            owned
        } else {
            let org = format!("{}?type=all&per_page=100", self.api().org_repos(owner));
            match self.list_repos(org, false).await? {
                Some(repos) => repos,
                None => {
                    let user = with_per_page(self.api().user_repos(owner).as_str());
                    self.list_repos(user, false).await?.ok_or_else(not_found)?
                }
            }
        };
        repos.sort_by_key(|r| r.name.to_string().to_lowercase());
        repos.dedup_by(|a, b| a.name == b.name);
        Ok(repos)
    }

    /// One repository (`GET /repos/{o}/{r}`), for its `default_branch`; revalidated with its
    /// `etag`, so asking again each watch cycle is free while it is unchanged.
    pub async fn repository(&self, repo: &RepoName) -> Result<Repository> {
        let url = self.api().repo(&repo.owner, &repo.name);
        let answer = self.get(url.as_str(), true).await?;
        match answer.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                return Err(Error::RepoNotFound {
                    repo: repo.to_string(),
                });
            }
            _ => return Err(answer.into_error()),
        }
        let body: RepositoryBody = answer.json()?;
        Ok(repository(repo.clone(), body))
    }

    /// Every repository from `url` on, following `Link`; `None` when the first page is a 404.
    /// `installation` pages are `{total_count, repositories}`, the others bare arrays.
    async fn list_repos(
        &self,
        mut url: String,
        installation: bool,
    ) -> Result<Option<Vec<Repository>>> {
        let mut repos = Vec::new();
        loop {
            let answer = self.get(&url, true).await?;
            match answer.status {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND if repos.is_empty() => return Ok(None),
                _ => return Err(answer.into_error()),
            }
            let page: Vec<RepositoryBody> = if installation {
                answer.json::<InstallationReposPage>()?.repositories
            } else {
                answer.json()?
            };
            for body in page {
                match RepoName::parse(&body.full_name) {
                    Ok(name) => repos.push(repository(name, body)),
                    // GitHub's names always parse; a stranger one is no repository to sync.
                    Err(_) => tracing::warn!(
                        name = %body.full_name.escape_debug(),
                        "a listed repository's name is not `owner/name`"
                    ),
                }
            }
            match answer.next_link() {
                Some(next) => url = next,
                None => return Ok(Some(repos)),
            }
        }
    }
}

fn repository(name: RepoName, body: RepositoryBody) -> Repository {
    Repository {
        name,
        archived: body.archived,
        fork: body.fork,
        // An empty name is no branch.
        default_branch: body.default_branch.filter(|b| !b.is_empty()),
    }
}

fn with_per_page(url: &str) -> String {
    format!("{url}?per_page=100")
}
