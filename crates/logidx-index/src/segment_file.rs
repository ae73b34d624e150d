//! What the segment plugins share ([`crate::sequence_store`], [`crate::id_table`],
//! [`crate::text_postings`]): each writes one file of its own per segment, addressed by
//! document number, so none can follow an index that reorders documents.

use std::io::{self, Write};

use tantivy::directory::{OwnedBytes, TerminatingWrite};
use tantivy::index::SegmentComponent;
use tantivy::indexer::doc_id_mapping::{DocIdMapping, MappingType, SegmentDocIdMapping};
use tantivy::schema::document::ErasedDocument;
use tantivy::{Segment, SegmentReader, TantivyDocument, TantivyError};

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
