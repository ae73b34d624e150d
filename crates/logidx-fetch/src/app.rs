//! GitHub App authentication (`docs/github.md` section 11): a JWT signed RS256 with the App's
//! private key, exchanged for an installation token that is renewed before it expires and
//! when GitHub refuses it. Keys, JWTs and tokens are never printed.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use crate::client::{Answer, Client, backoff};
use crate::error::{Error, Result};
use crate::model::RepoName;
use crate::token::Token;

/// A GitHub App's private key, read from its PEM: PKCS#1 (`RSA PRIVATE KEY`, as GitHub issues
/// them) or PKCS#8 (`PRIVATE KEY`). Its `Debug` never shows it.
#[derive(Clone)]
pub struct AppKey(Arc<RsaKeyPair>);

impl AppKey {
    /// Reads a PEM private key. The error says what is wrong with it, never what is in it.
    pub fn from_pem(pem: &[u8]) -> Result<AppKey> {
        let bad = |reason: &str| Error::BadAppKey {
            reason: reason.to_owned(),
        };
        let text = std::str::from_utf8(pem).map_err(|_| bad("it is not PEM text"))?;
        let mut lines = text.lines().map(str::trim);
        let label = lines
            .find_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
            .ok_or_else(|| bad("it has no `-----BEGIN …-----` line: it is not PEM"))?;
        let body: String = lines.take_while(|l| !l.starts_with("-----END")).collect();
        let der = STANDARD
            .decode(body)
            .map_err(|_| bad("its PEM body is not base64"))?;
        let pair = match label {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "ENCRYPTED PRIVATE KEY" => {
                return Err(bad(
                    "it is encrypted: give the key GitHub issued, unencrypted",
                ));
            }
            _ => {
                return Err(bad(
                    "it is no private key (`RSA PRIVATE KEY` or `PRIVATE KEY`)",
                ));
            }
        };
        let pair =
            pair.map_err(|e| bad(&format!("it is not an RSA private key ring accepts: {e}")))?;
        Ok(AppKey(Arc::new(pair)))
    }

    /// A JWT for the App `iss` (its id or client id), as GitHub's docs make it: issued 60 s in
    /// the past against clock drift, expiring 9 minutes from now (GitHub allows 10).
    fn jwt(&self, iss: &str, now: Timestamp) -> Result<Token> {
        let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({
            "iat": now.as_second() - 60,
            "exp": now.as_second() + 540,
            "iss": iss,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{head}.{claims}");
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .map_err(|_| Error::BadAppKey {
                reason: "signing with it failed".to_owned(),
            })?;
        Ok(Token::new(format!(
            "{signed}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppKey(***)")
    }
}

/// Which installation of the App a client works as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installation {
    /// Its id, as given.
    Id(u64),
    /// The one on this owner, found with `GET /orgs/{owner}/installation`, else
    /// `GET /users/{owner}/installation`.
    Owner(String),
    /// The one on this repository's owner, found with `GET /repos/{o}/{r}/installation`.
    Repo(RepoName),
}

impl fmt::Display for Installation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Installation::Id(id) => write!(f, "installation `{id}`"),
            Installation::Owner(owner) => write!(f, "`{owner}`"),
            Installation::Repo(repo) => write!(f, "`{repo}`"),
        }
    }
}

/// A GitHub App to authenticate as: its id, its private key and its installation.
#[derive(Debug, Clone)]
pub struct GitHubApp {
    id: String,
    key: AppKey,
    installation: Installation,
}

impl GitHubApp {
    /// The App `id` (its App id, or its client id) with its private key, working as
    /// `installation`.
    ///
    /// ```
    /// use logidx_fetch::{AppKey, GitHubApp, Installation};
    ///
    /// # fn demo(pem: &[u8]) -> logidx_fetch::Result<()> {
    /// let app = GitHubApp::new("424242", AppKey::from_pem(pem)?, Installation::Owner("acme".into()));
    /// let client = logidx_fetch::Client::builder().app(app).build()?;
    /// # Ok(()) }
    /// ```
    pub fn new(id: impl Into<String>, key: AppKey, installation: Installation) -> GitHubApp {
        GitHubApp {
            id: id.into(),
            key,
            installation,
        }
    }

    /// The App's id, as given.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// How long before its `expires_at` an installation token is renewed: 5 minutes, or a quarter
/// of its lifetime when that is shorter.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Where a client's `Authorization` comes from.
pub(crate) enum Auth {
    /// A personal token, or none.
    Static(Option<Token>),
    /// A GitHub App's installation token, renewed.
    App(Box<AppSession>),
}

/// An App's installation and its current token, shared by every request of a client.
pub(crate) struct AppSession {
    app: GitHubApp,
    /// Locked while a token is got, so that one request gets it and the others wait for it.
    current: tokio::sync::Mutex<Session>,
}

#[derive(Default)]
struct Session {
    installation: Option<u64>,
    token: Option<Minted>,
}

struct Minted {
    token: Token,
    renew_at: Timestamp,
}

impl Auth {
    pub(crate) fn new(token: Option<Token>, app: Option<GitHubApp>) -> Auth {
        match app {
            Some(app) => Auth::App(Box::new(AppSession {
                app,
                current: tokio::sync::Mutex::new(Session::default()),
            })),
            None => Auth::Static(token),
        }
    }

    /// The token the next API request carries.
    pub(crate) async fn bearer(&self, client: &Client) -> Result<Option<Token>> {
        match self {
            Auth::Static(token) => Ok(token.clone()),
            Auth::App(session) => session.token(client).await.map(Some),
        }
    }

    /// GitHub refused `used` (401): whether a new token may do better. An App's installation
    /// token is forgotten (if it is still the current one) so that the next request gets a
    /// new one; a personal token cannot change.
    pub(crate) async fn refused(&self, used: Option<&Token>) -> bool {
        let (Auth::App(session), Some(used)) = (self, used) else {
            return false;
        };
        let mut current = session.current.lock().await;
        if current.token.as_ref().is_some_and(|m| &m.token == used) {
            current.token = None;
        }
        true
    }

    /// The App, if the client authenticates as one.
    pub(crate) fn app(&self) -> Option<&GitHubApp> {
        match self {
            Auth::App(session) => Some(&session.app),
            Auth::Static(_) => None,
        }
    }
}

impl AppSession {
    async fn token(&self, client: &Client) -> Result<Token> {
        let mut current = self.current.lock().await;
        if let Some(minted) = &current.token
            && Timestamp::now() < minted.renew_at
        {
            return Ok(minted.token.clone());
        }
        let installation = match current.installation {
            Some(id) => id,
            None => {
                let id = self.find_installation(client).await?;
                current.installation = Some(id);
                id
            }
        };
        let url = client.api().installation_access_tokens(installation);
        let answer = self
            .send(client, reqwest::Method::POST, url.as_str())
            .await?;
        match answer.status {
            StatusCode::CREATED | StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                return Err(Error::NotInstalled {
                    app: self.app.id.clone(),
                    on: Installation::Id(installation).to_string(),
                });
            }
            _ => return Err(answer.into_error()),
        }
        #[derive(serde::Deserialize)]
        struct AccessToken {
            token: String,
            expires_at: Timestamp,
        }
        let body: AccessToken = answer.json()?;
        let now = Timestamp::now();
        let lifetime = body
            .expires_at
            .duration_since(now)
            .try_into()
            .unwrap_or(Duration::ZERO);
        let renew_at = body.expires_at - RENEW_BEFORE.min(lifetime / 4);
        tracing::debug!(installation, expires_at = %body.expires_at, "got an installation token");
        let token = Token::new(body.token);
        current.token = Some(Minted {
            token: token.clone(),
            renew_at,
        });
        Ok(token)
    }

    /// The installation's id: given, or looked up with the App's JWT.
    async fn find_installation(&self, client: &Client) -> Result<u64> {
        let api = client.api();
        let urls = match &self.app.installation {
            Installation::Id(id) => return Ok(*id),
            Installation::Owner(owner) => {
                vec![api.org_installation(owner), api.user_installation(owner)]
            }
            Installation::Repo(repo) => vec![api.repo_installation(&repo.owner, &repo.name)],
        };
        for url in urls {
            let answer = self
                .send(client, reqwest::Method::GET, url.as_str())
                .await?;
            match answer.status {
                StatusCode::OK => {
                    #[derive(serde::Deserialize)]
                    struct Found {
                        id: u64,
                    }
                    return Ok(answer.json::<Found>()?.id);
                }
                StatusCode::NOT_FOUND => continue,
                _ => return Err(answer.into_error()),
            }
        }
        Err(Error::NotInstalled {
            app: self.app.id.clone(),
            on: self.app.installation.to_string(),
        })
    }

    /// A request with the App's JWT, retried on server errors and broken connections; a 401
    /// is the App refused (a wrong id or key).
    async fn send(&self, client: &Client, method: reqwest::Method, url: &str) -> Result<Answer> {
        let policy = client.retry_policy().clone();
        let mut tries = 0;
        loop {
            tries += 1;
            let jwt = self.app.key.jwt(&self.app.id, Timestamp::now())?;
            let sent = client
                .http()
                .request(method.clone(), url)
                .header(header::ACCEPT, "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
                .bearer_auth(jwt.expose())
                .send()
                .await;
            let failure = match sent {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    match response.bytes().await {
                        Ok(body) if !status.is_server_error() => {
                            let answer = Answer {
                                url: url.to_owned(),
                                status,
                                headers,
                                body: body.to_vec(),
                            };
                            if status == StatusCode::UNAUTHORIZED {
                                return Err(Error::AppRefused {
                                    app: self.app.id.clone(),
                                    message: answer.message(),
                                });
                            }
                            return Ok(answer);
                        }
                        Ok(_) => Error::Status {
                            url: url.to_owned(),
                            status: status.as_u16(),
                            message: "server error".to_owned(),
                        },
                        Err(e) => Error::Client(e),
                    }
                }
                Err(e) if e.is_connect() && !e.is_timeout() => {
                    return Err(Error::Unreachable {
                        host: reqwest::Url::parse(url)
                            .ok()
                            .and_then(|u| u.host_str().map(str::to_owned))
                            .unwrap_or_default(),
                        cause: "connection failed".to_owned(),
                        source: e,
                    });
                }
                Err(e) => Error::Client(e),
            };
            if tries >= policy.max_tries {
                return Err(failure);
            }
            tokio::time::sleep(backoff(&policy, tries)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_pkcs1_and_pkcs8_and_never_printed() {
        let key = AppKey::from_pem(fakehub::TEST_APP_PRIVATE_KEY.as_bytes()).unwrap();
        AppKey::from_pem(fakehub::TEST_APP_PRIVATE_KEY_PKCS8.as_bytes()).unwrap();
        assert_eq!(format!("{key:?}"), "AppKey(***)");
        let app = GitHubApp::new("7", key, Installation::Id(3));
        let text = format!("{app:?}");
        assert!(
            text.contains("AppKey(***)") && text.contains("Id(3)"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_key_says_what_is_wrong_and_never_what_is_in_it() {
        let pem = fakehub::TEST_APP_PRIVATE_KEY;
        let body_line = pem.lines().nth(3).unwrap();
        let public = fakehub::TEST_APP_PUBLIC_KEY;
        let garbled = pem.replacen(body_line, &"!".repeat(body_line.len()), 1);
        let cut = pem.replacen(body_line, "", 1);
        let cases: [(&str, &str); 5] = [
            ("", "not PEM"),
            ("ghp_a token, not a key", "not PEM"),
            (public, "no private key"),
            (&garbled, "not base64"),
            (&cut, "not an RSA private key"),
        ];
        for (pem, said) in cases {
            let error = AppKey::from_pem(pem.as_bytes()).unwrap_err().to_string();
            assert!(error.contains(said), "{error}");
            for line in pem
                .lines()
                .filter(|l| !l.starts_with("-----") && l.len() > 8)
            {
                assert!(!error.contains(line), "{error}");
            }
        }
    }

    #[test]
    fn a_jwt_is_rs256_with_github_s_claims() {
        let key = AppKey::from_pem(fakehub::TEST_APP_PRIVATE_KEY.as_bytes()).unwrap();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let jwt = key.jwt("424242", now).unwrap();
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |p: &str| -> serde_json::Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
        };
        assert_eq!(decode(parts[0])["alg"], "RS256");
        let claims = decode(parts[1]);
        assert_eq!(claims["iss"], "424242");
        assert_eq!(claims["iat"], 1_800_000_000 - 60);
        assert_eq!(claims["exp"], 1_800_000_000 + 540);
        assert_eq!(format!("{jwt:?}"), "Token(***)");
    }
}
