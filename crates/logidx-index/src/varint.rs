//! LEB128 varints and zig-zag signed integers, as every file of the index writes them.
//!
//! Each is `#[inline]`: they are called per line from other modules, which may land in other
//! codegen units.

/// A signed integer as an unsigned one that is small when the integer is near zero.
#[inline]
pub(crate) fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// The inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// Appends `value` as a LEB128 varint: seven bits a byte, the high bit set on all but the last.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a varint off the front of `bytes`; `None` if they end first or it is longer than a
/// `u64`'s.
#[inline]
pub(crate) fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    // Most id deltas take one byte.
    if let Some((&byte, rest)) = bytes.split_first()
        && byte < 0x80
    {
        *bytes = rest;
        return Some(u64::from(byte));
    }
    // A timestamp delta takes two to four: read eight bytes at once, find the last of the
    // varint by its clear high bit, and pack the seven-bit groups up to it.
    if let Some(word) = bytes.first_chunk::<8>() {
        let word = u64::from_le_bytes(*word);
        let ends = !word & 0x8080_8080_8080_8080;
        if ends != 0 {
            let len = ends.trailing_zeros() as usize / 8 + 1;
            let groups = if len == 8 {
                word
            } else {
                word & ((1 << (8 * len)) - 1)
            } & 0x7f7f_7f7f_7f7f_7f7f;
            let value = (0..8).fold(0, |value, i| value | ((groups >> i) & (0x7f << (7 * i))));
            *bytes = &bytes[len..];
            return Some(value);
        }
    }
    take_varint_bytewise(bytes)
}

/// A varint a byte at a time: near the end of the bytes, and past eight bytes.
fn take_varint_bytewise(bytes: &mut &[u8]) -> Option<u64> {
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

    #[test]
    fn varints_of_every_length_read_back() {
        let mut values: Vec<u64> = (1..10)
            .flat_map(|k| [(1 << (7 * k)) - 1, 1 << (7 * k)])
            .collect();
        values.extend([0, u64::MAX]);
        let mut bytes = Vec::new();
        for &value in &values {
            put_varint(&mut bytes, value);
        }
        bytes.extend([0; 8]); // so that the last values are read a word at a time too
        let mut read = bytes.as_slice();
        for &value in &values {
            assert_eq!(take_varint(&mut read), Some(value));
        }
        assert_eq!(read, [0; 8]);
    }

    proptest! {
        #[test]
        fn reads_varints_a_word_at_a_time_as_a_byte_at_a_time(
            bytes in proptest::collection::vec(any::<u8>(), 0..24),
        ) {
            let (mut fast, mut slow) = (bytes.as_slice(), bytes.as_slice());
            loop {
                let (a, b) = (take_varint(&mut fast), take_varint_bytewise(&mut slow));
                prop_assert_eq!(a, b);
                prop_assert_eq!(fast, slow);
                if a.is_none() {
                    break;
                }
            }
        }
    }
}
