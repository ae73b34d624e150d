//! Opening an index directory: the schema version, the two tantivy indexes and their readers.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tantivy::directory::FileSlice;
use tantivy::directory::error::OpenReadError;
use tantivy::index::SegmentComponent;
use tantivy::plugin::SegmentPlugin;
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{
    IndexReader, IndexSettings, ReloadPolicy, Searcher, SearcherGeneration, TantivyError, Warmer,
};

use crate::error::{Error, Result, TantivyContext};
use crate::id_table::IdTablePlugin;
use crate::read_only::ReadOnlyDirectory;
use crate::schema::{StepFields, TextFields, tokenizers};
use crate::sequence_store::SequencePlugin;
use crate::store::StepStore;
use crate::text_postings::TextPostingsPlugin;
use crate::web_bases::WebBases;
use crate::write_directory::{WriteDirectory, WriteFailures};
use crate::writer::{Writer, WriterOptions};

/// The schema version this build reads and writes; any other is refused, never misread.
pub const SCHEMA_VERSION: u32 = 12;

const VERSION_FILE: &str = "logidx-index-version";

/// zstd level of the document stores.
const ZSTD_LEVEL: i32 = 3;

/// Uncompressed bytes of a document-store block (tantivy's default is 16 KiB): larger blocks
/// compress the steps' metadata better, and a search decompresses a whole block for each step
/// it loads. Of 16, 32 and 64 KiB, measured while the store also held the line sequences
/// (BENCHMARKS.md), 32 KiB was best.
const STORE_BLOCK_BYTES: usize = 32 * 1024;

/// Decompressed store blocks kept for loading steps, as many as tantivy's searcher keeps.
const STORE_CACHE_BLOCKS: usize = 100;

/// A logidx index directory, open for searching; [`Index::writer`] adds to it.
///
/// Readers see the last commit at open or at [`Index::reload`], and keep working while a
/// writer (in this or another process) commits.
pub struct Index {
    pub(crate) dir: PathBuf,
    pub(crate) texts: tantivy::Index,
    pub(crate) steps: tantivy::Index,
    pub(crate) text_fields: TextFields,
    pub(crate) step_fields: StepFields,
    texts_reader: IndexReader,
    steps_reader: IndexReader,
    /// Hold the files of our own of the searchers' segments open (tantivy holds only weak
    /// references to its warmers).
    _keep_open: [Arc<KeepOpen>; 2],
    /// The steps' stores of the last searcher generation used.
    step_store: Mutex<Option<(u64, Arc<StepStore>)>>,
    /// Opened with [`Index::open_read_only`]: no writer, nothing written.
    read_only: bool,
    /// Each repository's web base, as of the last open or reload.
    pub(crate) web_bases: RwLock<Arc<WebBases>>,
    /// The first write of the two indexes that failed, for [`Index::with_write_failure`].
    write_failures: Arc<WriteFailures>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Index {
    /// Opens the index in `dir`, creating it (and `dir`) if there is none.
    ///
    /// Fails if `dir` holds an index of another schema version, or something else.
    pub fn open(dir: impl AsRef<Path>) -> Result<Index> {
        Index::open_with(dir.as_ref(), false, WriteFailures::new(None))
    }

    /// Opens the index in `dir` as [`Index::open`] does, but every write of its indexes fails
    /// as on a full disk (ENOSPC) once `bytes` have been written: for tests of what a disk
    /// that fills does, where no small file system can be mounted.
    #[doc(hidden)]
    pub fn open_failing_writes_after(dir: impl AsRef<Path>, bytes: u64) -> Result<Index> {
        Index::open_with(dir.as_ref(), false, WriteFailures::new(Some(bytes)))
    }

    /// Opens the index in `dir` for searching only: nothing is created or written and no lock
    /// file is made, so it needs only read access (another user's index, a read-only copy).
    /// [`Index::writer`] on it fails.
    pub fn open_read_only(dir: impl AsRef<Path>) -> Result<Index> {
        Index::open_with(dir.as_ref(), true, WriteFailures::new(None))
    }

    fn open_with(dir: &Path, read_only: bool, write_failures: Arc<WriteFailures>) -> Result<Index> {
        let dir = dir.to_path_buf();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        if !read_only {
            fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        let version_path = dir.join(VERSION_FILE);
        match fs::read_to_string(&version_path) {
            Ok(found) if found.trim() == SCHEMA_VERSION.to_string() => {}
            Ok(found) => {
                return Err(Error::SchemaVersion {
                    path: dir,
                    found: found.trim().to_owned(),
                    expected: SCHEMA_VERSION,
                });
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let empty = fs::read_dir(&dir).map_err(io(&dir))?.next().is_none();
                if !empty || read_only {
                    let found = if empty {
                        "none (the directory is empty)"
                    } else {
                        "none (the directory holds something else)"
                    };
                    return Err(Error::SchemaVersion {
                        path: dir,
                        found: found.to_owned(),
                        expected: SCHEMA_VERSION,
                    });
                }
                create_index_dirs(&dir)?;
                // Written last: a directory without it was never a complete index.
                fs::write(&version_path, SCHEMA_VERSION.to_string()).map_err(io(&version_path))?;
            }
            Err(err) => return Err(io(&version_path)(err)),
        }
        let (text_schema, text_fields) = TextFields::schema();
        let (step_schema, step_fields) = StepFields::schema();
        let writes = (!read_only).then_some(&write_failures);
        let texts = open_tantivy(&dir, "texts", writes)?;
        let steps = open_tantivy(&dir, "steps", writes)?;
        // Fields are read by position: a build between releases may have written this version
        // with other fields, and that index would be misread, not refused.
        if texts.schema() != text_schema || steps.schema() != step_schema {
            return Err(Error::SchemaVersion {
                path: dir,
                found: format!("{SCHEMA_VERSION}, but with other fields"),
                expected: SCHEMA_VERSION,
            });
        }
        let reader = |index: &tantivy::Index, name: &str, keep_open: &Arc<KeepOpen>| {
            let warmer: Arc<dyn Warmer> = keep_open.clone();
            while_files_vanish(|| {
                index
                    .reader_builder()
                    .reload_policy(ReloadPolicy::Manual)
                    .warmers(vec![Arc::downgrade(&warmer)])
                    .try_into()
            })
            .map_err(|error| reading(&dir, name, "opening a reader", error))
        };
        let keep_open = [KeepOpen::new("texts"), KeepOpen::new("steps")];
        let web_bases = RwLock::new(Arc::new(WebBases::load(&dir)?));
        Ok(Index {
            texts_reader: reader(&texts, "texts", &keep_open[0])?,
            steps_reader: reader(&steps, "steps", &keep_open[1])?,
            _keep_open: keep_open,
            dir,
            texts,
            steps,
            text_fields,
            step_fields,
            step_store: Mutex::new(None),
            read_only,
            web_bases,
            write_failures,
        })
    }

    /// `error`, or, when a write of the index failed since the last call (a full disk), that
    /// write's file and cause ([`Error::Write`]): tantivy's own error then says only that its
    /// commit or indexing thread failed. Each failed write is reported once.
    pub fn with_write_failure(&self, error: Error) -> Error {
        match (error, self.write_failures.take()) {
            (error @ Error::Write { .. }, _) | (error, None) => error,
            (_, Some((path, source))) => Error::Write { path, source },
        }
    }

    /// The index directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Takes the writer lock and starts a [`Writer`] with default options.
    pub fn writer(&self) -> Result<Writer<'_>> {
        self.writer_with(WriterOptions::default())
    }

    /// Takes the writer lock and starts a [`Writer`] with `options`.
    pub fn writer_with(&self, options: WriterOptions) -> Result<Writer<'_>> {
        if self.read_only {
            return Err(Error::ReadOnly {
                path: self.dir.clone(),
            });
        }
        Writer::new(self, options)
    }

    /// The web base `repo`'s data was synced from (`https://github.com`, a GitHub Enterprise
    /// host), as [`crate::Writer::set_web_base`] recorded it; `None` for an index from before
    /// it was recorded.
    pub fn web_base(&self, repo: &str) -> Option<String> {
        self.web_bases().get(repo).map(str::to_owned)
    }

    pub(crate) fn web_bases(&self) -> Arc<WebBases> {
        Arc::clone(
            &self
                .web_bases
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Makes searches see the latest commit.
    pub fn reload(&self) -> Result<()> {
        *self
            .web_bases
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(WebBases::load(&self.dir)?);
        // Steps first: texts are committed before the steps that use them, so any steps this
        // reload sees have their texts in the texts reloaded after.
        while_files_vanish(|| self.steps_reader.reload())
            .map_err(|error| reading(&self.dir, "steps", "reloading the steps", error))?;
        // The kept store holds the old segments' files open.
        *self
            .step_store
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        while_files_vanish(|| self.texts_reader.reload())
            .map_err(|error| reading(&self.dir, "texts", "reloading the texts", error))
    }

    pub(crate) fn searchers(&self) -> (Searcher, Searcher) {
        (self.texts_reader.searcher(), self.steps_reader.searcher())
    }

    /// The stores of `steps` (metadata and line sequences), kept from one search to the next
    /// while the searcher's generation lasts, so that repeated searches find their blocks
    /// decompressed (as tantivy's searcher keeps its own).
    pub(crate) fn step_store(&self, steps: &Searcher) -> Result<Arc<StepStore>> {
        let generation = steps.generation().generation_id();
        let mut kept = self
            .step_store
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((kept_generation, store)) = &*kept
            && *kept_generation == generation
        {
            return Ok(Arc::clone(store));
        }
        let store = Arc::new(StepStore::open(self, steps, STORE_CACHE_BLOCKS)?);
        *kept = Some((generation, Arc::clone(&store)));
        Ok(store)
    }

    pub(crate) fn corrupt(&self, what: impl Into<String>) -> Error {
        Error::Corrupt {
            path: self.dir.clone(),
            what: what.into(),
            source: None,
        }
    }

    /// A file of the index (as `segment_file::name` names it) that does not decode.
    pub(crate) fn corrupt_file(&self, file: &str, source: impl Into<std::io::Error>) -> Error {
        Error::Corrupt {
            path: self.dir.clone(),
            what: format!("`{file}`"),
            source: Some(source.into()),
        }
    }
}

/// A reader's failure to open a segment's file is a damaged file of the index, named as
/// `segment_file::name` names them (tantivy's own message buries it): other errors are
/// tantivy's, while doing `action`.
fn reading(dir: &Path, name: &str, action: &'static str, error: TantivyError) -> Error {
    let damaged = |file: &Path, source: std::io::Error| Error::Corrupt {
        path: dir.to_path_buf(),
        what: format!("`{name}/{}`", file.display()),
        source: Some(source),
    };
    match &error {
        TantivyError::OpenReadError(OpenReadError::IoError { io_error, filepath }) => damaged(
            filepath,
            std::io::Error::new(io_error.kind(), io_error.to_string()),
        ),
        TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(file)) => damaged(
            file,
            std::io::Error::new(std::io::ErrorKind::NotFound, "it is missing"),
        ),
        _ => Error::Tantivy {
            action,
            source: error,
        },
    }
}

fn create_index_dirs(dir: &Path) -> Result<()> {
    for (name, schema) in [
        ("texts", TextFields::schema().0),
        ("steps", StepFields::schema().0),
    ] {
        let path = dir.join(name);
        fs::create_dir_all(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        plugins(name)
            .into_iter()
            .fold(tantivy::Index::builder(), |builder, plugin| {
                builder.register_plugin(plugin)
            })
            .schema(schema)
            .settings(store_settings())
            .create_in_dir(&path)
            .doing("creating the index")?;
    }
    Ok(())
}

/// The segment components of our own that an index of ours (`texts` or `steps`) has.
fn plugins(name: &str) -> Vec<Arc<dyn SegmentPlugin>> {
    match name {
        "steps" => vec![SequencePlugin::new(), TextPostingsPlugin::new()],
        "texts" => vec![IdTablePlugin::new(TextFields::schema().1.id)],
        _ => Vec::new(),
    }
}

/// Runs `open` (which makes a searcher) again when a file it opens has vanished, a few times.
///
/// Tantivy opens a segment's own files under its lock on `meta.json`, but its warmers, and so
/// [`KeepOpen`], after: a merge that ends in between has its obsolete segments' files deleted,
/// and the next try reads the `meta.json` that no longer lists them.
fn while_files_vanish<T>(mut open: impl FnMut() -> tantivy::Result<T>) -> tantivy::Result<T> {
    const TRIES: usize = 5;
    let mut tries = 1;
    loop {
        match open() {
            Err(TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(_)))
                if tries < TRIES =>
            {
                tries += 1;
            }
            result => return result,
        }
    }
}

/// Keeps the files of our own ([`plugins`]) of each live searcher's segments open.
///
/// Tantivy opens its own files when it opens a segment, and on Unix an open file stays
/// readable after the garbage collector deletes it (once a merge has made its segment
/// obsolete). Ours are opened when first read, which may be after that: opened here when
/// a searcher is made, and kept until the searcher is gone, they stay in the directory's
/// cache of mappings, where a later open finds them.
struct KeepOpen {
    extensions: Vec<String>,
    /// Per searcher generation, its files of our own.
    open: Mutex<HashMap<u64, Vec<FileSlice>>>,
}

impl KeepOpen {
    fn new(name: &str) -> Arc<KeepOpen> {
        let extensions = plugins(name)
            .iter()
            .flat_map(|plugin| plugin.extensions().iter().map(|e| (*e).to_owned()))
            .collect();
        Arc::new(KeepOpen {
            extensions,
            open: Mutex::new(HashMap::new()),
        })
    }
}

impl Warmer for KeepOpen {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        let mut files = Vec::new();
        for segment in searcher.segment_readers() {
            for extension in &self.extensions {
                files.push(segment.open_read(SegmentComponent::Custom(extension.clone()))?);
            }
        }
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(searcher.generation().generation_id(), files);
        Ok(())
    }

    fn garbage_collect(&self, live: &[&SearcherGeneration]) {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|generation, _| live.iter().any(|g| g.generation_id() == *generation));
    }
}

/// Stored texts are a large part of the index: with zstd the whole index was a tenth smaller
/// than with lz4 (0.153× against 0.168× the text at 1 GB, when the store also held the line
/// sequences, which [`crate::sequence_store`] now compresses with zstd too).
fn store_settings() -> IndexSettings {
    IndexSettings {
        docstore_compression: Compressor::Zstd(ZstdCompressor {
            compression_level: Some(ZSTD_LEVEL),
        }),
        docstore_blocksize: STORE_BLOCK_BYTES,
        ..IndexSettings::default()
    }
}

/// Opens `dir/name`, to write when given where its failed writes go, else to read only.
fn open_tantivy(
    dir: &Path,
    name: &str,
    writes: Option<&Arc<WriteFailures>>,
) -> Result<tantivy::Index> {
    let path = dir.join(name);
    let mut index = match writes {
        None => ReadOnlyDirectory::open(&path).and_then(tantivy::Index::open),
        Some(failures) => {
            WriteDirectory::open(&path, Arc::clone(failures)).and_then(tantivy::Index::open)
        }
    }
    .doing("opening the index")?;
    index.set_tokenizers(tokenizers());
    for plugin in plugins(name) {
        index.register_plugin(plugin);
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::path::PathBuf;

    use super::*;

    fn vanished() -> TantivyError {
        TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(PathBuf::from("x.ids")))
    }

    #[test]
    fn opening_is_tried_again_while_files_vanish_then_given_up() {
        let tries = Cell::new(0);
        let third_time = while_files_vanish(|| {
            tries.set(tries.get() + 1);
            if tries.get() < 3 {
                Err(vanished())
            } else {
                Ok(tries.get())
            }
        });
        assert_eq!(third_time.unwrap(), 3);

        tries.set(0);
        let never = while_files_vanish(|| -> tantivy::Result<()> {
            tries.set(tries.get() + 1);
            Err(vanished())
        });
        assert!(matches!(never, Err(TantivyError::OpenReadError(_))));
        assert_eq!(tries.get(), 5);

        // Any other error is not tried again.
        tries.set(0);
        let other = while_files_vanish(|| -> tantivy::Result<()> {
            tries.set(tries.get() + 1);
            Err(TantivyError::InvalidArgument("no".to_owned()))
        });
        assert!(other.is_err());
        assert_eq!(tries.get(), 1);
    }
}
