//! A step's lines as stored: which text each line has and when it was written, compactly.
//!
//! Layout, all LEB128 varints: the number of lines; the timestamp unit as a power of ten of
//! nanoseconds (the largest that divides every timestamp of the step: runners write 100 ns
//! ticks, so usually 2); the byte length of the ids; per line the zig-zag delta of its text id
//! from the previous line's; then per line the zig-zag delta of its timestamp, in units, from
//! the previous line's (both from 0 for the first line). Ids come apart from timestamps so that
//! a count, which needs only ids, walks only them.
//!
//! Ids are dense and given in first-seen order, so a step that repeats an earlier run's step
//! (the common case in CI) walks the ids it was given then in the same order: most deltas are
//! +1, one byte. A timestamp delta takes two to four bytes (a line written a few seconds after
//! the previous one: four), and is now most of a step's bytes.

use crate::varint::{put_varint, take_varint, unzigzag, zigzag};

/// One line of a stored step: its text id and timestamp (nanoseconds since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Occurrence {
    pub(crate) text_id: u32,
    pub(crate) timestamp: i64,
}

/// Timestamp units tried, coarsest first: (power of ten, nanoseconds).
const UNITS: [(u64, i64); 6] = [
    (9, 1_000_000_000),
    (7, 10_000_000),
    (6, 1_000_000),
    (3, 1_000),
    (2, 100),
    (0, 1),
];

/// `timestamp` divided by the unit `UNITS[unit]`: quotient and remainder. Each divisor is a
/// constant, which the compiler turns into a multiplication: dividing by the unit as a
/// variable, twice per line, was a quarter of encoding.
fn in_unit(unit: usize, timestamp: i64) -> (i64, i64) {
    fn by<const NANOS: i64>(timestamp: i64) -> (i64, i64) {
        (timestamp / NANOS, timestamp % NANOS)
    }
    match unit {
        0 => by::<{ UNITS[0].1 }>(timestamp),
        1 => by::<{ UNITS[1].1 }>(timestamp),
        2 => by::<{ UNITS[2].1 }>(timestamp),
        3 => by::<{ UNITS[3].1 }>(timestamp),
        4 => by::<{ UNITS[4].1 }>(timestamp),
        _ => by::<{ UNITS[5].1 }>(timestamp),
    }
}

/// Encodes `lines`; returns the bytes and the distinct ids ascending (the step's terms).
#[cfg(test)]
pub(crate) fn encode(lines: &[Occurrence]) -> (Vec<u8>, Vec<u32>) {
    let mut encoder = Encoder::default();
    for &line in lines {
        encoder.push(line);
    }
    let encoded = encoder.finish();
    (encoded.bytes, encoded.ids)
}

/// A step's lines encoded as they come, so that an open step holds its encoding (a few bytes a
/// line) rather than its lines (16 bytes each) and an encoding of them at its end.
///
/// The timestamps are kept in the coarsest unit that divides all those pushed so far; a
/// timestamp that it does not divide makes the unit finer and the deltas so far are scaled to
/// it (at most five times a step, usually at its first line). Scaling is exact in wrapping
/// arithmetic, as the deltas are written.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    count: u64,
    /// Into [`UNITS`].
    unit: usize,
    ids: Vec<u8>,
    times: Vec<u8>,
    previous_id: i64,
    /// In the unit.
    previous_time: i64,
    distinct: DistinctIds,
    /// The earliest and latest timestamps, in nanoseconds.
    span: Option<(i64, i64)>,
}

/// What an [`Encoder`] gives at the end of a step.
#[derive(Debug)]
pub(crate) struct Encoded {
    /// The layout of this module's doc.
    pub(crate) bytes: Vec<u8>,
    /// The distinct text ids, ascending (the step's terms).
    pub(crate) ids: Vec<u32>,
    /// The earliest and latest timestamps, `None` for a step without lines.
    pub(crate) span: Option<(i64, i64)>,
}

impl Encoder {
    /// Adds the next line.
    pub(crate) fn push(&mut self, line: Occurrence) {
        self.count += 1;
        let id = i64::from(line.text_id);
        put_varint(&mut self.ids, zigzag(id - self.previous_id));
        self.previous_id = id;
        self.distinct.insert(line.text_id);
        if in_unit(self.unit, line.timestamp).1 != 0 {
            self.refine(line.timestamp);
        }
        let (time, _) = in_unit(self.unit, line.timestamp);
        // Exact: the unit divides every timestamp; the difference of two quotients fits an i64.
        put_varint(
            &mut self.times,
            zigzag(time.wrapping_sub(self.previous_time)),
        );
        self.previous_time = time;
        self.span = Some(match self.span {
            None => (line.timestamp, line.timestamp),
            Some((first, last)) => (first.min(line.timestamp), last.max(line.timestamp)),
        });
    }

    /// Lines pushed so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Bytes the encoding holds so far (its buffers' capacity).
    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> usize {
        self.ids.capacity() + self.times.capacity() + self.distinct.held_bytes()
    }

    /// Makes the unit the coarsest that also divides `timestamp`, scaling the deltas so far.
    fn refine(&mut self, timestamp: i64) {
        let (_, old) = UNITS[self.unit];
        // Ends at the last unit, 1 ns, which divides every timestamp.
        while in_unit(self.unit, timestamp).1 != 0 {
            self.unit += 1;
        }
        let ratio = old / UNITS[self.unit].1;
        let mut scaled = Vec::with_capacity(self.times.len() + self.times.len() / 2 + 8);
        let mut times = self.times.as_slice();
        while let Some(delta) = take_varint(&mut times) {
            put_varint(&mut scaled, zigzag(unzigzag(delta).wrapping_mul(ratio)));
        }
        self.times = scaled;
        self.previous_time = self.previous_time.wrapping_mul(ratio);
    }

    /// The encoding of the lines pushed, in this module's layout.
    pub(crate) fn finish(self) -> Encoded {
        let Encoder {
            count,
            unit,
            ids,
            times,
            distinct,
            span,
            ..
        } = self;
        let mut bytes = Vec::with_capacity(3 * 10 + ids.len() + times.len());
        put_varint(&mut bytes, count);
        put_varint(&mut bytes, UNITS[unit].0);
        put_varint(&mut bytes, ids.len() as u64);
        bytes.extend_from_slice(&ids);
        drop(ids);
        bytes.extend_from_slice(&times);
        Encoded {
            bytes,
            ids: distinct.ascending(),
            span,
        }
    }
}

/// Distinct ids below which a step's ids are kept as a list, and above which as a bitset over
/// the dictionary's ids: memory bounded by the larger of 256 KiB and an eighth of a byte per
/// text of the dictionary, whatever the step's lines.
const FEW_IDS: usize = 1 << 16;

/// The distinct text ids of a step being encoded.
#[derive(Debug)]
enum DistinctIds {
    /// Ids as met, sorted and deduplicated when the list fills.
    Few(Vec<u32>),
    /// One bit per text id.
    Many(Vec<u64>),
}

impl Default for DistinctIds {
    fn default() -> DistinctIds {
        DistinctIds::Few(Vec::new())
    }
}

impl DistinctIds {
    fn insert(&mut self, id: u32) {
        match self {
            DistinctIds::Few(ids) => {
                if ids.last() == Some(&id) {
                    return;
                }
                ids.push(id);
                if ids.len() >= FEW_IDS {
                    ids.sort_unstable();
                    ids.dedup();
                    if ids.len() >= FEW_IDS / 2 {
                        let mut bits = Vec::new();
                        for &id in ids.iter() {
                            set_bit(&mut bits, id);
                        }
                        *self = DistinctIds::Many(bits);
                    }
                }
            }
            DistinctIds::Many(bits) => set_bit(bits, id),
        }
    }

    #[cfg(test)]
    fn held_bytes(&self) -> usize {
        match self {
            DistinctIds::Few(ids) => ids.capacity() * 4,
            DistinctIds::Many(bits) => bits.capacity() * 8,
        }
    }

    fn ascending(self) -> Vec<u32> {
        match self {
            DistinctIds::Few(mut ids) => {
                ids.sort_unstable();
                ids.dedup();
                ids
            }
            DistinctIds::Many(bits) => {
                let mut ids = Vec::new();
                for (word_at, &word) in bits.iter().enumerate() {
                    let mut word = word;
                    while word != 0 {
                        let bit = word.trailing_zeros();
                        ids.push(word_at as u32 * 64 + bit);
                        word &= word - 1;
                    }
                }
                ids
            }
        }
    }
}

fn set_bit(bits: &mut Vec<u64>, id: u32) {
    let word = id as usize / 64;
    if word >= bits.len() {
        bits.resize((word + 1).next_power_of_two(), 0);
    }
    bits[word] |= 1 << (id % 64);
}

/// What [`encode`] wrote, in the two parts it is stored in: the header and the text ids (up to
/// [`ids_end`]), and the timestamps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts<'a> {
    pub(crate) ids: &'a [u8],
    pub(crate) times: &'a [u8],
}

impl<'a> Parts<'a> {
    /// The parts of what [`encode`] wrote, or `None` if the bytes are not such an encoding.
    pub(crate) fn of(bytes: &'a [u8]) -> Option<Parts<'a>> {
        let (ids, times) = bytes.split_at(ids_end(bytes)?);
        Some(Parts { ids, times })
    }
}

/// Decodes a step's lines, or `None` if the parts are not an encoding.
pub(crate) fn decode(parts: Parts) -> Option<Vec<Occurrence>> {
    let mut lines = Vec::with_capacity(parts.times.len() / 2);
    for_each(parts, |line| lines.push(line))?;
    Some(lines)
}

/// Calls `line` with each line, in order, without collecting them (counting walks every step);
/// `None` if the parts are not an encoding, after calling it with the lines before the fault.
pub(crate) fn for_each(parts: Parts, mut line: impl FnMut(Occurrence)) -> Option<()> {
    let (count, unit, mut ids) = ids_of(parts.ids)?;
    let mut times = parts.times;
    let mut id = 0i64;
    let mut time = 0i64;
    for _ in 0..count {
        id = id.checked_add(unzigzag(take_varint(&mut ids)?))?;
        time = time.wrapping_add(unzigzag(take_varint(&mut times)?));
        line(Occurrence {
            text_id: u32::try_from(id).ok()?,
            timestamp: time.checked_mul(unit)?,
        });
    }
    (ids.is_empty() && times.is_empty()).then_some(())
}

/// Calls `text` with each line's text id, in order, from the ids part alone: a count with no
/// time window or day needs no more. `None` if it is not an encoding.
pub(crate) fn for_each_id(ids: &[u8], mut text: impl FnMut(u32)) -> Option<()> {
    let (count, _, mut ids) = ids_of(ids)?;
    let mut id = 0i64;
    for _ in 0..count {
        id = id.checked_add(unzigzag(take_varint(&mut ids)?))?;
        text(u32::try_from(id).ok()?);
    }
    ids.is_empty().then_some(())
}

/// Where the ids end and the timestamps start in what [`encode`] wrote: so that the ids can be
/// kept apart; `None` if the bytes are not such an encoding.
pub(crate) fn ids_end(bytes: &[u8]) -> Option<usize> {
    let (_, _, ids_len, rest) = header(bytes)?;
    (ids_len <= rest.len()).then(|| bytes.len() - rest.len() + ids_len)
}

/// The number of lines, the timestamp unit in nanoseconds and the ids of an ids part.
fn ids_of(part: &[u8]) -> Option<(u64, i64, &[u8])> {
    let (count, unit, ids_len, ids) = header(part)?;
    (ids.len() == ids_len).then_some((count, unit, ids))
}

/// The number of lines, the timestamp unit in nanoseconds, the byte length of the ids, and
/// what follows the header.
fn header(mut bytes: &[u8]) -> Option<(u64, i64, usize, &[u8])> {
    let count = take_varint(&mut bytes)?;
    let exponent = take_varint(&mut bytes)?;
    let (_, unit) = UNITS.into_iter().find(|&(e, _)| e == exponent)?;
    let ids_len = usize::try_from(take_varint(&mut bytes)?).ok()?;
    Some((count, unit, ids_len, bytes))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn decode_whole(bytes: &[u8]) -> Option<Vec<Occurrence>> {
        decode(Parts::of(bytes)?)
    }

    fn occurrences(pairs: &[(u32, i64)]) -> Vec<Occurrence> {
        pairs
            .iter()
            .map(|&(text_id, timestamp)| Occurrence { text_id, timestamp })
            .collect()
    }

    #[test]
    fn encodes_a_step_compactly() {
        let base = 1_700_000_000_000_000_000;
        let lines = occurrences(&[
            (7, base),
            (3, base + 1_000),
            (7, base + 1_500),
            (900, base + 1_500),
        ]);
        let (bytes, ids) = encode(&lines);
        assert_eq!(ids, [3, 7, 900]);
        assert_eq!(decode_whole(&bytes), Some(lines));
        // Count, unit and the ids' length, then per line an id delta, then per line a time delta
        // in 100 ns ticks: only the first line's are long.
        assert_eq!(bytes[1], 2, "unit of 100 ns");
        assert!(
            bytes.len() <= 3 + (1 + 9) + 3 * (2 + 2),
            "{} bytes",
            bytes.len()
        );
    }

    #[test]
    fn picks_the_coarsest_unit_that_keeps_every_timestamp_exact() {
        let base = 1_700_000_000_000_000_000;
        for (times, exponent) in [
            (vec![base, base + 2_000_000_000], 9),
            (vec![base, base + 100, base - 300], 2),
            (vec![base, base + 1_000, base + 7], 0),
            (vec![-1_000_000, 3_000_000], 6),
        ] {
            let lines: Vec<Occurrence> = times
                .iter()
                .map(|&timestamp| Occurrence {
                    text_id: 1,
                    timestamp,
                })
                .collect();
            let (bytes, _) = encode(&lines);
            assert_eq!(u64::from(bytes[1]), exponent, "{times:?}");
            assert_eq!(decode_whole(&bytes), Some(lines));
        }
    }

    #[test]
    fn a_step_that_repeats_an_earlier_one_costs_about_a_byte_per_id() {
        // Ids given in first-seen order to an earlier run, met again in the same order.
        let lines: Vec<Occurrence> = (0..1_000)
            .map(|n| Occurrence {
                text_id: 50_000 + n,
                timestamp: 1_700_000_000_000_000_000 + i64::from(n) * 12_300,
            })
            .collect();
        let (bytes, ids) = encode(&lines);
        assert_eq!(ids.len(), 1_000);
        // 1 byte of id delta and 2 of time delta (123 ticks) a line, after the first.
        assert!(bytes.len() <= 20 + 999 * 3, "{} bytes", bytes.len());
        assert_eq!(decode_whole(&bytes), Some(lines));
    }

    /// An open step holds its encoding, not its lines: a few bytes a line however many lines
    /// and distinct texts it has, and a unit made finer after many lines keeps every
    /// timestamp exact.
    #[test]
    fn an_open_step_holds_a_few_bytes_a_line() {
        let base = 1_700_000_000_000_000_000;
        let lines: Vec<Occurrence> = (0..1_000_000u32)
            .map(|n| Occurrence {
                // Past FEW_IDS distinct texts, met in order as a step that repeats another.
                text_id: n % 200_000,
                // Whole seconds for the first 10,000 lines, then 100 ns ticks.
                timestamp: base
                    + if n < 10_000 {
                        i64::from(n) * 1_000_000_000
                    } else {
                        i64::from(n) * 1_000_100
                    },
            })
            .collect();
        let mut encoder = Encoder::default();
        for &line in &lines {
            encoder.push(line);
        }
        let held = encoder.held_bytes();
        assert!(
            held < 6 * lines.len(),
            "{held} bytes for {} lines",
            lines.len()
        );
        let encoded = encoder.finish();
        assert_eq!(encoded.ids, (0..200_000).collect::<Vec<u32>>());
        let times = lines.iter().map(|l| l.timestamp);
        let span = Some((times.clone().min().unwrap(), times.max().unwrap()));
        assert_eq!(encoded.span, span);
        assert_eq!(decode_whole(&encoded.bytes), Some(lines));
    }

    #[test]
    fn an_empty_step_round_trips() {
        let (bytes, ids) = encode(&[]);
        assert!(ids.is_empty());
        assert_eq!(decode_whole(&bytes), Some(Vec::new()));
    }

    #[test]
    fn rejects_truncated_trailing_and_impossible_bytes() {
        let (bytes, _) = encode(&occurrences(&[(1, 5), (2, -5)]));
        for end in 0..bytes.len() {
            assert_eq!(decode_whole(&bytes[..end]), None, "truncated at {end}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode_whole(&longer), None);
        // A unit that is no power of ten the encoder uses (with 100 ns, the same bytes decode).
        assert!(decode_whole(&[1, 2, 1, 2, 2]).is_some());
        assert_eq!(decode_whole(&[1, 5, 1, 2, 2]), None);
        // Ids that claim more bytes than there are.
        assert_eq!(decode_whole(&[1, 2, 3, 2, 2]), None);
        // A timestamp that overflows nanoseconds once multiplied by its unit (seconds).
        let mut overflowing = vec![1, 9, 1, 2];
        put_varint(&mut overflowing, zigzag(i64::MAX / 1_000));
        assert_eq!(decode_whole(&overflowing), None);
    }

    proptest! {
        #[test]
        fn round_trips(pairs in proptest::collection::vec((any::<u32>(), any::<i64>()), 0..50)) {
            let lines = occurrences(&pairs);
            let (bytes, ids) = encode(&lines);
            prop_assert!(ids.windows(2).all(|w| w[0] < w[1]));
            let mut walked = Vec::new();
            let parts = Parts::of(&bytes).unwrap();
            prop_assert_eq!(for_each_id(parts.ids, |id| walked.push(id)), Some(()));
            prop_assert!(parts.times.len() >= lines.len());
            prop_assert!(walked.iter().eq(lines.iter().map(|l| &l.text_id)));
            prop_assert_eq!(decode_whole(&bytes), Some(lines));
        }

        #[test]
        fn round_trips_runner_ticks(
            pairs in proptest::collection::vec((0..5_000_000u32, -(1i64 << 56)..(1i64 << 56)), 0..50),
        ) {
            let lines: Vec<Occurrence> = pairs
                .iter()
                .map(|&(text_id, ticks)| Occurrence { text_id, timestamp: ticks * 100 })
                .collect();
            let (bytes, _) = encode(&lines);
            prop_assert!(lines.is_empty() || bytes[1] >= 2);
            prop_assert_eq!(decode_whole(&bytes), Some(lines));
        }
    }
}
