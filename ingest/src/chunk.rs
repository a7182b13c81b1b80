//! Cuts an XML stream into chunks of whole top-level records, so that records can be parsed
//! from memory without a copy per event, and in parallel, while memory stays flat.
//!
//! A chunk ends right after the last end tag of a record (such as `</PubmedArticle>`) found in
//! the bytes read so far; the rest is carried into the next chunk. Such an end tag cannot occur
//! inside text (a `<` there must be escaped), so a cut never falls inside a record. A record
//! larger than the chunk size grows the chunk until its end tag arrives.

use std::io::Read;

use memchr::memmem;

/// A run of whole records and its byte offset in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub base: u64,
    pub bytes: Vec<u8>,
}

/// Splits a stream after the last occurrence of any of `ends` in each block read.
#[derive(Debug)]
pub struct Chunker<R> {
    inner: R,
    ends: Vec<memmem::FinderRev<'static>>,
    target: usize,
    carry: Vec<u8>,
    base: u64,
    eof: bool,
}

impl<R: Read> Chunker<R> {
    /// Chunks of about `target` bytes (more when a record is larger), cut after any of `ends`.
    pub fn new(inner: R, ends: &[&'static str], target: usize) -> Self {
        Chunker {
            inner,
            ends: ends
                .iter()
                .map(|e| memmem::FinderRev::new(e.as_bytes()))
                .collect(),
            target: target.max(4096),
            carry: Vec::new(),
            base: 0,
            eof: false,
        }
    }

    /// The end of the last record end tag in `buf`, if any.
    fn last_cut(&self, buf: &[u8]) -> Option<usize> {
        // Each later pattern needs only be looked for after the best cut so far: a pattern
        // absent from the file then costs a scan of the tail, not of the whole buffer.
        let mut best: Option<usize> = None;
        for f in &self.ends {
            let from = best.unwrap_or(0);
            if let Some(i) = f.rfind(&buf[from..]) {
                best = Some(from + i + f.needle().len());
            }
        }
        best
    }

    /// The next chunk, `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> std::io::Result<Option<Chunk>> {
        let mut buf = std::mem::take(&mut self.carry);
        let mut want = self.target;
        loop {
            if !self.eof && buf.len() < want {
                let need = (want - buf.len()) as u64;
                let got = (&mut self.inner).take(need).read_to_end(&mut buf)?;
                if (got as u64) < need {
                    self.eof = true;
                }
            }
            if let Some(cut) = self.last_cut(&buf) {
                self.carry = buf.split_off(cut);
                return Ok(Some(self.emit(buf)));
            }
            if self.eof {
                // No record end: the tail (the root's end tag, or a record cut short).
                return Ok((!buf.is_empty()).then(|| self.emit(buf)));
            }
            want = buf.len() * 2;
        }
    }

    fn emit(&mut self, bytes: Vec<u8>) -> Chunk {
        let chunk = Chunk {
            base: self.base,
            bytes,
        };
        self.base += chunk.bytes.len() as u64;
        chunk
    }
}

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
            std::thread::spawn(move || {
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
                Ok(Some(chunk)) => {
                    let work = self.work.as_ref()?;
                    if work.send((self.sent, chunk)).is_err() {
                        return Some(Err(std::io::Error::other("parser thread stopped")));
                    }
                    self.sent += 1;
                }
                Ok(None) => {
                    self.input_done = true;
                    self.work = None; // workers end once the queue is empty
                }
                Err(e) => {
                    self.input_done = true;
                    self.work = None;
                    return Some(Err(e));
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

    fn chunks(input: &str, target: usize) -> Vec<Chunk> {
        let mut c = Chunker::new(input.as_bytes(), &["</A>", "</B>"], target);
        let mut out = Vec::new();
        while let Some(ch) = c.next_chunk().unwrap() {
            out.push(ch);
        }
        out
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
            for (i, c) in out.iter().enumerate() {
                assert_eq!(c.base, base);
                base += c.bytes.len() as u64;
                if i + 1 < out.len() {
                    assert!(c.bytes.ends_with(b"</A>") || c.bytes.ends_with(b"</B>"));
                }
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
        let serial: Vec<usize> = chunks(&input, 4096).iter().map(|c| c.bytes.len()).collect();
        for threads in [1, 2, 4] {
            let chunker = Chunker::new(input.as_bytes(), &["</A>"], 4096);
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
        assert!(out[0].bytes.ends_with(b"</A>"));
        assert!(
            out.iter()
                .any(|c| std::str::from_utf8(&c.bytes).unwrap().contains(&big))
        );
    }
}
