//! Inflating an entry in bounded chunks, its size and CRC checked as they come.
//!
//! An entry is never held whole: each chunk of at most [`CHUNK_BYTES`] goes to the caller
//! (the line parser) before the next is inflated, so memory per entry is bounded whatever its
//! size. The compressed bytes come from any `BufRead`: the archive's own bytes when it is in
//! memory (no copy; `&[u8]` is a `BufRead`), a buffered reader over its file otherwise. One
//! decompressor and one output buffer per worker, reused from entry to entry.

use std::io::BufRead;

use flate2::{Decompress, FlushDecompress, Status};
use zip::CompressionMethod;

use crate::error::Corruption;

/// Most inflated bytes handed on at once.
pub(crate) const CHUNK_BYTES: usize = 256 << 10;

/// What an entry declares of itself, checked while it is inflated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Declared {
    pub(crate) method: CompressionMethod,
    pub(crate) size: u64,
    pub(crate) crc32: u32,
}

/// Why inflating stopped early: the entry is corrupt, or the caller said so.
#[derive(Debug)]
pub(crate) enum Stop<E> {
    Corrupt(Corruption),
    Caller(E),
}

/// A decompressor and its output, reused from entry to entry.
pub(crate) struct Inflater {
    decompress: Decompress,
    /// [`CHUNK_BYTES`], zeroed once: inflating writes into it in place.
    out: Vec<u8>,
}

impl Default for Inflater {
    fn default() -> Inflater {
        Inflater {
            // Zip entries are raw deflate streams, without a zlib header.
            decompress: Decompress::new(false),
            out: vec![0; CHUNK_BYTES],
        }
    }
}

impl Inflater {
    /// Inflates the entry whose compressed bytes `input` reads, handing each chunk to
    /// `chunk` in order. It must inflate to exactly the size it declares (inflating stops
    /// within a chunk of going past it) with the CRC it declares.
    pub(crate) fn inflate<E>(
        &mut self,
        mut input: impl BufRead,
        declared: Declared,
        mut chunk: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), Stop<E>> {
        let mut total = 0u64;
        let mut crc = crc32fast::Hasher::new();
        let mut take = |bytes: &[u8]| {
            total += bytes.len() as u64;
            if total > declared.size {
                return Err(Stop::Corrupt(Corruption::MoreThanDeclared {
                    declared: declared.size,
                }));
            }
            crc.update(bytes);
            chunk(bytes).map_err(Stop::Caller)
        };
        match declared.method {
            CompressionMethod::Stored => loop {
                let available = input.fill_buf().map_err(read_error)?;
                if available.is_empty() {
                    break;
                }
                let n = available.len().min(CHUNK_BYTES);
                take(&available[..n])?;
                input.consume(n);
            },
            CompressionMethod::Deflated => {
                let (decompress, out) = (&mut self.decompress, &mut self.out);
                decompress.reset(false);
                let mut idle = 0;
                loop {
                    let available = input.fill_buf().map_err(read_error)?;
                    let flush = if available.is_empty() {
                        FlushDecompress::Finish
                    } else {
                        FlushDecompress::None
                    };
                    let (read, written) = (decompress.total_in(), decompress.total_out());
                    let status = decompress
                        .decompress(available, out, flush)
                        .map_err(|e| Stop::Corrupt(Corruption::Inflate(e)))?;
                    let read = (decompress.total_in() - read) as usize;
                    let written = (decompress.total_out() - written) as usize;
                    input.consume(read);
                    if written > 0 {
                        take(&out[..written])?;
                    }
                    if status == Status::StreamEnd {
                        break;
                    }
                    // No progress twice in a row: the stream wants bytes there are not.
                    idle = if read == 0 && written == 0 {
                        idle + 1
                    } else {
                        0
                    };
                    if idle >= 2 {
                        return Err(Stop::Corrupt(Corruption::EndsEarly));
                    }
                }
            }
            method => return Err(Stop::Corrupt(Corruption::Method(method))),
        }
        if total != declared.size {
            return Err(Stop::Corrupt(Corruption::SizeMismatch {
                inflated: total,
                declared: declared.size,
            }));
        }
        if crc.finalize() != declared.crc32 {
            return Err(Stop::Corrupt(Corruption::CrcMismatch));
        }
        Ok(())
    }
}

fn read_error<E>(error: std::io::Error) -> Stop<E> {
    Stop::Corrupt(Corruption::Read(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn declared(data: &[u8]) -> Declared {
        Declared {
            method: CompressionMethod::Deflated,
            size: data.len() as u64,
            crc32: crc32fast::hash(data),
        }
    }

    #[test]
    fn chunks_are_bounded_and_make_the_whole() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let compressed = deflate(&data);
        let mut whole = Vec::new();
        let mut inflater = Inflater::default();
        // From memory and through a small buffered reader alike.
        for input in [
            Box::new(&compressed[..]) as Box<dyn BufRead>,
            Box::new(std::io::BufReader::with_capacity(
                1000,
                std::io::Cursor::new(&compressed),
            )),
        ] {
            whole.clear();
            inflater
                .inflate(input, declared(&data), |chunk| {
                    assert!(chunk.len() <= CHUNK_BYTES);
                    whole.extend_from_slice(chunk);
                    Ok::<(), ()>(())
                })
                .unwrap();
            assert_eq!(whole, data);
        }
    }

    #[test]
    fn an_entry_inflating_past_its_declared_size_stops_within_a_chunk() {
        let data = vec![b'0'; 64 << 20];
        let compressed = deflate(&data);
        let mut lie = declared(&data);
        lie.size = 100;
        let mut inflated = 0;
        let result = Inflater::default().inflate(&compressed[..], lie, |chunk| {
            inflated += chunk.len();
            Ok::<(), ()>(())
        });
        assert!(matches!(
            result,
            Err(Stop::Corrupt(Corruption::MoreThanDeclared {
                declared: 100
            }))
        ));
        assert!(inflated <= CHUNK_BYTES, "{inflated}");
    }
}
