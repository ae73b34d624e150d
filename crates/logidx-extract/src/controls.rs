//! Control bytes in log text: where they are, found 64 bytes at a time, and the ANSI escape
//! sequences, CRs and BOMs among them that cleaning removes.

/// U+FEFF in UTF-8: the runner's .NET streams start files and pages with it.
pub(crate) const BOM: &[u8] = "\u{feff}".as_bytes();
/// Starts every ANSI escape sequence.
pub(crate) const ESC: u8 = 0x1b;

/// The positions of the bytes below 0x20 (line feed, CR, ESC, tab…) of a file, in order.
///
/// Sixty-four bytes at a time, into one mask: a line's body mostly fits in one block, so
/// finding all of its escape codes and its end takes one mask and no branch per byte or
/// word. (Each search restarted at each such byte spent more on starting than on
/// searching, and a loop over words mispredicted its exit at nearly every one.)
pub(crate) struct Controls<'a> {
    bytes: &'a [u8],
    /// Where the current block starts.
    at: usize,
    /// A bit per byte of the current block not yet returned that is below 0x20.
    mask: u64,
}

impl<'a> Controls<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Controls<'a> {
        Controls {
            bytes,
            at: 0,
            mask: Controls::block_mask(bytes, 0),
        }
    }

    /// Goes on from `at`, skipping the bytes before it.
    pub(crate) fn seek(&mut self, at: usize) {
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
    pub(crate) fn next(&mut self) -> Option<usize> {
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

/// Appends `text` to `out` without ANSI escape sequences, U+FEFF or CR.
///
/// Every byte a sequence is cut at is ASCII, so the cuts fall on char boundaries.
pub(crate) fn clean_into(text: &str, out: &mut String) {
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
pub(crate) fn escape_end(bytes: &[u8], pos: usize) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        fn both_block_masks_find_the_control_bytes(block in proptest::array::uniform32(prop_oneof![Just(b'\n'), Just(ESC), 0x1fu8..=0x20, 0x7fu8..=0x80, any::<u8>()]), tail in proptest::array::uniform32(any::<u8>())) {
            let mut bytes = [0; 64];
            bytes[..32].copy_from_slice(&block);
            bytes[32..].copy_from_slice(&tail);
            let by_byte = bytes.iter().enumerate().filter(|(_, b)| **b < 0x20).fold(0u64, |mask, (i, _)| mask | 1 << i);
            prop_assert_eq!(controls_in(&bytes), by_byte);
            prop_assert_eq!(controls_by_word(&bytes), by_byte);
        }

        #[test]
        fn csi_sequences_end_where_a_byte_loop_ends_them(tail in proptest::collection::vec(prop_oneof![0x20u8..=0x3f, 0x40u8..=0x7e, any::<u8>()], 0..24)) {
            let mut bytes = vec![ESC, b'['];
            bytes.extend(&tail);
            prop_assert_eq!(escape_end(&bytes, 0), csi_end_by_byte(&bytes, 0));
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
