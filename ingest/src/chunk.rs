//! Cuts an XML stream into chunks of whole top-level records, so that records can be parsed
//! from memory without a copy per event, and in parallel, while memory stays flat.
//!
//! A chunk ends right after the last record end tag (such as `</PubmedArticle>`) found in the
//! bytes read so far; the rest is carried into the next chunk. Tags are found by a lexical scan
//! ([`crate::scan`]) that knows comments, CDATA sections, processing instructions, attribute
//! values and the DOCTYPE, so a `</PubmedArticle>` written inside one of them is no cut. Each
//! chunk carries the offsets of the record start tags in it, where a parser resynchronises after a
//! bad record.
//!
//! A record larger than the chunk size grows the chunk until its end tag arrives, up to
//! [`MAX_RECORD_BYTES`]: a larger record is skipped, unread, and reported (a poison record), and
//! the stream goes on after it. A stream that stops early (a read error, a truncated gzip, a file
//! cut inside a record or before its root element closes) ends with a fatal error after the last
//! whole record: what came before is kept, the cut-off tail is not passed on as a record.

use std::io::Read;

use pubmine_stream::record::DocumentRecord;

use crate::error::RecordError;
use crate::scan::{Found, Scanner};

/// The largest record read; a larger one is skipped and reported. PubMed records are a few KB,
/// the largest PMC articles tens of MB.
pub const MAX_RECORD_BYTES: usize = 128 << 20;

/// A run of whole records and its byte offset in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub base: u64,
    pub bytes: Vec<u8>,
    /// Offsets (in the stream) of the record start tags in `bytes`, in order.
    pub starts: Vec<u64>,
    /// What ends this chunk when it is not a record: a record too large (skipped), or the fatal
    /// error that ends the stream.
    pub trailer: Option<RecordError>,
}

/// Splits a stream between records whose elements have one of the given local names.
#[derive(Debug)]
pub struct Chunker<R> {
    inner: R,
    scanner: Scanner,
    target: usize,
    max_record: usize,
    /// Bytes read and not yet handed out, from offset `buf_base` of the stream.
    buf: Vec<u8>,
    buf_base: u64,
    starts: Vec<u64>,
    /// End of the last record end tag in `buf`: where the next chunk may be cut.
    last_end: Option<u64>,
    /// Skipping a record too large, which began here.
    discarding: Option<u64>,
    eof: bool,
    read_error: Option<std::io::Error>,
    done: bool,
}

impl<R: Read> Chunker<R> {
    /// Chunks of about `target` bytes (more when a record is larger), cut between records whose
    /// elements are named one of `names` (local names, as in `PubmedArticle`, `article`).
    pub fn new(inner: R, names: &'static [&'static str], target: usize) -> Self {
        Chunker {
            inner,
            scanner: Scanner::new(names),
            target: target.max(4096),
            max_record: MAX_RECORD_BYTES,
            buf: Vec::new(),
            buf_base: 0,
            starts: Vec::new(),
            last_end: None,
            discarding: None,
            eof: false,
            read_error: None,
            done: false,
        }
    }

    /// Sets the largest record read (bytes); larger ones are skipped and reported.
    pub fn with_max_record(mut self, bytes: usize) -> Self {
        self.max_record = bytes.max(self.target);
        self
    }

    /// Reads one more block; notes the end of the stream or a read error.
    fn fill(&mut self) {
        let want = self.target as u64;
        match (&mut self.inner).take(want).read_to_end(&mut self.buf) {
            Ok(got) if (got as u64) < want => self.eof = true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                // Bytes read before the error are in `buf`; nothing after them can be trusted.
                self.eof = true;
                self.read_error = Some(e);
            }
        }
    }

    /// Scans the bytes read so far, noting record starts and ends.
    fn scan(&mut self) {
        let mut found = Vec::new();
        self.scanner
            .scan(&self.buf, self.buf_base, self.eof, &mut |f| found.push(f));
        for f in found {
            match (self.discarding, f) {
                (Some(from), Found::Start(p)) if p > from => {
                    self.discarding = None;
                    self.drop_before(p);
                    self.starts.push(p);
                }
                (Some(_), Found::End(p)) => {
                    self.discarding = None;
                    self.drop_before(p);
                }
                (Some(_), _) => {}
                (None, Found::Start(p)) => self.starts.push(p),
                (None, Found::End(p)) => self.last_end = Some(p),
            }
        }
        if self.discarding.is_some() {
            let keep_from = self.scanner.needed_from();
            self.drop_before(keep_from);
        }
    }

    fn drop_before(&mut self, at: u64) {
        let n = (at.saturating_sub(self.buf_base) as usize).min(self.buf.len());
        self.buf.drain(..n);
        self.buf_base += n as u64;
        self.starts.retain(|&s| s >= at);
    }

    /// Hands out the bytes before `cut` as a chunk.
    fn emit(&mut self, cut: u64, trailer: Option<RecordError>) -> Chunk {
        let n = (cut.saturating_sub(self.buf_base) as usize).min(self.buf.len());
        // The bytes after the cut start the next chunk, in a buffer with room for a whole one
        // (no regrowing while it fills).
        let mut rest = Vec::with_capacity(self.buf.len() - n + self.target);
        rest.extend_from_slice(&self.buf[n..]);
        self.buf.truncate(n);
        let bytes = std::mem::replace(&mut self.buf, rest);
        let base = self.buf_base;
        self.buf_base += n as u64;
        let split = self.starts.partition_point(|&s| s < self.buf_base);
        let later = self.starts.split_off(split);
        let starts = std::mem::replace(&mut self.starts, later);
        if self.last_end.is_some_and(|e| e <= self.buf_base) {
            self.last_end = None;
        }
        Chunk {
            base,
            bytes,
            starts,
            trailer,
        }
    }

    /// The error that ends a stream which stopped early.
    fn cut_short(&self) -> RecordError {
        let at = self.buf_base + self.buf.len() as u64;
        let open = self.discarding.or(self.scanner.open_record());
        let mut e = match (&self.read_error, open) {
            (Some(err), _) => RecordError::new(at, format!("failed to read the input: {err}")),
            (None, Some(start)) => RecordError::new(
                at,
                format!(
                    "the input ends inside the record that began at byte {start} (truncated file?)"
                ),
            ),
            (None, None) => {
                let root = self
                    .scanner
                    .root()
                    .map(|r| String::from_utf8_lossy(r).into_owned());
                match root {
                    Some(r) => RecordError::new(
                        at,
                        format!(
                            "the input ends before the root element <{r}> closes (truncated file?)"
                        ),
                    ),
                    None => RecordError::new(at, "the input holds no XML element"),
                }
            }
        };
        e.fatal = true;
        e
    }

    /// The next chunk, `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        if self.done {
            return None;
        }
        loop {
            let at_end = self.eof && self.scanner.needed_from() >= self.end();
            let whole = at_end && self.read_error.is_none() && self.scanner.is_complete();
            if self.discarding.is_none() {
                if whole {
                    // The last records and the tail after them (the root's end tag).
                    self.done = true;
                    let end = self.end();
                    return (!self.buf.is_empty()).then(|| self.emit(end, None));
                }
                if let Some(cut) = self.last_end
                    && !at_end
                    && self.buf.len() >= self.target
                {
                    return Some(self.emit(cut, None));
                }
            }
            if at_end {
                // Cut short: the whole records before the cut, then the error.
                self.done = true;
                let error = self.cut_short();
                let cut = match self.discarding {
                    Some(_) => self.buf_base,
                    None => self.last_end.unwrap_or(self.buf_base),
                };
                return Some(self.emit(cut, Some(error)));
            }
            if self.discarding.is_none()
                && self.last_end.is_none()
                && self.buf.len() > self.max_record
            {
                // A record too large: skipped to its end, reported.
                let from = self.scanner.open_record().unwrap_or(self.buf_base);
                let e = RecordError::new(
                    from,
                    format!(
                        "record larger than {} MiB, skipped (the limit on one record)",
                        self.max_record >> 20
                    ),
                );
                let chunk = self.emit(from, Some(e));
                self.discarding = Some(from);
                self.scan();
                return Some(chunk);
            }
            if !self.eof {
                self.fill();
            }
            self.scan();
        }
    }

    fn end(&self) -> u64 {
        self.buf_base + self.buf.len() as u64
    }
}

/// The records of a stream cut into chunks of whole records (about `target` bytes each), parsed
/// from memory on worker threads by `parse` and handed back one by one, in input order. The
/// MEDLINE and JATS parsers are this with their record names and their `parse_chunk`.
#[derive(Debug)]
pub struct RecordStream<R> {
    chunks: ChunkPool<R, Result<DocumentRecord, RecordError>>,
    pending: std::vec::IntoIter<Result<DocumentRecord, RecordError>>,
}

impl<R: Read> RecordStream<R> {
    /// `inner` cut between the elements `names`, parsed by `parse` on `threads` threads.
    pub fn new(
        inner: R,
        names: &'static [&'static str],
        target: usize,
        threads: usize,
        parse: fn(&Chunk) -> Vec<Result<DocumentRecord, RecordError>>,
    ) -> Self {
        RecordStream {
            chunks: ChunkPool::new(Chunker::new(inner, names, target), threads, parse),
            pending: Vec::new().into_iter(),
        }
    }
}

/// The parsing threads of a parser made with `new`: as many as the machine has cores, at most 4.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

impl<R: Read> Iterator for RecordStream<R> {
    type Item = Result<DocumentRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.pending.next() {
                return Some(r);
            }
            match self.chunks.next()? {
                Ok(records) => self.pending = records.into_iter(),
                Err(e) => return Some(Err(RecordError::fatal(0, format!("failed to parse: {e}")))),
            }
        }
    }
}

/// Stack of a parser thread.
const PARSER_STACK: usize = 16 << 20;

/// Parses chunks on worker threads and hands back each chunk's results in input order. Chunks are
/// read on the caller's thread; at most two per worker are in flight, so memory stays flat.
#[derive(Debug)]
pub struct ChunkPool<R, T> {
    chunker: Chunker<R>,
    work: Option<std::sync::mpsc::SyncSender<(u64, Chunk)>>,
    results: std::sync::mpsc::Receiver<(u64, Vec<T>)>,
    ready: std::collections::BTreeMap<u64, Vec<T>>,
    sent: u64,
    next: u64,
    in_flight_max: u64,
    input_done: bool,
}

impl<R: Read, T: Send + 'static> ChunkPool<R, T> {
    /// `threads` workers, each running `parse` on the chunks it takes.
    pub fn new(chunker: Chunker<R>, threads: usize, parse: fn(&Chunk) -> Vec<T>) -> Self {
        let threads = threads.max(1);
        let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<(u64, Chunk)>(threads);
        let (result_tx, results) = std::sync::mpsc::channel();
        let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
        for _ in 0..threads {
            let work_rx = work_rx.clone();
            let result_tx = result_tx.clone();
            // Deeply nested elements are read to a bounded depth (see `xml::MAX_NESTING`); the
            // stack is sized for that depth in debug builds too.
            let spawned = std::thread::Builder::new()
                .name("pubmine-parse".into())
                .stack_size(PARSER_STACK)
                .spawn(move || {
                    loop {
                        let job = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok((seq, chunk)) = job else { return };
                        if result_tx.send((seq, parse(&chunk))).is_err() {
                            return;
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "failed to start a parser thread");
            }
        }
        ChunkPool {
            chunker,
            work: Some(work_tx),
            results,
            ready: std::collections::BTreeMap::new(),
            sent: 0,
            next: 0,
            in_flight_max: 2 * threads as u64,
            input_done: false,
        }
    }
}

impl<R: Read, T: Send + 'static> Iterator for ChunkPool<R, T> {
    type Item = std::io::Result<Vec<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        // Keep the workers busy.
        while !self.input_done && self.sent - self.next < self.in_flight_max {
            match self.chunker.next_chunk() {
                Some(chunk) => {
                    let work = self.work.as_ref()?;
                    if work.send((self.sent, chunk)).is_err() {
                        return Some(Err(std::io::Error::other("parser thread stopped")));
                    }
                    self.sent += 1;
                }
                None => {
                    self.input_done = true;
                    self.work = None; // workers end once the queue is empty
                }
            }
        }
        if self.next == self.sent {
            return None;
        }
        loop {
            if let Some(r) = self.ready.remove(&self.next) {
                self.next += 1;
                return Some(Ok(r));
            }
            match self.results.recv() {
                Ok((seq, r)) => {
                    self.ready.insert(seq, r);
                }
                Err(_) => return Some(Err(std::io::Error::other("parser thread panicked"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["A", "B"];

    fn chunks_of(input: &[u8], target: usize, max: usize) -> Vec<Chunk> {
        let mut c = Chunker::new(input, NAMES, target).with_max_record(max);
        std::iter::from_fn(|| c.next_chunk()).collect()
    }

    fn chunks(input: &str, target: usize) -> Vec<Chunk> {
        chunks_of(input.as_bytes(), target, MAX_RECORD_BYTES)
    }

    #[test]
    fn cuts_after_record_ends_and_loses_nothing() {
        let records: String = (0..2000)
            .map(|i| {
                if i % 3 == 0 {
                    format!("<B>{i}</B>\n")
                } else {
                    format!("<A><x>{}</x></A>\n", "y".repeat(i % 50))
                }
            })
            .collect();
        let input = format!("<?xml version='1.0'?>\n<Set>\n{records}</Set>\n");
        for target in [1, 100, 4096, 10_000, 1 << 20] {
            let out = chunks(&input, target);
            let joined: Vec<u8> = out.iter().flat_map(|c| c.bytes.clone()).collect();
            assert_eq!(joined, input.as_bytes(), "target {target}");
            let mut base = 0;
            let mut starts = 0;
            for (i, c) in out.iter().enumerate() {
                assert_eq!(c.base, base);
                assert_eq!(c.trailer, None);
                for &s in &c.starts {
                    let at = (s - c.base) as usize;
                    assert!(c.bytes[at..].starts_with(b"<A>") || c.bytes[at..].starts_with(b"<B>"));
                }
                starts += c.starts.len();
                base += c.bytes.len() as u64;
                if i + 1 < out.len() {
                    assert!(c.bytes.ends_with(b"</A>") || c.bytes.ends_with(b"</B>"));
                }
            }
            assert_eq!(starts, 2000);
        }
    }

    #[test]
    fn never_cuts_inside_cdata_comments_or_instructions() {
        // Each record holds a record end tag in a CDATA section, a comment and a processing
        // instruction; wherever the chunk boundary falls, records stay whole.
        let record = "<A><x><![CDATA[ </A> ]]></x><!-- </A> --><?pi </A> ?><y a='</A>'/></A>\n";
        let input = format!("<Set>{}</Set>", record.repeat(300));
        for target in [4096, 5000, 6007] {
            let out = chunks(&input, target);
            assert!(out.len() > 2, "target {target}");
            for c in &out[..out.len() - 1] {
                let text = std::str::from_utf8(&c.bytes).unwrap();
                assert!(text.ends_with("?><y a='</A>'/></A>"), "target {target}");
                assert_eq!(c.trailer, None);
            }
        }
    }

    fn lengths(c: &Chunk) -> Vec<usize> {
        vec![c.bytes.len()]
    }

    #[test]
    fn the_pool_keeps_input_order() {
        let input: String = (0..5000)
            .map(|i| format!("<A>{}</A>", "q".repeat(i % 97)))
            .collect();
        let input = format!("<Set>{input}</Set>");
        let serial: Vec<usize> = chunks(&input, 4096).iter().map(|c| c.bytes.len()).collect();
        for threads in [1, 2, 4] {
            let chunker = Chunker::new(input.as_bytes(), &["A"], 4096);
            let pooled: Vec<usize> = ChunkPool::new(chunker, threads, lengths)
                .flat_map(|r| r.unwrap())
                .collect();
            assert_eq!(pooled, serial, "threads {threads}");
        }
    }

    #[test]
    fn a_record_larger_than_the_target_stays_whole() {
        let big = format!("<A>{}</A>", "z".repeat(50_000));
        let input = format!("<Set>{big}<A>small</A></Set>");
        let out = chunks(&input, 4096);
        assert!(
            out.iter()
                .any(|c| std::str::from_utf8(&c.bytes).unwrap().contains(&big))
        );
        assert!(out.iter().all(|c| c.trailer.is_none()));
    }

    #[test]
    fn a_record_over_the_limit_is_skipped_and_reported() {
        let input = format!(
            "<Set><A>one</A><A>{}</A><B>two</B></Set>",
            "z".repeat(100_000)
        );
        let out = chunks_of(input.as_bytes(), 4096, 16_384);
        let errors: Vec<_> = out.iter().filter_map(|c| c.trailer.clone()).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].position, 15);
        assert!(!errors[0].fatal);
        let kept: String = out
            .iter()
            .map(|c| String::from_utf8_lossy(&c.bytes).into_owned())
            .collect();
        assert_eq!(kept, "<Set><A>one</A><B>two</B></Set>");
    }

    #[test]
    fn a_cut_stream_keeps_whole_records_and_ends_with_a_fatal_error() {
        for (input, kept) in [
            ("<Set><A>1</A><A>2</A><A>3", "<Set><A>1</A><A>2</A>"),
            ("<Set><A>1</A><A>2</A>", "<Set><A>1</A><A>2</A>"),
            ("<Set><A>1</A><!-- x", "<Set><A>1</A>"),
        ] {
            let out = chunks(input, 4096);
            let last = out.last().unwrap();
            let e = last.trailer.clone().expect("an error");
            assert!(e.fatal, "{input}");
            assert!(e.reason.contains("truncated"), "{e}");
            assert_eq!(e.position, input.len() as u64);
            let got: Vec<u8> = out.iter().flat_map(|c| c.bytes.clone()).collect();
            assert_eq!(String::from_utf8(got).unwrap(), kept);
        }
    }

    /// A reader that fails after `n` bytes, as a truncated gzip stream does.
    struct FailAfter<'a>(&'a [u8], usize);
    impl Read for FailAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "corrupt deflate stream",
                ));
            }
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            self.1 -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_keeps_the_records_before_it() {
        let input = b"<Set><A>1</A><A>2</A><A>3</A></Set>";
        let mut c = Chunker::new(FailAfter(input, 24), NAMES, 4096);
        let out: Vec<Chunk> = std::iter::from_fn(|| c.next_chunk()).collect();
        let got: Vec<u8> = out.iter().flat_map(|c| c.bytes.clone()).collect();
        assert_eq!(got, b"<Set><A>1</A><A>2</A>");
        let e = out.last().unwrap().trailer.clone().unwrap();
        assert!(
            e.fatal && e.reason.contains("corrupt deflate stream"),
            "{e}"
        );
        assert_eq!(e.position, 24);
    }
}
