//! Test corpora: fakehub's generated logs as extract would hand them over.

use logidx_index::{Line, RunAttempt, Step, StepMeta};

/// Attempts with their steps, in the order a sync would index them.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Each attempt with its steps.
    pub attempts: Vec<(RunAttempt, Vec<Step>)>,
}

impl Corpus {
    /// The world [`Corpus::fakehub`] takes its attempts from: fakehub's default one, of one
    /// repository.
    pub fn fakehub_world(runs: usize, lines_per_job: usize) -> fakehub::World {
        fakehub::World::generate(fakehub::Config {
            runs,
            lines_per_job,
            ..Default::default()
        })
        .unwrap()
    }

    /// The attempts of `repo` that [`Corpus::fakehub`] takes: the completed ones, with their
    /// runs.
    pub fn completed_attempts(
        repo: &fakehub::Repo,
    ) -> impl Iterator<Item = (&fakehub::Run, &fakehub::Attempt)> {
        repo.runs.iter().flat_map(|run| {
            run.attempts
                .iter()
                .filter(|attempt| attempt.status == fakehub::Status::Completed)
                .map(move |attempt| (run, attempt))
        })
    }

    /// Every completed attempt of fakehub's default repository.
    pub fn fakehub(runs: usize, lines_per_job: usize) -> Corpus {
        let world = Corpus::fakehub_world(runs, lines_per_job);
        let repo = &world.repos()[0];
        let full_name = repo.full_name();
        let mut attempts = Vec::new();
        for (run, attempt) in Corpus::completed_attempts(repo) {
            let workflow = &repo.workflows[run.workflow];
            let meta = RunAttempt {
                repo: full_name.clone(),
                run_id: run.id,
                run_attempt: attempt.number,
                run_number: run.run_number,
                workflow_name: workflow.name.clone(),
                workflow_path: workflow.path.clone(),
                event: run.event.to_owned(),
                head_branch: run.head_branch.clone(),
                head_sha: run.head_sha.clone(),
                actor: run.actor.clone(),
                run_created_at: jiff::Timestamp::from_second(run.created_at).unwrap(),
            };
            let mut steps = Vec::new();
            for job in attempt.archived_jobs() {
                let conclusion =
                    |c: Option<fakehub::Conclusion>| c.map_or("", |c| c.as_str()).to_owned();
                let log = world.job_log(&full_name, job.id).unwrap();
                for step_log in log.steps {
                    let step = job
                        .steps
                        .iter()
                        .find(|s| s.number == step_log.number)
                        .unwrap();
                    steps.push(Step {
                        meta: StepMeta {
                            job_id: job.id,
                            job_name: job.name.clone(),
                            job_conclusion: conclusion(job.conclusion),
                            step_number: step_log.number,
                            step_name: step_log.name,
                            step_conclusion: conclusion(step.conclusion),
                        },
                        lines: step_log
                            .lines
                            .into_iter()
                            .map(|line| Line {
                                timestamp: jiff::Timestamp::from_nanosecond(
                                    i128::from(line.ticks) * 100,
                                )
                                .unwrap(),
                                text: line.plain_text(),
                            })
                            .collect(),
                    });
                }
            }
            attempts.push((meta, steps));
        }
        Corpus { attempts }
    }

    /// Every line with its attempt, step and 0-based index in the step.
    pub fn lines(&self) -> impl Iterator<Item = (&RunAttempt, &StepMeta, u32, &Line)> {
        self.attempts.iter().flat_map(|(attempt, steps)| {
            steps.iter().flat_map(move |step| {
                step.lines
                    .iter()
                    .enumerate()
                    .map(move |(i, line)| (attempt, &step.meta, i as u32, line))
            })
        })
    }
}
