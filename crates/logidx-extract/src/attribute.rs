//! Step attribution: which step wrote each line of a whole-job log, when the archive has no
//! per-step files.
//!
//! Two clues, combined. Step starts show in the text: a step running a script or an action
//! opens with `##[group]Run …`, a post step with `Post job cleanup.`, "Complete job" with
//! `Cleaning up orphan processes`. And the jobs API gives each step's start and end second.
//! A `##[group]Run …` can also open a composite action's inner step, so it starts the next
//! API step only when the name or the clock agrees: the next step is named `Run …` with the
//! same text, or the current step's window is over, or the next step's has begun.

#[cfg(test)]
use std::ops::Range;

use crate::input::StepInfo;
use crate::lines::Lines;
use crate::marker::Marker;
use crate::model::Section;

/// Lines the service writes before the first step ("Set up job"); no step file holds them.
const PREAMBLE: [&str; 4] = [
    "Requested labels: ",
    "Job defined at: ",
    "Waiting for a runner to pick up this job",
    "Job is about to start running on the runner: ",
];

/// A run of consecutive lines of one section: the preamble, a step, or (when the API lists no
/// steps) the rest of the job.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) section: Section,
    pub(crate) lines: Range<usize>,
}

/// The line that opens a post step.
const POST_CLEANUP: &str = "Post job cleanup.";
/// The line that opens "Complete job".
const COMPLETE_JOB: &str = "Cleaning up orphan processes";

/// A line that may open a step.
enum StepStart<'a> {
    Run(&'a str),
    PostCleanup,
    CompleteJob,
}

impl StepStart<'_> {
    /// Whether a line with this marker and length can open a step: a cheap test that spares
    /// reading the text of nearly every line.
    fn may_be(marker: Option<Marker>, len: usize) -> bool {
        marker == Some(Marker::Group) || len == POST_CLEANUP.len() || len == COMPLETE_JOB.len()
    }

    fn of(text: &str) -> Option<StepStart<'_>> {
        if let Some(title) = text.strip_prefix("##[group]Run ") {
            Some(StepStart::Run(title.trim()))
        } else if text == POST_CLEANUP {
            Some(StepStart::PostCleanup)
        } else if text == COMPLETE_JOB {
            Some(StepStart::CompleteJob)
        } else {
            None
        }
    }
}

/// A step that may have written lines, with its window in whole seconds.
struct Window<'a> {
    number: u32,
    name: &'a str,
    start: Option<i64>,
    end: Option<i64>,
}

impl Window<'_> {
    fn is_post(&self) -> bool {
        self.name.starts_with("Post ")
    }

    fn is_complete(&self) -> bool {
        self.name == "Complete job"
    }

    fn is_main(&self) -> bool {
        !self.is_post() && !self.is_complete()
    }

    fn is_named_run(&self, title: &str) -> bool {
        self.name
            .strip_prefix("Run ")
            .is_some_and(|name| name.trim() == title)
    }

    /// The step's clock says it had ended before second `t` (times that contradict each
    /// other say nothing).
    fn ended_before(&self, t: i64) -> bool {
        match (self.start, self.end) {
            (Some(start), Some(end)) if start <= end => t > end,
            _ => false,
        }
    }

    /// The step's clock says it had started by second `t` (a second of rounding allowed).
    fn started_by(&self, t: i64) -> bool {
        self.start.is_none_or(|start| t + 1 >= start)
    }
}

/// Splits a whole-job log into the preamble and the steps' lines, in order; steps that wrote
/// nothing get no segment.
#[cfg(test)]
pub(crate) fn attribute(lines: &Lines, steps: &[StepInfo]) -> Vec<Segment> {
    let mut attributor = Attributor::new(steps);
    let mut segments: Vec<Segment> = Vec::new();
    for index in 0..lines.len() {
        let section = attributor.section_of(lines, index);
        match segments.last_mut() {
            Some(last) if last.section == section => last.lines.end = index + 1,
            _ => segments.push(Segment {
                section,
                lines: index..index + 1,
            }),
        }
    }
    segments
}

/// Which step wrote each line of a whole-job log, told line by line as the lines are read:
/// the preamble's first, then each line's step from the step starts seen so far.
pub(crate) struct Attributor<'a> {
    windows: Vec<Window<'a>>,
    current: usize,
    /// Whether the lines so far are all preamble.
    in_preamble: bool,
}

impl<'a> Attributor<'a> {
    pub(crate) fn new(steps: &'a [StepInfo]) -> Attributor<'a> {
        let mut windows: Vec<Window<'_>> = steps
            .iter()
            .filter(|s| s.may_have_log())
            .map(|s| Window {
                number: s.number,
                name: &s.name,
                start: s.started_at.map(|t| t.as_second()),
                end: s.completed_at.map(|t| t.as_second()),
            })
            .collect();
        windows.sort_by_key(|w| w.number);
        Attributor {
            windows,
            current: 0,
            in_preamble: true,
        }
    }

    /// The section of line `index` of `lines`, the next line of the log.
    pub(crate) fn section_of(&mut self, lines: &Lines, index: usize) -> Section {
        if self.in_preamble {
            if is_preamble(lines.get(index).text) {
                return Section::Preamble;
            }
            // The first line after the preamble is the first step's, whatever it says.
            self.in_preamble = false;
        } else if !self.windows.is_empty()
            && StepStart::may_be(lines.marker(index), lines.text_len_of(index))
        {
            let line = lines.get(index);
            if let Some(start) = StepStart::of(line.text) {
                // The second it falls in: before 1970 jiff's whole seconds round toward zero.
                let second = line
                    .timestamp
                    .map(|t| t.as_second() - i64::from(t.subsec_nanosecond() < 0));
                if let Some(next) = next_step(&self.windows, self.current, &start, second) {
                    self.current = next;
                }
            }
        }
        match self.windows.get(self.current) {
            Some(window) => Section::Step(window.number),
            None => Section::Unattributed,
        }
    }
}

/// Whether a line is one of those the service writes before the first step.
fn is_preamble(text: &str) -> bool {
    PREAMBLE.iter().any(|p| text.starts_with(p))
}

/// How many leading lines are the job preamble.
pub(crate) fn preamble_len(lines: &Lines) -> usize {
    lines
        .iter()
        .position(|l| !is_preamble(l.text))
        .unwrap_or(lines.len())
}

/// The step that a line opening one at second `t` opens, if it opens one after `current`.
fn next_step(
    windows: &[Window<'_>],
    current: usize,
    start: &StepStart<'_>,
    t: Option<i64>,
) -> Option<usize> {
    let later = || (current + 1..windows.len()).map(move |i| (i, &windows[i]));
    match start {
        StepStart::CompleteJob => later()
            .find(|(_, w)| w.is_complete())
            .map(|(i, _)| i)
            .or_else(|| (current + 1 < windows.len()).then_some(windows.len() - 1)),
        StepStart::PostCleanup => later().find(|(_, w)| w.is_post()).map(|(i, _)| i),
        StepStart::Run(title) => {
            let named = later()
                .take_while(|(_, w)| w.is_main())
                .find(|(_, w)| w.is_named_run(title) && t.is_none_or(|t| w.started_by(t)));
            if let Some((i, _)) = named {
                return Some(i);
            }
            if windows[current].is_named_run(title) {
                return None;
            }
            let (i, next) = later().next().filter(|(_, w)| w.is_main())?;
            let Some(t) = t else {
                return Some(i);
            };
            (windows[current].ended_before(t) || next.started_by(t) && !next.ended_before(t))
                .then_some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(number: u32, name: &str, start: i64, end: i64) -> StepInfo {
        StepInfo {
            number,
            name: name.into(),
            started_at: Some(jiff::Timestamp::from_second(start).unwrap()),
            completed_at: Some(jiff::Timestamp::from_second(end).unwrap()),
            conclusion: Some("success".into()),
        }
    }

    fn log(lines: &[(i64, &str)]) -> Lines {
        let text: String = lines
            .iter()
            .map(|(t, text)| {
                let stamp = jiff::Timestamp::from_second(*t).unwrap();
                format!("{}.0000000Z {text}\n", stamp.strftime("%Y-%m-%dT%H:%M:%S"))
            })
            .collect();
        Lines::parse(text.as_bytes())
    }

    fn steps_of(segments: &[Segment]) -> Vec<(Option<u32>, usize)> {
        segments
            .iter()
            .map(|s| (s.section.step_number(), s.lines.len()))
            .collect()
    }

    #[test]
    fn markers_and_names_split_the_log() {
        let steps = [
            step(1, "Set up job", 100, 101),
            step(2, "Run actions/checkout@v4", 101, 102),
            step(3, "Run cargo test", 102, 110),
            step(4, "Upload", 110, 110),
            step(6, "Post Run actions/checkout@v4", 110, 111),
            step(7, "Complete job", 111, 111),
        ];
        let mut skipped = step(5, "Deploy", 110, 110);
        skipped.conclusion = Some("skipped".into());
        let mut all = steps.to_vec();
        all.push(skipped);
        let lines = log(&[
            (98, "Requested labels: ubuntu-latest"),
            (
                98,
                "Job defined at: a/b/.github/workflows/ci.yml@refs/heads/main",
            ),
            (99, "Waiting for a runner to pick up this job..."),
            (
                99,
                "Job is about to start running on the runner: x (hosted)",
            ),
            (100, "Current runner version: '2.321.0'"),
            (101, "##[group]Run actions/checkout@v4"),
            (101, "##[endgroup]"),
            (102, "##[group]Run cargo test"),
            (105, "running 3 tests"),
            (110, "##[group]Run ./scripts/upload.sh"),
            (110, "##[group]Run inner composite step"),
            (110, "Post job cleanup."),
            (111, "Cleaning up orphan processes"),
        ]);
        assert_eq!(
            steps_of(&attribute(&lines, &all)),
            [
                (None, 4),
                (Some(1), 1),
                (Some(2), 2),
                (Some(3), 2),
                (Some(4), 2),
                (Some(6), 1),
                (Some(7), 1)
            ]
        );
    }

    #[test]
    fn an_inner_group_inside_the_window_stays_in_its_step() {
        let steps = [
            step(1, "Set up job", 100, 100),
            step(2, "Set up toolchain", 100, 120),
            step(3, "Build", 130, 140),
        ];
        let lines = log(&[
            (100, "Current runner version: '2.321.0'"),
            (100, "##[group]Run ./.github/actions/setup"),
            (110, "##[group]Run npm ci"),
            (131, "##[group]Run make"),
        ]);
        assert_eq!(
            steps_of(&attribute(&lines, &steps)),
            [(Some(1), 1), (Some(2), 2), (Some(3), 1)]
        );
    }

    #[test]
    fn no_steps_leave_the_lines_unattributed() {
        let lines = log(&[(1, "hello"), (2, "##[group]Run x")]);
        let segments = attribute(&lines, &[]);
        assert_eq!(segments[0].section, Section::Unattributed);
        assert_eq!(steps_of(&segments), [(None, 2)]);
        assert!(attribute(&Lines::default(), &[]).is_empty());
    }
}
