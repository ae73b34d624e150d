//! The texts index's documents as the writer sends them: views into a batch of new texts.
//!
//! A tantivy document of a new text cost two allocations on the writer's thread, grown field by
//! field, and their frees on an indexing thread, contended in the allocator with the writer's
//! next allocations: together a seventh of indexing when lines repeat. A batch holds its texts
//! in one string and their fields in one vector; each document is the batch and a number.

use std::sync::Arc;

use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf, Value};
use tantivy::schema::{Document, Field};

use crate::level::Level;
use crate::schema::TextFields;
use crate::signature::signature;

/// New texts, gathered until sent to the texts index.
#[derive(Debug, Default)]
pub(crate) struct NewTexts {
    texts: String,
    entries: Vec<Entry>,
}

/// What a new text's document holds besides the text.
#[derive(Debug)]
struct Entry {
    id: u32,
    key: u64,
    /// Where its text ends in [`NewTexts::texts`]; it starts where the previous one ends.
    end: usize,
    level: Level,
    signature: u64,
}

impl NewTexts {
    /// Adds a text with its id and dictionary key; its level and signature derive from it.
    pub(crate) fn push(&mut self, id: u32, key: u64, text: &str) {
        self.texts.push_str(text);
        self.entries.push(Entry {
            id,
            key,
            end: self.texts.len(),
            level: Level::of(text),
            signature: signature(text).unwrap_or(0),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes the texts gathered so far, as documents.
    pub(crate) fn take(&mut self, fields: TextFields) -> impl ExactSizeIterator<Item = TextDoc> {
        let batch = Arc::new(Batch {
            texts: std::mem::take(self),
            fields,
        });
        (0..batch.texts.entries.len()).map(move |index| TextDoc {
            batch: Arc::clone(&batch),
            index,
        })
    }
}

struct Batch {
    texts: NewTexts,
    fields: TextFields,
}

/// A new text's document: the `index`th text of its batch.
pub(crate) struct TextDoc {
    batch: Arc<Batch>,
    index: usize,
}

impl TextDoc {
    pub(crate) fn id(&self) -> u32 {
        self.entry().id
    }

    fn entry(&self) -> &Entry {
        &self.batch.texts.entries[self.index]
    }

    fn text(&self) -> &str {
        let entries = &self.batch.texts.entries;
        let start = self.index.checked_sub(1).map_or(0, |i| entries[i].end);
        &self.batch.texts.texts[start..entries[self.index].end]
    }
}

impl Document for TextDoc {
    type Value<'a> = TextValue<'a>;
    type FieldsValuesIter<'a> = std::array::IntoIter<(Field, TextValue<'a>), 5>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        let fields = &self.batch.fields;
        let entry = self.entry();
        [
            (fields.id, TextValue::U64(u64::from(entry.id))),
            (fields.key, TextValue::U64(entry.key)),
            (fields.text, TextValue::Str(self.text())),
            (fields.level, TextValue::Str(entry.level.as_str())),
            (fields.signature, TextValue::U64(entry.signature)),
        ]
        .into_iter()
    }
}

/// A value of a [`TextDoc`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum TextValue<'a> {
    Str(&'a str),
    U64(u64),
}

impl<'a> Value<'a> for TextValue<'a> {
    type ArrayIter = std::iter::Empty<TextValue<'a>>;
    type ObjectIter = std::iter::Empty<(&'a str, TextValue<'a>)>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        ReferenceValue::Leaf(match *self {
            TextValue::Str(text) => ReferenceValueLeaf::Str(text),
            TextValue::U64(number) => ReferenceValueLeaf::U64(number),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_document_holds_its_own_text_and_fields() {
        let (_, fields) = TextFields::schema();
        let texts = ["error: first", "", "ünïcode ✓", "##[warning]last"];
        let mut new = NewTexts::default();
        for (id, text) in (7..).zip(texts) {
            new.push(id, u64::from(id) * 10, text);
        }
        let docs: Vec<TextDoc> = new.take(fields).collect();
        assert!(new.entries.is_empty() && new.texts.is_empty());
        assert_eq!(docs.len(), texts.len());
        for (doc, (id, text)) in docs.iter().zip((7u32..).zip(texts)) {
            let values: Vec<(Field, String)> = doc
                .iter_fields_and_values()
                .map(|(field, value)| match value {
                    TextValue::Str(s) => (field, s.to_owned()),
                    TextValue::U64(n) => (field, n.to_string()),
                })
                .collect();
            let signature = signature(text).unwrap_or(0);
            assert_eq!(
                values,
                [
                    (fields.id, id.to_string()),
                    (fields.key, (u64::from(id) * 10).to_string()),
                    (fields.text, text.to_owned()),
                    (fields.level, Level::of(text).as_str().to_owned()),
                    (fields.signature, signature.to_string()),
                ]
            );
            assert_eq!(doc.id(), id);
        }
    }
}
