//! Where each repository's links point: the web base of the host its data was synced from,
//! kept in `web-bases.json` beside the two indexes, so that an index of a GitHub Enterprise
//! host keeps linking there whatever API URL the command reading it was given. An index
//! without the file (written before it existed) links where the caller's default says.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use crate::error::{Error, Result};

const FILE: &str = "web-bases.json";

/// Each repository's web base, by its name lowercased.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct WebBases(HashMap<String, String>);

impl WebBases {
    /// The bases recorded in the index directory `dir`; none when it has no file.
    pub(crate) fn load(dir: &Path) -> Result<WebBases> {
        let path = dir.join(FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(WebBases::default()),
            Err(source) => return Err(Error::Io { path, source }),
        };
        let bases: HashMap<String, String> =
            serde_json::from_str(&text).map_err(|e| Error::Corrupt {
                path: dir.to_path_buf(),
                what: format!("`{FILE}`"),
                source: Some(e.into()),
            })?;
        Ok(WebBases(bases))
    }

    /// `repo`'s web base, else `default`.
    pub(crate) fn of<'a>(&'a self, repo: &str, default: &'a str) -> &'a str {
        self.0
            .get(repo)
            .or_else(|| self.0.get(&repo.to_ascii_lowercase()))
            .map_or(default, String::as_str)
    }

    pub(crate) fn get(&self, repo: &str) -> Option<&str> {
        self.0.get(&repo.to_ascii_lowercase()).map(String::as_str)
    }

    /// Records `web_base` for `repo` in `dir` (replacing the file whole) when it is new.
    pub(crate) fn store(&mut self, dir: &Path, repo: &str, web_base: &str) -> Result<()> {
        let web_base = web_base.trim_end_matches('/');
        if self.get(repo) == Some(web_base) {
            return Ok(());
        }
        self.0
            .insert(repo.to_ascii_lowercase(), web_base.to_owned());
        let sorted: BTreeMap<_, _> = self.0.iter().collect();
        let text = serde_json::to_string_pretty(&sorted).expect("strings serialize");
        let path = dir.join(FILE);
        let tmp = dir.join(format!("{FILE}.tmp"));
        fs::write(&tmp, text)
            .and_then(|()| fs::rename(&tmp, &path))
            .map_err(|source| Error::Io { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_kept_per_repository_across_loads() {
        let dir = tempfile::tempdir().unwrap();
        let mut bases = WebBases::load(dir.path()).unwrap();
        assert_eq!(
            bases.of("acme/widgets", "https://github.com"),
            "https://github.com"
        );
        bases
            .store(dir.path(), "Acme/Widgets", "https://ghe.example.com/")
            .unwrap();
        bases
            .store(dir.path(), "acme/tools", "https://github.com")
            .unwrap();
        let loaded = WebBases::load(dir.path()).unwrap();
        assert_eq!(loaded, bases);
        assert_eq!(loaded.of("acme/widgets", "x"), "https://ghe.example.com");
        assert_eq!(loaded.of("ACME/widgets", "x"), "https://ghe.example.com");
        assert_eq!(loaded.of("acme/tools", "x"), "https://github.com");
        assert_eq!(loaded.of("acme/other", "x"), "x");
    }
}
