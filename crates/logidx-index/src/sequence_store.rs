//! Steps' line sequences in a segment component of their own (`.seq`), beside tantivy's files.
//!
//! In tantivy's document store they shared zstd blocks with the steps' metadata, so a count
//! decompressed both, and tantivy makes a new zstd context for every block it reads, whose CPU
//! probe (`cpuid`) traps to the hypervisor on a VM. Here only sequences are compressed, in
//! blocks of whole sequences, and a reader keeps one zstd context. As a tantivy segment plugin,
//! the file is written with its segment, merged with it and deleted with it.
//!
//! Each sequence is kept in two columns: its header and text ids, and its timestamps
//! (see [`crate::sequence`]), so that a count with no time window and no days decompresses only
//! the first.
//! Layout: the ids column, the times column, then the ids column's byte length (`u64` LE) and
//! [`FILE_MAGIC`]. A column: its blocks' zstd frames; each document's length in it as a LEB128
//! varint (0 for attempt records); per block its uncompressed and compressed end offsets (`u64`
//! LE each); a footer of the document count and block count (`u32` LE each), the byte length of
//! the lengths (`u64` LE) and [`COLUMN_MAGIC`].

use std::any::Any;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tantivy::directory::OwnedBytes;
use tantivy::indexer::doc_id_mapping::DocIdMapping;
use tantivy::plugin::{PluginMergeContext, PluginWriter, PluginWriterContext, SegmentPlugin};
use tantivy::schema::document::ErasedDocument;
use tantivy::schema::{Field, Schema, Value};
use tantivy::{DocId, Segment, SegmentReader, TantivyError};

use crate::segment_file;
use crate::sequence::Parts;
use crate::varint::{put_varint, take_varint};

/// The file extension of the component.
pub(crate) const EXTENSION: &str = "seq";

/// The tantivy field type name of the sequence field (a custom field this plugin consumes).
pub(crate) const SEQUENCE_TYPE: &str = "logidx_sequence";

/// Uncompressed bytes after which a block is closed.
const BLOCK_BYTES: usize = 32 * 1024;

const ZSTD_LEVEL: i32 = 3;

const COLUMN_MAGIC: u32 = 0x6c78_7331; // "lxs1"

const FILE_MAGIC: u32 = 0x6c78_7332; // "lxs2"

/// The file's footer: the ids column's length and [`FILE_MAGIC`].
const FILE_FOOTER_BYTES: usize = 8 + 4;

/// A column's footer.
const COLUMN_FOOTER_BYTES: usize = 4 + 4 + 8 + 4;

/// The plugin that writes and merges `.seq` files; register it on the steps index.
pub(crate) struct SequencePlugin;

impl SequencePlugin {
    pub(crate) fn new() -> Arc<SequencePlugin> {
        Arc::new(SequencePlugin)
    }
}

impl SegmentPlugin for SequencePlugin {
    fn extensions(&self) -> &[&str] {
        &[EXTENSION]
    }

    fn create_writer(&self, ctx: &PluginWriterContext) -> tantivy::Result<Box<dyn PluginWriter>> {
        let schema = ctx.segment.schema();
        let field = schema
            .fields()
            .find_map(|(field, entry)| match entry.field_type() {
                tantivy::schema::FieldType::Custom(options)
                    if options.type_name() == SEQUENCE_TYPE =>
                {
                    Some(field)
                }
                _ => None,
            })
            .ok_or_else(|| {
                TantivyError::SchemaError(format!("no field of type `{SEQUENCE_TYPE}`"))
            })?;
        Ok(Box::new(SequenceWriter {
            field,
            file: FileBuilder::new()?,
        }))
    }

    fn merge(&self, ctx: PluginMergeContext) -> tantivy::Result<()> {
        segment_file::refuse_shuffled(ctx.doc_id_mapping, "line sequences")?;
        let mut file = FileBuilder::new()?;
        for reader in ctx.readers {
            let sequences = SegmentSequences::open(reader)?;
            if reader.num_deleted_docs() == 0 {
                // Taken whole, as compressed: decompressing and compressing again every
                // sequence was a third of the merges' time at 1 GB of logs.
                file.ids.append(&sequences.ids)?;
                file.times.append(&sequences.times)?;
                continue;
            }
            let (mut ids, mut times) = (Cursor::new(1)?, Cursor::new(1)?);
            for doc in 0..reader.max_doc() {
                if reader
                    .alive_bitset()
                    .is_some_and(|alive| alive.is_deleted(doc))
                {
                    continue;
                }
                file.ids.push(ids.get(&sequences.ids, doc)?)?;
                file.times.push(times.get(&sequences.times, doc)?)?;
            }
        }
        file.write(ctx.target_segment)
    }
}

/// Collects a new segment's sequences in document order.
struct SequenceWriter {
    field: Field,
    file: FileBuilder,
}

impl PluginWriter for SequenceWriter {
    fn add_document(
        &mut self,
        _doc_id: DocId,
        doc: &dyn ErasedDocument,
        _schema: &Schema,
    ) -> tantivy::Result<()> {
        let sequence = segment_file::tantivy_doc(doc)?
            .get_first(self.field)
            .and_then(|value| value.as_custom())
            .unwrap_or_default();
        let parts = if sequence.is_empty() {
            Parts {
                ids: sequence,
                times: sequence,
            }
        } else {
            Parts::of(sequence).ok_or_else(|| {
                TantivyError::InvalidArgument("a step's line sequence does not decode".to_owned())
            })?
        };
        self.file.ids.push(parts.ids)?;
        Ok(self.file.times.push(parts.times)?)
    }

    fn serialize(
        self: Box<Self>,
        segment: &Segment,
        doc_id_map: Option<&DocIdMapping>,
    ) -> tantivy::Result<()> {
        segment_file::refuse_sorted(doc_id_map, "line sequences")?;
        self.file.write(segment)
    }

    fn mem_usage(&self) -> usize {
        self.file.ids.mem_usage() + self.file.times.mem_usage()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A `.seq` file being built: its two columns.
struct FileBuilder {
    ids: ColumnBuilder,
    times: ColumnBuilder,
}

impl FileBuilder {
    fn new() -> io::Result<FileBuilder> {
        Ok(FileBuilder {
            ids: ColumnBuilder::new()?,
            times: ColumnBuilder::new()?,
        })
    }

    fn write(self, segment: &Segment) -> tantivy::Result<()> {
        segment_file::write(segment, EXTENSION, |mut out| self.write_to(&mut out))
    }

    fn write_to(self, out: &mut impl Write) -> io::Result<()> {
        let ids_len = self.ids.write_to(out)?;
        self.times.write_to(out)?;
        out.write_all(&ids_len.to_le_bytes())?;
        out.write_all(&FILE_MAGIC.to_le_bytes())
    }
}

/// A column of a `.seq` file being built.
struct ColumnBuilder {
    compressor: zstd::bulk::Compressor<'static>,
    /// Sequences of the open block.
    pending: Vec<u8>,
    /// The open block, compressed.
    compressed: Vec<u8>,
    frames: Vec<u8>,
    lengths: Vec<u8>,
    /// Uncompressed and compressed end of each block.
    blocks: Vec<(u64, u64)>,
    uncompressed: u64,
    docs: u32,
}

impl ColumnBuilder {
    fn new() -> io::Result<ColumnBuilder> {
        Ok(ColumnBuilder {
            compressor: zstd::bulk::Compressor::new(ZSTD_LEVEL)?,
            pending: Vec::with_capacity(BLOCK_BYTES * 2),
            compressed: Vec::new(),
            frames: Vec::new(),
            lengths: Vec::new(),
            blocks: Vec::new(),
            uncompressed: 0,
            docs: 0,
        })
    }

    fn push(&mut self, sequence: &[u8]) -> io::Result<()> {
        put_varint(&mut self.lengths, sequence.len() as u64);
        self.docs += 1;
        self.pending.extend_from_slice(sequence);
        if self.pending.len() >= BLOCK_BYTES {
            self.close_block()?;
        }
        Ok(())
    }

    fn close_block(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // zstd writes a `Vec` from its start: compress into a reused one, then append.
        self.compressed.clear();
        self.compressed
            .reserve(zstd::zstd_safe::compress_bound(self.pending.len()));
        self.compressor
            .compress_to_buffer(&self.pending, &mut self.compressed)?;
        self.frames.extend_from_slice(&self.compressed);
        self.uncompressed += self.pending.len() as u64;
        self.blocks
            .push((self.uncompressed, self.frames.len() as u64));
        self.pending.clear();
        Ok(())
    }

    /// Appends a whole column, its blocks as they are (after closing the open block).
    fn append(&mut self, column: &Column) -> io::Result<()> {
        self.close_block()?;
        let (uncompressed, compressed) = (self.uncompressed, self.frames.len() as u64);
        // The frames end where the lengths start (checked when the column was parsed).
        self.frames
            .extend_from_slice(&column.bytes[..column.lengths.start]);
        self.lengths
            .extend_from_slice(&column.bytes[column.lengths.clone()]);
        self.blocks.extend(
            column
                .blocks
                .iter()
                .map(|&(end, frame_end)| (uncompressed + end, compressed + frame_end)),
        );
        self.uncompressed += column.starts.last().copied().unwrap_or(0);
        self.docs += (column.starts.len() - 1) as u32;
        Ok(())
    }

    fn mem_usage(&self) -> usize {
        self.pending.capacity()
            + self.compressed.capacity()
            + self.frames.capacity()
            + self.lengths.capacity()
            + self.blocks.capacity() * 16
    }

    /// Writes the column; returns its byte length.
    fn write_to(mut self, out: &mut impl Write) -> io::Result<u64> {
        self.close_block()?;
        out.write_all(&self.frames)?;
        out.write_all(&self.lengths)?;
        for (uncompressed, compressed) in &self.blocks {
            out.write_all(&uncompressed.to_le_bytes())?;
            out.write_all(&compressed.to_le_bytes())?;
        }
        out.write_all(&self.docs.to_le_bytes())?;
        out.write_all(&(self.blocks.len() as u32).to_le_bytes())?;
        out.write_all(&(self.lengths.len() as u64).to_le_bytes())?;
        out.write_all(&COLUMN_MAGIC.to_le_bytes())?;
        Ok(
            (self.frames.len() + self.lengths.len() + self.blocks.len() * 16 + COLUMN_FOOTER_BYTES)
                as u64,
        )
    }
}

/// A segment's `.seq` file, open for reading.
pub(crate) struct SegmentSequences {
    /// Each sequence's header and text ids.
    pub(crate) ids: Column,
    /// Each sequence's timestamps.
    pub(crate) times: Column,
}

impl SegmentSequences {
    pub(crate) fn open(reader: &SegmentReader) -> io::Result<SegmentSequences> {
        let sequences = SegmentSequences::parse(segment_file::read(reader, EXTENSION)?)?;
        // One sequence (maybe empty) per document of the segment.
        if sequences.ids.starts.len() != reader.max_doc() as usize + 1 {
            return Err(corrupt(
                "it does not hold one sequence per document of its segment",
            ));
        }
        Ok(sequences)
    }

    fn parse(bytes: OwnedBytes) -> io::Result<SegmentSequences> {
        let end = bytes
            .len()
            .checked_sub(FILE_FOOTER_BYTES)
            .ok_or_else(|| corrupt("it is shorter than its footer"))?;
        let ids_len = u64::from_le_bytes(bytes[end..end + 8].try_into().expect("8"));
        if u32::from_le_bytes(bytes[end + 8..].try_into().expect("4")) != FILE_MAGIC {
            return Err(corrupt("its footer has no `.seq` mark"));
        }
        let ids_len = usize::try_from(ids_len)
            .ok()
            .filter(|&len| len <= end)
            .ok_or_else(|| corrupt("its ids column would end past the file"))?;
        let ids = Column::parse(bytes.slice(0..ids_len))?;
        let times = Column::parse(bytes.slice(ids_len..end))?;
        if ids.starts.len() != times.starts.len() {
            return Err(corrupt(
                "its two columns hold different numbers of documents",
            ));
        }
        Ok(SegmentSequences { ids, times })
    }
}

/// A column of a `.seq` file.
pub(crate) struct Column {
    /// Tells a cursor's kept block apart from another column's.
    id: u64,
    bytes: OwnedBytes,
    /// Where each document's part starts in the column's uncompressed stream, and where the
    /// last ends.
    starts: Vec<u64>,
    blocks: Vec<(u64, u64)>,
    /// Where the documents' lengths are in `bytes`: right after the frames, before the table.
    lengths: std::ops::Range<usize>,
}

impl Column {
    fn parse(bytes: OwnedBytes) -> io::Result<Column> {
        let footer = bytes
            .len()
            .checked_sub(COLUMN_FOOTER_BYTES)
            .map(|at| &bytes[at..])
            .ok_or_else(|| corrupt("a column is shorter than its footer"))?;
        let u32_at = |at: usize| u32::from_le_bytes(footer[at..at + 4].try_into().expect("4"));
        let (docs, block_count) = (u32_at(0) as usize, u32_at(4) as usize);
        let lengths_len = u64::from_le_bytes(footer[8..16].try_into().expect("8"));
        if u32_at(16) != COLUMN_MAGIC {
            return Err(corrupt("a column's footer has no mark"));
        }
        let table_start = (bytes.len() - COLUMN_FOOTER_BYTES)
            .checked_sub(
                block_count
                    .checked_mul(16)
                    .ok_or_else(|| corrupt("a column's block table is longer than the column"))?,
            )
            .ok_or_else(|| corrupt("a column's block table is longer than the column"))?;
        let lengths_start = usize::try_from(lengths_len)
            .ok()
            .and_then(|len| table_start.checked_sub(len))
            .ok_or_else(|| corrupt("a column's lengths are longer than the column"))?;
        // Every length takes a byte at least: bounds what is allocated for a damaged count.
        if docs as u64 > lengths_len {
            return Err(corrupt(
                "a column claims more documents than it has lengths",
            ));
        }
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        let blocks: Vec<(u64, u64)> = (0..block_count)
            .map(|i| {
                (
                    u64_at(table_start + 16 * i),
                    u64_at(table_start + 16 * i + 8),
                )
            })
            .collect();
        let mut lengths = &bytes[lengths_start..table_start];
        let mut starts = Vec::with_capacity(docs + 1);
        let mut end = 0u64;
        starts.push(end);
        for _ in 0..docs {
            end = end
                .checked_add(
                    take_varint(&mut lengths)
                        .ok_or_else(|| corrupt("a column's lengths do not decode"))?,
                )
                .ok_or_else(|| corrupt("a column's lengths do not decode"))?;
            starts.push(end);
        }
        let frames_end = blocks.last().map_or(0, |b| b.1);
        let sound = lengths.is_empty()
            && blocks.last().map_or(0, |b| b.0) == end
            && frames_end == lengths_start as u64
            && blocks
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1);
        if !sound {
            return Err(corrupt("a column's blocks do not match its lengths"));
        }
        static OPENED: AtomicU64 = AtomicU64::new(0);
        Ok(Column {
            id: OPENED.fetch_add(1, Ordering::Relaxed),
            bytes,
            starts,
            blocks,
            lengths: lengths_start..table_start,
        })
    }
}

/// Reads sequences with one zstd context, keeping the last blocks it read decompressed (a walk
/// in document order needs one; repeated searches find theirs).
pub(crate) struct Cursor {
    decompressor: zstd::bulk::Decompressor<'static>,
    /// Decompressed blocks by their file's id and index, oldest first.
    blocks: VecDeque<((u64, usize), Vec<u8>)>,
    capacity: usize,
}

impl Cursor {
    /// A cursor that keeps up to `capacity` (at least one) blocks decompressed.
    pub(crate) fn new(capacity: usize) -> io::Result<Cursor> {
        Ok(Cursor {
            decompressor: zstd::bulk::Decompressor::new()?,
            blocks: VecDeque::new(),
            capacity: capacity.max(1),
        })
    }

    /// What `column` holds of `doc`'s sequence.
    pub(crate) fn get<'c>(&'c mut self, column: &Column, doc: DocId) -> io::Result<&'c [u8]> {
        let doc = doc as usize;
        let (start, end) = match column.starts.get(doc..doc + 2) {
            Some(&[start, end]) => (start, end),
            _ => return Err(corrupt("a document past the end of a column")),
        };
        if start == end {
            return Ok(&[]);
        }
        let block = column.blocks.partition_point(|b| b.0 <= start);
        let (block_end, frame_end) = *column
            .blocks
            .get(block)
            .ok_or_else(|| corrupt("a sequence past a column's last block"))?;
        let (block_start, frame_start) = block
            .checked_sub(1)
            .map_or((0, 0), |previous| column.blocks[previous]);
        if end > block_end {
            return Err(corrupt("a sequence that spans two blocks"));
        }
        let key = (column.id, block);
        let at = match self.blocks.iter().rposition(|(kept, _)| *kept == key) {
            Some(at) => at,
            None => {
                let mut buffer = if self.blocks.len() == self.capacity {
                    self.blocks
                        .pop_front()
                        .map(|(_, buffer)| buffer)
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                let frame = &column.bytes[frame_start as usize..frame_end as usize];
                // The frame says its size: a damaged table must not make us allocate more.
                let size = block_end - block_start;
                if !matches!(zstd::zstd_safe::get_frame_content_size(frame), Ok(Some(n)) if n == size)
                {
                    return Err(corrupt(
                        "a block whose frame does not give the block's size",
                    ));
                }
                buffer.clear();
                buffer.reserve(size as usize);
                let written = self.decompressor.decompress_to_buffer(frame, &mut buffer)?;
                if written as u64 != size {
                    return Err(corrupt(
                        "a block that inflates to another size than its table says",
                    ));
                }
                self.blocks.push_back((key, buffer));
                self.blocks.len() - 1
            }
        };
        let buffer = &self.blocks[at].1;
        Ok(&buffer[(start - block_start) as usize..(end - block_start) as usize])
    }
}

/// A damaged `.seq` file, and what about it is wrong (the caller names the file).
fn corrupt(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("a `.seq` file is corrupt: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use tantivy::indexer::NoMergePolicy;
    use tantivy::schema::{STORED, STRING};
    use tantivy::{Index, IndexWriter, Term};

    use tantivy::TantivyDocument;

    use super::*;
    use crate::sequence::Occurrence;

    /// Every live document's name and sequence, and how many segments hold them.
    fn sequences_of(index: &Index, name: Field) -> (Vec<(usize, Vec<u8>)>, usize) {
        let searcher = index.reader().unwrap().searcher();
        let mut cursor = Cursor::new(1).unwrap();
        let mut found = Vec::new();
        for reader in searcher.segment_readers() {
            let sequences = SegmentSequences::open(reader).unwrap();
            let store = reader.get_store_reader(1).unwrap();
            for doc in reader.doc_ids_alive() {
                let stored: TantivyDocument = store.get(doc).unwrap();
                let n = stored
                    .get_first(name)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let mut whole = cursor.get(&sequences.ids, doc).unwrap().to_vec();
                whole.extend_from_slice(cursor.get(&sequences.times, doc).unwrap());
                found.push((n, whole));
            }
        }
        found.sort();
        (found, searcher.segment_readers().len())
    }

    /// Whether each document has the sequence it was given (not printed: they are long).
    fn all_match(
        found: &[(usize, Vec<u8>)],
        expected: impl Iterator<Item = usize>,
        sequence: impl Fn(usize) -> Vec<u8>,
    ) -> bool {
        let expected: Vec<usize> = expected.collect();
        found.len() == expected.len()
            && found
                .iter()
                .zip(expected)
                .all(|((n, bytes), wanted)| *n == wanted && *bytes == sequence(wanted))
    }

    #[test]
    fn sequences_survive_commits_deletes_and_merges() {
        let mut builder = Schema::builder();
        let name = builder.add_text_field("name", STRING | STORED);
        let lines = builder.add_custom_field("lines", SEQUENCE_TYPE, serde_json::json!({}));
        let index = Index::builder()
            .schema(builder.build())
            .register_plugin(SequencePlugin::new())
            .create_in_ram()
            .unwrap();
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        // Sequences of many sizes, so that blocks close inside and between commits; every
        // fifth document has none, as attempt records.
        let sequence = |n: usize| -> Vec<u8> {
            if n.is_multiple_of(5) {
                return Vec::new();
            }
            let lines: Vec<Occurrence> = (0..n * 97 % 5_000)
                .map(|i| Occurrence {
                    text_id: (i * 31 + n) as u32 % 1_000,
                    timestamp: 1_700_000_000_000_000_000 + (i * i) as i64 * 100,
                })
                .collect();
            crate::sequence::encode(&lines).0
        };
        for n in 0..300 {
            let mut doc = TantivyDocument::new();
            doc.add_text(name, n.to_string());
            doc.add_custom(lines, &sequence(n));
            writer.add_document(doc).unwrap();
            if n % 100 == 99 {
                writer.commit().unwrap();
            }
        }
        let (found, segments) = sequences_of(&index, name);
        assert_eq!(segments, 3);
        assert!(all_match(&found, 0..300, sequence));

        // Deletions in the first segment only: the merge reads it sequence by sequence, and
        // takes the other two whole.
        let deleted = |n: &usize| *n < 100 && n % 7 == 3;
        for n in (0..300).filter(deleted) {
            writer.delete_term(Term::from_field_text(name, &n.to_string()));
        }
        writer.commit().unwrap();
        let ids = index.searchable_segment_ids().unwrap();
        writer.merge(&ids).wait().unwrap();
        let (found, segments) = sequences_of(&index, name);
        assert_eq!(segments, 1);
        let kept = |n: &usize| !deleted(n);
        assert!(all_match(&found, (0..300).filter(kept), sequence));

        // A merged segment, its blocks of several sources, taken whole in turn.
        for n in 300..350 {
            let mut doc = TantivyDocument::new();
            doc.add_text(name, n.to_string());
            doc.add_custom(lines, &sequence(n));
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let ids = index.searchable_segment_ids().unwrap();
        writer.merge(&ids).wait().unwrap();
        let (found, segments) = sequences_of(&index, name);
        assert_eq!(segments, 1);
        assert!(all_match(&found, (0..350).filter(kept), sequence));
    }

    /// A file of 50 sequences: sequence `n` has ids of 3,000 bytes all `n`, and no times.
    fn fifty() -> Vec<u8> {
        let mut file = FileBuilder::new().unwrap();
        for n in 0..50u8 {
            file.ids.push(&[n; 3_000]).unwrap();
            file.times.push(&[]).unwrap();
        }
        let mut bytes = Vec::new();
        file.write_to(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn reads_in_any_order_through_a_small_cache() {
        let sequences = SegmentSequences::parse(OwnedBytes::new(fifty()))
            .unwrap()
            .ids;
        assert!(sequences.blocks.len() > 3);
        let mut cursor = Cursor::new(2).unwrap();
        for n in [49, 0, 25, 0, 49, 13, 37, 0, 1, 48, 12, 11, 10, 49] {
            assert_eq!(
                cursor.get(&sequences, n).unwrap(),
                &[n as u8; 3_000][..],
                "{n}"
            );
        }
        assert!(cursor.blocks.len() <= 2);
        assert!(
            cursor.get(&sequences, 50).is_err(),
            "past the last document"
        );
    }

    proptest::proptest! {
        /// A `.seq` file damaged anywhere (a byte changed, or cut at any length) is an error
        /// or reads as something, never a panic, opening it or reading any of its sequences.
        #[test]
        fn a_file_damaged_anywhere_never_panics(at in 0usize..1_000_000, xor in 1u8.., cut: bool) {
            let mut file = fifty();
            let at = at % file.len();
            if cut {
                file.truncate(at);
            } else {
                file[at] ^= xor;
            }
            if let Ok(sequences) = SegmentSequences::parse(OwnedBytes::new(file)) {
                let mut cursor = Cursor::new(2).unwrap();
                for doc in 0..51 {
                    let _ = cursor.get(&sequences.ids, doc).map(<[u8]>::len);
                    let _ = cursor.get(&sequences.times, doc).map(<[u8]>::len);
                }
            }
        }
    }

    #[test]
    fn a_damaged_file_is_refused() {
        let file = fifty();
        let parse = |bytes: &[u8]| SegmentSequences::parse(OwnedBytes::new(bytes.to_vec()));
        assert!(parse(&file).is_ok());
        for cut in [1, FILE_FOOTER_BYTES, file.len() / 2] {
            assert!(parse(&file[..file.len() - cut]).is_err(), "cut by {cut}");
        }
        // Inside, with the file's footer intact: a bit of the ids column's length, and of each
        // field of that column's footer (documents, blocks, lengths' size, magic).
        let footer = file.len() - FILE_FOOTER_BYTES;
        let ids_len = u64::from_le_bytes(file[footer..footer + 8].try_into().unwrap()) as usize;
        for at in [
            footer,
            ids_len - 20,
            ids_len - 16,
            ids_len - 12,
            ids_len - 4,
        ] {
            let mut damaged = file.clone();
            damaged[at] ^= 1;
            assert!(parse(&damaged).is_err(), "bit flipped at {at}");
        }
        // In a frame: the file opens, the sequence does not read.
        let mut flipped = file.clone();
        flipped[3] ^= 0xff;
        let damaged = parse(&flipped).unwrap();
        assert!(Cursor::new(1).unwrap().get(&damaged.ids, 0).is_err());
    }
}
