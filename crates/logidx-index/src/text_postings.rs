//! Each steps segment's postings from text id to the steps that hold the text (`.tids`),
//! beside tantivy's files.
//!
//! A search for a rare text reads the steps holding it from here, then their line sequences.
//! As tantivy terms (one per step and distinct text), these cost more than a third of all
//! indexing time on fakehub's corpus: a step holds mostly texts that other runs repeat, so
//! there are nearly as many terms as lines, and tantivy hashes every term into its postings
//! writer and sorts a segment's terms by comparing their bytes. Here a segment collects
//! (id, step) pairs as integers and sorts them once; a merge walks its sources' ids in order.
//!
//! Layout: the segment's distinct ids in increasing order (`u32` LE each); where each id's
//! postings end in the postings area (`u32` LE each, same order); the postings area, each id's
//! steps in increasing order as LEB128 varints, the first as is and each next one as its gap
//! from the one before; then the count of ids (`u32` LE) and [`MAGIC`]. Deleted steps keep
//! their postings until a merge drops them. Not checked when a file is opened, as it would
//! cost a pass over it at every search: that its ids increase (a damaged order makes searches
//! miss steps, and a merge fail naming the file).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::{self, Write};
use std::sync::Arc;

use tantivy::directory::OwnedBytes;
use tantivy::index::SegmentId;
use tantivy::plugin::{PluginMergeContext, PluginWriter, PluginWriterContext, SegmentPlugin};
use tantivy::query::{
    BitSetDocSet, ConstScorer, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::schema::document::ErasedDocument;
use tantivy::schema::{Field, FieldType, Value};
use tantivy::{BitSet, DocId, Score, Segment, SegmentReader, TantivyError};

use crate::segment_file::{self, corrupt, count_footer, find_u32, pair, read_u32};
use crate::varint::{put_varint, take_varint};

/// The file extension of the component.
pub(crate) const EXTENSION: &str = "tids";

/// The tantivy field type name of a step's distinct text ids (a custom field this plugin
/// consumes): `u32` LE each, in increasing order.
pub(crate) const TEXT_IDS_TYPE: &str = "logidx_text_ids";

const MAGIC: u32 = 0x6c78_7431; // "lxt1"

/// A step's distinct text ids, in increasing order, as its custom field holds them.
pub(crate) fn pack(ids: &[u32]) -> Vec<u8> {
    ids.iter().flat_map(|id| id.to_le_bytes()).collect()
}

/// The plugin that writes and merges `.tids` files; register it on the steps index.
pub(crate) struct TextPostingsPlugin;

impl TextPostingsPlugin {
    pub(crate) fn new() -> Arc<TextPostingsPlugin> {
        Arc::new(TextPostingsPlugin)
    }
}

impl SegmentPlugin for TextPostingsPlugin {
    fn extensions(&self) -> &[&str] {
        &[EXTENSION]
    }

    fn create_writer(&self, ctx: &PluginWriterContext) -> tantivy::Result<Box<dyn PluginWriter>> {
        let field = ctx
            .segment
            .schema()
            .fields()
            .find_map(|(field, entry)| match entry.field_type() {
                FieldType::Custom(options) if options.type_name() == TEXT_IDS_TYPE => Some(field),
                _ => None,
            })
            .ok_or_else(|| {
                TantivyError::SchemaError(format!("no field of type `{TEXT_IDS_TYPE}`"))
            })?;
        Ok(segment_file::PairsWriter::new(
            field,
            "text postings",
            add_pairs,
            write,
        ))
    }

    /// Merges the sources' postings id by id, as a k-way merge over their sorted ids: each
    /// id's steps come from the sources in order, so they stay in increasing order with no
    /// sort. Collecting every (id, step) pair and sorting them held them all in memory: at
    /// 1 GB of logs, a third of the merges' time went to the kernel zeroing those pages.
    fn merge(&self, ctx: PluginMergeContext) -> tantivy::Result<()> {
        segment_file::refuse_shuffled(ctx.doc_id_mapping, "text postings")?;
        let mut sources = Vec::with_capacity(ctx.readers.len());
        let mut first_doc: DocId = 0;
        for reader in ctx.readers {
            let postings = TextPostings::open(reader).map_err(|e| in_file(reader, e))?;
            // Each live document's number in the merged segment.
            let mut target = Vec::with_capacity(reader.max_doc() as usize);
            let mut next = first_doc;
            for doc in 0..reader.max_doc() {
                let deleted = reader
                    .alive_bitset()
                    .is_some_and(|alive| alive.is_deleted(doc));
                target.push((!deleted).then_some(next));
                next += u32::from(!deleted);
            }
            sources.push((reader, postings, target));
            first_doc = next;
        }
        // The next id of each source, smallest first; a tie goes to the earlier source.
        let mut next: BinaryHeap<Reverse<(u32, usize, usize)>> = sources
            .iter()
            .enumerate()
            .filter(|(_, (_, postings, _))| postings.len > 0)
            .map(|(source, (_, postings, _))| Reverse((postings.id(0), source, 0)))
            .collect();
        let mut file = FileBuilder::default();
        while let Some(Reverse((id, source, index))) = next.pop() {
            let (reader, postings, target) = &sources[source];
            let mut added = Ok(());
            postings
                .for_each_doc_at(index, |doc| {
                    if let (Ok(()), Some(&Some(doc))) = (&added, target.get(doc as usize)) {
                        added = file.push(id, doc);
                    }
                })
                .and(added)
                .map_err(|e| in_file(reader, e))?;
            if index + 1 < postings.len {
                next.push(Reverse((postings.id(index + 1), source, index + 1)));
            }
        }
        segment_file::write(ctx.target_segment, EXTENSION, |mut out| {
            file.write_to(&mut out)
        })
    }
}

/// A merge's error about a segment's file, naming it.
fn in_file(reader: &SegmentReader, e: io::Error) -> TantivyError {
    let file = segment_file::name("steps", reader.segment_id(), EXTENSION);
    io::Error::new(e.kind(), format!("`{file}`: {e}")).into()
}

/// Adds a step's (text id, step) pairs; attempt records have none.
fn add_pairs(
    doc: &dyn ErasedDocument,
    field: Field,
    doc_id: DocId,
    pairs: &mut Vec<u64>,
) -> tantivy::Result<()> {
    let ids = segment_file::tantivy_doc(doc)?
        .get_first(field)
        .and_then(|value| value.as_custom())
        .unwrap_or_default();
    if !ids.len().is_multiple_of(4) {
        return Err(TantivyError::InvalidArgument(
            "a step's text ids are not whole `u32`s".to_owned(),
        ));
    }
    pairs.extend(
        ids.chunks_exact(4)
            .map(|id| pair(u32::from_le_bytes(id.try_into().expect("4")), doc_id)),
    );
    Ok(())
}

fn write(segment: &Segment, mut pairs: Vec<u64>) -> tantivy::Result<()> {
    segment_file::sort_pairs(&mut pairs);
    let mut file = FileBuilder::default();
    for pair in pairs {
        file.push((pair >> 32) as u32, pair as DocId)?;
    }
    segment_file::write(segment, EXTENSION, |mut out| file.write_to(&mut out))
}

/// A `.tids` file being built from (id, step) pairs given in order: ids increasing, and each
/// id's steps increasing.
#[derive(Default)]
struct FileBuilder {
    /// The ids, `u32` LE each.
    ids: Vec<u8>,
    /// Where each id's postings end, `u32` LE each.
    ends: Vec<u8>,
    postings: Vec<u8>,
    last: Option<(u32, DocId)>,
}

impl FileBuilder {
    /// Adds a pair; one equal to the last is dropped (a step lists each text once, but nothing
    /// is lost by making sure). Pairs out of order are an error.
    fn push(&mut self, id: u32, doc: DocId) -> io::Result<()> {
        match self.last {
            Some((last_id, last_doc)) if last_id == id => {
                let gap = doc
                    .checked_sub(last_doc)
                    .ok_or_else(|| corrupt("a text's steps are out of order"))?;
                if gap == 0 {
                    return Ok(());
                }
                put_varint(&mut self.postings, u64::from(gap));
            }
            Some((last_id, _)) if last_id > id => {
                return Err(corrupt("its text ids are out of order"));
            }
            _ => {
                if self.last.is_some() {
                    self.end_postings()?;
                }
                self.ids.extend_from_slice(&id.to_le_bytes());
                put_varint(&mut self.postings, u64::from(doc));
            }
        }
        self.last = Some((id, doc));
        Ok(())
    }

    fn end_postings(&mut self) -> io::Result<()> {
        let end = u32::try_from(self.postings.len())
            .map_err(|_| io::Error::other("text postings over 4 GiB"))?;
        self.ends.extend_from_slice(&end.to_le_bytes());
        Ok(())
    }

    fn write_to(mut self, out: &mut impl Write) -> io::Result<()> {
        if self.last.is_some() {
            self.end_postings()?;
        }
        out.write_all(&self.ids)?;
        out.write_all(&self.ends)?;
        out.write_all(&self.postings)?;
        out.write_all(&((self.ids.len() / 4) as u32).to_le_bytes())?;
        out.write_all(&MAGIC.to_le_bytes())
    }
}

/// A segment's `.tids` file, open for reading.
pub(crate) struct TextPostings {
    bytes: OwnedBytes,
    /// Distinct ids.
    len: usize,
    max_doc: DocId,
}

impl TextPostings {
    pub(crate) fn open(reader: &SegmentReader) -> io::Result<TextPostings> {
        TextPostings::parse(segment_file::read(reader, EXTENSION)?, reader.max_doc())
    }

    fn parse(bytes: OwnedBytes, max_doc: DocId) -> io::Result<TextPostings> {
        let (end, len) = count_footer(&bytes, MAGIC, EXTENSION)?;
        if len * 8 > end {
            return Err(corrupt("its count of ids runs past its length"));
        }
        let postings = TextPostings {
            bytes,
            len,
            max_doc,
        };
        let postings_end = len
            .checked_sub(1)
            .map_or(0, |last| postings.end(last) as usize);
        if postings_end != end - len * 8 {
            return Err(corrupt("its last postings do not end where the file does"));
        }
        Ok(postings)
    }

    fn id(&self, index: usize) -> u32 {
        read_u32(&self.bytes, index * 4)
    }

    fn end(&self, index: usize) -> u32 {
        read_u32(&self.bytes, (self.len + index) * 4)
    }

    /// Calls `each` with every step (deleted or not) that holds text `id`, in increasing order.
    pub(crate) fn for_each_doc(&self, id: u32, each: impl FnMut(DocId)) -> io::Result<()> {
        match find_u32(&self.bytes, self.len, id) {
            Some(index) => self.for_each_doc_at(index, each),
            None => Ok(()),
        }
    }

    fn for_each_doc_at(&self, index: usize, mut each: impl FnMut(DocId)) -> io::Result<()> {
        let area = self.len * 8;
        let start = index.checked_sub(1).map_or(0, |i| self.end(i)) as usize;
        let end = self.end(index) as usize;
        let mut postings = self
            .bytes
            .get(area + start..area + end)
            .filter(|_| start <= end)
            .ok_or_else(|| corrupt("a text's postings lie outside their area"))?;
        let mut doc: u64 = 0;
        let mut first = true;
        while !postings.is_empty() {
            let gap = take_varint(&mut postings)
                .ok_or_else(|| corrupt("a text's postings end inside a number"))?;
            if !first && gap == 0 {
                return Err(corrupt("a text's postings repeat a step"));
            }
            doc = doc
                .checked_add(gap)
                .filter(|&doc| doc < u64::from(self.max_doc))
                .ok_or_else(|| corrupt("a text's postings name a step past the segment's end"))?;
            first = false;
            each(doc as DocId);
        }
        Ok(())
    }
}

/// Matches the steps, per segment, of a set found beforehand (from [`TextPostings`]): a query
/// to intersect with the filters.
#[derive(Clone)]
pub(crate) struct StepsHolding {
    by_segment: Arc<HashMap<SegmentId, BitSet>>,
}

impl StepsHolding {
    pub(crate) fn new(by_segment: HashMap<SegmentId, BitSet>) -> StepsHolding {
        StepsHolding {
            by_segment: Arc::new(by_segment),
        }
    }

    fn docs(&self, reader: &SegmentReader) -> Option<&BitSet> {
        self.by_segment.get(&reader.segment_id())
    }
}

impl std::fmt::Debug for StepsHolding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepsHolding")
            .field("segments", &self.by_segment.len())
            .finish()
    }
}

impl Query for StepsHolding {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for StepsHolding {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match self.docs(reader) {
            Some(docs) => Box::new(ConstScorer::new(BitSetDocSet::from(docs.clone()), boost)),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.docs(reader).is_some_and(|docs| docs.contains(doc)) {
            Ok(Explanation::new("a step holding a matching text", 1.0))
        } else {
            Err(TantivyError::InvalidArgument(format!(
                "document {doc} holds no matching text"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use tantivy::directory::Directory;
    use tantivy::indexer::NoMergePolicy;
    use tantivy::schema::{INDEXED, STORED, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument, Term};

    use super::*;
    use crate::segment_file::COUNT_FOOTER_BYTES;

    /// The text ids of step `n`: a few that many steps share, and one of its own.
    fn ids_of(n: u64) -> Vec<u32> {
        let mut ids: BTreeSet<u32> = [n % 3, 10 + n % 7, 1_000 + n / 50]
            .into_iter()
            .map(|id| id as u32)
            .collect();
        ids.insert(100_000 + n as u32);
        ids.into_iter().collect()
    }

    /// Every (id, step name) pair the live steps' postings give, checked against each step's
    /// own ids, and how many segments there are.
    fn found_pairs(index: &Index, name: Field) -> (BTreeSet<(u32, u64)>, usize) {
        let searcher = index.reader().unwrap().searcher();
        let mut found = BTreeSet::new();
        for reader in searcher.segment_readers() {
            let postings = TextPostings::open(reader).unwrap();
            let store = reader.get_store_reader(1).unwrap();
            for index in 0..postings.len {
                let id = postings.id(index);
                let mut docs = Vec::new();
                postings.for_each_doc(id, |doc| docs.push(doc)).unwrap();
                assert!(docs.windows(2).all(|w| w[0] < w[1]), "{docs:?}");
                for doc in docs {
                    if reader
                        .alive_bitset()
                        .is_some_and(|alive| alive.is_deleted(doc))
                    {
                        continue;
                    }
                    let stored: TantivyDocument = store.get(doc).unwrap();
                    let n = stored.get_first(name).unwrap().as_u64().unwrap();
                    assert!(ids_of(n).contains(&id), "step {n} lacks text {id}");
                    found.insert((id, n));
                }
            }
        }
        (found, searcher.segment_readers().len())
    }

    fn expected(steps: impl Iterator<Item = u64>) -> BTreeSet<(u32, u64)> {
        steps
            .flat_map(|n| ids_of(n).into_iter().map(move |id| (id, n)))
            .collect()
    }

    /// An index in RAM with the plugin, steps named by a number and holding text ids, and a
    /// writer of `threads` that merges only when told to.
    fn steps_index(threads: usize) -> (Index, IndexWriter, Field, Field) {
        let mut builder = Schema::builder();
        let name = builder.add_u64_field("name", INDEXED | STORED);
        let text_ids = builder.add_custom_field("text_ids", TEXT_IDS_TYPE, serde_json::json!({}));
        let index = Index::builder()
            .schema(builder.build())
            .register_plugin(TextPostingsPlugin::new())
            .create_in_ram()
            .unwrap();
        let writer: IndexWriter = index
            .writer_with_num_threads(threads, threads * 15_000_000)
            .unwrap();
        writer.set_merge_policy(Box::new(NoMergePolicy));
        (index, writer, name, text_ids)
    }

    #[test]
    fn postings_survive_commits_deletes_and_merges() {
        let (index, mut writer, name, text_ids) = steps_index(2);
        for n in 0..900u64 {
            let mut doc = TantivyDocument::new();
            doc.add_u64(name, n);
            // Every tenth document has no texts, as attempt records.
            if !n.is_multiple_of(10) {
                doc.add_custom(text_ids, &pack(&ids_of(n)));
            }
            writer.add_document(doc).unwrap();
            if n % 300 == 299 {
                writer.commit().unwrap();
            }
        }
        let with_texts = |n: &u64| !n.is_multiple_of(10);
        let (found, segments) = found_pairs(&index, name);
        assert!(segments >= 3);
        assert_eq!(found, expected((0..900).filter(with_texts)));

        for n in (0..900).filter(|n| n % 7 == 3) {
            writer.delete_term(Term::from_field_u64(name, n));
        }
        writer.commit().unwrap();
        let mut segment_ids = index.searchable_segment_ids().unwrap();
        segment_ids.reverse();
        writer.merge(&segment_ids).wait().unwrap();
        let (found, segments) = found_pairs(&index, name);
        assert_eq!(segments, 1);
        assert_eq!(
            found,
            expected((0..900).filter(with_texts).filter(|n| n % 7 != 3))
        );
    }

    /// A `.tids` file whose ids go down (which opening does not check) fails a merge, naming
    /// the file.
    #[test]
    fn a_merge_over_ids_out_of_order_fails_naming_the_file() {
        let (index, mut writer, _, text_ids) = steps_index(1);
        for ids in [[1, 7], [3, 4]] {
            for _ in 0..2 {
                let mut doc = TantivyDocument::new();
                doc.add_custom(text_ids, &pack(&ids));
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
        }
        let metas = index.searchable_segment_metas().unwrap();
        let damaged = index.segment(metas[0].clone());
        // Text 7 in step 0, then text 1 in step 1.
        let mut file = Vec::new();
        for word in [7u32, 1, 1, 2] {
            file.extend_from_slice(&word.to_le_bytes());
        }
        file.extend_from_slice(&[0, 1]);
        file.extend_from_slice(&2u32.to_le_bytes());
        file.extend_from_slice(&MAGIC.to_le_bytes());
        let path = format!("{}.{EXTENSION}", damaged.id().uuid_string());
        index
            .directory()
            .delete(std::path::Path::new(&path))
            .unwrap();
        segment_file::write(&damaged, EXTENSION, |out| out.write_all(&file)).unwrap();
        let segments: Vec<_> = metas.iter().map(|meta| meta.id()).collect();
        let error = writer.merge(&segments).wait().unwrap_err().to_string();
        assert!(
            error.contains(&path) && error.contains("out of order"),
            "{error}"
        );
    }

    #[test]
    fn a_file_is_built_from_pairs_in_order_only() {
        let mut builder = FileBuilder::default();
        for (id, doc) in [(1, 0), (1, 0), (1, 5), (2, 1)] {
            builder.push(id, doc).unwrap();
        }
        assert!(builder.push(2, 0).is_err(), "a step before the last");
        assert!(builder.push(1, 9).is_err(), "an id before the last");
        let mut file = Vec::new();
        builder.write_to(&mut file).unwrap();
        let postings = TextPostings::parse(OwnedBytes::new(file), 10).unwrap();
        let mut docs = Vec::new();
        postings.for_each_doc(1, |doc| docs.push(doc)).unwrap();
        assert_eq!(docs, [0, 5], "the repeated pair is kept once");
    }

    #[test]
    fn a_damaged_file_is_refused() {
        let mut file = Vec::new();
        // Text 1 in steps 0, 1 and 200; text 7 in step 3.
        let mut builder = FileBuilder::default();
        for (id, doc) in [(1, 0), (1, 1), (1, 200), (7, 3)] {
            builder.push(id, doc).unwrap();
        }
        builder.write_to(&mut file).unwrap();
        let parse = |bytes: &[u8]| TextPostings::parse(OwnedBytes::new(bytes.to_vec()), 300);
        let docs = |postings: &TextPostings, id| {
            let mut docs = Vec::new();
            postings
                .for_each_doc(id, |doc| docs.push(doc))
                .map(|()| docs)
        };
        let postings = parse(&file).unwrap();
        assert_eq!(docs(&postings, 1).unwrap(), [0, 1, 200]);
        assert_eq!(docs(&postings, 7).unwrap(), [3]);
        assert_eq!(docs(&postings, 2).unwrap(), Vec::<DocId>::new());
        for cut in [1, 4, COUNT_FOOTER_BYTES, file.len() - 1] {
            assert!(parse(&file[..file.len() - cut]).is_err(), "cut by {cut}");
        }
        for at in [file.len() - 8, file.len() - 1, 8 + 4] {
            let mut damaged = file.clone();
            damaged[at] ^= 1;
            assert!(parse(&damaged).is_err(), "bit flipped at {at}");
        }
        // Past the segment's last step.
        let short = TextPostings::parse(OwnedBytes::new(file.clone()), 100).unwrap();
        assert!(docs(&short, 1).is_err());
        // A gap so large that adding it overflows.
        let mut huge = Vec::new();
        huge.extend_from_slice(&1u32.to_le_bytes());
        huge.extend_from_slice(&11u32.to_le_bytes());
        huge.push(1);
        huge.extend_from_slice(&[0xff; 9]);
        huge.push(1);
        huge.extend_from_slice(&1u32.to_le_bytes());
        huge.extend_from_slice(&MAGIC.to_le_bytes());
        assert!(docs(&parse(&huge).unwrap(), 1).is_err());
        // A repeated step: text 1's second gap (a byte at 16 + 1) made zero.
        let mut repeated = file.clone();
        repeated[17] = 0;
        assert!(docs(&parse(&repeated).unwrap(), 1).is_err());
    }
}
