//! Owners' repositories, and GitHub App authentication: the installation found, its token
//! renewed before it expires and when GitHub refuses it, a wrong key or id refused clearly.

use std::time::Duration;

use fakehub::{App, Config, FakeHub, Owner, TEST_APP_ID};
use logidx_fetch::{AppKey, Client, Error, GitHubApp, Installation, Repository, RunFilter};

use crate::{assert_token_stayed_home, builder, collect_runs, hub};

fn owners() -> Config {
    Config {
        runs: 2,
        owners: vec![Owner::org("acme", 9), Owner::user("octo", 3)],
        app: Some(App::test(&["acme"])),
        ..Config::default()
    }
}

/// What fakehub holds for `owner`: every repository with its flags, by name.
fn truth(hub: &FakeHub, owner: &str) -> Vec<Repository> {
    let mut repos: Vec<Repository> = hub.with_world(|w| {
        w.repos()
            .iter()
            .filter(|r| r.owner == owner)
            .map(|r| Repository {
                name: r.full_name().parse().unwrap(),
                archived: r.archived,
                fork: r.fork,
                default_branch: Some(r.default_branch.clone()),
            })
            .collect()
    });
    repos.sort_by_key(|r| r.name.to_string());
    repos
}

/// A client of the test App, working as `installation`, with `key` (PEM).
fn app_client(hub: &FakeHub, key: &str, id: &str, installation: Installation) -> Client {
    let key = AppKey::from_pem(key.as_bytes()).unwrap();
    // The App's tokens take the place of the hub's.
    builder(hub)
        .app(GitHubApp::new(id, key, installation))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_owner_s_repositories_are_listed_from_the_org_else_the_user_with_their_flags() {
    let hub = hub(Config {
        app: None,
        ..owners()
    })
    .await;
    let client = builder(&hub).build().unwrap();
    let acme = client.owner_repos("acme").await.unwrap();
    assert_eq!(acme, truth(&hub, "acme"));
    assert_eq!(acme.len(), 10, "acme/widgets and 9 generated");
    assert!(acme.iter().any(|r| r.archived) && acme.iter().any(|r| r.fork));
    let stats = hub.stats();
    assert_eq!(
        (
            stats.count("list_org_repos"),
            stats.count("list_user_repos")
        ),
        (1, 0)
    );

    // A user: its organisation listing is a 404, then its own.
    let octo = client.owner_repos("octo").await.unwrap();
    assert_eq!(octo, truth(&hub, "octo"));
    let stats = hub.stats();
    assert_eq!(stats.count_status("list_org_repos", 404), 1);
    assert_eq!(stats.count_status("list_user_repos", 200), 1);

    // Listed again, as each watch cycle does: the pages revalidated, the organisation's 404
    // kept, nothing counted.
    let counted = stats.counted_requests;
    assert_eq!(client.owner_repos("acme").await.unwrap(), acme);
    assert_eq!(client.owner_repos("octo").await.unwrap(), octo);
    let stats = hub.stats();
    assert_eq!(stats.counted_requests, counted, "{stats:?}");
    assert_eq!(stats.count_status("list_org_repos", 404), 1);
    assert_eq!(stats.count_status("list_org_repos", 304), 1);
    assert_eq!(stats.count_status("list_user_repos", 304), 1);

    // One repository, for its default branch: `trunk` for the 2nd of each eight.
    let lib = client
        .repository(&"acme/lib-02".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(lib.default_branch.as_deref(), Some("trunk"));
    assert_eq!(acme.iter().find(|r| r.name == lib.name), Some(&lib));
    let counted = hub.stats().counted_requests;
    client.repository(&lib.name).await.unwrap();
    assert_eq!(hub.stats().counted_requests, counted, "asked again: a 304");

    match client.owner_repos("nobody").await {
        Err(e @ Error::OwnerNotFound { .. }) => {
            assert!(e.to_string().contains("`nobody`"), "{e}");
            assert!(e.hint().is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn many_pages_of_repositories_are_followed_by_link() {
    let hub = hub(Config {
        runs: 1,
        owners: vec![Owner::org("big", 230)],
        ..Config::default()
    })
    .await;
    let client = builder(&hub).build().unwrap();
    let big = client.owner_repos("big").await.unwrap();
    assert_eq!(big, truth(&hub, "big"));
    assert_eq!(big.len(), 230);
    assert_eq!(hub.stats().count_status("list_org_repos", 200), 3);
}

#[tokio::test]
async fn an_app_finds_its_installation_lists_its_repositories_and_renews_a_refused_token() {
    let hub = hub(owners()).await;
    let client = app_client(
        &hub,
        fakehub::TEST_APP_PRIVATE_KEY,
        &TEST_APP_ID.to_string(),
        Installation::Owner("acme".into()),
    );
    assert_eq!(
        client.owner_repos("acme").await.unwrap(),
        truth(&hub, "acme")
    );
    let stats = hub.stats();
    assert_eq!(stats.count("list_installation_repos"), 1);
    assert_eq!(stats.count("list_org_repos"), 0);
    assert_eq!(stats.count_status("get_org_installation", 200), 1);
    assert_eq!(stats.count_status("create_installation_token", 201), 1);

    // One token serves request after request.
    let runs = collect_runs(&client, &RunFilter::default()).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(hub.stats().count("create_installation_token"), 1);

    // Revoked under it: the 401 gets a new token, once, and the request goes through.
    hub.expire_installation_tokens();
    let again = collect_runs(&client, &RunFilter::default()).await.unwrap();
    assert_eq!(again, runs);
    let stats = hub.stats();
    assert_eq!(stats.count_status("list_runs", 401), 1);
    assert_eq!(stats.count_status("create_installation_token", 201), 2);
    // The installation was found once.
    assert_eq!(stats.count("get_org_installation"), 1);
    assert_token_stayed_home(&hub);
}

#[tokio::test]
async fn a_short_lived_token_is_renewed_before_it_expires() {
    let lifetime = Duration::from_secs(2);
    let hub = hub(Config {
        app: Some(App {
            token_lifetime: lifetime,
            ..App::test(&["acme"])
        }),
        ..owners()
    })
    .await;
    // From a PKCS#8 key, and the installation found from a repository.
    let client = app_client(
        &hub,
        fakehub::TEST_APP_PRIVATE_KEY_PKCS8,
        &TEST_APP_ID.to_string(),
        Installation::Repo("acme/widgets".parse().unwrap()),
    );
    collect_runs(&client, &RunFilter::default()).await.unwrap();
    tokio::time::sleep(lifetime + Duration::from_millis(200)).await;
    collect_runs(&client, &RunFilter::default()).await.unwrap();
    let stats = hub.stats();
    assert_eq!(stats.count_status("create_installation_token", 201), 2);
    assert_eq!(stats.count_status("get_repo_installation", 200), 1);
    assert_eq!(
        stats.count_status("list_runs", 401),
        0,
        "renewed before it expired"
    );
}

#[tokio::test]
async fn a_wrong_key_app_or_installation_is_refused_naming_it_never_the_key() {
    let hub = hub(owners()).await;
    let id = TEST_APP_ID.to_string();
    let key_lines: Vec<&str> = fakehub::OTHER_PRIVATE_KEY
        .lines()
        .chain(fakehub::TEST_APP_PRIVATE_KEY.lines())
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let cases = [
        (
            fakehub::OTHER_PRIVATE_KEY,
            id.as_str(),
            Installation::Owner("acme".into()),
            "refused",
        ),
        (
            fakehub::TEST_APP_PRIVATE_KEY,
            "1",
            Installation::Owner("acme".into()),
            "refused",
        ),
        (
            fakehub::TEST_APP_PRIVATE_KEY,
            id.as_str(),
            Installation::Owner("octo".into()),
            "not installed on `octo`",
        ),
        (
            fakehub::TEST_APP_PRIVATE_KEY,
            id.as_str(),
            Installation::Id(999),
            "not installed on installation `999`",
        ),
    ];
    for (key, app, installation, said) in cases {
        let client = app_client(&hub, key, app, installation);
        let error = collect_runs(&client, &RunFilter::default())
            .await
            .unwrap_err();
        let text = format!("{error} {error:?} {}", error.hint().unwrap_or_default());
        assert!(
            text.contains(said) && text.contains(&format!("`{app}`")),
            "{text}"
        );
        assert!(
            matches!(error, Error::AppRefused { .. } | Error::NotInstalled { .. }),
            "{error:?}"
        );
        for line in &key_lines {
            assert!(!text.contains(line), "{text}");
        }
        assert!(!text.contains("ghs_") && !text.contains("eyJ"), "{text}");
    }
    assert_eq!(
        hub.stats().count("list_runs"),
        0,
        "nothing went out without a token"
    );
}
