//! What the segment plugins share ([`crate::sequence_store`], [`crate::id_table`],
//! [`crate::text_postings`]): each writes one file of its own per segment, addressed by
//! document number, so none can follow an index that reorders documents.

use std::any::Any;
use std::io::{self, Write};

use tantivy::directory::{OwnedBytes, TerminatingWrite};
use tantivy::index::{SegmentComponent, SegmentId};
use tantivy::indexer::doc_id_mapping::{DocIdMapping, MappingType, SegmentDocIdMapping};
use tantivy::plugin::PluginWriter;
use tantivy::schema::document::ErasedDocument;
use tantivy::schema::{Field, Schema};
use tantivy::{DocId, Segment, SegmentReader, TantivyDocument, TantivyError};

/// A segment's file as errors name it: `index/uuid.extension`, `index` being `texts` or
/// `steps`.
pub(crate) fn name(index: &str, segment: SegmentId, extension: &str) -> String {
    format!("{index}/{}.{extension}", segment.uuid_string())
}

/// Refuses a new segment whose documents tantivy sorted (only a sorted index does).
pub(crate) fn refuse_sorted(doc_id_map: Option<&DocIdMapping>, what: &str) -> tantivy::Result<()> {
    match doc_id_map {
        Some(_) => Err(TantivyError::InvalidArgument(format!(
            "{what} cannot follow a sorted index"
        ))),
        None => Ok(()),
    }
}

/// Refuses a merge that shuffles documents (merged segments otherwise keep their order).
pub(crate) fn refuse_shuffled(
    doc_id_mapping: &SegmentDocIdMapping,
    what: &str,
) -> tantivy::Result<()> {
    if doc_id_mapping.mapping_type() == MappingType::Shuffled {
        return Err(TantivyError::InvalidArgument(format!(
            "{what} cannot follow a sorted index's merge"
        )));
    }
    Ok(())
}

/// The document a plugin writer is handed: ours are all tantivy documents.
pub(crate) fn tantivy_doc(doc: &dyn ErasedDocument) -> tantivy::Result<&TantivyDocument> {
    doc.as_any()
        .downcast_ref::<TantivyDocument>()
        .ok_or_else(|| TantivyError::InvalidArgument("not a tantivy document".to_owned()))
}

/// Writes a segment's file with `extension`.
pub(crate) fn write(
    segment: &Segment,
    extension: &str,
    write_to: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> tantivy::Result<()> {
    let mut out = segment.open_write(SegmentComponent::Custom(extension.to_owned()))?;
    write_to(&mut out)?;
    out.terminate()?;
    Ok(())
}

/// Reads a segment's file with `extension`.
pub(crate) fn read(reader: &SegmentReader, extension: &str) -> io::Result<OwnedBytes> {
    reader
        .open_read(SegmentComponent::Custom(extension.to_owned()))
        .map_err(io::Error::other)?
        .read_bytes()
}

/// The `u32` LE at byte `at` of a file.
pub(crate) fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// The bytes of a footer of a count and a mark (`u32` LE each).
pub(crate) const COUNT_FOOTER_BYTES: usize = 4 + 4;

/// The footer of a file that ends in a count and `magic` (`u32` LE each): where it starts, and
/// the count. `extension` names the file in errors.
pub(crate) fn count_footer(
    bytes: &[u8],
    magic: u32,
    extension: &str,
) -> io::Result<(usize, usize)> {
    let end = bytes
        .len()
        .checked_sub(COUNT_FOOTER_BYTES)
        .ok_or_else(|| corrupt("it is shorter than its footer"))?;
    if read_u32(bytes, end + 4) != magic {
        return Err(corrupt(&format!("its footer has no `.{extension}` mark")));
    }
    Ok((end, read_u32(bytes, end) as usize))
}

/// Where `wanted` is among the `len` increasing `u32` LE values that start `bytes`.
pub(crate) fn find_u32(bytes: &[u8], len: usize, wanted: u32) -> Option<usize> {
    let (mut low, mut high) = (0, len);
    while low < high {
        let middle = low + (high - low) / 2;
        match read_u32(bytes, middle * 4).cmp(&wanted) {
            std::cmp::Ordering::Less => low = middle + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => return Some(middle),
        }
    }
    None
}

/// A file of ours that does not parse, saying what is wrong with it.
pub(crate) fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// An id and a document in one integer, the id high: sorting them sorts by id, then document.
pub(crate) fn pair(id: u32, doc: DocId) -> u64 {
    u64::from(id) << 32 | u64::from(doc)
}

/// Sorts [`pair`]s in which each id's documents come in increasing order, as a new segment's
/// do (added document by document): a stable radix sort by id then leaves them sorted whole.
/// On a million pairs it takes a fraction of `sort_unstable`'s time, which was 4% of indexing.
/// Pairs in another order are sorted all the same, by a comparison sort.
pub(crate) fn sort_pairs(pairs: &mut Vec<u64>) {
    sort_by_id(pairs);
    if !pairs.is_sorted() {
        pairs.sort_unstable();
    }
}

/// A stable LSD radix sort of pairs by their ids alone.
fn sort_by_id(pairs: &mut Vec<u64>) {
    const DIGIT_BITS: u32 = 11;
    const DIGITS: usize = 1 << DIGIT_BITS;
    let id = |pair: u64| (pair >> 32) as u32;
    let Some(max) = pairs.iter().map(|&p| id(p)).max() else {
        return;
    };
    let id_bits = u32::BITS - max.leading_zeros();
    if id_bits == 0 {
        return;
    }
    let mut scratch = vec![0u64; pairs.len()];
    let mut shift = 0;
    while shift < id_bits {
        let digit = |pair: u64| (id(pair) >> shift) as usize & (DIGITS - 1);
        let mut starts = vec![0usize; DIGITS];
        for &pair in pairs.iter() {
            starts[digit(pair)] += 1;
        }
        let mut start = 0;
        for count in &mut starts {
            (*count, start) = (start, start + *count);
        }
        for &pair in pairs.iter() {
            let slot = &mut starts[digit(pair)];
            scratch[*slot] = pair;
            *slot += 1;
        }
        std::mem::swap(pairs, &mut scratch);
        shift += DIGIT_BITS;
    }
}

/// A plugin writer that collects a new segment's (id, document) [`pair`]s and writes the
/// segment's file from them once the segment is complete: what the text id tables and the
/// text postings both do, from different fields.
pub(crate) struct PairsWriter {
    field: Field,
    /// The files, as errors name them (`text postings`).
    what: &'static str,
    pairs: Vec<u64>,
    /// Adds a document's pairs, from its `field`.
    add: fn(&dyn ErasedDocument, Field, DocId, &mut Vec<u64>) -> tantivy::Result<()>,
    /// Writes the segment's file from all its pairs.
    write: fn(&Segment, Vec<u64>) -> tantivy::Result<()>,
}

impl PairsWriter {
    pub(crate) fn new(
        field: Field,
        what: &'static str,
        add: fn(&dyn ErasedDocument, Field, DocId, &mut Vec<u64>) -> tantivy::Result<()>,
        write: fn(&Segment, Vec<u64>) -> tantivy::Result<()>,
    ) -> Box<PairsWriter> {
        Box::new(PairsWriter {
            field,
            what,
            pairs: Vec::new(),
            add,
            write,
        })
    }
}

impl PluginWriter for PairsWriter {
    fn add_document(
        &mut self,
        doc_id: DocId,
        doc: &dyn ErasedDocument,
        _schema: &Schema,
    ) -> tantivy::Result<()> {
        (self.add)(doc, self.field, doc_id, &mut self.pairs)
    }

    fn serialize(
        self: Box<Self>,
        segment: &Segment,
        doc_id_map: Option<&DocIdMapping>,
    ) -> tantivy::Result<()> {
        refuse_sorted(doc_id_map, self.what)?;
        (self.write)(segment, self.pairs)
    }

    fn mem_usage(&self) -> usize {
        self.pairs.capacity() * 8
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Pairs in document order, as segments add them: ids of any width, repeated, and
        /// documents with no pair.
        #[test]
        fn a_radix_sort_by_id_sorts_pairs_in_document_order(
            docs in prop::collection::vec(
                prop::collection::vec(prop_oneof![0u32..64, 0u32..5_000, any::<u32>()], 0..8),
                0..200,
            )
        ) {
            let mut pairs: Vec<u64> = docs
                .iter()
                .zip(0..)
                .flat_map(|(ids, doc)| ids.iter().map(move |&id| pair(id, doc)))
                .collect();
            let mut expected = pairs.clone();
            expected.sort_unstable();
            sort_by_id(&mut pairs);
            prop_assert_eq!(pairs, expected);
        }

        #[test]
        fn sorting_pairs_in_any_order_sorts_them(
            mut pairs in prop::collection::vec(any::<u64>(), 0..300)
        ) {
            let mut expected = pairs.clone();
            expected.sort_unstable();
            sort_pairs(&mut pairs);
            prop_assert_eq!(pairs, expected);
        }
    }
}
