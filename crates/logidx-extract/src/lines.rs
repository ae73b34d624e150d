//! One log file's bytes to clean lines: timestamp parsed, BOM, CR and ANSI codes removed,
//! invalid UTF-8 replaced, overlong lines cut, marker recognised.
//!
//! All lines of a file share one text buffer, so parsing allocates per file, not per line.

use std::fmt::Write as _;
use std::ops::Range;

use jiff::Timestamp;

use crate::controls::{BOM, Controls, ESC, clean_into, escape_end};
use crate::marker::Marker;
use crate::timestamp::{StampCache, timestamp_of};

/// Longest line text kept, in bytes; longer lines are cut and end with [`CUT_MARKER`].
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Starts the note appended to a cut line: `…[cut: 73216 bytes]`.
pub const CUT_MARKER: &str = "…[cut: ";

/// One line with where it belongs, borrowed from its [`Lines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogLine<'a> {
    /// The API job it belongs to; `None` for a file that matches no job.
    pub job_id: Option<u64>,
    /// The step's `number`; `None` for the job preamble, `system.txt` and unmatched files.
    pub step_number: Option<u32>,
    /// 1-based within its step, as in `…/job/{job_id}#step:{step}:{line}` links.
    pub line_number: u32,
    /// When the runner wrote it; a continuation line has its predecessor's; `None` before
    /// the file's first timestamp.
    pub timestamp: Option<Timestamp>,
    /// The marker the text starts with.
    pub marker: Option<Marker>,
    /// The text without timestamp, BOM, CR or ANSI codes; markers kept.
    pub text: &'a str,
    /// Byte offset of the line's start in the inflated archive entry it was read from.
    pub raw_offset: u64,
}

/// A line's place in [`Lines::text`] and what was parsed from it: 32 bytes, not 40 with an
/// `Option` timestamp (or more with a `Timestamp`), since every line writes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    end: usize,
    raw_offset: u64,
    /// Nanoseconds since the epoch, or [`NO_TIMESTAMP`].
    timestamp: i64,
    marker: Option<Marker>,
}

impl Record {
    /// The line this record describes, whose text is `text`, without job or step.
    fn line(self, text: &str, line_number: u32) -> LogLine<'_> {
        LogLine {
            job_id: None,
            step_number: None,
            line_number,
            timestamp: if self.timestamp == NO_TIMESTAMP {
                None
            } else {
                timestamp_of(self.timestamp)
            },
            marker: self.marker,
            text,
            raw_offset: self.raw_offset,
        }
    }
}

/// A record's timestamp when it has none. No timestamp parses to it: it would have to be a
/// whole minute (the seconds part is never negative), and −2⁶³ ns is not a multiple of 60·10⁹.
const NO_TIMESTAMP: i64 = i64::MIN;

/// The clean lines of one file (or of one step's share of a whole-job file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines {
    text: String,
    records: Vec<Record>,
}

impl Lines {
    /// Parses a whole log file.
    pub fn parse(raw: &[u8]) -> Lines {
        // Log lines average 60–100 bytes; counting them first would cost another pass.
        let mut lines = Lines {
            text: String::with_capacity(raw.len()),
            records: Vec::with_capacity(raw.len() / 64 + 1),
        };
        // simdutf8 checks 32 bytes at a time where the processor can (std: 16 at most).
        match simdutf8::basic::from_utf8(raw) {
            Ok(whole) => lines.parse_utf8(whole),
            Err(_) => lines.parse_lossy(raw),
        }
        lines
    }

    /// One scan of the whole file finds line ends, escape codes and CRs together (after the
    /// UTF-8 check and a search for BOMs, both over the whole file too): most lines hold an
    /// escape code, so searching each line again for them cost a second pass. The result is
    /// the same as [`Lines::parse_lossy`]'s, which property tests check.
    fn parse_utf8(&mut self, whole: &str) {
        let raw = whole.as_bytes();
        // A BOM inside a line is rare (they start files and steps): such a line is cleaned
        // again the slow way.
        let mut boms = memchr::memmem::find_iter(raw, BOM).peekable();
        let mut controls = Controls::new(raw);
        let mut last_timestamp = None;
        let mut stamps = StampCache::default();
        let mut start = 0;
        while start < raw.len() {
            // The prefix holds no byte below 0x20, and its parser stops at a line feed.
            let body = start + skip_prefix(&raw[start..], &mut stamps, &mut last_timestamp);
            controls.seek(body);
            let begin = self.text.len();
            let mut copied = body;
            let end = loop {
                let Some(pos) = controls.next() else {
                    break raw.len();
                };
                match raw[pos] {
                    b'\n' => break pos,
                    // Below `copied`: inside an escape sequence already skipped.
                    ESC | b'\r' if pos >= copied => {
                        self.text.push_str(&whole[copied..pos]);
                        copied = if raw[pos] == ESC {
                            escape_end(raw, pos)
                        } else {
                            pos + 1
                        };
                    }
                    _ => {}
                }
            };
            self.text.push_str(&whole[copied..end]);
            while boms.next_if(|&pos| pos < body).is_some() {}
            if boms.peek().is_some_and(|&pos| pos < end) {
                self.text.truncate(begin);
                clean_into(&whole[body..end], &mut self.text);
            }
            self.finish_line(begin, start as u64, last_timestamp);
            start = end + 1;
        }
    }

    /// Line by line, each decoded lossily: for files that are not valid UTF-8.
    fn parse_lossy(&mut self, raw: &[u8]) {
        let mut last_timestamp = None;
        let mut stamps = StampCache::default();
        let mut start = 0;
        while start < raw.len() {
            let end = memchr::memchr(b'\n', &raw[start..]).map_or(raw.len(), |i| start + i);
            let body = start + skip_prefix(&raw[start..end], &mut stamps, &mut last_timestamp);
            let begin = self.text.len();
            clean_into(&String::from_utf8_lossy(&raw[body..end]), &mut self.text);
            self.finish_line(begin, start as u64, last_timestamp);
            start = end + 1;
        }
    }

    /// Ends the line whose clean text starts at `begin`: cuts it if too long, notes its marker.
    /// Inlined, with the rare cut out of line: a call per line cost 4% of parsing's
    /// instructions.
    #[inline(always)]
    fn finish_line(&mut self, begin: usize, raw_offset: u64, timestamp: Option<i64>) {
        if self.text.len() - begin > MAX_LINE_BYTES {
            self.cut_line(begin);
        }
        let marker = Marker::of(&self.text[begin..]);
        self.records.push(Record {
            end: self.text.len(),
            raw_offset,
            timestamp: timestamp.unwrap_or(NO_TIMESTAMP),
            marker,
        });
    }

    /// Cuts the line whose clean text starts at `begin` to [`MAX_LINE_BYTES`] and marks it.
    #[cold]
    #[inline(never)]
    fn cut_line(&mut self, begin: usize) {
        let kept = self.text.len() - begin;
        let mut cut = begin + MAX_LINE_BYTES;
        while !self.text.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.truncate(cut);
        let _ = write!(self.text, "{CUT_MARKER}{kept} bytes]");
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no lines.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes of clean text.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    fn range(&self, index: usize) -> Range<usize> {
        let start = index.checked_sub(1).map_or(0, |i| self.records[i].end);
        start..self.records[index].end
    }

    /// Line `index` (0-based), without job or step.
    pub(crate) fn get(&self, index: usize) -> LogLine<'_> {
        self.records[index].line(&self.text[self.range(index)], index as u32 + 1)
    }

    /// Line `index`'s marker.
    pub(crate) fn marker(&self, index: usize) -> Option<Marker> {
        self.records[index].marker
    }

    /// Bytes of line `index`'s text.
    pub(crate) fn text_len_of(&self, index: usize) -> usize {
        self.range(index).len()
    }

    /// Each line's marker, in order: cheaper than [`Lines::iter`] when only markers count.
    pub(crate) fn markers(&self) -> impl Iterator<Item = Option<Marker>> + '_ {
        self.records.iter().map(|r| r.marker)
    }

    /// The lines in order, without job or step ([`Part::lines`](crate::Part::lines) has them).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = LogLine<'_>> + '_ {
        LinesIter {
            lines: self,
            records: self.records.iter(),
            start: 0,
            line_number: 0,
        }
    }

    /// Copies lines `range` into a `Lines` of their own.
    pub(crate) fn slice(&self, range: Range<usize>) -> Lines {
        if range.is_empty() {
            return Lines::default();
        }
        let text_start = self.range(range.start).start;
        let text_end = self.records[range.end - 1].end;
        Lines {
            text: self.text[text_start..text_end].to_owned(),
            records: self.records[range]
                .iter()
                .map(|r| Record {
                    end: r.end - text_start,
                    ..*r
                })
                .collect(),
        }
    }
}

/// [`Lines::iter`]: walks the records with the previous line's end in hand, where
/// [`Lines::get`] looks it up for each line.
struct LinesIter<'a> {
    lines: &'a Lines,
    records: std::slice::Iter<'a, Record>,
    start: usize,
    line_number: u32,
}

impl<'a> Iterator for LinesIter<'a> {
    type Item = LogLine<'a>;

    fn next(&mut self) -> Option<LogLine<'a>> {
        let record = self.records.next()?;
        let text = &self.lines.text[self.start..record.end];
        self.start = record.end;
        self.line_number += 1;
        Some(record.line(text, self.line_number))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.records.size_hint()
    }
}

impl ExactSizeIterator for LinesIter<'_> {}

/// Length of the BOMs and timestamp `line` starts with; notes the timestamp in `last`. `line`
/// may run on past its line feed.
fn skip_prefix(line: &[u8], stamps: &mut StampCache, last: &mut Option<i64>) -> usize {
    let mut body = 0;
    while line[body..].starts_with(BOM) {
        body += BOM.len();
    }
    if let Some((nanos, len)) = stamps.parse(&line[body..]) {
        *last = Some(nanos);
        body += len;
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(lines: &Lines) -> Vec<&str> {
        lines.iter().map(|l| l.text).collect()
    }

    #[test]
    fn no_timestamp_is_never_a_whole_minute() {
        assert_ne!(NO_TIMESTAMP % 60_000_000_000, 0);
    }

    #[test]
    fn long_escape_sequences_are_removed_whole() {
        let raw = "2024-01-28T19:27:26.0547628Z \x1b[38;2;255;100;0mtrue colour\x1b[0m \
                   \x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20mmany\x1b[12345678\n";
        assert_eq!(texts(&Lines::parse(raw.as_bytes())), ["true colour many"]);
    }

    #[test]
    fn lines_are_cleaned() {
        let raw = "\u{feff}2024-01-28T19:27:26.0547628Z \x1b[36;1mcargo test\x1b[0m\r\n\
                   continued without a stamp\r\n\
                   \u{feff}2024-01-28T19:27:27.0000000Z ##[error]boom \x1b]8;;https://x\x07link\x1b]8;;\x07\n\
                   2024-01-28T19:27:28.0000000Z [command]/usr/bin/git\u{feff} version\n";
        let lines = Lines::parse(raw.as_bytes());
        assert_eq!(
            texts(&lines),
            [
                "cargo test",
                "continued without a stamp",
                "##[error]boom link",
                "[command]/usr/bin/git version"
            ]
        );
        let first = lines.get(0).timestamp;
        assert_eq!(lines.get(1).timestamp, first);
        assert_eq!(lines.get(2).marker, Some(Marker::Error));
        assert_eq!(lines.get(3).marker, Some(Marker::Command));
        assert_eq!(lines.get(1).raw_offset, 55);
    }

    #[test]
    fn lines_before_any_timestamp_have_none() {
        let lines = Lines::parse(b"log line 1\nlog line 2\nlog line 3");
        assert_eq!(texts(&lines), ["log line 1", "log line 2", "log line 3"]);
        assert!(lines.iter().all(|l| l.timestamp.is_none()));
    }

    #[test]
    fn a_stamp_without_a_message_keeps_its_timestamp() {
        let lines = Lines::parse(b"2024-01-28T19:27:26.0547628Z\r\n2024-01-28T19:27:27Z\n");
        assert_eq!(texts(&lines), ["", ""]);
        assert!(lines.iter().all(|l| l.timestamp.is_some()));
    }

    #[test]
    fn invalid_utf8_is_replaced_and_offsets_stay_raw() {
        let lines = Lines::parse(b"ok\nbinary \xff\xfe\x00 \xc3\x28 end\nafter");
        assert_eq!(
            texts(&lines),
            ["ok", "binary \u{fffd}\u{fffd}\0 \u{fffd}( end", "after"]
        );
        assert_eq!(lines.get(2).raw_offset, 21);
    }

    #[test]
    fn long_lines_are_cut_with_a_marker() {
        let long = format!(
            "2024-01-28T19:27:26.0547628Z {}é\n",
            "x".repeat(MAX_LINE_BYTES - 1)
        );
        let lines = Lines::parse(long.as_bytes());
        let text = lines.get(0).text;
        assert!(text.ends_with(&format!("{CUT_MARKER}{} bytes]", MAX_LINE_BYTES + 1)));
        assert_eq!(
            text.len(),
            MAX_LINE_BYTES - 1 + CUT_MARKER.len() + "65537 bytes]".len()
        );
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic_and_give_one_record_per_line(raw in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let lines = Lines::parse(&raw);
            let want = raw.split(|&b| b == b'\n').count() - usize::from(raw.ends_with(b"\n"));
            prop_assert_eq!(lines.len(), if raw.is_empty() { 0 } else { want });
            for line in lines.iter() {
                prop_assert!(!line.text.contains(['\r', '\n', '\u{feff}', '\x1b']), "{:?}", line.text);
            }
            let by_index: Vec<LogLine<'_>> = (0..lines.len()).map(|i| lines.get(i)).collect();
            prop_assert_eq!(lines.iter().len(), lines.len());
            prop_assert_eq!(lines.iter().collect::<Vec<_>>(), by_index);
        }

        #[test]
        fn one_scan_cleans_as_line_by_line(pieces in proptest::collection::vec(prop_oneof![
            Just("\x1b"), Just("["), Just("]"), Just("\x07"), Just("\\"), Just("\r"),
            Just("\n"), Just("\t"), Just("\u{feff}"), Just("\u{efbb}"), Just("36;1m"), Just("é"),
            Just("text "), Just("2024-01-28T19:27:26.0547628Z "),
        ], 0..60)) {
            let raw = pieces.concat();
            let mut by_line = Lines::default();
            by_line.parse_lossy(raw.as_bytes());
            prop_assert_eq!(Lines::parse(raw.as_bytes()), by_line);
        }

        #[test]
        fn one_scan_cleans_any_text_as_line_by_line(raw in any::<String>()) {
            let mut by_line = Lines::default();
            by_line.parse_lossy(raw.as_bytes());
            prop_assert_eq!(Lines::parse(raw.as_bytes()), by_line);
        }

        #[test]
        fn stamped_lines_round_trip(
            secs in 0i64..4_102_444_800,
            ticks in 0i64..10_000_000,
            text in "[ -~]{0,80}",
        ) {
            let stamp = jiff::Timestamp::new(secs, (ticks * 100) as i32).unwrap();
            let rendered = format!("{}Z {text}\n", stamp.strftime("%Y-%m-%dT%H:%M:%S%.7f"));
            let lines = Lines::parse(rendered.as_bytes());
            prop_assert_eq!(lines.len(), 1);
            let line = lines.get(0);
            prop_assert_eq!(line.timestamp, Some(stamp));
            prop_assert_eq!(line.text, text.as_str());
        }
    }
}
