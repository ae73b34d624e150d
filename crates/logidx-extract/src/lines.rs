//! One log file's bytes to clean lines: timestamp parsed, BOM, CR and ANSI codes removed,
//! invalid UTF-8 replaced, overlong lines cut, marker recognised.
//!
//! All lines of a file (or of a batch, when a [`LineParser`] is handed an entry in chunks)
//! share one text buffer, so parsing allocates per file, not per line.

use std::fmt::Write as _;
use std::ops::Range;

use jiff::Timestamp;

use crate::controls::{BOM, Controls, ESC, clean_into, escape_end};
use crate::marker::Marker;
use crate::timestamp::{StampCache, timestamp_of};

/// Longest line text kept, in bytes; longer lines are cut and end with [`CUT_MARKER`].
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Starts the note appended to a cut line: `…[cut: 73216 bytes]`, the line's length in the
/// log after its timestamp (escape codes included), whatever was kept.
pub const CUT_MARKER: &str = "…[cut: ";

/// Most bytes of a line that a [`LineParser`] holds while waiting for its end: its head, of
/// which the first [`MAX_LINE_BYTES`] of clean text are kept; the rest is only counted. Four
/// times the text kept, for the escape codes that cleaning removes.
const LINE_HEAD_BYTES: usize = 4 * MAX_LINE_BYTES;

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
        let mut lines = Lines::default();
        lines.parse_block(raw, 0, &mut BlockState::default());
        lines
    }

    /// Appends the lines of `raw`, whole lines of a file starting at byte `offset` of it.
    fn parse_block(&mut self, raw: &[u8], offset: u64, state: &mut BlockState) {
        // Log lines average 60–100 bytes; counting them first would cost another pass.
        self.text.reserve(raw.len());
        self.records.reserve(raw.len() / 64 + 1);
        // simdutf8 checks 32 bytes at a time where the processor can (std: 16 at most).
        match simdutf8::basic::from_utf8(raw) {
            Ok(whole) => self.parse_utf8(whole, offset, state),
            Err(_) => self.parse_lossy(raw, offset, state),
        }
    }

    /// One scan of the whole file finds line ends, escape codes and CRs together (after the
    /// UTF-8 check and a search for BOMs, both over the whole file too): most lines hold an
    /// escape code, so searching each line again for them cost a second pass. The result is
    /// the same as [`Lines::parse_lossy`]'s, which property tests check.
    fn parse_utf8(&mut self, whole: &str, offset: u64, state: &mut BlockState) {
        let raw = whole.as_bytes();
        // A BOM inside a line is rare (they start files and steps): such a line is cleaned
        // again the slow way.
        let mut boms = memchr::memmem::find_iter(raw, BOM).peekable();
        let mut controls = Controls::new(raw);
        let BlockState {
            stamps,
            last_timestamp,
        } = state;
        let mut start = 0;
        while start < raw.len() {
            // The prefix holds no byte below 0x20, and its parser stops at a line feed.
            let body = start + skip_prefix(&raw[start..], stamps, last_timestamp);
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
            let raw_len = end - body;
            self.finish_line(begin, offset + start as u64, *last_timestamp, raw_len);
            start = end + 1;
        }
    }

    /// Line by line, each decoded lossily: for files that are not valid UTF-8.
    fn parse_lossy(&mut self, raw: &[u8], offset: u64, state: &mut BlockState) {
        let BlockState {
            stamps,
            last_timestamp,
        } = state;
        let mut start = 0;
        while start < raw.len() {
            let end = memchr::memchr(b'\n', &raw[start..]).map_or(raw.len(), |i| start + i);
            let body = start + skip_prefix(&raw[start..end], stamps, last_timestamp);
            let begin = self.text.len();
            clean_into(&String::from_utf8_lossy(&raw[body..end]), &mut self.text);
            let raw_len = end - body;
            self.finish_line(begin, offset + start as u64, *last_timestamp, raw_len);
            start = end + 1;
        }
    }

    /// Appends a line of which only `head`, its first bytes, is at hand: it is `raw_len`
    /// bytes long in all, so it is cut whatever its head cleans to.
    #[cold]
    #[inline(never)]
    fn push_cut_line(
        &mut self,
        head: &[u8],
        raw_offset: u64,
        raw_len: u64,
        state: &mut BlockState,
    ) {
        let body = skip_prefix(head, &mut state.stamps, &mut state.last_timestamp);
        let begin = self.text.len();
        // The head may end inside a character: it is dropped, not replaced.
        let head = &head[body..utf8_end(head).max(body)];
        clean_into(&String::from_utf8_lossy(head), &mut self.text);
        self.cut_line(begin, raw_len - body as u64);
        self.push_record(begin, raw_offset, state.last_timestamp);
    }

    /// Ends the line whose clean text starts at `begin` and was `raw_len` bytes in the log
    /// after its timestamp: cuts it if too long, notes its marker. Inlined, with the rare cut
    /// out of line: a call per line cost 4% of parsing's instructions.
    #[inline(always)]
    fn finish_line(
        &mut self,
        begin: usize,
        raw_offset: u64,
        timestamp: Option<i64>,
        raw_len: usize,
    ) {
        if self.text.len() - begin > MAX_LINE_BYTES {
            self.cut_line(begin, raw_len as u64);
        }
        self.push_record(begin, raw_offset, timestamp);
    }

    #[inline(always)]
    fn push_record(&mut self, begin: usize, raw_offset: u64, timestamp: Option<i64>) {
        let marker = Marker::of(&self.text[begin..]);
        self.records.push(Record {
            end: self.text.len(),
            raw_offset,
            timestamp: timestamp.unwrap_or(NO_TIMESTAMP),
            marker,
        });
    }

    /// Cuts the line whose clean text starts at `begin` to at most [`MAX_LINE_BYTES`] and
    /// marks it with its length in the log, `raw_len`.
    #[cold]
    #[inline(never)]
    fn cut_line(&mut self, begin: usize, raw_len: u64) {
        let mut cut = (begin + MAX_LINE_BYTES).min(self.text.len());
        while !self.text.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.truncate(cut);
        let _ = write!(self.text, "{CUT_MARKER}{raw_len} bytes]");
    }

    /// Appends `other`'s lines after these.
    pub(crate) fn append(&mut self, other: &Lines) {
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.records.extend(other.records.iter().map(|r| Record {
            end: r.end + base,
            ..*r
        }));
    }

    /// Moves lines `at..` into a `Lines` of their own.
    pub(crate) fn split_off(&mut self, at: usize) -> Lines {
        let tail = self.slice(at..self.len());
        let text_end = at.checked_sub(1).map_or(0, |i| self.records[i].end);
        self.text.truncate(text_end);
        self.records.truncate(at);
        tail
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
        if range.is_empty() || range.start >= self.len() {
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

/// What parsing carries from one block of lines to the next: the last timestamp, which a
/// continuation line takes, and the cache of its minute.
#[derive(Default)]
struct BlockState {
    stamps: StampCache,
    last_timestamp: Option<i64>,
}

/// An entry's lines parsed as its bytes arrive, in chunks of any size: a line split across
/// chunks is held until its end arrives, but only its first [`LINE_HEAD_BYTES`]: a line of
/// any length costs bounded memory and one pass. The lines are those of [`Lines::parse`] over
/// the whole entry, but that a line longer than [`LINE_HEAD_BYTES`] keeps the clean text of
/// its head only.
#[derive(Default)]
pub(crate) struct LineParser {
    state: BlockState,
    /// Offset in the entry of the line not yet ended.
    offset: u64,
    /// That line's first bytes.
    partial: Vec<u8>,
    /// Its bytes past `partial`, counted and dropped.
    dropped: u64,
}

impl LineParser {
    /// Appends to `out` the lines that `chunk`, the entry's next bytes, ends.
    pub(crate) fn push(&mut self, chunk: &[u8], out: &mut Lines) {
        let mut rest = chunk;
        if !self.partial.is_empty() || self.dropped > 0 {
            let Some(end) = memchr::memchr(b'\n', rest) else {
                self.hold(rest);
                return;
            };
            self.hold(&rest[..end]);
            self.end_partial(out);
            self.offset += 1;
            rest = &rest[end + 1..];
        }
        if let Some(last) = memchr::memrchr(b'\n', rest) {
            out.parse_block(&rest[..=last], self.offset, &mut self.state);
            self.offset += last as u64 + 1;
            rest = &rest[last + 1..];
        }
        self.hold(rest);
    }

    /// Appends to `out` the entry's last line, if it does not end with a line feed.
    pub(crate) fn finish(&mut self, out: &mut Lines) {
        if !self.partial.is_empty() || self.dropped > 0 {
            self.end_partial(out);
        }
    }

    /// Holds `bytes`, the next of a line not yet ended, up to its first [`LINE_HEAD_BYTES`].
    fn hold(&mut self, bytes: &[u8]) {
        let room = LINE_HEAD_BYTES - self.partial.len();
        let kept = bytes.len().min(room);
        self.partial.extend_from_slice(&bytes[..kept]);
        self.dropped += (bytes.len() - kept) as u64;
    }

    /// Ends the line held: parsed as any, or cut when some of it was dropped.
    fn end_partial(&mut self, out: &mut Lines) {
        let len = self.partial.len() as u64 + self.dropped;
        if self.dropped == 0 {
            out.parse_block(&self.partial, self.offset, &mut self.state);
        } else {
            out.push_cut_line(&self.partial, self.offset, len, &mut self.state);
        }
        self.offset += len;
        self.partial.clear();
        self.dropped = 0;
    }
}

/// The end of the whole characters of `bytes`: its length, less an incomplete UTF-8
/// sequence it ends with.
fn utf8_end(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0xc0 == 0x80 {
            continue; // a continuation byte: look further back for its lead
        }
        // A lead byte says how long its sequence is (2 to 4); any other byte ends nothing.
        let needs = byte.leading_ones() as usize;
        return if (2..=4).contains(&needs) && needs > back {
            bytes.len() - back
        } else {
            bytes.len()
        };
    }
    bytes.len()
}

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

    #[test]
    fn a_line_longer_than_its_head_is_cut_and_the_next_keeps_its_number() {
        let huge = 20 << 20;
        let mut raw = b"2024-01-28T19:27:26.0547628Z first\n2024-01-28T19:27:27.0000000Z ".to_vec();
        raw.extend(std::iter::repeat_n(b'x', huge));
        raw.extend_from_slice(b"\ncontinued\n2024-01-28T19:27:28.0000000Z last");
        let mut lines = Lines::default();
        let mut parser = LineParser::default();
        for chunk in raw.chunks(256 << 10) {
            parser.push(chunk, &mut lines);
            assert!(parser.partial.len() <= LINE_HEAD_BYTES);
        }
        parser.finish(&mut lines);
        assert_eq!(lines.len(), 4);
        let cut = lines.get(1);
        let marker = format!("{CUT_MARKER}{huge} bytes]");
        assert_eq!(cut.text, format!("{}{marker}", "x".repeat(MAX_LINE_BYTES)));
        assert_eq!(cut.timestamp, "2024-01-28T19:27:27Z".parse().ok());
        let (next, last) = (lines.get(2), lines.get(3));
        assert_eq!((next.text, next.line_number), ("continued", 3));
        assert_eq!(next.timestamp, cut.timestamp);
        assert_eq!(next.raw_offset, 64 + huge as u64 + 1);
        assert_eq!((last.text, last.line_number), ("last", 4));
        // The same bytes whole give the same lines.
        assert_eq!(Lines::parse(&raw), lines);
    }

    #[test]
    fn a_head_ending_inside_a_character_drops_it() {
        assert_eq!(utf8_end("abé".as_bytes()), 4);
        assert_eq!(utf8_end(&"abé".as_bytes()[..3]), 2);
        assert_eq!(utf8_end(&"a🔥".as_bytes()[..3]), 1);
        assert_eq!(utf8_end(b"\xff"), 1);
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
            by_line.parse_lossy(raw.as_bytes(), 0, &mut BlockState::default());
            prop_assert_eq!(Lines::parse(raw.as_bytes()), by_line);
        }

        #[test]
        fn one_scan_cleans_any_text_as_line_by_line(raw in any::<String>()) {
            let mut by_line = Lines::default();
            by_line.parse_lossy(raw.as_bytes(), 0, &mut BlockState::default());
            prop_assert_eq!(Lines::parse(raw.as_bytes()), by_line);
        }

        #[test]
        fn chunks_of_any_size_parse_as_the_whole(
            raw in proptest::collection::vec(prop_oneof![
                Just(b"\n".to_vec()), Just(b"\r\n".to_vec()), Just("é".into()), Just(vec![0xff]),
                Just(b"\x1b[31m".to_vec()), Just("\u{feff}".into()), Just(b"text ".to_vec()),
                Just(b"2024-01-28T19:27:26.0547628Z ".to_vec()),
            ], 0..80).prop_map(|pieces| pieces.concat()),
            sizes in proptest::collection::vec(1usize..40, 1..10),
        ) {
            let mut chunked = Lines::default();
            let mut parser = LineParser::default();
            let (mut at, mut sizes) = (0, sizes.iter().cycle());
            while at < raw.len() {
                let end = (at + sizes.next().unwrap()).min(raw.len());
                parser.push(&raw[at..end], &mut chunked);
                at = end;
            }
            parser.finish(&mut chunked);
            prop_assert_eq!(chunked, Lines::parse(&raw));
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
