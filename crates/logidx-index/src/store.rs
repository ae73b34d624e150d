//! Steps-index documents read straight from tantivy's document store.
//!
//! tantivy deserializes a stored bytes value one byte at a time (`Vec<u8>`'s generic
//! `BinarySerializable`), and builds a document of owned values first: a fifth of a count over
//! every step went there. This reads a document's bytes and hands out its two stored values,
//! `meta` and `lines`, as slices of them. The layout is tantivy's stored document, which tantivy
//! keeps readable across its versions because indexes persist it: a varint count of values,
//! then per value its field id (a little-endian `u32`), a type code, and for text and bytes a
//! varint length and the bytes. tantivy's varints end at the byte with the high bit set.

use std::ops::Range;
use std::path::PathBuf;

use tantivy::directory::OwnedBytes;
use tantivy::schema::Field;
use tantivy::store::StoreReader;
use tantivy::{DocAddress, Searcher};

use crate::error::{Error, Result, TantivyContext};
use crate::index::Index;

/// The type codes of tantivy's stored values that steps documents hold.
const TEXT_CODE: u8 = 0;
const BYTES_CODE: u8 = 4;

/// The document stores of a steps searcher's segments.
pub(crate) struct StepStore {
    readers: Vec<StoreReader>,
    meta: Field,
    lines: Field,
    /// The index directory, for errors.
    dir: PathBuf,
}

/// A stored steps-index document: a step's or an attempt record's `meta` JSON, and a step's
/// encoded line sequence.
pub(crate) struct StepDoc {
    bytes: OwnedBytes,
    meta: Range<usize>,
    lines: Option<Range<usize>>,
}

impl StepStore {
    /// Opens the stores of `steps`' segments, each keeping up to `cache_blocks` decompressed
    /// blocks (a walk in document order needs one).
    pub(crate) fn open(index: &Index, steps: &Searcher, cache_blocks: usize) -> Result<StepStore> {
        let readers = steps
            .segment_readers()
            .iter()
            .map(|segment| segment.get_store_reader(cache_blocks))
            .collect::<std::io::Result<_>>()
            .map_err(tantivy::TantivyError::from)
            .doing("opening the steps' document store")?;
        Ok(StepStore {
            readers,
            meta: index.step_fields.meta,
            lines: index.step_fields.lines,
            dir: index.dir.clone(),
        })
    }

    /// The document at `address`.
    pub(crate) fn get(&self, address: DocAddress) -> Result<StepDoc> {
        let bytes = self.readers[address.segment_ord as usize]
            .get_document_bytes(address.doc_id)
            .doing("reading a step")?;
        self.parse(bytes).ok_or_else(|| Error::Corrupt {
            path: self.dir.clone(),
            what: format!(
                "stored document {} of segment {} is not a step or an attempt record",
                address.doc_id, address.segment_ord
            ),
        })
    }

    fn parse(&self, bytes: OwnedBytes) -> Option<StepDoc> {
        let mut at = 0;
        let (mut meta, mut lines) = (0..0, None);
        for _ in 0..vint(&bytes, &mut at)? {
            let field = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?);
            let code = *bytes.get(at + 4)?;
            at += 5;
            let len = usize::try_from(vint(&bytes, &mut at)?).ok()?;
            let value = at..at.checked_add(len).filter(|&end| end <= bytes.len())?;
            at = value.end;
            match (Field::from_field_id(field), code) {
                (f, TEXT_CODE) if f == self.meta => meta = value,
                (f, BYTES_CODE) if f == self.lines => lines = Some(value),
                _ => return None,
            }
        }
        (at == bytes.len()).then_some(StepDoc { bytes, meta, lines })
    }
}

impl StepDoc {
    /// The metadata JSON, or `None` if it is not UTF-8. Counting skips it.
    pub(crate) fn meta(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes[self.meta.clone()]).ok()
    }

    /// The encoded line sequence of a step; `None` for an attempt record.
    pub(crate) fn lines(&self) -> Option<&[u8]> {
        self.lines.clone().map(|range| &self.bytes[range])
    }
}

/// Reads a tantivy varint at `*at`: seven bits a byte, low first, ending at a byte >= 0x80.
fn vint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 != 0 {
            return Some(value);
        }
    }
    None
}
