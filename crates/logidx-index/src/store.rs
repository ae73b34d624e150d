//! Reading steps-index documents: their metadata from tantivy's document store, their line
//! sequences from the segments' `.seq` files ([`crate::sequence_store`]).

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::schema::{Field, Value};
use tantivy::store::StoreReader;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::error::{Error, Result, TantivyContext};
use crate::index::Index;
use crate::segment_file;
use crate::sequence::Parts;
use crate::sequence_store::{self, Cursor, SegmentSequences};

/// The stores of a steps searcher's segments.
pub(crate) struct StepStore {
    readers: Vec<StoreReader>,
    sequences: Vec<SegmentSequences>,
    /// Each segment's id, to name its `.seq` file in errors.
    segment_ids: Vec<SegmentId>,
    /// Read the ids and the times columns of the sequences.
    cursors: Mutex<(Cursor, Cursor)>,
    meta: Field,
    /// The index directory, for errors.
    dir: PathBuf,
}

impl StepStore {
    /// Opens the stores of `steps`' segments, keeping up to `cache_blocks` decompressed blocks
    /// of metadata per segment, and of each column of line sequences (a walk in document order
    /// needs one).
    pub(crate) fn open(index: &Index, steps: &Searcher, cache_blocks: usize) -> Result<StepStore> {
        let segments = steps.segment_readers();
        let readers = segments
            .iter()
            .map(|segment| segment.get_store_reader(cache_blocks))
            .collect::<std::io::Result<_>>()
            .map_err(tantivy::TantivyError::from)
            .doing("opening the steps' document store")?;
        let cursor = || {
            Cursor::new(cache_blocks)
                .map_err(tantivy::TantivyError::from)
                .doing("opening the steps' line sequences")
        };
        let segment_ids: Vec<SegmentId> = segments.iter().map(|s| s.segment_id()).collect();
        let sequences = segments
            .iter()
            .map(|segment| {
                SegmentSequences::open(segment)
                    .map_err(|e| index.corrupt_file(&sequence_file(segment.segment_id()), e))
            })
            .collect::<Result<_>>()?;
        Ok(StepStore {
            readers,
            sequences,
            segment_ids,
            cursors: Mutex::new((cursor()?, cursor()?)),
            meta: index.step_fields.meta,
            dir: index.dir.clone(),
        })
    }

    /// The `meta` JSON of the document at `address` (a step's metadata or an attempt record),
    /// decoded; `what` names it in errors.
    pub(crate) fn meta<T: serde::de::DeserializeOwned>(
        &self,
        address: DocAddress,
        what: &str,
    ) -> Result<T> {
        let doc: TantivyDocument = self.readers[address.segment_ord as usize]
            .get(address.doc_id)
            .doing("reading a step")?;
        let meta = doc
            .get_first(self.meta)
            .and_then(|v| v.as_str())
            .ok_or_else(|| self.corrupt(format!("{what} has no metadata")))?;
        serde_json::from_str(meta).map_err(|e| Error::Corrupt {
            path: self.dir.clone(),
            what: format!("{what} does not decode"),
            source: Some(e.into()),
        })
    }

    /// Calls `read` with the encoded line sequence of the document at `address` (both parts
    /// empty for an attempt record).
    pub(crate) fn with_lines<R>(
        &self,
        address: DocAddress,
        read: impl FnOnce(Parts) -> R,
    ) -> Result<R> {
        let mut guard = self.cursors.lock().unwrap_or_else(PoisonError::into_inner);
        let (ids, times) = &mut *guard;
        let sequences = &self.sequences[address.segment_ord as usize];
        let ids = ids
            .get(&sequences.ids, address.doc_id)
            .map_err(|e| self.sequence_error(address, e))?;
        let times = times
            .get(&sequences.times, address.doc_id)
            .map_err(|e| self.sequence_error(address, e))?;
        Ok(read(Parts { ids, times }))
    }

    /// Calls `read` with the ids part of the encoded line sequence of the document at
    /// `address`, which is what [`crate::sequence::for_each_id`] reads: empty for an attempt
    /// record.
    pub(crate) fn with_ids<R>(
        &self,
        address: DocAddress,
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<R> {
        let mut guard = self.cursors.lock().unwrap_or_else(PoisonError::into_inner);
        let sequences = &self.sequences[address.segment_ord as usize];
        let ids = guard
            .0
            .get(&sequences.ids, address.doc_id)
            .map_err(|e| self.sequence_error(address, e))?;
        Ok(read(ids))
    }

    fn sequence_error(&self, address: DocAddress, error: std::io::Error) -> Error {
        self.corrupt(format!(
            "reading the line sequence of document {} in `{}`: {error}",
            address.doc_id,
            self.file_of(address)
        ))
    }

    /// The error for a sequence that was read but does not decode.
    pub(crate) fn undecodable(&self, address: DocAddress) -> Error {
        self.corrupt(format!(
            "the line sequence of document {} in `{}` does not decode",
            address.doc_id,
            self.file_of(address)
        ))
    }

    /// The `.seq` file that holds `address`'s sequence.
    fn file_of(&self, address: DocAddress) -> String {
        sequence_file(self.segment_ids[address.segment_ord as usize])
    }

    fn corrupt(&self, what: String) -> Error {
        Error::Corrupt {
            path: self.dir.clone(),
            what,
            source: None,
        }
    }
}

/// A segment's `.seq` file, as errors name it.
fn sequence_file(segment: SegmentId) -> String {
    segment_file::name("steps", segment, sequence_store::EXTENSION)
}
