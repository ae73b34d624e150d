//! A step's lines as stored: which text each line has and when it was written, compactly.
//!
//! Layout, all LEB128 varints: the number of distinct text ids, then the ids ascending as
//! deltas; the number of lines, then per line the index of its text among those ids and the
//! zig-zag delta of its timestamp from the previous line's (the first from 0). Lines rarely
//! repeat within a step, so the local index costs about what a dense id would, and timestamps
//! of consecutive lines cost one to three bytes.

/// One line of a stored step: its text id and timestamp (nanoseconds since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Occurrence {
    pub(crate) text_id: u32,
    pub(crate) timestamp: i64,
}

/// Encodes `lines`; returns the bytes and the distinct ids ascending (the step's terms).
pub(crate) fn encode(lines: &[Occurrence]) -> (Vec<u8>, Vec<u32>) {
    let mut ids: Vec<u32> = lines.iter().map(|l| l.text_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::with_capacity(lines.len() * 4 + ids.len() * 3 + 8);
    put_varint(&mut out, ids.len() as u64);
    let mut previous = 0;
    for &id in &ids {
        put_varint(&mut out, u64::from(id - previous));
        previous = id;
    }
    put_varint(&mut out, lines.len() as u64);
    let mut previous_time = 0i64;
    for line in lines {
        let local = ids
            .binary_search(&line.text_id)
            .expect("ids hold every line's id");
        put_varint(&mut out, local as u64);
        put_varint(&mut out, zigzag(line.timestamp.wrapping_sub(previous_time)));
        previous_time = line.timestamp;
    }
    (out, ids)
}

/// Decodes what [`encode`] wrote, or `None` if the bytes are not such an encoding.
pub(crate) fn decode(mut bytes: &[u8]) -> Option<Vec<Occurrence>> {
    let distinct = usize::try_from(take_varint(&mut bytes)?).ok()?;
    let mut ids = Vec::with_capacity(distinct.min(bytes.len()));
    let mut id = 0u32;
    for _ in 0..distinct {
        id = id.checked_add(u32::try_from(take_varint(&mut bytes)?).ok()?)?;
        ids.push(id);
    }
    let count = usize::try_from(take_varint(&mut bytes)?).ok()?;
    let mut lines = Vec::with_capacity(count.min(bytes.len()));
    let mut timestamp = 0i64;
    for _ in 0..count {
        let text_id = *ids.get(usize::try_from(take_varint(&mut bytes)?).ok()?)?;
        timestamp = timestamp.wrapping_add(unzigzag(take_varint(&mut bytes)?));
        lines.push(Occurrence { text_id, timestamp });
    }
    bytes.is_empty().then_some(lines)
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

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
        assert_eq!(decode(&bytes), Some(lines));
        // 4 ids, 1 count, 4 lines of index + delta; only the first timestamp is long.
        assert!(bytes.len() <= 4 + 1 + 4 * 3 + 9, "{} bytes", bytes.len());
    }

    #[test]
    fn an_empty_step_round_trips() {
        let (bytes, ids) = encode(&[]);
        assert!(ids.is_empty());
        assert_eq!(decode(&bytes), Some(Vec::new()));
    }

    #[test]
    fn rejects_truncated_and_trailing_bytes() {
        let (bytes, _) = encode(&occurrences(&[(1, 5), (2, -5)]));
        for end in 0..bytes.len() {
            assert_eq!(decode(&bytes[..end]), None, "truncated at {end}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer), None);
    }

    proptest! {
        #[test]
        fn round_trips(pairs in proptest::collection::vec((any::<u32>(), any::<i64>()), 0..50)) {
            let lines = occurrences(&pairs);
            let (bytes, ids) = encode(&lines);
            prop_assert!(ids.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(decode(&bytes), Some(lines));
        }
    }
}
