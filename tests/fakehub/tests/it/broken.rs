//! Archives as the results service breaks them (`docs/github.md` section 10): a job left out,
//! a job named so that it matches no job, a job under both services' names; chosen by seed or
//! by a test; the per-job endpoint still serves each such job whole; ground truth says whose
//! each file is.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use fakehub::{
    ArchiveBreak, Config, FakeHub, Job, Layout, Status, World, file_name_part, misnamed_part,
};

use crate::{client, get, hub};

const REPO: &str = "acme/widgets";

/// Downloads an attempt's archive over HTTP: file name → bytes (directories left out).
async fn archive(hub: &FakeHub, run: u64, attempt: u32) -> BTreeMap<String, Vec<u8>> {
    let path = format!("/repos/{REPO}/actions/runs/{run}/attempts/{attempt}/logs");
    let response = get(hub, &path).await;
    assert_eq!(response.status(), 302, "{path}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let bytes = client()
        .get(location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .filter_map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let name = entry.name().unwrap().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (!name.ends_with('/')).then_some((name, data))
        })
        .collect()
}

/// The job's log as the per-job endpoint serves it, BOM removed.
async fn job_text(hub: &FakeHub, job: u64) -> Vec<u8> {
    let response = get(hub, &format!("/repos/{REPO}/actions/jobs/{job}/logs")).await;
    assert_eq!(response.status(), 302, "job {job}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body = client()
        .get(location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    unbom(&body).to_vec()
}

fn unbom(data: &[u8]) -> &[u8] {
    data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data)
}

/// A completed single-attempt CI run in `layout` and its job that `pick` chooses.
fn target(hub: &FakeHub, layout: Layout, pick: impl Fn(&Job) -> bool) -> (u64, Job) {
    let repo = hub.repo(REPO).unwrap();
    repo.runs
        .iter()
        .rev()
        .filter(|r| r.layout == layout && r.latest().status == Status::Completed)
        .filter(|r| r.attempts.len() == 1 && r.workflow == 0)
        .find_map(|r| {
            let job = r.latest().archived_jobs().find(|j| pick(j))?;
            Some((r.id, job.clone()))
        })
        .expect("the corpus has such a run")
}

/// The whole-job file names (`N_<job>.txt`, `-N_<job>.txt`) of an archive.
fn whole_job_files(files: &BTreeMap<String, Vec<u8>>) -> Vec<&str> {
    files
        .keys()
        .map(String::as_str)
        .filter(|n| !n.contains('/'))
        .collect()
}

#[tokio::test]
async fn a_job_left_out_of_its_archive_is_still_served_by_the_per_job_endpoint() {
    let hub = hub(Config::default()).await;
    let (run, job) = target(&hub, Layout::JobAndSteps, |j| j.name.contains("macos"));
    let before = archive(&hub, run, 1).await;
    assert!(hub.with_world_mut(|w| w.break_archive(REPO, run, 1, ArchiveBreak::Missing(job.id))));
    assert!(
        !hub.with_world_mut(|w| w.break_archive(REPO, run, 1, ArchiveBreak::Missing(job.id))),
        "once"
    );

    let after = archive(&hub, run, 1).await;
    let dir = file_name_part(&job.name, Layout::JobAndSteps);
    let lost: Vec<&String> = before.keys().filter(|n| !after.contains_key(*n)).collect();
    assert!(!lost.is_empty());
    assert!(
        lost.iter()
            .all(|n| n.starts_with(&format!("{dir}/")) || n.ends_with(&format!("_{dir}.txt"))),
        "only the job's files went: {lost:?}"
    );
    assert!(after.keys().all(|n| before.contains_key(n)), "nothing new");
    let owners = hub.with_world(|w| w.archive_owners(REPO, run, 1)).unwrap();
    assert!(owners.iter().all(|(_, owner)| *owner != Some(job.id)));
    assert_eq!(owners.len(), after.len(), "ground truth lists every file");

    let text = job_text(&hub, job.id).await;
    let whole = before
        .iter()
        .find(|(n, _)| !n.contains('/') && n.ends_with(&format!("_{dir}.txt")))
        .unwrap()
        .1;
    assert_eq!(text, unbom(whole), "the per-job endpoint serves it whole");
}

#[tokio::test]
async fn a_misnamed_job_matches_no_job_under_either_services_rule() {
    let hub = hub(Config::default()).await;
    let (run, job) = target(&hub, Layout::Underscored, |j| j.name.starts_with("test ("));
    let lint = hub
        .repo(REPO)
        .unwrap()
        .run(run)
        .unwrap()
        .latest()
        .archived_jobs()
        .find(|j| j.name == "lint")
        .unwrap()
        .id;
    assert!(
        !hub.with_world_mut(|w| w.break_archive(REPO, run, 1, ArchiveBreak::Misnamed(lint))),
        "`lint` has nothing another rule would change"
    );
    assert!(hub.with_world_mut(|w| w.break_archive(REPO, run, 1, ArchiveBreak::Misnamed(job.id))));

    let files = archive(&hub, run, 1).await;
    let part = misnamed_part(&job.name);
    let names: Vec<String> = hub
        .repo(REPO)
        .unwrap()
        .run(run)
        .unwrap()
        .latest()
        .jobs
        .iter()
        .flat_map(|j| {
            [Layout::JobAndSteps, Layout::Underscored].map(|l| file_name_part(&j.name, l))
        })
        .collect();
    assert!(!names.contains(&part), "{part} matches no job");
    let (file, data) = files
        .iter()
        .find(|(n, _)| !n.contains('/') && n.ends_with(&format!("_{part}.txt")))
        .expect("the job's file is there, misnamed");
    assert!(
        files.keys().any(|n| n.starts_with(&format!("{part}/"))),
        "its step files too"
    );
    let owners = hub.with_world(|w| w.archive_owners(REPO, run, 1)).unwrap();
    let owner = owners.iter().find(|(n, _)| n == file).unwrap().1;
    assert_eq!(owner, Some(job.id), "ground truth names the job");
    assert_eq!(job_text(&hub, job.id).await, unbom(data));
}

#[tokio::test]
async fn a_job_under_both_services_names_has_a_whole_copy_and_a_short_one() {
    let hub = hub(Config::default()).await;
    // `lint` is also the job's key: the older service's copy takes its "Prepare job" name.
    for (layout, name) in [
        (Layout::JobAndSteps, "lint"),
        (Layout::JobOnly, "docs / build"),
    ] {
        let (run, job) = target(&hub, layout, |j| j.name == name);
        let how = ArchiveBreak::BothServices(job.id);
        assert!(hub.with_world_mut(|w| w.break_archive(REPO, run, 1, how)));
        assert_eq!(
            hub.with_world(|w| w.archive_breaks(REPO, run, 1).to_vec()),
            [how]
        );

        let files = archive(&hub, run, 1).await;
        let dir = file_name_part(&job.name, layout);
        let legacy = format!("-2147483648_{dir}.txt");
        let numbered = whole_job_files(&files)
            .into_iter()
            .find(|n| !n.starts_with('-') && n.ends_with(&format!("_{dir}.txt")))
            .unwrap()
            .to_owned();
        let (whole, short) = (unbom(&files[&numbered]), unbom(&files[&legacy]));
        assert!(
            short.len() < whole.len() && whole.starts_with(short),
            "{legacy}"
        );
        assert!(short.ends_with(b"\n") && !short.is_empty(), "whole lines");
        let owners = hub.with_world(|w| w.archive_owners(REPO, run, 1)).unwrap();
        for file in [&numbered, &legacy] {
            let owner = owners.iter().find(|(n, _)| n == file).unwrap().1;
            assert_eq!(owner, Some(job.id), "{file}");
        }
        assert_eq!(
            job_text(&hub, job.id).await,
            whole,
            "the endpoint serves it whole"
        );
    }
}

#[test]
fn broken_archives_are_off_by_default_and_a_seeded_share_when_asked() {
    let attempts = |world: &World| -> Vec<(u64, u32, Vec<ArchiveBreak>)> {
        let repo = world.repo(REPO).unwrap();
        repo.runs
            .iter()
            .flat_map(|r| r.attempts.iter().map(move |a| (r.id, a.number)))
            .map(|(run, n)| (run, n, world.archive_breaks(REPO, run, n).to_vec()))
            .collect()
    };
    let whole = Config {
        runs: 120,
        ..Config::default()
    };
    let default = World::generate(whole.clone()).unwrap();
    assert!(attempts(&default).iter().all(|(.., b)| b.is_empty()));

    let config = Config {
        broken_archives: 0.3,
        ..whole
    };
    let world = World::generate(config.clone()).unwrap();
    let all = attempts(&world);
    let broken: Vec<ArchiveBreak> = all.iter().flat_map(|(.., b)| b.clone()).collect();
    let share = broken.len() as f64 / all.len() as f64;
    assert!((0.2..0.4).contains(&share), "{share}");
    for kind in [
        |b: &ArchiveBreak| matches!(b, ArchiveBreak::Missing(_)),
        |b: &ArchiveBreak| matches!(b, ArchiveBreak::Misnamed(_)),
        |b: &ArchiveBreak| matches!(b, ArchiveBreak::BothServices(_)),
    ] {
        assert!(broken.iter().any(kind), "{broken:?}");
    }
    assert_eq!(all, attempts(&World::generate(config).unwrap()), "by seed");

    // Each break is what the archive holds; the world is otherwise the same.
    for (run, n, breaks) in all.iter().filter(|(.., b)| !b.is_empty()) {
        let owners = world.archive_owners(REPO, *run, *n).unwrap();
        let whole = default.archive_owners(REPO, *run, *n).unwrap();
        let files = |job| owners.iter().filter(|(_, o)| *o == Some(job)).count();
        let was = |job| whole.iter().filter(|(_, o)| *o == Some(job)).count();
        match breaks[0] {
            ArchiveBreak::Missing(job) => assert_eq!(files(job), 0),
            ArchiveBreak::Misnamed(job) => assert_eq!(files(job), was(job)),
            ArchiveBreak::BothServices(job) => assert_eq!(files(job), was(job) + 1),
        }
    }
    let ids = |w: &World| -> Vec<u64> {
        let runs = &w.repo(REPO).unwrap().runs;
        runs.iter()
            .flat_map(|r| r.attempts.iter().flat_map(|a| a.jobs.iter().map(|j| j.id)))
            .collect()
    };
    assert_eq!(ids(&world), ids(&default));
}
