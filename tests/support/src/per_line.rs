//! The baseline: raw tantivy with one document per line, the same tokenizer and query syntax.
//! The equivalence test checks the index against it; the bench measures against it.

use tantivy::collector::DocSetCollector;
use tantivy::schema::{
    FAST, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexWriter, TantivyDocument, doc};

use logidx_index::{LOG_TOKENIZER, LogTokenizer, Query};

/// A tantivy index of the same lines, one document per line.
pub struct PerLine {
    index: Index,
    text: tantivy::schema::Field,
    ordinal: tantivy::schema::Field,
}

impl PerLine {
    /// Indexes `texts` in `dir` (or in RAM), one document per line, with its ordinal stored
    /// and as a fast field; step, line and time as fast fields like a real per-line index.
    pub fn build<'t>(
        dir: Option<&std::path::Path>,
        texts: impl IntoIterator<Item = (u64, i64, &'t str)>,
        threads: usize,
    ) -> PerLine {
        let mut builder = Schema::builder();
        let text = builder.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(LOG_TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        );
        let ordinal = builder.add_u64_field("ordinal", FAST | STORED);
        let timestamp = builder.add_i64_field("timestamp", FAST);
        let schema = builder.build();
        let index = match dir {
            Some(dir) => Index::create_in_dir(dir, schema).unwrap(),
            None => Index::create_in_ram(schema),
        };
        index
            .tokenizers()
            .register(LOG_TOKENIZER, TextAnalyzer::from(LogTokenizer::default()));
        let mut writer: IndexWriter = index
            .writer_with_num_threads(threads, threads * (128 << 20))
            .unwrap();
        for (n, time, line) in texts {
            writer
                .add_document(doc!(text => line, ordinal => n, timestamp => time))
                .unwrap();
        }
        writer.commit().unwrap();
        PerLine {
            index,
            text,
            ordinal,
        }
    }

    /// The ordinals of the lines whose text matches `query`'s text part.
    pub fn matching(&self, query: &Query) -> Vec<u64> {
        let query = query.text_query_over(self.text);
        let searcher = self.index.reader().unwrap().searcher();
        let mut ordinals: Vec<u64> = searcher
            .search(&query, &DocSetCollector)
            .unwrap()
            .into_iter()
            .map(|address| {
                let doc: TantivyDocument = searcher.doc(address).unwrap();
                doc.get_first(self.ordinal)
                    .and_then(|v| v.as_u64())
                    .unwrap()
            })
            .collect();
        ordinals.sort_unstable();
        ordinals
    }
}
