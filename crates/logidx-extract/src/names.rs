//! Archive entry names: what each entry is, and which API job a file or directory name is.
//!
//! GitHub's services turn job names into file names server-side: `/` and `:` removed (older
//! service) or replaced with `_` (newer), then cut to 90 UTF-16 code units (which may split a
//! surrogate pair, leaving U+FFFD) and trimmed (cli/cli `pkg/cmd/run/view/logs.go`).

/// Longest job or step name part of an entry name, in UTF-16 code units.
const NAME_LIMIT: usize = 90;

/// What an archive entry holds, from its name alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind<'a> {
    /// `N_<job>.txt`, or `-N_<job>.txt` from the older service (`legacy`).
    JobFile {
        ordinal: i64,
        job: &'a str,
        legacy: bool,
    },
    /// `<job>/<number>_<step>.txt`.
    StepFile { job: &'a str, number: u32 },
    /// `<job>/system.txt`, the runner's own log in job-only archives.
    System { job: &'a str },
    /// A directory, `__MACOSX/…`, `.DS_Store`, `._…` resource forks, no name: nothing to read.
    Junk,
    /// An absolute path or one with a `..` component: never read.
    Unsafe,
    /// Any other file: read and kept under its name.
    Other,
}

/// Classifies an entry by its name.
pub(crate) fn classify(name: &str) -> EntryKind<'_> {
    if name.starts_with(['/', '\\'])
        || name.split(['/', '\\']).any(|part| part == "..")
        || name.as_bytes().get(1) == Some(&b':')
    {
        return EntryKind::Unsafe;
    }
    let base = name.rsplit('/').next().unwrap_or(name);
    if name.is_empty()
        || name.ends_with('/')
        || name.starts_with("__MACOSX/")
        || base == ".DS_Store"
        || base.starts_with("._")
    {
        return EntryKind::Junk;
    }
    let Some(stem) = name.strip_suffix(".txt") else {
        return EntryKind::Other;
    };
    match stem.split_once('/') {
        None => {
            let Some((prefix, job)) = stem.split_once('_') else {
                return EntryKind::Other;
            };
            let digits = prefix.strip_prefix('-').unwrap_or(prefix);
            match prefix.parse::<i64>() {
                Ok(ordinal) if digits.bytes().all(|b| b.is_ascii_digit()) => EntryKind::JobFile {
                    ordinal,
                    job,
                    legacy: ordinal < 0,
                },
                _ => EntryKind::Other,
            }
        }
        Some((job, file)) if !file.contains('/') => {
            if file == "system" {
                return EntryKind::System { job };
            }
            let number = file
                .split_once('_')
                .filter(|(digits, _)| digits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|(digits, _)| digits.parse().ok());
            match number {
                Some(number) => EntryKind::StepFile { job, number },
                None => EntryKind::Other,
            }
        }
        Some(_) => EntryKind::Other,
    }
}

/// How a service turned `/` and `:` in names into file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameStyle {
    /// Removed (the older service).
    Removed,
    /// Replaced with `_` (the newer service).
    Underscored,
}

/// The file-name form of a job name in `style`.
pub(crate) fn file_name_part(name: &str, style: NameStyle) -> String {
    let replaced = match style {
        NameStyle::Removed => name.replace(['/', ':'], ""),
        NameStyle::Underscored => name.replace(['/', ':'], "_"),
    };
    let units: Vec<u16> = replaced.encode_utf16().take(NAME_LIMIT + 1).collect();
    if units.len() <= NAME_LIMIT {
        return replaced.trim().to_owned();
    }
    String::from_utf16_lossy(&units[..NAME_LIMIT])
        .trim()
        .to_owned()
}

/// The file-name forms of a job name under both services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileNames([String; 2]);

impl FileNames {
    pub(crate) fn of(job_name: &str) -> FileNames {
        FileNames([
            file_name_part(job_name, NameStyle::Removed),
            file_name_part(job_name, NameStyle::Underscored),
        ])
    }

    /// Whether `file_part` (a directory or whole-job file name part) names this job.
    pub(crate) fn matches(&self, file_part: &str) -> bool {
        self.0.iter().any(|form| form == file_part)
    }

    /// Whether a file could name both jobs: their names collide once turned into file names.
    pub(crate) fn collides(&self, other: &FileNames) -> bool {
        self.0.iter().any(|form| other.matches(form))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn entries_are_classified() {
        use EntryKind::*;
        let cases = [
            (
                "0_build (3.10).txt",
                JobFile {
                    ordinal: 0,
                    job: "build (3.10)",
                    legacy: false,
                },
            ),
            (
                "999999999_job foo.txt",
                JobFile {
                    ordinal: 999_999_999,
                    job: "job foo",
                    legacy: false,
                },
            ),
            (
                "-2147483648_build.txt",
                JobFile {
                    ordinal: -2_147_483_648,
                    job: "build",
                    legacy: true,
                },
            ),
            (
                "0_a_b.txt",
                JobFile {
                    ordinal: 0,
                    job: "a_b",
                    legacy: false,
                },
            ),
            (
                "build (3.10)/10_Post Checkout repository.txt",
                StepFile {
                    job: "build (3.10)",
                    number: 10,
                },
            ),
            (
                "job foo/12_Post Run actionscheckout@v2.txt",
                StepFile {
                    job: "job foo",
                    number: 12,
                },
            ),
            ("build/system.txt", System { job: "build" }),
            ("build/", Junk),
            ("", Junk),
            ("__MACOSX/cool job/._1_fob the barz.txt", Junk),
            ("cool job  with slash/.DS_Store", Junk),
            ("../evil.txt", Unsafe),
            ("a/../../evil.txt", Unsafe),
            ("/etc/passwd", Unsafe),
            ("\\windows\\x.txt", Unsafe),
            ("a\\..\\x.txt", Unsafe),
            ("C:/x.txt", Unsafe),
            ("readme.md", Other),
            ("notes.txt", Other),
            ("x_job.txt", Other),
            ("+1_job.txt", Other),
            ("job/step.txt", Other),
            ("a/b/1_c.txt", Other),
        ];
        for (name, want) in cases {
            assert_eq!(classify(name), want, "{name}");
        }
    }

    // Ported from cli/cli pkg/cmd/run/view/logs_test.go (TestGetZipLogMap) and the names in its
    // run_log.zip fixture: (API job name, name part in the archive, matches).
    #[test]
    fn job_names_match_file_names_as_gh_sees_them() {
        let long = "thisisnineteenchars_".repeat(5);
        let emoji = format!("emoji test {}", "😅".repeat(67));
        let emoji_cut = format!("emoji test {}\u{fffd}", "😅".repeat(39));
        let cases = [
            ("job foo", "job foo", true),
            ("job foo", "jjob foo", false),
            ("ad job", "sad job", false),
            ("sad job", "ad job", false),
            (
                "metacharacters .+*?()|[]{}^$ job",
                "metacharacters .+*?()|[]{}^$ job",
                true,
            ),
            ("mismatch", "job foo", false),
            ("job foo / with slash", "job foo  with slash", true),
            ("job foo : with colon", "job foo  with colon", true),
            ("cool job / with slash", "cool job  with slash", true),
            ("cool job : with colon", "cool job  with colon", true),
            (
                "build (ubuntu-24.04, 3.11) / build",
                "build (ubuntu-24.04, 3.11) _ build",
                true,
            ),
            ("<b> kept </b>", "<b> kept <b>", true),
            ("<b> kept </b>", "b kept b", false),
            (&long, &long[..90], true),
            (&long, &long, false),
            (&emoji, &emoji_cut, true),
            (" padded ", "padded", true),
        ];
        for (job, file, want) in cases {
            assert_eq!(
                FileNames::of(job).matches(file),
                want,
                "{job:?} vs {file:?}"
            );
        }
    }

    #[test]
    fn truncation_splits_a_surrogate_pair_like_csharp() {
        let name = format!("a{}", "😅".repeat(45));
        let cut = file_name_part(&name, NameStyle::Removed);
        assert_eq!(cut.encode_utf16().count(), 90);
        assert!(cut.ends_with('\u{fffd}'));
    }

    proptest! {
        #[test]
        fn classify_never_panics(name in "\\PC{0,60}") {
            let _ = classify(&name);
        }

        #[test]
        fn a_job_always_matches_its_own_file_name(name in "[ -~é😅]{1,120}", underscored: bool) {
            let style = if underscored { NameStyle::Underscored } else { NameStyle::Removed };
            let part = file_name_part(&name, style);
            prop_assert!(FileNames::of(&name).matches(&part));
            prop_assert!(part.encode_utf16().count() <= NAME_LIMIT);
            match classify(&format!("{part}/3_step.txt")) {
                EntryKind::StepFile { job, number } => {
                    prop_assert_eq!(job, part.as_str());
                    prop_assert_eq!(number, 3);
                }
                other => prop_assert!(matches!(other, EntryKind::Unsafe | EntryKind::Junk), "{:?}", other),
            }
        }
    }
}
