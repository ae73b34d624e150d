//! Reading texts by id: the last step of a search, for the few lines it shows.

use std::collections::HashMap;

use tantivy::schema::Value;
use tantivy::{DocAddress, Searcher, SegmentOrdinal, TantivyDocument};

use crate::error::{Result, TantivyContext};
use crate::id_table::{self, IdTable};
use crate::index::Index;
use crate::segment_file;

impl Index {
    /// Reads the live texts with `ids` from a texts searcher: `(id, text)` in no particular
    /// order, each once.
    pub(crate) fn read_texts(
        &self,
        searcher: &Searcher,
        ids: impl IntoIterator<Item = u32>,
    ) -> Result<Vec<(u32, String)>> {
        let mut ids: Vec<u32> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        ids.sort_unstable();
        ids.dedup();
        let mut texts = Vec::with_capacity(ids.len());
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            let file = || segment_file::name("texts", segment.segment_id(), id_table::EXTENSION);
            let table = IdTable::open(segment).map_err(|e| self.corrupt_file(&file(), e))?;
            let stored_ids = segment.fast_fields().u64("id").doing("reading a text")?;
            for &id in &ids {
                let Some(doc) = table.doc_of(id) else {
                    continue;
                };
                // The table is not checked when opened: the document must have the id.
                if doc >= segment.max_doc() || stored_ids.first(doc) != Some(u64::from(id)) {
                    return Err(self.corrupt(format!(
                        "`{}` gives text `{id}` a document that does not hold it",
                        file()
                    )));
                }
                if segment
                    .alive_bitset()
                    .is_some_and(|alive| alive.is_deleted(doc))
                {
                    continue;
                }
                let address = DocAddress::new(ordinal as SegmentOrdinal, doc);
                let doc: TantivyDocument = searcher.doc(address).doing("reading a text")?;
                let text = doc
                    .get_first(self.text_fields.text)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned();
                texts.push((id, text));
            }
        }
        Ok(texts)
    }

    pub(crate) fn text_of<'t>(&self, texts: &'t HashMap<u32, String>, id: u32) -> Result<&'t str> {
        texts.get(&id).map(String::as_str).ok_or_else(|| {
            self.corrupt(format!(
                "text `{id}` is missing (if a prune ran meanwhile, search again)"
            ))
        })
    }
}
