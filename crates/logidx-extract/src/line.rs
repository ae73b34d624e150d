//! One log file's bytes to clean lines: timestamp parsed, BOM, CR and ANSI codes removed,
//! invalid UTF-8 replaced, overlong lines cut, level recognised.
//!
//! All lines of a file share one text buffer, so parsing allocates per file, not per line.

use std::fmt::Write as _;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Longest line text kept, in bytes; longer lines are cut and end with [`CUT_MARKER`].
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Starts the note appended to a cut line: `…[cut: 73216 bytes]`.
pub const CUT_MARKER: &str = "…[cut: ";

const BOM: &[u8] = "\u{feff}".as_bytes();
const ESC: u8 = 0x1b;

/// What a line's marker says it is. Derived from the text, which keeps the marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// `##[error]`.
    Error,
    /// `##[warning]`.
    Warning,
    /// `##[notice]`.
    Notice,
    /// `##[debug]`.
    Debug,
    /// `##[command]` (the runner) or `[command]` (@actions/exec).
    Command,
    /// `##[section]`.
    Section,
    /// `##[group]` or `##[endgroup]`.
    Group,
    /// No marker.
    None,
}

impl Level {
    /// The level of a cleaned line: its leading marker, if any.
    #[inline]
    pub fn of(text: &str) -> Level {
        // Most lines start with neither `#` nor `[`: one comparison, inlined, settles them.
        if matches!(text.as_bytes().first(), Some(b'#' | b'[')) {
            Level::of_marked(text)
        } else {
            Level::None
        }
    }

    /// [`Level::of`] for a line that starts with `#` or `[`.
    fn of_marked(text: &str) -> Level {
        if let Some(rest) = text.strip_prefix("##[") {
            let name = rest.split(['[', ']', ' ']).next().unwrap_or("");
            match name {
                "error" => Level::Error,
                "warning" => Level::Warning,
                "notice" => Level::Notice,
                "debug" => Level::Debug,
                "command" => Level::Command,
                "section" => Level::Section,
                "group" | "endgroup" => Level::Group,
                _ => Level::None,
            }
        } else if text.starts_with("[command]") {
            Level::Command
        } else {
            Level::None
        }
    }
}

/// One line with where it belongs, borrowed from its [`Lines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// The API job it belongs to; `None` for a file that matches no job.
    pub job_id: Option<u64>,
    /// The step's `number`; `None` for the job preamble, `system.txt` and unmatched files.
    pub step_number: Option<u32>,
    /// 1-based within its step, as in `…/job/{job_id}#step:{step}:{line}` links.
    pub line_number: u32,
    /// Nanoseconds since the Unix epoch (UTC); a continuation line has its predecessor's;
    /// `None` before the file's first timestamp.
    pub timestamp: Option<i64>,
    /// From the marker the text starts with.
    pub level: Level,
    /// The text without timestamp, BOM, CR or ANSI codes; markers kept.
    pub text: &'a str,
    /// Byte offset of the line's start in the inflated archive entry it was read from.
    pub raw_offset: u64,
}

/// A line's place in [`Lines::text`] and what was parsed from it: 32 bytes, not 40 with an
/// `Option` timestamp, since every line writes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    end: usize,
    raw_offset: u64,
    /// Nanoseconds since the epoch, or [`NO_TIMESTAMP`].
    timestamp: i64,
    level: Level,
}

impl Record {
    /// The line this record describes, whose text is `text`, without job or step.
    fn line(self, text: &str, line_number: u32) -> LogLine<'_> {
        LogLine {
            job_id: None,
            step_number: None,
            line_number,
            timestamp: (self.timestamp != NO_TIMESTAMP).then_some(self.timestamp),
            level: self.level,
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

    /// Ends the line whose clean text starts at `begin`: cuts it if too long, notes its level.
    /// Inlined, with the rare cut out of line: a call per line cost 4% of parsing's
    /// instructions.
    #[inline(always)]
    fn finish_line(&mut self, begin: usize, raw_offset: u64, timestamp: Option<i64>) {
        if self.text.len() - begin > MAX_LINE_BYTES {
            self.cut_line(begin);
        }
        let level = Level::of(&self.text[begin..]);
        self.records.push(Record {
            end: self.text.len(),
            raw_offset,
            timestamp: timestamp.unwrap_or(NO_TIMESTAMP),
            level,
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

    /// Line `index`'s level.
    pub(crate) fn level(&self, index: usize) -> Level {
        self.records[index].level
    }

    /// Bytes of line `index`'s text.
    pub(crate) fn text_len_of(&self, index: usize) -> usize {
        self.range(index).len()
    }

    /// Each line's level, in order: cheaper than [`Lines::iter`] when only levels count.
    pub(crate) fn levels(&self) -> impl Iterator<Item = Level> + '_ {
        self.records.iter().map(|r| r.level)
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

/// The positions of the bytes below 0x20 (line feed, CR, ESC, tab…) of a file, in order.
///
/// Sixty-four bytes at a time, into one mask: a line's body mostly fits in one block, so
/// finding all of its escape codes and its end takes one mask and no branch per byte or
/// word. (Each search restarted at each such byte spent more on starting than on
/// searching, and a loop over words mispredicted its exit at nearly every one.)
struct Controls<'a> {
    bytes: &'a [u8],
    /// Where the current block starts.
    at: usize,
    /// A bit per byte of the current block not yet returned that is below 0x20.
    mask: u64,
}

impl<'a> Controls<'a> {
    fn new(bytes: &'a [u8]) -> Controls<'a> {
        Controls {
            bytes,
            at: 0,
            mask: Controls::block_mask(bytes, 0),
        }
    }

    /// Goes on from `at`, skipping the bytes before it.
    fn seek(&mut self, at: usize) {
        self.at = at;
        self.mask = Controls::block_mask(self.bytes, at);
    }

    fn block_mask(bytes: &[u8], at: usize) -> u64 {
        let padded;
        let block: &[u8; 64] = match bytes.get(at..at + 64) {
            Some(block) => block.try_into().expect("64 bytes"),
            None => {
                // Past the end reads as 0xff, which is no control byte.
                let mut tail = [0xff; 64];
                let rest = bytes.get(at..).unwrap_or_default();
                tail[..rest.len()].copy_from_slice(rest);
                padded = tail;
                &padded
            }
        };
        controls_in(block)
    }

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.at += 64;
            if self.at >= self.bytes.len() {
                return None;
            }
            self.mask = Controls::block_mask(self.bytes, self.at);
        }
        let pos = self.at + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(pos)
    }
}

/// A bit per byte of `block` that is below 0x20, the first byte's lowest: SSE2, which every
/// x86-64 processor has, sixteen bytes at a time (through `safe_arch`, as this crate has no
/// `unsafe`).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn controls_in(block: &[u8; 64]) -> u64 {
    use safe_arch::{
        cmp_eq_mask_i8_m128i, load_unaligned_m128i, min_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let highest = set_splat_i8_m128i(0x1f);
    let mut mask = 0;
    for (i, chunk) in block.chunks_exact(16).enumerate() {
        let bytes = load_unaligned_m128i(chunk.try_into().expect("sixteen bytes"));
        // A byte is at most 0x1f exactly when the smaller of it and 0x1f is itself.
        let below = cmp_eq_mask_i8_m128i(min_u8_m128i(bytes, highest), bytes);
        mask |= u64::from(move_mask_i8_m128i(below) as u16) << (16 * i);
    }
    mask
}

/// [`controls_in`] for other processors.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
fn controls_in(block: &[u8; 64]) -> u64 {
    controls_by_word(block)
}

/// [`controls_in`] eight bytes at a time in a `u64`, for any processor (and tested on all).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline]
fn controls_by_word(block: &[u8; 64]) -> u64 {
    let mut mask = 0;
    for (i, word) in block.chunks_exact(8).enumerate() {
        mask |= word_mask(u64::from_le_bytes(word.try_into().expect("eight bytes"))) << (8 * i);
    }
    mask
}

/// A bit per byte of `word` (little-endian) that is below 0x20, the first byte's lowest.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline]
fn word_mask(word: u64) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Adding 0x60 to a byte's low seven bits sets its high bit exactly when they are at least
    // 0x20, and never carries into the next byte.
    let high = !(((word & LOW) + 0x6060_6060_6060_6060) | word) & HIGH;
    // The multiplication gathers the eight high bits, in order, into the top byte: no two of
    // its partial products meet, so nothing carries.
    high.wrapping_mul(0x0002_0408_1020_4081) >> 56
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

/// Appends `text` to `out` without ANSI escape sequences, U+FEFF or CR.
///
/// Every byte a sequence is cut at is ASCII, so the cuts fall on char boundaries.
fn clean_into(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = memchr::memchr3(ESC, b'\r', BOM[0], &bytes[at..]) {
        let pos = at + found;
        let skip_to = match bytes[pos] {
            ESC => escape_end(bytes, pos),
            b'\r' => pos + 1,
            _ if bytes[pos..].starts_with(BOM) => pos + BOM.len(),
            _ => {
                at = pos + 1;
                continue;
            }
        };
        out.push_str(&text[copied..pos]);
        copied = skip_to;
        at = skip_to;
    }
    out.push_str(&text[copied..]);
}

/// End of the escape sequence starting with ESC at `pos`: CSI (`ESC [ params final`), OSC
/// (`ESC ] … BEL` or `ESC ] … ESC \`), or `ESC intermediates final`. A malformed sequence
/// ends at the first byte that does not fit, which is kept; none runs past a line feed.
fn escape_end(bytes: &[u8], pos: usize) -> usize {
    let mut i = pos + 1;
    match bytes.get(i) {
        Some(b'[') => {
            i += 1;
            // Parameter and intermediate bytes, eight at a time: a loop over bytes
            // mispredicted its exit at nearly every sequence (their lengths vary).
            while let Some(chunk) = bytes.get(i..i + 8) {
                let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
                // A byte is in 0x20..=0x3f exactly when its top three bits are 001.
                let outside = (word & 0xe0e0_e0e0_e0e0_e0e0) ^ 0x2020_2020_2020_2020;
                if outside != 0 {
                    i += (outside.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            while matches!(bytes.get(i), Some(0x20..=0x3f)) {
                i += 1;
            }
            if matches!(bytes.get(i), Some(0x40..=0x7e)) {
                i += 1;
            }
            i
        }
        Some(b']') => {
            i += 1;
            while i < bytes.len() {
                match bytes[i] {
                    0x07 => return i + 1,
                    ESC if bytes.get(i + 1) == Some(&b'\\') => return i + 2,
                    b'\n' => return i,
                    _ => i += 1,
                }
            }
            i
        }
        _ => {
            while matches!(bytes.get(i), Some(0x20..=0x2f)) {
                i += 1;
            }
            if matches!(bytes.get(i), Some(0x30..=0x7e)) {
                i += 1;
            }
            i
        }
    }
}

/// Parses the runner's prefix `2024-01-28T19:27:26.0547628Z ` (1 to 9 fractional digits, or
/// none; the space may be missing at the end of the line, before a CR or line feed). Returns
/// nanoseconds since the epoch and the prefix's length.
pub fn parse_timestamp(line: &[u8]) -> Option<(i64, usize)> {
    let minute = parse_minute(line)?;
    let (within, len) = parse_second(line)?;
    Some((minute.checked_add(within)?, len))
}

/// Remembers the last minute `YYYY-MM-DDTHH:MM:` and second `YYYY-MM-DDTHH:MM:SS` seen:
/// consecutive lines mostly share the minute, and often the second, so only what follows
/// needs parsing.
#[derive(Default)]
struct StampCache {
    minute: [u8; MINUTE_LEN],
    minute_nanos: Option<i64>,
    second: [u8; SECOND_LEN],
    second_nanos: Option<i64>,
}

const MINUTE_LEN: usize = 17;
const SECOND_LEN: usize = MINUTE_LEN + 2;
/// The runner's `.fffffffZ ` after the second.
const RUNNER_FRACTION_LEN: usize = 10;

impl StampCache {
    fn parse(&mut self, line: &[u8]) -> Option<(i64, usize)> {
        if let Some(second_nanos) = self.second_nanos
            && let Some(&[b'.', f0, f1, f2, f3, f4, f5, f6, b'Z', b' ']) =
                line.get(SECOND_LEN..SECOND_LEN + RUNNER_FRACTION_LEN)
            && line[..SECOND_LEN] == self.second
            && let Some(fraction) = eight_digits([f0, f1, f2, f3, f4, f5, f6, b'0'])
        {
            return Some((
                second_nanos.checked_add(fraction * 10)?,
                SECOND_LEN + RUNNER_FRACTION_LEN,
            ));
        }
        let prefix: &[u8; MINUTE_LEN] = line.get(..MINUTE_LEN)?.try_into().ok()?;
        let minute = match self.minute_nanos {
            Some(nanos) if *prefix == self.minute => nanos,
            _ => {
                let nanos = parse_minute(line)?;
                self.minute.copy_from_slice(prefix);
                self.minute_nanos = Some(nanos);
                nanos
            }
        };
        let (within, len) = parse_second(line)?;
        let nanos = minute.checked_add(within)?;
        self.second.copy_from_slice(&line[..SECOND_LEN]);
        self.second_nanos = Some(nanos - within % 1_000_000_000);
        Some((nanos, len))
    }
}

/// `YYYY-MM-DDTHH:MM:` to nanoseconds since the epoch.
fn parse_minute(line: &[u8]) -> Option<i64> {
    if line.len() < MINUTE_LEN || line[4] != b'-' || line[7] != b'-' || line[10] != b'T' {
        return None;
    }
    if line[13] != b':' || line[16] != b':' {
        return None;
    }
    let year = digits(&line[0..4])?;
    let month = digits(&line[5..7])?;
    let day = digits(&line[8..10])?;
    let hour = digits(&line[11..13])?;
    let minute = digits(&line[14..16])?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Nanoseconds in an i64 end in 2262: a later year is no timestamp (a corrupt or odd line).
    (days * 86_400 + hour * 3_600 + minute * 60).checked_mul(1_000_000_000)
}

/// `SS.fffffffZ ` after the minute: nanoseconds within the minute and the prefix's length.
fn parse_second(line: &[u8]) -> Option<(i64, usize)> {
    // The runner writes `SS.fffffffZ `: its nine digits read as one number, most at once.
    if let Some(&[s0, s1, b'.', f0, f1, f2, f3, f4, f5, f6, b'Z', b' ']) =
        line.get(MINUTE_LEN..MINUTE_LEN + 12)
        && let Some(leading) = eight_digits([s0, s1, f0, f1, f2, f3, f4, f5])
        && f6.is_ascii_digit()
    {
        // Seconds and 100-nanosecond ticks.
        let ticks = leading * 10 + i64::from(f6 - b'0');
        return (ticks < 61 * 10_000_000).then_some((ticks * 100, MINUTE_LEN + 12));
    }
    let second = digits(line.get(MINUTE_LEN..MINUTE_LEN + 2)?)?;
    if second > 60 {
        return None;
    }
    let mut i = MINUTE_LEN + 2;
    let mut nanos = 0;
    if line.get(i) == Some(&b'.') {
        i += 1;
        let digits_start = i;
        while i < line.len() && line[i].is_ascii_digit() && i - digits_start < 9 {
            nanos = nanos * 10 + i64::from(line[i] - b'0');
            i += 1;
        }
        let count = i - digits_start;
        if count == 0 {
            return None;
        }
        nanos *= 10_i64.pow(9 - count as u32);
    }
    if line.get(i) != Some(&b'Z') {
        return None;
    }
    i += 1;
    match line.get(i) {
        Some(b' ') => i += 1,
        None | Some(b'\r' | b'\n') => {}
        Some(_) => return None,
    }
    Some((second * 1_000_000_000 + nanos, i))
}

/// Eight ASCII digits as a number, all at once.
#[inline]
fn eight_digits(bytes: [u8; 8]) -> Option<i64> {
    const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    let word = u64::from_le_bytes(bytes);
    // Each byte is 0x30..=0x39: its high nibble is 3, and adding 6 does not change that.
    let is_digits = word & HIGH_NIBBLES == ZEROS
        && word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES == ZEROS;
    if !is_digits {
        return None;
    }
    // Neighbouring digits to numbers of two, then four, then eight digits, in their lanes.
    let mut value = word - ZEROS;
    value = (value * 10 + (value >> 8)) & 0x00ff_00ff_00ff_00ff;
    value = (value * 100 + (value >> 16)) & 0x0000_ffff_0000_ffff;
    value = (value * 10_000 + (value >> 32)) & 0xffff_ffff;
    Some(value as i64)
}

fn digits(bytes: &[u8]) -> Option<i64> {
    bytes.iter().try_fold(0, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(lines: &Lines) -> Vec<&str> {
        lines.iter().map(|l| l.text).collect()
    }

    #[test]
    fn timestamps_match_jiff() {
        let cases = [
            "2024-01-28T19:27:26.0547628Z",
            "1970-01-01T00:00:00.0000000Z",
            "2000-02-29T23:59:59.9999999Z",
            "2026-11-24T07:00:00Z",
            "2024-03-01T00:00:00.5Z",
        ];
        for case in cases {
            let want: jiff::Timestamp = case.parse().unwrap();
            let (nanos, len) = parse_timestamp(case.as_bytes()).unwrap();
            assert_eq!(i128::from(nanos), want.as_nanosecond(), "{case}");
            assert_eq!(len, case.len());
        }
        assert_eq!(
            parse_timestamp(b"2024-01-28T19:27:26.0547628Z hello").map(|t| t.1),
            Some(29)
        );
        let mut cache = StampCache::default();
        for case in cases.iter().chain(&cases) {
            assert_eq!(
                cache.parse(case.as_bytes()),
                parse_timestamp(case.as_bytes())
            );
        }
    }

    #[test]
    fn non_timestamps_are_refused() {
        for case in [
            "",
            "log line 1",
            "2024-01-28T19:27:26.0547628",
            "2024-13-28T19:27:26.0547628Z x",
            "2024-01-28T24:27:26.0547628Z x",
            "2024-01-28T19:27:26.Z x",
            "2024-01-28T19:27:26.0547628Zx",
            "2024-01-28 19:27:26.0547628Z x",
            // Past what nanoseconds in an i64 hold (2262), or before year 0 of them (1677).
            "9999-01-28T19:27:26.0547628Z x",
            "2262-04-11T23:47:16.9999999Z x",
            "0000-01-28T19:27:26.0547628Z x",
        ] {
            assert_eq!(parse_timestamp(case.as_bytes()), None, "{case:?}");
        }
    }

    #[test]
    fn a_cached_second_does_not_overflow_past_2262() {
        // The last nanosecond an i64 holds is 2262-04-11T23:47:16.854775807.
        let first = b"2262-04-11T23:47:16.0000000Z x";
        let second = b"2262-04-11T23:47:16.9999999Z y";
        let mut cache = StampCache::default();
        assert_eq!(cache.parse(first), parse_timestamp(first));
        assert!(cache.parse(first).is_some());
        assert_eq!(cache.parse(second), None);
        let lines =
            Lines::parse(b"2262-04-11T23:47:16.0000000Z x\n2262-04-11T23:47:16.9999999Z y\n");
        assert_eq!(lines.get(1).text, "2262-04-11T23:47:16.9999999Z y");
        assert_eq!(lines.get(1).timestamp, lines.get(0).timestamp);
    }

    #[test]
    fn no_timestamp_is_never_a_whole_minute() {
        assert_ne!(NO_TIMESTAMP % 60_000_000_000, 0);
    }

    #[test]
    fn a_timestamp_ends_at_a_space_a_cr_or_a_line_feed() {
        let stamp = "2024-01-28T19:27:26.0547628Z";
        for (after, len) in [(" x", Some(29)), ("\r\n", Some(28)), ("\nnext", Some(28))] {
            let line = format!("{stamp}{after}");
            assert_eq!(
                parse_timestamp(line.as_bytes()).map(|t| t.1),
                len,
                "{after:?}"
            );
        }
        assert_eq!(parse_timestamp(format!("{stamp}\tx").as_bytes()), None);
        // A line that stops inside its timestamp does not borrow the next line's bytes.
        let lines = Lines::parse(b"2024-01-28T19:27\n:26.0547628Z x\n");
        assert_eq!(texts(&lines), ["2024-01-28T19:27", ":26.0547628Z x"]);
        assert!(lines.iter().all(|l| l.timestamp.is_none()));
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
        assert_eq!(lines.get(2).level, Level::Error);
        assert_eq!(lines.get(3).level, Level::Command);
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
    fn levels_come_from_markers() {
        let cases = [
            ("##[error]Process completed with exit code 1.", Level::Error),
            ("##[warning]deprecated", Level::Warning),
            ("##[notice]note", Level::Notice),
            ("##[debug]x", Level::Debug),
            ("##[command]git", Level::Command),
            ("[command]/usr/bin/git version", Level::Command),
            ("##[section]Starting: Prepare job", Level::Section),
            ("##[group]Run cargo test", Level::Group),
            ("##[endgroup]", Level::Group),
            ("##[unknown]x", Level::None),
            ("error: not a marker", Level::None),
            (" ##[error]indented", Level::None),
        ];
        for (text, level) in cases {
            assert_eq!(Level::of(text), level, "{text}");
        }
    }

    /// The control bytes at or after `from`, one byte at a time.
    fn controls_by_byte(bytes: &[u8], from: usize) -> Vec<usize> {
        (from..bytes.len()).filter(|&i| bytes[i] < 0x20).collect()
    }

    /// [`escape_end`]'s parameter loop, one byte at a time.
    fn csi_end_by_byte(bytes: &[u8], pos: usize) -> usize {
        let mut i = pos + 2;
        while matches!(bytes.get(i), Some(0x20..=0x3f)) {
            i += 1;
        }
        if matches!(bytes.get(i), Some(0x40..=0x7e)) {
            i += 1;
        }
        i
    }

    proptest! {
        #[test]
        fn controls_are_all_found_in_order(
            bytes in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(ESC), Just(b'a'), Just(0xe9), any::<u8>()], 0..300),
            from in 0usize..320,
        ) {
            let mut controls = Controls::new(&bytes);
            let mut found = Vec::new();
            if from > 0 {
                controls.seek(from);
            }
            while let Some(pos) = controls.next() {
                found.push(pos);
            }
            prop_assert_eq!(found, controls_by_byte(&bytes, from));
        }

        #[test]
        fn the_stamp_cache_reads_as_parsing_afresh(stamps in proptest::collection::vec((0i64..2, 0i64..3, 0i64..10_000_000, 0usize..3), 1..40)) {
            let mut cache = StampCache::default();
            for (minute, second, ticks, form) in stamps {
                let stamp = jiff::Timestamp::new(1_706_000_000 + minute * 60 + second, (ticks * 100) as i32).unwrap();
                let format = ["%Y-%m-%dT%H:%M:%S%.7fZ x", "%Y-%m-%dT%H:%M:%S%.3fZ x", "%Y-%m-%dT%H:%M:%S%.7fZ"][form];
                let line = stamp.strftime(format).to_string();
                prop_assert_eq!(cache.parse(line.as_bytes()), parse_timestamp(line.as_bytes()), "{}", line);
            }
        }

        #[test]
        fn both_block_masks_find_the_control_bytes(block in proptest::array::uniform32(prop_oneof![Just(b'\n'), Just(ESC), 0x1fu8..=0x20, 0x7fu8..=0x80, any::<u8>()]), tail in proptest::array::uniform32(any::<u8>())) {
            let mut bytes = [0; 64];
            bytes[..32].copy_from_slice(&block);
            bytes[32..].copy_from_slice(&tail);
            let by_byte = bytes.iter().enumerate().filter(|(_, b)| **b < 0x20).fold(0u64, |mask, (i, _)| mask | 1 << i);
            prop_assert_eq!(controls_in(&bytes), by_byte);
            prop_assert_eq!(controls_by_word(&bytes), by_byte);
        }

        #[test]
        fn eight_digits_read_as_a_byte_loop_would(bytes in proptest::array::uniform8(prop_oneof![4 => 0x30u8..=0x39, 1 => any::<u8>()])) {
            prop_assert_eq!(eight_digits(bytes), digits(&bytes));
        }

        #[test]
        fn csi_sequences_end_where_a_byte_loop_ends_them(tail in proptest::collection::vec(prop_oneof![0x20u8..=0x3f, 0x40u8..=0x7e, any::<u8>()], 0..24)) {
            let mut bytes = vec![ESC, b'['];
            bytes.extend(&tail);
            prop_assert_eq!(escape_end(&bytes, 0), csi_end_by_byte(&bytes, 0));
        }

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
            prop_assert_eq!(line.timestamp, Some(secs * 1_000_000_000 + ticks * 100));
            prop_assert_eq!(line.text, text.as_str());
        }

        #[test]
        fn cleaning_removes_sgr_and_keeps_the_rest(parts in proptest::collection::vec(("[a-z ]{0,8}", 0u8..110), 0..10)) {
            let mut raw = String::new();
            let mut want = String::new();
            for (word, color) in &parts {
                raw.push_str(&format!("\x1b[{color};1m{word}\x1b[0m"));
                want.push_str(word);
            }
            let mut out = String::new();
            clean_into(&raw, &mut out);
            prop_assert_eq!(out, want);
        }
    }
}
