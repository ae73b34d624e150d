//! Inflating a whole entry straight from the archive's bytes.
//!
//! The `zip` crate's reader copies the compressed bytes through a buffer, makes a decompressor
//! for every entry, and is read through `read_to_end`, which zeroes the output's spare room
//! before each read. Handing the entry's compressed bytes to one decompressor per worker, which
//! writes into the output's spare room directly, inflated fakehub's archives 20–25% faster.

use std::io;

use flate2::{Decompress, FlushDecompress, Status};
use zip::CompressionMethod;
use zip::read::ZipFile;

/// Why an entry was not inflated.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// It inflates past its limit.
    TooLarge,
    /// It cannot be read: corrupt, truncated, a CRC mismatch, encrypted or compressed in a way
    /// we do not read.
    Corrupt(io::Error),
}

/// A decompressor reused from entry to entry.
pub(crate) struct Inflater {
    decompress: Decompress,
}

impl Default for Inflater {
    fn default() -> Inflater {
        Inflater {
            // Zip entries are raw deflate streams, without a zlib header.
            decompress: Decompress::new(false),
        }
    }
}

impl Inflater {
    /// Inflates `file`, opened raw from an archive whose bytes are `archive`, into `buffer`
    /// (cleared first), checking its CRC; refuses it once it passes `limit` bytes, whatever
    /// its header declares.
    pub(crate) fn inflate<R: io::Read>(
        &mut self,
        archive: &[u8],
        file: &ZipFile<'_, R>,
        limit: u64,
        buffer: &mut Vec<u8>,
    ) -> Result<(), Refusal> {
        buffer.clear();
        if file.encrypted() {
            return Err(corrupt("the entry is encrypted"));
        }
        let input = file
            .data_start()
            .and_then(|start| {
                let start = usize::try_from(start).ok()?;
                let end = start.checked_add(usize::try_from(file.compressed_size()).ok()?)?;
                archive.get(start..end)
            })
            .ok_or_else(|| corrupt("the entry's data lies outside the archive"))?;
        match file.compression() {
            CompressionMethod::Stored => {
                if input.len() as u64 > limit {
                    return Err(Refusal::TooLarge);
                }
                buffer.extend_from_slice(input);
            }
            CompressionMethod::Deflated => self.deflated(input, file.size(), limit, buffer)?,
            method => {
                return Err(corrupt(&format!(
                    "compression method `{method}` is not read"
                )));
            }
        }
        if crc32fast::hash(buffer) != file.crc32() {
            return Err(corrupt("CRC mismatch"));
        }
        Ok(())
    }

    fn deflated(
        &mut self,
        input: &[u8],
        declared: u64,
        limit: u64,
        buffer: &mut Vec<u8>,
    ) -> Result<(), Refusal> {
        // Room for one byte past the limit, to tell an entry at its limit from one beyond.
        let most = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
        let room = usize::try_from(declared.saturating_add(1))
            .unwrap_or(usize::MAX)
            .min(most);
        if buffer.capacity() < room {
            // A new buffer, not a grown one: growing copies the old, cleared bytes.
            *buffer = Vec::with_capacity(room);
        }
        self.decompress.reset(false);
        loop {
            let read = self.decompress.total_in() as usize;
            let written = buffer.len();
            let status = self
                .decompress
                .decompress_vec(&input[read..], buffer, FlushDecompress::Finish)
                .map_err(io::Error::other)
                .map_err(Refusal::Corrupt)?;
            if buffer.len() as u64 > limit {
                return Err(Refusal::TooLarge);
            }
            match status {
                Status::StreamEnd => return Ok(()),
                Status::Ok | Status::BufError if buffer.len() == buffer.capacity() => {
                    // The header declared too little: more room, up to the limit's.
                    let more = buffer.len().max(4096).min(most - buffer.len());
                    buffer.reserve_exact(more);
                }
                Status::Ok | Status::BufError => {
                    let progress =
                        self.decompress.total_in() as usize > read || buffer.len() > written;
                    if !progress {
                        return Err(corrupt("the deflate stream ends early"));
                    }
                }
            }
        }
    }
}

fn corrupt(what: &str) -> Refusal {
    Refusal::Corrupt(io::Error::new(io::ErrorKind::InvalidData, what.to_owned()))
}
