//! The GitHub App (`docs/github.md` section 11): JWTs signed RS256 checked against the App's
//! public key, its installations, and installation tokens that expire.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::{Value, json};

use crate::config::{App, OwnerKind};
use crate::json;
use crate::rng::mix;
use crate::server::{Shared, json_response, now_ms};
use crate::world::World;

/// The longest a JWT may live, `exp` from now (GitHub: 10 minutes).
const JWT_MAX_LIFETIME_S: i64 = 600;

/// The DER of a PEM `RSA PUBLIC KEY` (PKCS#1), as `ring` checks signatures with it.
pub(crate) fn public_key_der(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN RSA PUBLIC KEY-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    if body.is_empty() {
        return Err("the App's public key is not a PEM `RSA PUBLIC KEY`".to_owned());
    }
    STANDARD
        .decode(body.trim())
        .map_err(|e| format!("the App's public key is not valid base64: {e}"))
}

/// Installation tokens handed out, and the App's public key.
pub(crate) struct Tokens {
    public_key: Option<Vec<u8>>,
    issued: Mutex<HashMap<String, Issued>>,
}

struct Issued {
    installation: u64,
    expires_ms: u64,
}

impl Tokens {
    pub(crate) fn new(app: Option<&App>) -> Tokens {
        Tokens {
            public_key: app.and_then(|app| public_key_der(&app.public_key).ok()),
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// The installation whose unexpired token the request carries.
    pub(crate) fn installation_of(&self, headers: &HeaderMap) -> Option<u64> {
        let given = bearer(headers)?;
        let issued = self.issued.lock().expect("token lock");
        let token = issued.get(given)?;
        (now_ms() < token.expires_ms).then_some(token.installation)
    }

    /// Makes every token handed out so far expire now, as an hour passing would.
    pub(crate) fn expire_all(&self) {
        for token in self.issued.lock().expect("token lock").values_mut() {
            token.expires_ms = 0;
        }
    }

    fn issue(&self, secret: u64, installation: u64, lifetime_ms: u64) -> (String, u64) {
        let mut issued = self.issued.lock().expect("token lock");
        let n = issued.len() as u64;
        let token = format!(
            "ghs_{:016x}{:016x}{installation:04}",
            mix(secret ^ n),
            mix(secret ^ n ^ installation)
        );
        let expires_ms = now_ms() + lifetime_ms;
        issued.insert(
            token.clone(),
            Issued {
                installation,
                expires_ms,
            },
        );
        (token, expires_ms)
    }
}

/// The token of `Authorization: Bearer …` or `token …`.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, given) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| given.trim())
}

/// The App's routes, which take a JWT: `GET /app`, `GET /app/installations`,
/// `GET /app/installations/{id}`, `POST /app/installations/{id}/access_tokens`, and
/// `GET /repos/{o}/{r}/installation`, `/orgs/{org}/installation`, `/users/{user}/installation`.
/// `None` for any other path.
pub(crate) fn answer(
    shared: &Shared,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let route = match parts.as_slice() {
        ["app"] => AppRoute::App,
        ["app", "installations"] => AppRoute::Installations,
        ["app", "installations", id] => AppRoute::Installation(id.parse().ok()?),
        ["app", "installations", id, "access_tokens"] => AppRoute::AccessToken(id.parse().ok()?),
        ["repos", owner, name, "installation"] => {
            AppRoute::Of(Target::Repo(format!("{owner}/{name}")))
        }
        ["orgs", org, "installation"] => AppRoute::Of(Target::Org((*org).to_owned())),
        ["users", user, "installation"] => AppRoute::Of(Target::User((*user).to_owned())),
        _ => return None,
    };
    let endpoint = route.endpoint();
    let response = answer_route(shared, method, &route, headers);
    shared.record(endpoint, response.status().as_u16());
    Some(response)
}

enum AppRoute {
    App,
    Installations,
    Installation(u64),
    AccessToken(u64),
    Of(Target),
}

/// What an installation is looked up for.
enum Target {
    Repo(String),
    Org(String),
    User(String),
}

impl AppRoute {
    fn endpoint(&self) -> &'static str {
        match self {
            AppRoute::App => "get_app",
            AppRoute::Installations => "list_app_installations",
            AppRoute::Installation(_) => "get_app_installation",
            AppRoute::AccessToken(_) => "create_installation_token",
            AppRoute::Of(Target::Repo(_)) => "get_repo_installation",
            AppRoute::Of(Target::Org(_)) => "get_org_installation",
            AppRoute::Of(Target::User(_)) => "get_user_installation",
        }
    }

    fn method(&self) -> Method {
        match self {
            AppRoute::AccessToken(_) => Method::POST,
            _ => Method::GET,
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json::error(message, status.as_u16()))
}

fn answer_route(
    shared: &Shared,
    method: &Method,
    route: &AppRoute,
    headers: &HeaderMap,
) -> Response {
    let Some(app) = shared.config.app.as_ref() else {
        return error(
            StatusCode::UNAUTHORIZED,
            "A JSON web token could not be decoded",
        );
    };
    if let Err(message) = check_jwt(shared, app, headers) {
        return error(StatusCode::UNAUTHORIZED, &message);
    }
    if *method != route.method() {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let world = shared.world.read().expect("world lock");
    let api = &shared.api_url;
    let installed = |id: u64| app.installations.iter().find(|(i, _)| *i == id);
    match route {
        AppRoute::App => json_response(
            StatusCode::OK,
            &json!({
                "id": app.id,
                "slug": "fakehub-test-app",
                "name": "fakehub test App",
                "owner": { "login": "fakehub", "type": "Organization" },
                "permissions": { "actions": "read", "metadata": "read" },
                "events": [],
                "installations_count": app.installations.len(),
            }),
        ),
        AppRoute::Installations => {
            let all: Vec<Value> = app
                .installations
                .iter()
                .map(|(id, account)| installation(api, &world, app, *id, account))
                .collect();
            json_response(StatusCode::OK, &Value::Array(all))
        }
        AppRoute::Installation(id) => match installed(*id) {
            Some((id, account)) => json_response(
                StatusCode::OK,
                &installation(api, &world, app, *id, account),
            ),
            None => error(StatusCode::NOT_FOUND, "Not Found"),
        },
        AppRoute::AccessToken(id) => match installed(*id) {
            Some((id, _)) => {
                let lifetime = app.token_lifetime.as_millis() as u64;
                let (token, expires_ms) = shared.app_tokens.issue(shared.secret(), *id, lifetime);
                json_response(
                    StatusCode::CREATED,
                    &json!({
                        "token": token,
                        "expires_at": crate::time::api_time((expires_ms / 1000) as i64),
                        "permissions": { "actions": "read", "metadata": "read" },
                        "repository_selection": "all",
                    }),
                )
            }
            None => error(StatusCode::NOT_FOUND, "Not Found"),
        },
        AppRoute::Of(target) => {
            let (login, wanted) = match target {
                Target::Repo(full) => match world.repo(full) {
                    Some(repo) => (repo.owner.clone(), None),
                    None => return error(StatusCode::NOT_FOUND, "Not Found"),
                },
                Target::Org(org) => (org.clone(), Some(OwnerKind::Organization)),
                Target::User(user) => (user.clone(), Some(OwnerKind::User)),
            };
            let kind = world.owner_kind(&login);
            let right_kind = kind.is_some() && (wanted.is_none() || wanted == kind);
            match app
                .installations
                .iter()
                .find(|(_, account)| account.eq_ignore_ascii_case(&login))
            {
                Some((id, account)) if right_kind => json_response(
                    StatusCode::OK,
                    &installation(api, &world, app, *id, account),
                ),
                _ => error(StatusCode::NOT_FOUND, "Not Found"),
            }
        }
    }
}

/// An installation object, as GitHub writes it.
fn installation(api: &str, world: &World, app: &App, id: u64, account: &str) -> Value {
    let kind = world.owner_kind(account).unwrap_or(OwnerKind::Organization);
    json!({
        "id": id,
        "account": {
            "login": account,
            "id": crate::rng::hash_bytes(account.as_bytes()) % 100_000_000,
            "type": kind.as_str(),
        },
        "repository_selection": "all",
        "access_tokens_url": format!("{api}/app/installations/{id}/access_tokens"),
        "repositories_url": format!("{api}/installation/repositories"),
        "app_id": app.id,
        "app_slug": "fakehub-test-app",
        "target_type": kind.as_str(),
        "permissions": { "actions": "read", "metadata": "read" },
        "events": [],
        "suspended_at": null,
    })
}

/// Checks the request's JWT as GitHub does: RS256 signed with the App's key, `iss` the App's
/// id (a number or its digits), `iat` not in the future, `exp` in the future and at most 10
/// minutes away. The error is GitHub's message.
fn check_jwt(shared: &Shared, app: &App, headers: &HeaderMap) -> Result<(), String> {
    const UNDECODABLE: &str = "A JSON web token could not be decoded";
    let jwt = bearer(headers).ok_or_else(|| UNDECODABLE.to_owned())?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [head, claims, signature] = parts.as_slice() else {
        return Err(UNDECODABLE.to_owned());
    };
    let decode = |part: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| UNDECODABLE.to_owned())?;
        serde_json::from_slice(&bytes).map_err(|_| UNDECODABLE.to_owned())
    };
    let (head, claims) = (decode(head)?, decode(claims)?);
    if head["alg"] != "RS256" {
        return Err(UNDECODABLE.to_owned());
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| UNDECODABLE.to_owned())?;
    let key = shared
        .app_tokens
        .public_key
        .as_ref()
        .ok_or_else(|| UNDECODABLE.to_owned())?;
    let signed = &jwt[..jwt.rfind('.').expect("three parts")];
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| UNDECODABLE.to_owned())?;
    let issuer = match &claims["iss"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    match issuer {
        None => return Err("'Issuer' claim ('iss') must be an Integer".to_owned()),
        // Another App's JWT is checked against that App's key, which did not sign it.
        Some(id) if id != app.id => return Err(UNDECODABLE.to_owned()),
        Some(_) => {}
    }
    let now = (now_ms() / 1000) as i64;
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return Err("Missing 'issued at' or 'expiration time' claim ('iat', 'exp')".to_owned());
    };
    if iat > now + 1 {
        return Err(
            "'Issued at' claim ('iat') must be an Integer representing a time in the past"
                .to_owned(),
        );
    }
    if exp <= now {
        return Err("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires".to_owned());
    }
    if exp > now + JWT_MAX_LIFETIME_S + 1 {
        return Err("'Expiration time' claim ('exp') is too far in the future".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_public_key_parses() {
        let der = public_key_der(crate::config::TEST_APP_PUBLIC_KEY).unwrap();
        assert!(der.len() > 256, "{}", der.len());
        assert!(public_key_der("not a key").is_err());
    }
}
