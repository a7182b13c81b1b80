//! Entry points for the fuzz targets (`fuzz/` at the repository root) and for the test that
//! replays their saved corpora (`tests/fuzz_corpus.rs`).
//!
//! Each takes arbitrary bytes and runs them through the same code as a real input, consuming
//! every record, so that the whole parse is done. None of them may panic, hang or use memory out
//! of proportion to the input, whatever the bytes: a panic is a bug in the crate, not in the
//! input. Errors (bad records, unreadable files) are the expected outcome for most inputs and
//! are dropped.

use std::io::Cursor;

use crate::chunk::{ChunkPool, Chunker};
use crate::error::{RecordError, SourceError};
use crate::source::{Records, visit_reader};
use pubmine_stream::record::DocumentRecord;

/// The smallest chunk [`Chunker`] cuts; the fuzz targets chunk at this size so that inputs of a
/// few KB already cross chunk boundaries (records carried over, a record larger than a chunk).
const SMALL_CHUNK: usize = 4096;

/// Counts what a record iterator yields, reading it to the end.
fn drain(records: impl Iterator<Item = Result<DocumentRecord, RecordError>>) -> usize {
    let mut n = 0;
    for r in records {
        // Look at the record, so that nothing of it is optimised away.
        n += match r {
            Ok(DocumentRecord::Upsert(doc)) => 1 + doc.passages.len(),
            Ok(DocumentRecord::Delete(id)) => id.len(),
            Err(e) => e.reason.len(),
        };
    }
    n
}

/// The bytes as a MEDLINE XML stream, read by the parser that
/// [`crate::medline::MedlineParser`] uses: chunked (small chunks), parsed on one worker thread.
pub fn medline(data: &[u8]) -> usize {
    let chunker = Chunker::new(Cursor::new(data), crate::medline::RECORD_NAMES, SMALL_CHUNK);
    let pool = ChunkPool::new(chunker, 1, crate::medline::parse_chunk);
    drain(pool.flat_map(|chunk| chunk.unwrap_or_default()))
}

/// The bytes as a JATS XML stream (an article, an article set, an OAI-PMH response), read as
/// [`crate::jats::JatsParser`] reads one, with small chunks and one worker thread.
pub fn jats(data: &[u8]) -> usize {
    let chunker = Chunker::new(Cursor::new(data), crate::jats::RECORD_NAMES, SMALL_CHUNK);
    let pool = ChunkPool::new(chunker, 1, crate::jats::parse_chunk);
    drain(pool.flat_map(|chunk| chunk.unwrap_or_default()))
}

/// The bytes as the content of an input file, read by [`crate::source::visit_reader`] as
/// [`crate::source::visit_file`] reads a file: as a `.tar.gz` package, and as a plain or
/// gzip-compressed XML file (sniffed, then parsed as MEDLINE or JATS). Bytes that are not gzip
/// are also gzip-compressed here and read as a package, so that raw tar bytes reach the tar
/// reader (a fuzzer mutating compressed bytes rarely gets past the decompressor).
pub fn source(data: &[u8]) -> usize {
    let mut n = visit(data, true) + visit(data, false);
    if !data.starts_with(&[0x1f, 0x8b]) {
        n += visit(&gzip(data), true);
    }
    n
}

fn visit(data: &[u8], archive: bool) -> usize {
    let mut n = 0;
    let mut on_record = |_: &str, records: Records<'_>| {
        n += drain(records);
        true
    };
    let mut errors = 0;
    let mut on_error = |_: SourceError| errors += 1;
    let name = if archive {
        "fuzz.tar.gz"
    } else {
        "fuzz.xml.gz"
    };
    let result = visit_reader(
        Cursor::new(data),
        name,
        archive,
        &mut on_record,
        &mut on_error,
    );
    n + errors + usize::from(result.is_err())
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(data);
    gz.finish().unwrap_or_default()
}
