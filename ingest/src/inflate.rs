//! Gzip inflated on a thread of its own, ahead of the reader. Ingest reads a file on one thread
//! and parses its chunks on others; inflating inline on the reading thread would stop whenever
//! that thread waits for the parsers, so a `.xml.gz` would be read at the speed of inflating
//! plus part of parsing. Here inflating runs on while the parsers work, a few blocks ahead.

use std::io::{BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use flate2::read::MultiGzDecoder;

/// Bytes of plain text per block handed over.
const BLOCK: usize = 1 << 20;
/// Blocks inflated ahead of the reader: the memory it may hold.
const AHEAD: usize = 4;

/// The first bytes of every gzip member.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The plain bytes of a gzip stream (one member or several, as `gzip` writes concatenated
/// files), inflated on a thread of its own. An error of the stream (corrupt data, a truncated
/// file) is returned by the read that reaches it. Dropping the reader stops the thread.
#[derive(Debug)]
pub struct Inflated {
    blocks: Receiver<std::io::Result<Vec<u8>>>,
    /// Blocks read, handed back to be filled again (no fresh zeroed megabyte per block).
    spent: SyncSender<Vec<u8>>,
    block: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Inflated {
    /// Starts inflating `compressed` on a new thread.
    pub fn spawn<R: Read + Send + 'static>(compressed: R) -> std::io::Result<Self> {
        let (tx, blocks) = sync_channel(AHEAD);
        let (spent, recycled) = sync_channel::<Vec<u8>>(2);
        std::thread::Builder::new()
            .name("pubmine-inflate".into())
            .spawn(move || {
                let mut gz = MultiGzDecoder::new(compressed);
                loop {
                    let mut block = recycled.try_recv().unwrap_or_default();
                    block.resize(BLOCK, 0);
                    let mut filled = 0;
                    let end = loop {
                        match gz.read(&mut block[filled..]) {
                            Ok(0) => break Ok(true),
                            Ok(n) => {
                                filled += n;
                                if filled == block.len() {
                                    break Ok(false);
                                }
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(e) => break Err(e),
                        }
                    };
                    block.truncate(filled);
                    let (end, err) = match end {
                        Ok(end) => (end, None),
                        Err(e) => (true, Some(e)),
                    };
                    if !block.is_empty() && tx.send(Ok(block)).is_err() {
                        return; // the reader is gone
                    }
                    if let Some(e) = err {
                        let _ = tx.send(Err(e));
                    }
                    if end {
                        return;
                    }
                }
            })?;
        Ok(Inflated {
            blocks,
            spent,
            block: Vec::new(),
            pos: 0,
            done: false,
        })
    }
}

impl BufRead for Inflated {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.pos == self.block.len() && !self.done {
            match self.blocks.recv() {
                Ok(Ok(block)) => {
                    let done = std::mem::replace(&mut self.block, block);
                    // Dropped instead when two are waiting already, or the thread has ended.
                    let _ = self.spent.try_send(done);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread ended after the last block.
                Err(_) => self.done = true,
            }
        }
        Ok(&self.block[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.block.len());
    }
}

impl Read for Inflated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflates_members_across_blocks() {
        // More than a few blocks, in two members, as concatenated gzip files are.
        let a: Vec<u8> = (0..3 * BLOCK + 123).map(|i| (i % 251) as u8).collect();
        let b = b"the second member".to_vec();
        let mut compressed = gz(&a);
        compressed.extend(gz(&b));
        let mut out = Vec::new();
        Inflated::spawn(std::io::Cursor::new(compressed))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len(), a.len() + b.len());
        assert!(out.starts_with(&a) && out.ends_with(&b));
    }

    #[test]
    fn a_truncated_stream_is_an_error_after_what_it_held() {
        let data: Vec<u8> = (0..2 * BLOCK).map(|i| (i * 7 % 253) as u8).collect();
        let mut compressed = gz(&data);
        compressed.truncate(compressed.len() / 2);
        let mut r = Inflated::spawn(std::io::Cursor::new(compressed)).unwrap();
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert!(!out.is_empty() && data.starts_with(&out), "{err}");
        // And it stays at the end.
        assert_eq!(r.read(&mut [0u8; 16]).unwrap(), 0);
    }
}
