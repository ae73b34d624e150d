//! Attempt records: what the index holds of each attempt.

use tantivy::query::{BooleanQuery, Occur, Query as TantivyQuery};

use super::collect::{StepCollector, search};
use crate::error::Result;
use crate::index::Index;
use crate::model::AttemptRecord;
use crate::schema::{KIND_ATTEMPT, attempt_key, keyword, keyword_query as term};
use crate::stored;

impl Index {
    /// The record of an attempt, if the index has one.
    pub fn attempt(
        &self,
        repo: &str,
        run_id: u64,
        run_attempt: u32,
    ) -> Result<Option<AttemptRecord>> {
        let key = attempt_key(repo, run_id, run_attempt);
        let query = BooleanQuery::new(vec![
            (Occur::Must, term(self.step_fields.kind, KIND_ATTEMPT)),
            (Occur::Must, term(self.step_fields.attempt_key, &key)),
        ]);
        Ok(self.records(&query)?.pop())
    }

    /// Every attempt record, of one repository or all.
    pub fn attempts(&self, repo: Option<&str>) -> Result<Vec<AttemptRecord>> {
        let mut clauses = vec![(Occur::Must, term(self.step_fields.kind, KIND_ATTEMPT))];
        if let Some(repo) = repo {
            clauses.push((Occur::Must, term(self.step_fields.repo, repo)));
        }
        let mut records = self.records(&BooleanQuery::new(clauses))?;
        records.sort_by(|a, b| {
            let key = |r: &AttemptRecord| {
                (
                    keyword(&r.attempt.repo),
                    r.attempt.run_id,
                    r.attempt.run_attempt,
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(records)
    }

    fn records(&self, query: &dyn TantivyQuery) -> Result<Vec<AttemptRecord>> {
        let (_, steps) = self.searchers();
        let store = self.step_store(&steps)?;
        let mut records = Vec::new();
        for found in search(&steps, query, &StepCollector)? {
            records.push(
                store
                    .meta::<stored::Record>(found.address, "an attempt record")?
                    .into_public(),
            );
        }
        Ok(records)
    }
}
