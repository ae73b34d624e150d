//! Owners and the GitHub App: repository listings by `Link` pages, repositories without
//! Actions, JWTs checked against the App's key, installation tokens that expire.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use fakehub::{Actions, App, Config, FakeHub, Owner, TEST_APP_ID};
use serde_json::{Value, json};

use crate::{client, get, hub};

fn owners_config() -> Config {
    Config {
        runs: 2,
        owners: vec![Owner::org("acme", 20), Owner::user("octo", 3)],
        ..Config::default()
    }
}

/// Every item of a listing from `path` on, following `Link: rel="next"` with `auth`, and the
/// number of pages; `key` names the array of an object body, `None` a bare array.
async fn walk(hub: &FakeHub, path: &str, auth: &str, key: Option<&str>) -> (Vec<Value>, usize) {
    let mut url = format!("{}{path}", hub.api_url());
    let (mut items, mut pages) = (Vec::new(), 0);
    loop {
        let response = client().get(&url).bearer_auth(auth).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {url}");
        let next = response
            .headers()
            .get("link")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| {
                l.split(", ")
                    .find(|l| l.ends_with("rel=\"next\""))
                    .map(|l| {
                        l.split(';')
                            .next()
                            .unwrap()
                            .trim_matches(['<', '>'])
                            .to_owned()
                    })
            });
        let body: Value = response.json().await.unwrap();
        let page = match key {
            Some(key) => &body[key],
            None => &body,
        };
        items.extend(page.as_array().unwrap().iter().cloned());
        pages += 1;
        match next {
            Some(next) => url = next,
            None => return (items, pages),
        }
    }
}

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|r| r["full_name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn owners_list_their_repositories_by_link_pages_with_their_flags() {
    let hub = hub(owners_config()).await;
    let (acme, pages) = walk(
        &hub,
        "/orgs/acme/repos?type=all&per_page=7",
        hub.token(),
        None,
    )
    .await;
    // The configured acme/widgets and the 20 generated ones, each once.
    let mut want: Vec<String> = hub.with_world(|w| {
        w.repos()
            .iter()
            .filter(|r| r.owner == "acme")
            .map(|r| r.full_name())
            .collect()
    });
    want.sort();
    assert_eq!(names(&acme), want);
    assert_eq!((acme.len(), pages), (21, 3));
    for item in &acme {
        let repo = hub.repo(item["full_name"].as_str().unwrap()).unwrap();
        assert_eq!(item["archived"], repo.archived, "{item}");
        assert_eq!(item["fork"], repo.fork, "{item}");
        assert_eq!(item["owner"]["type"], "Organization");
    }
    let kinds = |f: fn(&fakehub::Repo) -> bool| {
        hub.with_world(|w| {
            w.repos()
                .iter()
                .filter(|r| r.owner == "acme" && f(r))
                .count()
        })
    };
    // 20 generated repositories: of each eight the 3rd archived, the 5th a fork, the 6th
    // without Actions, the 8th with no runs.
    assert_eq!(kinds(|r| r.archived), 3);
    assert_eq!(kinds(|r| r.fork), 2);
    assert_eq!(kinds(|r| r.actions == Actions::Disabled), 2);
    assert_eq!(kinds(|r| r.actions == Actions::Unused), 2);

    let (forks, _) = walk(&hub, "/orgs/acme/repos?type=forks", hub.token(), None).await;
    assert_eq!(forks.len(), 2);
    assert!(forks.iter().all(|r| r["fork"] == true));

    // A user's repositories; an organisation's are there too, as on GitHub.
    let (octo, _) = walk(&hub, "/users/octo/repos", hub.token(), None).await;
    assert_eq!(
        names(&octo),
        ["octo/app-03", "octo/lib-02", "octo/service-01"]
    );
    assert_eq!(octo[0]["owner"]["type"], "User");
    let (acme_as_user, _) = walk(&hub, "/users/acme/repos?per_page=100", hub.token(), None).await;
    assert_eq!(names(&acme_as_user), want);
    for path in [
        "/orgs/octo/repos",
        "/orgs/nobody/repos",
        "/users/nobody/repos",
    ] {
        assert_eq!(get(&hub, path).await.status(), 404, "{path}");
    }
    assert_eq!(hub.stats().count("list_org_repos"), 3 + 1 + 2);
}

#[tokio::test]
async fn a_repository_without_actions_answers_404_and_an_unused_one_lists_no_runs() {
    let hub = hub(owners_config()).await;
    let pick = |actions: Actions| {
        hub.with_world(|w| {
            w.repos()
                .iter()
                .find(|r| r.actions == actions)
                .unwrap()
                .full_name()
        })
    };
    let (disabled, unused) = (pick(Actions::Disabled), pick(Actions::Unused));
    assert_eq!(get(&hub, &format!("/repos/{disabled}")).await.status(), 200);
    for rest in ["actions/runs", "actions/workflows"] {
        let response = get(&hub, &format!("/repos/{disabled}/{rest}")).await;
        assert_eq!(response.status(), 404, "{disabled}/{rest}");
    }
    let response = get(&hub, &format!("/repos/{unused}/actions/runs")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["total_count"], 0);
    assert_eq!(body["workflow_runs"], json!([]));
}

#[tokio::test]
async fn listings_and_repositories_answer_304_to_their_etag_and_say_their_default_branch() {
    let hub = hub(owners_config()).await;
    let url = |path: &str| format!("{}{path}", hub.api_url());
    for path in [
        "/orgs/acme/repos?type=all&per_page=7",
        "/orgs/acme/repos?type=all&per_page=7&page=2",
        "/users/octo/repos",
        "/repos/acme/lib-02",
    ] {
        let first = client()
            .get(url(path))
            .bearer_auth(hub.token())
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), 200, "{path}");
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let counted = hub.stats().counted_requests;
        let again = client()
            .get(url(path))
            .bearer_auth(hub.token())
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
        assert_eq!(
            hub.stats().counted_requests,
            counted,
            "a 304 is free: {path}"
        );
    }
    // The 2nd of each eight generated repositories works on `trunk`, the others on `main`,
    // and their runs on the default branch with them.
    let repo: Value = get(&hub, "/repos/acme/lib-02").await.json().await.unwrap();
    assert_eq!(repo["default_branch"], "trunk");
    let (acme, _) = walk(&hub, "/orgs/acme/repos?per_page=100", hub.token(), None).await;
    for item in &acme {
        let name = item["full_name"].as_str().unwrap();
        let trunk = ["acme/lib-02", "acme/service-10", "acme/app-18"];
        let want = if trunk.contains(&name) {
            "trunk"
        } else {
            "main"
        };
        assert_eq!(item["default_branch"], want, "{name}");
        let repo = hub.repo(name).unwrap();
        assert!(
            want == "main" || repo.runs.iter().all(|r| r.head_branch != "main"),
            "{name} has runs on main"
        );
    }
}

/// A JWT signed RS256 with `key` (PEM, PKCS#1), with these claims.
fn jwt(key: &str, claims: &Value) -> String {
    let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).unwrap();
    let pair = ring::signature::RsaKeyPair::from_der(&der).unwrap();
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{head}.{claims}");
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The test App's JWT, as GitHub's docs make it: issued 60 s ago, for 9 minutes.
fn app_jwt() -> String {
    let now = now();
    jwt(
        fakehub::TEST_APP_PRIVATE_KEY,
        &json!({ "iat": now - 60, "exp": now + 540, "iss": TEST_APP_ID.to_string() }),
    )
}

async fn send(hub: &FakeHub, method: reqwest::Method, path: &str, auth: &str) -> reqwest::Response {
    client()
        .request(method, format!("{}{path}", hub.api_url()))
        .bearer_auth(auth)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_app_s_jwt_is_checked_against_its_key_and_claims() {
    let hub = hub(Config {
        app: Some(App::test(&["acme"])),
        ..owners_config()
    })
    .await;
    let get_app = |auth: String| {
        let hub = &hub;
        async move {
            let response = send(hub, reqwest::Method::GET, "/app", &auth).await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        }
    };
    let (status, body) = get_app(app_jwt()).await;
    assert_eq!((status, body["id"].as_u64()), (200, Some(TEST_APP_ID)));
    // The id as a number is accepted too.
    let t = now();
    let numeric = json!({ "iat": t - 60, "exp": t + 540, "iss": TEST_APP_ID });
    assert_eq!(
        get_app(jwt(fakehub::TEST_APP_PRIVATE_KEY, &numeric))
            .await
            .0,
        200
    );

    let refused = [
        (hub.token().to_owned(), "could not be decoded"),
        (
            jwt(
                fakehub::OTHER_PRIVATE_KEY,
                &json!({ "iat": t - 60, "exp": t + 540, "iss": TEST_APP_ID }),
            ),
            "could not be decoded",
        ),
        (
            jwt(
                fakehub::TEST_APP_PRIVATE_KEY,
                &json!({ "iat": t - 60, "exp": t + 540, "iss": 1 }),
            ),
            "could not be decoded",
        ),
        (
            jwt(
                fakehub::TEST_APP_PRIVATE_KEY,
                &json!({ "iat": t - 60, "exp": t + 540, "iss": "Iv1.x" }),
            ),
            "'Issuer' claim",
        ),
        (
            jwt(
                fakehub::TEST_APP_PRIVATE_KEY,
                &json!({ "iat": t, "exp": t + 660, "iss": TEST_APP_ID }),
            ),
            "too far in the future",
        ),
        (
            jwt(
                fakehub::TEST_APP_PRIVATE_KEY,
                &json!({ "iat": t - 700, "exp": t - 100, "iss": TEST_APP_ID }),
            ),
            "future time",
        ),
        (
            jwt(
                fakehub::TEST_APP_PRIVATE_KEY,
                &json!({ "iat": t + 120, "exp": t + 300, "iss": TEST_APP_ID }),
            ),
            "'Issued at' claim",
        ),
    ];
    for (auth, said) in refused {
        let (status, body) = get_app(auth).await;
        assert_eq!(status, 401, "{said}");
        assert!(body["message"].as_str().unwrap().contains(said), "{body}");
    }
    // A JWT is no token for the rest of the API.
    let response = send(
        &hub,
        reqwest::Method::GET,
        "/repos/acme/widgets/actions/runs",
        &app_jwt(),
    )
    .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn installations_are_found_from_owners_and_their_tokens_expire() {
    let lifetime = Duration::from_millis(1_500);
    let hub = hub(Config {
        app: Some(App {
            token_lifetime: lifetime,
            ..App::test(&["acme"])
        }),
        ..owners_config()
    })
    .await;
    let jwt = app_jwt();
    let id_of = |path: &'static str| {
        let (hub, jwt) = (&hub, jwt.clone());
        async move {
            let response = send(hub, reqwest::Method::GET, path, &jwt).await;
            match response.status().as_u16() {
                200 => response.json::<Value>().await.unwrap()["id"].as_u64(),
                status => {
                    assert_eq!(status, 404, "{path}");
                    None
                }
            }
        }
    };
    assert_eq!(id_of("/orgs/acme/installation").await, Some(1_000));
    assert_eq!(id_of("/repos/acme/lib-02/installation").await, Some(1_000));
    assert_eq!(
        id_of("/users/acme/installation").await,
        None,
        "acme is no user"
    );
    assert_eq!(
        id_of("/users/octo/installation").await,
        None,
        "not installed"
    );
    assert_eq!(id_of("/repos/octo/lib-02/installation").await, None);
    assert_eq!(id_of("/orgs/nobody/installation").await, None);

    let post = |path: &'static str| send(&hub, reqwest::Method::POST, path, &jwt);
    assert_eq!(
        post("/app/installations/999/access_tokens").await.status(),
        404
    );
    let response = post("/app/installations/1000/access_tokens").await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ghs_"), "{token}");
    let expires: jiff::Timestamp = body["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires > jiff::Timestamp::now() - Duration::from_secs(1));
    assert!(expires <= jiff::Timestamp::now() + lifetime);

    // The installation's repositories, for its token only.
    let (repos, pages) = walk(
        &hub,
        "/installation/repositories?per_page=10",
        &token,
        Some("repositories"),
    )
    .await;
    assert_eq!(pages, 3);
    assert_eq!(repos.len(), 21);
    assert!(names(&repos).iter().all(|n| n.starts_with("acme/")));
    let response = get(&hub, "/installation/repositories").await;
    assert_eq!(response.status(), 403);
    let runs = "/repos/acme/widgets/actions/runs";
    assert_eq!(
        send(&hub, reqwest::Method::GET, runs, &token)
            .await
            .status(),
        200
    );

    // Past its lifetime, the token is refused like a bad one.
    tokio::time::sleep(lifetime + Duration::from_millis(100)).await;
    let response = send(&hub, reqwest::Method::GET, runs, &token).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Bad credentials");

    // A fresh one works until the hub expires every token at once.
    let body: Value = post("/app/installations/1000/access_tokens")
        .await
        .json()
        .await
        .unwrap();
    let fresh = body["token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, token);
    assert_eq!(
        send(&hub, reqwest::Method::GET, runs, &fresh)
            .await
            .status(),
        200
    );
    hub.expire_installation_tokens();
    assert_eq!(
        send(&hub, reqwest::Method::GET, runs, &fresh)
            .await
            .status(),
        401
    );
    assert_eq!(
        hub.stats().count_status("create_installation_token", 201),
        2
    );
}
