//! The set of text ids a query matches.

/// The text ids a query's text part matches.
pub(super) enum TextSet {
    All,
    Ids { bits: Vec<u64>, count: usize },
}

impl TextSet {
    /// The set of `ids`.
    pub(super) fn of(ids: impl IntoIterator<Item = u32>) -> TextSet {
        let mut bits = Vec::new();
        let mut count = 0;
        for id in ids {
            let word = id as usize / 64;
            if bits.len() <= word {
                bits.resize(word + 1, 0u64);
            }
            count += usize::from(bits[word] & (1 << (id % 64)) == 0);
            bits[word] |= 1 << (id % 64);
        }
        TextSet::Ids { bits, count }
    }

    /// The ids of an `Ids` set in increasing order, a set bit at a time (a bit-by-bit walk
    /// took 64 steps per word of a set as wide as every text id); none for `All`.
    pub(super) fn ids(&self) -> Vec<u32> {
        let TextSet::Ids { bits, count } = self else {
            return Vec::new();
        };
        let mut ids = Vec::with_capacity(*count);
        for (word_index, &word) in bits.iter().enumerate() {
            let mut rest = word;
            while rest != 0 {
                ids.push((word_index * 64) as u32 + rest.trailing_zeros());
                rest &= rest - 1;
            }
        }
        ids
    }

    #[inline]
    pub(super) fn contains(&self, id: u32) -> bool {
        match self {
            TextSet::All => true,
            TextSet::Ids { bits, .. } => bits
                .get(id as usize / 64)
                .is_some_and(|word| word & (1 << (id % 64)) != 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_set_gives_back_its_ids_in_order() {
        let ids = [700, 0, 63, 64, 5, 700, 129];
        let set = TextSet::of(ids);
        assert_eq!(set.ids(), [0, 5, 63, 64, 129, 700]);
        assert!(ids.iter().all(|&id| set.contains(id)));
        assert!(TextSet::All.ids().is_empty());
    }
}
