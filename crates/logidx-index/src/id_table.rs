//! Each texts segment's table from text id to document (`.ids`), beside tantivy's files.
//!
//! Texts are read by id (a hit's line and its context, a step shown, the writer's dictionary)
//! and collected by id. An indexed `id` field did that with one term per text, and when no
//! line repeats, sorting and writing those terms took about a sixth of the indexing time:
//! tantivy sorts a segment's terms by comparing their bytes. Here a new segment's ids arrive in
//! increasing order (the writer numbers texts as it adds them, and each indexing thread keeps
//! their order), so the table is written as it comes; a merge sorts integers.
//!
//! Layout: the ids in increasing order (`u32` LE each), then the document of each (`u32` LE
//! each, same order), then the count (`u32` LE) and [`MAGIC`]. Deleted documents keep their
//! entries until a merge drops them: a reader checks the alive bitset.

use std::io::{self, Write};
use std::sync::Arc;

use tantivy::directory::OwnedBytes;
use tantivy::plugin::{PluginMergeContext, PluginWriter, PluginWriterContext, SegmentPlugin};
use tantivy::schema::document::ErasedDocument;
use tantivy::schema::{Field, Value};
use tantivy::{DocId, Segment, SegmentReader, TantivyError};

use crate::segment_file::{self, COUNT_FOOTER_BYTES, corrupt, count_footer, find_u32, read_u32};
use crate::text_doc::TextDoc;

/// The file extension of the component.
pub(crate) const EXTENSION: &str = "ids";

const MAGIC: u32 = 0x6c78_6931; // "lxi1"

/// The plugin that writes and merges `.ids` files; register it on the texts index.
pub(crate) struct IdTablePlugin {
    /// The texts' `id` field.
    field: Field,
}

impl IdTablePlugin {
    pub(crate) fn new(field: Field) -> Arc<IdTablePlugin> {
        Arc::new(IdTablePlugin { field })
    }
}

impl SegmentPlugin for IdTablePlugin {
    fn extensions(&self) -> &[&str] {
        &[EXTENSION]
    }

    fn create_writer(&self, _ctx: &PluginWriterContext) -> tantivy::Result<Box<dyn PluginWriter>> {
        Ok(segment_file::PairsWriter::new(
            self.field,
            "text id tables",
            add_entry,
            write,
        ))
    }

    fn merge(&self, ctx: PluginMergeContext) -> tantivy::Result<()> {
        segment_file::refuse_shuffled(ctx.doc_id_mapping, "text id tables")?;
        let name = ctx
            .target_segment
            .schema()
            .get_field_name(self.field)
            .to_owned();
        let mut entries = Vec::new();
        let mut target_doc: DocId = 0;
        for reader in ctx.readers {
            let segment = reader.segment_id().uuid_string();
            let ids = reader.fast_fields().u64(&name)?;
            for doc in 0..reader.max_doc() {
                if reader
                    .alive_bitset()
                    .is_some_and(|alive| alive.is_deleted(doc))
                {
                    continue;
                }
                let id = ids.first(doc).ok_or_else(|| {
                    TantivyError::InvalidArgument(format!(
                        "document {doc} of segment `{segment}` has no text id"
                    ))
                })?;
                entries.push(entry(id, target_doc)?);
                target_doc += 1;
            }
        }
        write(ctx.target_segment, entries)
    }
}

/// An id and its document in one integer, the id high: sorting them sorts by id.
fn entry(id: u64, doc: DocId) -> tantivy::Result<u64> {
    let id = u32::try_from(id)
        .map_err(|_| TantivyError::InvalidArgument(format!("text id `{id}` is over 32 bits")))?;
    Ok(segment_file::pair(id, doc))
}

fn missing_id(doc: DocId) -> TantivyError {
    TantivyError::InvalidArgument(format!("text document {doc} has no id"))
}

/// Adds a new text document's (id, document) pair: the writer's [`TextDoc`]s know their id,
/// other documents hold it in `field`.
fn add_entry(
    doc: &dyn ErasedDocument,
    field: Field,
    doc_id: DocId,
    entries: &mut Vec<u64>,
) -> tantivy::Result<()> {
    let id = match doc.as_any().downcast_ref::<TextDoc>() {
        Some(text) => u64::from(text.id()),
        None => segment_file::tantivy_doc(doc)?
            .get_first(field)
            .and_then(|value| value.as_u64())
            .ok_or_else(|| missing_id(doc_id))?,
    };
    entries.push(entry(id, doc_id)?);
    Ok(())
}

fn write(segment: &Segment, mut entries: Vec<u64>) -> tantivy::Result<()> {
    // A new segment's entries are in order already: checking costs less than sorting.
    if !entries.is_sorted() {
        entries.sort_unstable();
    }
    segment_file::write(segment, EXTENSION, |mut out| write_to(&entries, &mut out))
}

fn write_to(entries: &[u64], out: &mut impl Write) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(entries.len() * 8 + COUNT_FOOTER_BYTES);
    for &entry in entries {
        bytes.extend_from_slice(&((entry >> 32) as u32).to_le_bytes());
    }
    for &entry in entries {
        bytes.extend_from_slice(&(entry as u32).to_le_bytes());
    }
    bytes.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&MAGIC.to_le_bytes());
    out.write_all(&bytes)
}

/// A segment's `.ids` file, open for reading.
pub(crate) struct IdTable {
    bytes: OwnedBytes,
    len: usize,
}

impl IdTable {
    pub(crate) fn open(reader: &SegmentReader) -> io::Result<IdTable> {
        let table = IdTable::parse(segment_file::read(reader, EXTENSION)?)?;
        // Every document has an id, and deleted ones keep theirs until a merge.
        if table.len != reader.max_doc() as usize {
            return Err(corrupt(
                "it holds another count of ids than its segment has documents",
            ));
        }
        Ok(table)
    }

    fn parse(bytes: OwnedBytes) -> io::Result<IdTable> {
        let (end, len) = count_footer(&bytes, MAGIC, EXTENSION)?;
        if len * 8 != end {
            return Err(corrupt("its length disagrees with its count of ids"));
        }
        // Not checked here, as it would cost a pass over the file at every read: that the ids
        // increase. Whoever reads a document found here checks that it has the id.
        Ok(IdTable { bytes, len })
    }

    /// The `index`th id of the table (the tests read the table whole).
    #[cfg(test)]
    fn id(&self, index: usize) -> u32 {
        read_u32(&self.bytes, index * 4)
    }

    /// The document of text `id`, if the segment has it (deleted or not).
    pub(crate) fn doc_of(&self, id: u32) -> Option<DocId> {
        let index = find_u32(&self.bytes, self.len, id)?;
        Some(read_u32(&self.bytes, (self.len + index) * 4))
    }
}

#[cfg(test)]
mod tests {
    use tantivy::indexer::NoMergePolicy;
    use tantivy::schema::{FAST, INDEXED, STORED, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument, Term};

    use super::*;

    /// Each id's document in every segment's table, checked against the document's own
    /// `id`, and how many segments there are.
    fn found_ids(index: &Index) -> (Vec<u32>, usize) {
        let searcher = index.reader().unwrap().searcher();
        let mut found = Vec::new();
        for reader in searcher.segment_readers() {
            let table = IdTable::open(reader).unwrap();
            let ids = reader.fast_fields().u64("id").unwrap();
            for doc in reader.doc_ids_alive() {
                let own = ids.first(doc).unwrap() as u32;
                assert_eq!(table.doc_of(own), Some(doc), "id {own}");
                found.push(own);
            }
            // Every id of the table finds a document that has it, deleted or not.
            for index in 0..table.len {
                let doc = table.doc_of(table.id(index)).unwrap();
                assert_eq!(ids.first(doc), Some(u64::from(table.id(index))));
            }
        }
        found.sort_unstable();
        (found, searcher.segment_readers().len())
    }

    #[test]
    fn tables_survive_commits_deletes_and_merges() {
        let mut builder = Schema::builder();
        // Indexed here only so that the test can delete by id.
        let id = builder.add_u64_field("id", FAST | INDEXED | STORED);
        let index = Index::builder()
            .schema(builder.build())
            .register_plugin(IdTablePlugin::new(id))
            .create_in_ram()
            .unwrap();
        // Two threads, so that the documents spread over segments; merged ones hold runs.
        let mut writer: IndexWriter = index.writer_with_num_threads(2, 30_000_000).unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        for n in 0..3_000u64 {
            let mut doc = TantivyDocument::new();
            doc.add_u64(id, n * 3 + 1);
            writer.add_document(doc).unwrap();
            if n % 1_000 == 999 {
                writer.commit().unwrap();
            }
        }
        let all: Vec<u32> = (0..3_000).map(|n| n * 3 + 1).collect();
        let (found, segments) = found_ids(&index);
        assert!(segments >= 3);
        assert_eq!(found, all);
        assert_eq!(
            IdTable::open(&index.reader().unwrap().searcher().segment_readers()[0])
                .unwrap()
                .doc_of(0),
            None,
            "an id no text has"
        );

        for n in (0..3_000).filter(|n| n % 7 == 3) {
            writer.delete_term(Term::from_field_u64(id, n * 3 + 1));
        }
        writer.commit().unwrap();
        // Merged in reverse, so that the merged segment's runs are out of order.
        let mut segment_ids = index.searchable_segment_ids().unwrap();
        segment_ids.reverse();
        writer.merge(&segment_ids).wait().unwrap();
        let (found, segments) = found_ids(&index);
        assert_eq!(segments, 1);
        let alive: Vec<u32> = (0..3_000)
            .filter(|n| n % 7 != 3)
            .map(|n| n * 3 + 1)
            .collect();
        assert_eq!(found, alive);
    }

    #[test]
    fn a_damaged_file_is_refused() {
        let mut file = Vec::new();
        write_to(&[1 << 32, 2 << 32 | 1, 5 << 32 | 2], &mut file).unwrap();
        let parse = |bytes: &[u8]| IdTable::parse(OwnedBytes::new(bytes.to_vec()));
        let table = parse(&file).unwrap();
        assert_eq!(
            [1, 2, 3, 5].map(|id| table.doc_of(id)),
            [Some(0), Some(1), None, Some(2)]
        );
        for cut in [1, 4, COUNT_FOOTER_BYTES, file.len() - 1] {
            assert!(parse(&file[..file.len() - cut]).is_err(), "cut by {cut}");
        }
        for at in [file.len() - 8, file.len() - 1] {
            let mut damaged = file.clone();
            damaged[at] ^= 1;
            assert!(parse(&damaged).is_err(), "bit flipped at {at}");
        }
    }
}
