//! Inflating a whole entry straight from the archive's bytes.
//!
//! The `zip` crate's reader copies the compressed bytes through a buffer, makes a decompressor
//! for every entry, and is read through `read_to_end`, which zeroes the output's spare room
//! before each read. One decompressor per worker, handed the entry's compressed bytes and an
//! output zeroed once, inflated fakehub's archives 20–25% faster.

use std::io;

use flate2::{Decompress, FlushDecompress, Status};
use zip::CompressionMethod;
use zip::read::ZipFile;

use crate::error::Corruption;

/// Why an entry was not inflated.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// It declares more than its limit.
    TooLarge,
    /// It cannot be read: corrupt, truncated, another size than it declares, a CRC mismatch,
    /// encrypted, or compressed in a way we do not read.
    Corrupt(Corruption),
}

/// A decompressor and its output, reused from entry to entry.
pub(crate) struct Inflater {
    decompress: Decompress,
    /// Initialised up to its length (zeroed when grown), the largest entry's so far: inflating
    /// writes into it in place.
    out: Vec<u8>,
}

impl Default for Inflater {
    fn default() -> Inflater {
        Inflater {
            // Zip entries are raw deflate streams, without a zlib header.
            decompress: Decompress::new(false),
            out: Vec::new(),
        }
    }
}

impl Inflater {
    /// The inflated bytes of `file`, opened raw from an archive whose bytes are `archive`:
    /// exactly as many as it declares (never more are inflated), with its CRC checked.
    /// Refused if it declares more than `limit`.
    pub(crate) fn inflate<'a, R: io::Read>(
        &'a mut self,
        archive: &'a [u8],
        file: &ZipFile<'_, R>,
        limit: u64,
    ) -> Result<&'a [u8], Refusal> {
        let declared = file.size();
        if declared > limit {
            return Err(Refusal::TooLarge);
        }
        if file.encrypted() {
            return Err(Refusal::Corrupt(Corruption::Encrypted));
        }
        let input = file
            .data_start()
            .and_then(|start| {
                let start = usize::try_from(start).ok()?;
                let end = start.checked_add(usize::try_from(file.compressed_size()).ok()?)?;
                archive.get(start..end)
            })
            .ok_or(Refusal::Corrupt(Corruption::OutsideArchive))?;
        let declared = usize::try_from(declared).map_err(|_| Refusal::TooLarge)?;
        let inflated = match file.compression() {
            CompressionMethod::Stored => input,
            CompressionMethod::Deflated => self.deflated(input, declared)?,
            method => return Err(Refusal::Corrupt(Corruption::Method(method))),
        };
        if inflated.len() != declared {
            return Err(Refusal::Corrupt(Corruption::SizeMismatch {
                inflated: inflated.len(),
                declared,
            }));
        }
        if crc32fast::hash(inflated) != file.crc32() {
            return Err(Refusal::Corrupt(Corruption::CrcMismatch));
        }
        Ok(inflated)
    }

    /// Inflates `input` into room for one byte more than `declared`, to tell an entry that
    /// lies about its size.
    fn deflated(&mut self, input: &[u8], declared: usize) -> Result<&[u8], Refusal> {
        let room = declared.saturating_add(1);
        if self.out.len() < room {
            // Zeroed anew, not grown: growing copies the old bytes.
            self.out = vec![0; room];
        }
        let (decompress, out) = (&mut self.decompress, &mut self.out[..room]);
        decompress.reset(false);
        loop {
            let (read, written) = (
                decompress.total_in() as usize,
                decompress.total_out() as usize,
            );
            let status = decompress
                .decompress(&input[read..], &mut out[written..], FlushDecompress::Finish)
                .map_err(|e| Refusal::Corrupt(Corruption::Inflate(e)))?;
            let (now_read, now_written) = (
                decompress.total_in() as usize,
                decompress.total_out() as usize,
            );
            if status == Status::StreamEnd {
                return Ok(&out[..now_written]);
            }
            if now_written == room {
                return Err(Refusal::Corrupt(Corruption::MoreThanDeclared { declared }));
            }
            if now_read == read && now_written == written {
                return Err(Refusal::Corrupt(Corruption::EndsEarly));
            }
        }
    }
}
