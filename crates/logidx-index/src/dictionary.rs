//! The writer's dictionary: each distinct text's dense id, found without storing the texts
//! twice.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

use tantivy::Searcher;
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{Result, TantivyContext};
use crate::index::Index;
use crate::text_doc::NewTexts;

/// Text → dense id, exact: a 32-bit key finds the candidate, the text itself confirms it.
///
/// Kept small, because a lookup's cost is its cache misses: at 1 GB of logs the table holds
/// over a million texts, and 32-byte entries (a key and the text's place) did not fit the
/// caches. An entry is a key and an id (8 bytes); the id finds the text, since those this
/// writer added lie one after another in id order.
pub(crate) struct Dictionary {
    /// Key → the id of one text with that key; the others with it are in `collided`.
    by_key: HashMap<u32, u32, BuildHasherDefault<SpreadKey>>,
    /// The texts this writer added, one after another in id order. One allocation per text,
    /// and freeing them all when the writer was dropped, cost a sixth of the writer's thread
    /// when no line repeats. A forgotten text's bytes stay until the writer is dropped.
    texts: String,
    /// Per text this writer added (by id from `first_added`): where it ends in `texts` (it
    /// starts where the previous one ends), with [`FORGOTTEN`] set once it is collected.
    ends: Vec<usize>,
    /// Per text this writer added: the id of the line that followed it the last time it was
    /// met, to guess the next line's id without hashing.
    followed_by: Vec<u32>,
    first_added: u32,
    /// Texts committed before the writer started, read from the index when a lookup found
    /// their key: once each.
    read: HashMap<u32, Box<str>>,
    /// Texts whose key another text already has (at a million texts, about one in 4,300).
    collided: HashMap<Box<str>, u32>,
    /// The id [`Dictionary::id_of`] last returned, and the id the line would have had, had it
    /// gone on with the sequence being repeated (see [`Dictionary::id_of`]).
    last: u32,
    expected: u32,
    pub(crate) next_id: u32,
    /// The committed texts when the writer started, to read a candidate's text once.
    committed: Searcher,
    /// The texts added since the writer last sent them to tantivy.
    pub(crate) new_texts: NewTexts,
}

/// Set in [`Dictionary::ends`] for a text forgotten.
const FORGOTTEN: usize = 1 << (usize::BITS - 1);

impl Dictionary {
    pub(crate) fn load(index: &Index) -> Result<Dictionary> {
        let (committed, _) = index.searchers();
        let mut by_key = HashMap::default();
        let mut colliding_ids = Vec::new();
        let mut max_id = None;
        for_each_text(&committed, "loading the dictionary", |id, key| {
            max_id = max_id.max(Some(id));
            match by_key.entry(key) {
                Entry::Occupied(_) => colliding_ids.push(id),
                Entry::Vacant(vacant) => {
                    vacant.insert(id);
                }
            }
        })?;
        let mut collided = HashMap::new();
        for (id, text) in index.read_texts(&committed, colliding_ids)? {
            collided.insert(text.into_boxed_str(), id);
        }
        let payload = index
            .texts
            .load_metas()
            .doing("loading the dictionary")?
            .payload;
        // Ids of collected texts are never reused: a reader's older snapshot may still show them.
        let next_id = payload
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
            .max(max_id.map_or(0, |m| m + 1));
        Ok(Dictionary {
            by_key,
            texts: String::new(),
            ends: Vec::new(),
            followed_by: Vec::new(),
            first_added: next_id,
            read: HashMap::new(),
            collided,
            last: u32::MAX,
            expected: u32::MAX,
            next_id,
            committed,
            new_texts: NewTexts::default(),
        })
    }

    /// The id of `text`; a new text is given the next id and gathered in
    /// [`Dictionary::new_texts`], to be sent before any step that refers to it.
    ///
    /// A step that repeats an earlier one (the common case in CI) meets its texts in the order
    /// they were first met, so three guesses are checked before the hash table, whose cache
    /// miss was half of the writer thread's lookups: the id after the previous line's (ids are
    /// given in first-met order); the id after the expected one, past a line that differs
    /// from the one repeated (a duration, a temporary path); and the id that followed the
    /// previous line's the last time. On fakehub's corpus (7% distinct lines) they leave 18% of
    /// the lines to the table, two in five of those new; the guess after the previous line's
    /// alone left 37%. Only texts this writer added are guessed: those committed before it
    /// always go through the table (and are read from the index once).
    pub(crate) fn id_of(&mut self, text: &str, index: &Index) -> Result<u32> {
        let followed_by = self
            .added_index(self.last)
            .map_or(u32::MAX, |last| self.followed_by[last]);
        for guess in [
            self.last.wrapping_add(1),
            self.expected.wrapping_add(1),
            followed_by,
        ] {
            if self.added_text(guess) == Some(text) {
                self.met(guess, guess);
                return Ok(guess);
            }
        }
        let id = self.look_up(text, index)?;
        self.met(id, self.expected.wrapping_add(1));
        Ok(id)
    }

    /// Records that a line has `id`, and where it leaves the sequence being repeated.
    fn met(&mut self, id: u32, expected: u32) {
        if let Some(last) = self.added_index(self.last) {
            self.followed_by[last] = id;
        }
        (self.last, self.expected) = (id, expected);
    }

    /// Where `id` is in [`Dictionary::ends`] and [`Dictionary::followed_by`], if this writer
    /// added it.
    fn added_index(&self, id: u32) -> Option<usize> {
        let index = id.checked_sub(self.first_added)? as usize;
        (index < self.ends.len()).then_some(index)
    }

    /// The text of `id` if this writer added it and has not forgotten it.
    fn added_text(&self, id: u32) -> Option<&str> {
        let index = self.added_index(id)?;
        let end = self.ends[index];
        let start = index
            .checked_sub(1)
            .map_or(0, |previous| self.ends[previous]);
        (end & FORGOTTEN == 0).then(|| &self.texts[start & !FORGOTTEN..end])
    }

    /// [`Dictionary::id_of`] by the text's key.
    fn look_up(&mut self, text: &str, index: &Index) -> Result<u32> {
        let key = text_key(text);
        let Some(&id) = self.by_key.get(&key) else {
            let id = self.add(text, key, index)?;
            self.by_key.insert(key, id);
            return Ok(id);
        };
        if self.text_of(id, index)? == Some(text) {
            return Ok(id);
        }
        if let Some(&id) = self.collided.get(text) {
            return Ok(id);
        }
        let id = self.add(text, key, index)?;
        self.collided.insert(text.into(), id);
        Ok(id)
    }

    /// The text of an id the table holds: added by this writer, or committed before it
    /// started (read from the index the first time). `None` for a text this writer forgot,
    /// which the table no longer holds.
    fn text_of(&mut self, id: u32, index: &Index) -> Result<Option<&str>> {
        if id >= self.first_added {
            let text = self.added_text(id);
            debug_assert!(text.is_some(), "the table holds forgotten text {id}");
            return Ok(text);
        }
        if !self.read.contains_key(&id) {
            let (_, stored) = index
                .read_texts(&self.committed, [id])?
                .into_iter()
                .next()
                .ok_or_else(|| index.corrupt(format!("text `{id}` is missing")))?;
            self.read.insert(id, stored.into_boxed_str());
        }
        Ok(self.read.get(&id).map(|text| &**text))
    }

    /// Gives `text` the next id, and gathers it in [`Dictionary::new_texts`].
    fn add(&mut self, text: &str, key: u32, index: &Index) -> Result<u32> {
        let id = self.next_id;
        self.next_id = id
            .checked_add(1)
            .ok_or_else(|| index.corrupt("more than 2^32 distinct texts"))?;
        self.new_texts.push(id, u64::from(key), text);
        self.texts.push_str(text);
        self.ends.push(self.texts.len());
        self.followed_by.push(u32::MAX);
        Ok(id)
    }

    pub(crate) fn forget(&mut self, key: u32, id: u32) {
        if self.by_key.get(&key) == Some(&id) {
            self.by_key.remove(&key);
        }
        self.collided.retain(|_, known| *known != id);
        self.read.remove(&id);
        if let Some(index) = self.added_index(id) {
            self.ends[index] |= FORGOTTEN;
        }
    }
}

/// Calls `each` with the id and key of every live text in `texts`, read from fast fields.
pub(crate) fn for_each_text(
    texts: &Searcher,
    doing: &'static str,
    mut each: impl FnMut(u32, u32),
) -> Result<()> {
    for segment in texts.segment_readers() {
        let ids = segment.fast_fields().u64("id").doing(doing)?;
        let keys = segment.fast_fields().u64("key").doing(doing)?;
        for doc in segment.doc_ids_alive() {
            if let (Some(id), Some(key)) = (ids.first(doc), keys.first(doc)) {
                // Both were written from 32-bit values.
                each(id as u32, key as u32);
            }
        }
    }
    Ok(())
}

/// A text's dictionary key, stored with it: 32 bits of its xxh3. Two texts with one key are
/// told apart by comparing them, so the width only sets how often that happens (at a million
/// texts, for about one in 4,300), while 64 bits would cost 4% of the index on disk.
fn text_key(text: &str) -> u32 {
    (xxh3_64(text.as_bytes()) >> 32) as u32
}

/// Keys are already hashes, but of 32 bits: one multiplication spreads them over the 64 bits
/// the table uses (its control bytes come from the top bits), cheaper than hashing them again.
#[derive(Default)]
struct SpreadKey(u64);

impl Hasher for SpreadKey {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = u64::from(value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;
    use crate::writer::tests::{attempt, run, runs_of_hits, step};

    /// Two texts of the form `line N` whose keys are equal, found by a birthday search.
    fn colliding_texts() -> (String, String) {
        let mut seen = HashMap::new();
        for n in 0u64.. {
            let text = format!("line {n}");
            if let Some(other) = seen.insert(text_key(&text), text.clone()) {
                return (other, text);
            }
        }
        unreachable!("a 32-bit key repeats within 2^32 + 1 texts")
    }

    /// The dictionary guesses a line's id from the previous line's: a text collected in the
    /// meantime is never guessed, though its id comes next. The text added again after it is
    /// then guessed, and found where the collected one's bytes end.
    #[test]
    fn a_collected_text_met_again_is_indexed_again() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(1), &[step(&["kept", "collected"])])
            .unwrap();
        writer.add_attempt(&attempt(2), &[step(&["kept"])]).unwrap();
        assert_eq!(writer.delete(&run(1)).unwrap().texts, 1);
        for run in [3, 4] {
            writer
                .add_attempt(&attempt(run), &[step(&["kept", "collected"])])
                .unwrap();
        }
        writer.commit().unwrap();
        drop(writer);
        assert_eq!(runs_of_hits(&index, "collected"), [3, 4]);
    }

    /// A text committed before the writer started, read by it, then collected by it: met
    /// again, it is a new text, not the collected one.
    #[test]
    fn a_text_read_then_collected_by_a_later_writer_is_indexed_again() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(1), &[step(&["kept", "collected"])])
            .unwrap();
        writer.commit().unwrap();
        drop(writer);
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(2), &[step(&["collected"])])
            .unwrap();
        for run_id in [1, 2] {
            writer.delete(&run(run_id)).unwrap();
        }
        writer
            .add_attempt(&attempt(3), &[step(&["collected"])])
            .unwrap();
        writer.commit().unwrap();
        drop(writer);
        assert_eq!(runs_of_hits(&index, "collected"), [3]);
    }

    #[test]
    fn texts_sharing_a_key_keep_their_own_ids_across_writers() {
        let (first, second) = colliding_texts();
        assert_ne!(first, second);
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(1), &[step(&[&first, &second])])
            .unwrap();
        writer.commit().unwrap();
        drop(writer);
        // A new writer loads both from disk: the second one met must be read to tell them apart.
        let mut writer = index.writer().unwrap();
        writer
            .add_attempt(&attempt(2), &[step(&[&second, &first, &second])])
            .unwrap();
        writer.commit().unwrap();
        drop(writer);
        for (text, expected) in [(&first, 2), (&second, 3)] {
            let query = Query::parse(&format!("\"{text}\"")).unwrap().limit(10);
            let hits = index.search(&query).unwrap();
            assert_eq!(hits.len(), expected, "{text}");
            assert!(hits.iter().all(|hit| &hit.text == text), "{text}: {hits:?}");
        }
    }
}
