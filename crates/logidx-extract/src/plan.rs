//! Which entries of an archive to read and where their lines go, decided from the entry names
//! and the API's jobs before anything is inflated; then the lines read, assembled into jobs.

use std::collections::HashMap;
use std::sync::Arc;

use crate::extract::Batch;
use crate::input::{ArchiveId, JobInfo};
use crate::model::{AttemptLog, Attribution, JobLog, Part, Section, Summary, Warning};
use crate::names::{EntryKind, FileNames, classify};

/// What to read from an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extent {
    /// All of it.
    Whole,
    /// A whole-job file's preamble, when step files hold the rest.
    Head,
}

/// One entry to read, and where its lines go.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub(crate) index: usize,
    pub(crate) entry: String,
    pub(crate) extent: Extent,
}

/// Where the lines of a task go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination {
    Job { job: usize, section: Section },
    Attributed { job: usize },
    Unmatched,
}

/// Which entries to read and where their lines go.
pub(crate) struct Plan {
    pub(crate) tasks: Vec<(Task, Destination)>,
    pub(crate) warnings: Vec<Warning>,
}

impl Plan {
    pub(crate) fn new(jobs: &[JobInfo], names: &[String]) -> Plan {
        let mut warnings = Vec::new();
        let file_names: Vec<FileNames> = jobs.iter().map(|j| FileNames::of(&j.name)).collect();
        // Directories (step files, system.txt) and whole-job files go to the first job of that
        // name that has none yet: jobs with the same name take them in order.
        let mut dir_owner: HashMap<&str, Option<usize>> = HashMap::new();
        let mut dirs_taken = vec![false; jobs.len()];
        let mut has_job_file = vec![false; jobs.len()];
        let mut has_steps = vec![false; jobs.len()];
        let mut classified: Vec<(usize, EntryKind<'_>)> = Vec::new();
        for (index, name) in names.iter().enumerate() {
            let kind = classify(name);
            match kind {
                EntryKind::Unsafe => {
                    tracing::warn!(entry = %name, "ignoring an entry with an unsafe name");
                    warnings.push(Warning::UnsafeName {
                        entry: name.clone(),
                    });
                }
                EntryKind::Junk => {}
                EntryKind::StepFile { job, .. } | EntryKind::System { job } => {
                    let owner = *dir_owner.entry(job).or_insert_with(|| {
                        let owner =
                            (0..jobs.len()).find(|&j| !dirs_taken[j] && file_names[j].matches(job));
                        if let Some(j) = owner {
                            dirs_taken[j] = true;
                        }
                        owner
                    });
                    if let (Some(j), EntryKind::StepFile { .. }) = (owner, kind) {
                        has_steps[j] = true;
                    }
                    classified.push((index, kind));
                }
                EntryKind::JobFile { .. } | EntryKind::Other => classified.push((index, kind)),
            }
        }
        // Whole-job files: ordinals first, in order, then legacy ones for jobs still without.
        let mut job_files: Vec<(bool, i64, usize, &str)> = classified
            .iter()
            .filter_map(|&(index, kind)| match kind {
                EntryKind::JobFile {
                    ordinal,
                    job,
                    legacy,
                } => Some((legacy, ordinal, index, job)),
                _ => None,
            })
            .collect();
        job_files.sort_unstable();
        let mut file_owner: HashMap<usize, usize> = HashMap::new();
        // A job's whole-job file under the older service's name beside the newer one's
        // (cli/cli#10768): one log, read once, from the newer file (the older service's copy
        // stops partway, or is only its "Prepare job" log).
        let mut duplicates: HashMap<usize, usize> = HashMap::new();
        for &(legacy, _, index, name) in &job_files {
            let owner = (0..jobs.len()).find(|&j| !has_job_file[j] && file_names[j].matches(name));
            if let Some(j) = owner {
                has_job_file[j] = true;
                file_owner.insert(index, j);
            } else if legacy && let Some(j) = (0..jobs.len()).find(|&j| file_names[j].matches(name))
            {
                duplicates.insert(index, j);
            }
        }
        let newer_file = |job: usize| {
            file_owner
                .iter()
                .find(|&(_, &owner)| owner == job)
                .map(|(&index, _)| names[index].clone())
                .unwrap_or_default()
        };

        let mut tasks = Vec::new();
        for (index, kind) in classified {
            let entry = names[index].clone();
            let whole = |entry| Task {
                index,
                entry,
                extent: Extent::Whole,
            };
            let destination = match kind {
                EntryKind::JobFile { .. } if duplicates.contains_key(&index) => {
                    let job = duplicates[&index];
                    let kept = newer_file(job);
                    tracing::warn!(job = jobs[job].id, %kept, dropped = %entry, "a job's log under two names");
                    warnings.push(Warning::DuplicateLog {
                        job_id: jobs[job].id,
                        kept,
                        dropped: entry,
                    });
                    continue;
                }
                EntryKind::JobFile { .. } => match file_owner.get(&index) {
                    Some(&job) if has_steps[job] => {
                        tasks.push((
                            Task {
                                index,
                                entry,
                                extent: Extent::Head,
                            },
                            Destination::Job {
                                job,
                                section: Section::Preamble,
                            },
                        ));
                        continue;
                    }
                    Some(&job) => Destination::Attributed { job },
                    None => Destination::Unmatched,
                },
                EntryKind::StepFile { job, number } => match dir_owner[job] {
                    Some(job) => {
                        if !jobs[job].steps.iter().any(|s| s.number == number) {
                            warnings.push(Warning::UnknownStep {
                                job_id: jobs[job].id,
                                number,
                            });
                        }
                        Destination::Job {
                            job,
                            section: Section::Step(number),
                        }
                    }
                    None => Destination::Unmatched,
                },
                EntryKind::System { job } => match dir_owner[job] {
                    Some(job) => Destination::Job {
                        job,
                        section: Section::System,
                    },
                    None => Destination::Unmatched,
                },
                EntryKind::Other => Destination::Unmatched,
                EntryKind::Junk | EntryKind::Unsafe => continue,
            };
            if destination == Destination::Unmatched {
                tracing::warn!(entry = %entry, "keeping a file that matches no job");
                warnings.push(Warning::UnmatchedFile {
                    entry: entry.clone(),
                });
            }
            tasks.push((whole(entry), destination));
        }
        Plan { tasks, warnings }
    }

    /// Orders the tasks as [`Plan::assemble`] orders parts: job after job, each job's
    /// preamble, then its steps by number, then `system.txt`; unmatched files last.
    pub(crate) fn order(&mut self) {
        self.tasks
            .sort_by_key(|(_, destination)| match *destination {
                Destination::Job { job, section } => (job, section_rank(section)),
                Destination::Attributed { job } => (job, (1, 0)),
                Destination::Unmatched => (usize::MAX, (0, 0)),
            });
    }

    /// The attempt from each task's parts, in the tasks' order.
    pub(crate) fn assemble(
        self,
        id: ArchiveId,
        jobs: &[JobInfo],
        read: Vec<Vec<Batch>>,
    ) -> AttemptLog {
        let mut parts: Vec<Vec<Part>> = vec![Vec::new(); jobs.len()];
        let mut attributed = vec![false; jobs.len()];
        let mut unmatched = Vec::new();
        for ((_, destination), batches) in self.tasks.into_iter().zip(read) {
            if let Destination::Attributed { job } = destination {
                attributed[job] = true;
            }
            for batch in batches {
                let info = Arc::unwrap_or_clone(batch.part);
                let part = Part::new(info.job_id, info.section, info.entry, batch.lines);
                match info.job {
                    Some(job) => parts[job].push(part),
                    None => unmatched.push(part),
                }
            }
        }
        let mut log = AttemptLog {
            id,
            jobs: Vec::new(),
            missing_jobs: Vec::new(),
            unmatched,
            warnings: self.warnings,
        };
        for ((job, mut parts), attributed) in jobs.iter().zip(parts).zip(attributed) {
            if parts.is_empty() {
                log.missing_jobs.push(job.id);
                continue;
            }
            parts.sort_by_key(|p| section_rank(p.section));
            let mut summary = Summary::default();
            for part in &parts {
                summary.add(&part.summary);
            }
            log.jobs.push(JobLog {
                job_id: job.id,
                name: job.name.clone(),
                attribution: if attributed {
                    Attribution::Inferred
                } else {
                    Attribution::StepFiles
                },
                parts,
                summary,
            });
        }
        log
    }
}

/// Where a section's part goes among its job's: preamble, steps by number, the rest.
fn section_rank(section: Section) -> (u8, u32) {
    match section {
        Section::Preamble => (0, 0),
        Section::Step(number) => (1, number),
        Section::Unattributed => (1, u32::MAX),
        Section::System | Section::File => (2, 0),
    }
}
