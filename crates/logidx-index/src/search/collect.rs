//! Collectors that gather every match of a tantivy query: texts with their ids, steps with their
//! time spans. Searches rank and page lines themselves, so they need every match, unsorted.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Query as TantivyQuery;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use crate::error::{Result, TantivyContext};

/// A text matched by a query: its dense id and its score.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextMatch {
    pub(crate) id: u32,
    pub(crate) score: Score,
}

/// Collects every matching text with its id, read from the `id` fast field.
pub(crate) struct TextCollector {
    pub(crate) scored: bool,
}

pub(crate) struct TextSegmentCollector {
    ids: Column<u64>,
    matches: Vec<TextMatch>,
}

impl Collector for TextCollector {
    type Fruit = Vec<TextMatch>;
    type Child = TextSegmentCollector;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<TextSegmentCollector> {
        Ok(TextSegmentCollector {
            ids: reader.fast_fields().u64("id")?,
            matches: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scored
    }

    fn merge_fruits(&self, fruits: Vec<Vec<TextMatch>>) -> tantivy::Result<Vec<TextMatch>> {
        Ok(fruits.concat())
    }
}

impl SegmentCollector for TextSegmentCollector {
    type Fruit = Vec<TextMatch>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if let Some(id) = self.ids.first(doc) {
            self.matches.push(TextMatch {
                id: id as u32,
                score,
            });
        }
    }

    fn harvest(self) -> Vec<TextMatch> {
        self.matches
    }
}

/// A step (or attempt record) matched by the filters, with its time span.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepMatch {
    pub(crate) address: DocAddress,
    pub(crate) first_time: i64,
    pub(crate) last_time: i64,
}

/// Collects every matching step with its first and last line timestamps.
pub(crate) struct StepCollector;

pub(crate) struct StepSegmentCollector {
    segment: SegmentOrdinal,
    first: Column<i64>,
    last: Column<i64>,
    matches: Vec<StepMatch>,
}

impl Collector for StepCollector {
    type Fruit = Vec<StepMatch>;
    type Child = StepSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<StepSegmentCollector> {
        Ok(StepSegmentCollector {
            segment,
            first: reader.fast_fields().i64("first_time")?,
            last: reader.fast_fields().i64("last_time")?,
            matches: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<StepMatch>>) -> tantivy::Result<Vec<StepMatch>> {
        Ok(fruits.concat())
    }
}

impl SegmentCollector for StepSegmentCollector {
    type Fruit = Vec<StepMatch>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.matches.push(StepMatch {
            address: DocAddress::new(self.segment, doc),
            first_time: self.first.first(doc).unwrap_or(i64::MIN),
            last_time: self.last.first(doc).unwrap_or(i64::MAX),
        });
    }

    fn harvest(self) -> Vec<StepMatch> {
        self.matches
    }
}

/// Runs `query` on `searcher`, naming the failure.
pub(crate) fn search<C: Collector>(
    searcher: &Searcher,
    query: &dyn TantivyQuery,
    collector: &C,
) -> Result<C::Fruit> {
    searcher.search(query, collector).doing("searching")
}
