//! The two tantivy indexes and their fields.
//!
//! `texts/` holds each distinct line text once: `text` (tokenized, positions, stored), `level`,
//! its error `signature`, a dense `id` (found by a table of our own, [`crate::id_table`]) and a
//! 32-bit `key` from its xxh3 hash (to find candidates for an already stored text without
//! reading it). `steps/` holds one document per step, with its filter terms, its stored
//! metadata, and two segment files of our own: its encoded line sequence
//! ([`crate::sequence_store`]) and postings from each text id to the steps holding it
//! ([`crate::text_postings`]); and one record per attempt. Everything stored is
//! zstd-compressed.

use tantivy::query::{Query as TantivyQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, NumericOptions, STORED, Schema, Term, TextFieldIndexing,
    TextOptions,
};
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};

use crate::sequence_store::SEQUENCE_TYPE;
use crate::text_postings::TEXT_IDS_TYPE;
use crate::tokenizer::{LOG_TOKENIZER, LogTokenizer};

/// The texts index's fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextFields {
    pub(crate) id: Field,
    /// 32 bits of the text's xxh3: the writer's dictionary key, shared by a few texts.
    pub(crate) key: Field,
    pub(crate) text: Field,
    pub(crate) level: Field,
    /// The error signature of the text ([`crate::signature`]), 0 for lines that are no errors.
    pub(crate) signature: Field,
}

impl TextFields {
    pub(crate) fn schema() -> (Schema, TextFields) {
        let mut builder = Schema::builder();
        let text_options = TextOptions::default().set_stored().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(LOG_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let fields = TextFields {
            id: builder.add_u64_field("id", FAST),
            key: builder.add_u64_field("key", FAST),
            text: builder.add_text_field("text", text_options),
            level: builder.add_text_field("level", keyword_options()),
            signature: builder.add_u64_field("signature", FAST),
        };
        (builder.build(), fields)
    }
}

/// The steps index's fields. Filter fields hold lowercased keyword terms named as in queries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepFields {
    /// `step` or `attempt`.
    pub(crate) kind: Field,
    /// One term per attempt, to replace or delete it with its steps.
    pub(crate) attempt_key: Field,
    pub(crate) repo: Field,
    pub(crate) run: Field,
    pub(crate) attempt: Field,
    pub(crate) job: Field,
    pub(crate) step: Field,
    pub(crate) branch: Field,
    pub(crate) workflow: Field,
    pub(crate) event: Field,
    pub(crate) sha: Field,
    pub(crate) conclusion: Field,
    /// When the run was created (ns): for deletion by age.
    pub(crate) run_created_at: Field,
    /// First and last line timestamps (ns): for newest/oldest-first walks and date filters.
    pub(crate) first_time: Field,
    pub(crate) last_time: Field,
    /// The step's distinct text ids, which the steps index's
    /// [`TextPostingsPlugin`](crate::text_postings::TextPostingsPlugin) turns into postings.
    pub(crate) text_ids: Field,
    /// JSON of the attempt and step metadata, or of the attempt record. A text field, not
    /// bytes: tantivy reads a stored string in one go but stored bytes one byte at a time.
    pub(crate) meta: Field,
    /// The encoded line sequence (see [`crate::sequence`]), which the steps index's
    /// [`SequencePlugin`](crate::sequence_store::SequencePlugin) keeps in a file of its own.
    pub(crate) lines: Field,
}

pub(crate) const KIND_STEP: &str = "step";
pub(crate) const KIND_ATTEMPT: &str = "attempt";

impl StepFields {
    pub(crate) fn schema() -> (Schema, StepFields) {
        let mut builder = Schema::builder();
        let fields = StepFields {
            kind: builder.add_text_field("kind", keyword_options()),
            attempt_key: builder.add_text_field("attempt_key", keyword_options()),
            repo: builder.add_text_field("repo", keyword_options()),
            run: builder.add_text_field("run", keyword_options()),
            attempt: builder.add_text_field("attempt", keyword_options()),
            job: builder.add_text_field("job", keyword_options()),
            step: builder.add_text_field("step", keyword_options()),
            branch: builder.add_text_field("branch", keyword_options()),
            workflow: builder.add_text_field("workflow", keyword_options()),
            event: builder.add_text_field("event", keyword_options()),
            sha: builder.add_text_field("sha", keyword_options()),
            conclusion: builder.add_text_field("conclusion", keyword_options()),
            run_created_at: builder.add_i64_field("run_created_at", indexed().set_fast()),
            first_time: builder.add_i64_field("first_time", FAST),
            last_time: builder.add_i64_field("last_time", FAST),
            text_ids: builder.add_custom_field("text_ids", TEXT_IDS_TYPE, serde_json::json!({})),
            meta: builder.add_text_field("meta", STORED),
            lines: builder.add_custom_field("lines", SEQUENCE_TYPE, serde_json::json!({})),
        };
        (builder.build(), fields)
    }
}

/// An untokenized filter term. Unlike tantivy's `STRING`, with no field norms: they serve
/// relevance scoring, which only the texts' `text` uses, and cost a byte per document.
fn keyword_options() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_fieldnorms(false),
    )
}

/// An indexed number, with no field norms (tantivy's `INDEXED` has them).
fn indexed() -> NumericOptions {
    NumericOptions::default().set_indexed()
}

/// The indexed form of a keyword field's value. Keyword fields keep a value whole (the `raw`
/// tokenizer), so matching ignores case only because documents and queries both lowercase
/// here.
pub(crate) fn keyword(value: &str) -> String {
    value.to_lowercase()
}

/// Matches the documents whose keyword `field` holds `value`, in any case.
pub(crate) fn keyword_query(field: Field, value: &str) -> Box<dyn TantivyQuery> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, &keyword(value)),
        IndexRecordOption::Basic,
    ))
}

/// The key of an attempt: repository (lowercased), run and attempt.
pub(crate) fn attempt_key(repo: &str, run_id: u64, run_attempt: u32) -> String {
    format!("{}#{run_id}#{run_attempt}", keyword(repo))
}

/// The tokenizers both indexes and the query parser use.
pub(crate) fn tokenizers() -> TokenizerManager {
    let manager = TokenizerManager::default();
    manager.register(LOG_TOKENIZER, TextAnalyzer::from(LogTokenizer::default()));
    manager
}
