//! Repository listings of owners (`docs/github.md` section 11): `GET /orgs/{org}/repos`,
//! `GET /users/{user}/repos` (a JSON array each) and `GET /installation/repositories`
//! (`{total_count, repositories}`, for an installation token), paginated by `Link`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::config::OwnerKind;
use crate::json::{self, Urls};
use crate::model::Repo;
use crate::server::{Params, Reply, link_header, page_params, param};
use crate::world::World;

/// A listing route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Listing {
    /// `GET /orgs/{org}/repos`.
    Org(String),
    /// `GET /users/{user}/repos`: an organisation's too, as on GitHub.
    User(String),
    /// `GET /installation/repositories`.
    Installation,
}

impl Listing {
    /// The listing a path names, if any.
    pub(crate) fn parse(path: &str) -> Option<Listing> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        match parts.as_slice() {
            ["orgs", org, "repos"] => Some(Listing::Org((*org).to_owned())),
            ["users", user, "repos"] => Some(Listing::User((*user).to_owned())),
            ["installation", "repositories"] => Some(Listing::Installation),
            _ => None,
        }
    }

    /// The name [`crate::Stats`] counts it under.
    pub(crate) fn endpoint(&self) -> &'static str {
        match self {
            Listing::Org(_) => "list_org_repos",
            Listing::User(_) => "list_user_repos",
            Listing::Installation => "list_installation_repos",
        }
    }
}

/// Answers a listing; `installation` is the installation whose token the request carries.
pub(crate) fn answer(
    world: &World,
    urls: &Urls<'_>,
    listing: &Listing,
    params: &Params,
    installation: Option<u64>,
) -> Reply {
    let base = format!(
        "{}{}",
        urls.api,
        match listing {
            Listing::Org(org) => format!("/orgs/{org}/repos"),
            Listing::User(user) => format!("/users/{user}/repos"),
            Listing::Installation => "/installation/repositories".to_owned(),
        }
    );
    let owned = |login: &str| -> Vec<&Repo> {
        let mut repos: Vec<&Repo> = world
            .repos()
            .iter()
            .filter(|r| r.owner.eq_ignore_ascii_case(login))
            .collect();
        repos.sort_by_key(|r| r.full_name().to_lowercase());
        repos
    };
    match listing {
        Listing::Org(login) | Listing::User(login) => {
            let kind = world.owner_kind(login);
            let found = match listing {
                Listing::Org(_) => kind == Some(OwnerKind::Organization),
                _ => kind.is_some(),
            };
            if !found {
                return Reply::not_found();
            }
            let wanted = param(params, "type").unwrap_or("all");
            let repos: Vec<&Repo> = owned(login)
                .into_iter()
                .filter(|r| match wanted {
                    "forks" => r.fork,
                    "sources" => !r.fork,
                    _ => true,
                })
                .collect();
            let items: Vec<Value> = repos.iter().map(|r| repository(world, urls, r)).collect();
            let (per_page, page) = page_params(params);
            let last = items.len().div_ceil(per_page);
            let page_items: Vec<Value> = items
                .into_iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .collect();
            Reply::Json {
                status: StatusCode::OK,
                body: Value::Array(page_items),
                link: link_header(&base, params, page, last),
            }
        }
        Listing::Installation => {
            let Some(account) = installation.and_then(|id| {
                let app = world.config().app.as_ref()?;
                let (_, account) = app.installations.iter().find(|(i, _)| *i == id)?;
                Some(account.clone())
            }) else {
                return Reply::error(
                    StatusCode::FORBIDDEN,
                    "You must authenticate with an installation access token in order to list repositories for an installation.",
                );
            };
            let items: Vec<Value> = owned(&account)
                .iter()
                .map(|r| repository(world, urls, r))
                .collect();
            let total = items.len();
            let (per_page, page) = page_params(params);
            let page_items: Vec<Value> = items
                .into_iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .collect();
            Reply::Json {
                status: StatusCode::OK,
                body: json!({
                    "total_count": total,
                    "repository_selection": "all",
                    "repositories": page_items,
                }),
                link: link_header(&base, params, page, total.div_ceil(per_page)),
            }
        }
    }
}

/// A listed repository: the repository object with its owner's `type`.
fn repository(world: &World, urls: &Urls<'_>, repo: &Repo) -> Value {
    let mut value = json::repository(urls, repo);
    let kind = world
        .owner_kind(&repo.owner)
        .unwrap_or(OwnerKind::Organization);
    value["owner"]["type"] = json!(kind.as_str());
    value
}
