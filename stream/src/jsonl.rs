//! The JSON-lines transport of the file modes (`pubmine annotate --input FILE`): records read
//! from lines of a file or of stdin, outputs written as lines to stdout. The stage that runs
//! over it is the same as over Kafka; only where the records come from and go to differs.
//!
//! Each non-blank input line is one record of partition 0 of a topic named after the input, its
//! offset the line number (from 1): so a dead letter's position reads `FILE/0@LINE`, which the
//! producer writes as `FILE:LINE`. Its key is
//! the line's `"id"`; a line `{"id": ..., "deleted": true}` is a tombstone. A line that is not a
//! document is passed on as it is, for the stage to refuse with its reason (a dead letter).

use std::io::{BufRead, Write};
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::codec::decode_dead_letter;
use crate::transport::{
    Ack, Consumer, InRecord, Offsets, OutRecord, Producer, TransportError, advance, recv_from,
};

/// Input lines as records, read on a thread of their own into a bounded queue (the reader
/// waits while the stage is behind).
pub struct JsonLinesConsumer {
    topic: String,
    rx: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Result<InRecord, String>>>,
    committed: Mutex<Offsets>,
}

impl std::fmt::Debug for JsonLinesConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLinesConsumer")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// What a line says of itself, without decoding the whole document.
#[derive(serde::Deserialize)]
struct Head {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    deleted: Option<bool>,
}

/// The record of one line: its key and value (`None`: a tombstone). A UTF-8 byte order mark
/// before the line is dropped; a deletion without an id is no tombstone but a value, which the
/// stage refuses with that reason.
fn line_record(line: &str) -> (String, Option<Vec<u8>>) {
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    match serde_json::from_str::<Head>(line) {
        Ok(Head {
            id: Some(id),
            deleted: Some(true),
        }) if !id.is_empty() => (id, None),
        Ok(Head { id, .. }) => (id.unwrap_or_default(), Some(line.as_bytes().to_vec())),
        Err(_) => (String::new(), Some(line.as_bytes().to_vec())),
    }
}

impl JsonLinesConsumer {
    /// Reads `input`, named `name` in positions, on a blocking thread.
    pub fn new(name: &str, input: Box<dyn BufRead + Send>) -> Self {
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let topic = name.to_string();
        let t = topic.clone();
        std::thread::spawn(move || {
            for (n, line) in input.lines().enumerate() {
                let record = match line {
                    Ok(l) if l.trim().is_empty() => continue,
                    Ok(l) => {
                        let (key, value) = line_record(&l);
                        Ok(InRecord {
                            topic: t.clone(),
                            partition: 0,
                            offset: n as i64 + 1,
                            key,
                            value,
                            timestamp: None,
                            origin: None,
                        })
                    }
                    Err(e) => Err(format!("failed to read {t} at line {}: {e}", n + 1)),
                };
                let failed = record.is_err();
                if tx.blocking_send(record).is_err() || failed {
                    break;
                }
            }
        });
        JsonLinesConsumer {
            topic,
            rx: tokio::sync::Mutex::new(rx),
            committed: Mutex::default(),
        }
    }

    /// The next-to-read offsets committed so far.
    pub fn committed(&self) -> Offsets {
        self.committed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Consumer for JsonLinesConsumer {
    /// Empty once `idle` passes with no line; [`TransportError::Closed`] at the end of the input;
    /// [`TransportError::Fatal`] when it cannot be read.
    fn recv_batch<'a>(
        &'a self,
        max: usize,
        linger: Duration,
        idle: Option<Duration>,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Vec<InRecord>, TransportError>> {
        Box::pin(async move {
            let mut rx = self.rx.lock().await;
            let got = recv_from(&mut rx, max, linger, idle, cancel, |r| r).await?;
            got.into_iter()
                .collect::<Result<Vec<_>, _>>()
                .map_err(TransportError::Fatal)
        })
    }

    fn assignment(&self) -> (u64, Vec<(String, i32)>) {
        (1, vec![(self.topic.clone(), 0)])
    }

    fn seek(&self, topic: &str, partition: i32, offset: Option<i64>) -> Result<(), TransportError> {
        Err(TransportError::Fatal(format!(
            "the lines of {topic} are read once: cannot seek {topic}/{partition} to {offset:?}"
        )))
    }

    /// The lines are numbered from 1.
    fn low_watermark<'a>(
        &'a self,
        _topic: &'a str,
        _partition: i32,
    ) -> BoxFuture<'a, Result<i64, TransportError>> {
        Box::pin(async { Ok(1) })
    }

    fn commit_offsets(&self, next: &Offsets) -> Result<(), TransportError> {
        advance(
            &mut self.committed.lock().unwrap_or_else(|e| e.into_inner()),
            next,
        );
        Ok(())
    }
}

/// Outputs as lines: a record's value as it is (a tombstone as `{"id": KEY, "deleted": true}`)
/// to `out`; a record for `dead_letter_topic` as `error: FILE:LINE: REASON` to `errors`.
pub struct JsonLinesProducer {
    dead_letter_topic: String,
    out: Mutex<Box<dyn Write + Send>>,
    errors: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for JsonLinesProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLinesProducer")
            .field("dead_letter_topic", &self.dead_letter_topic)
            .finish_non_exhaustive()
    }
}

impl JsonLinesProducer {
    pub fn new(
        dead_letter_topic: &str,
        out: Box<dyn Write + Send>,
        errors: Box<dyn Write + Send>,
    ) -> Self {
        JsonLinesProducer {
            dead_letter_topic: dead_letter_topic.to_string(),
            out: Mutex::new(out),
            errors: Mutex::new(errors),
        }
    }

    fn write(&self, record: &OutRecord) -> std::io::Result<()> {
        if record.topic == self.dead_letter_topic {
            let line = match record.value.as_deref().map(decode_dead_letter) {
                // A line's position, `FILE/0@LINE`, as editors and compilers write it.
                Some(Ok(dl)) => match dl.source.rsplit_once("/0@") {
                    Some((file, line)) => format!("error: {file}:{line}: {}", dl.reason),
                    None => format!("error: {}: {}", dl.source, dl.reason),
                },
                _ => format!("error: record {:?} set aside", record.key),
            };
            let mut e = self.errors.lock().unwrap_or_else(|e| e.into_inner());
            return writeln!(e, "{line}");
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        match &record.value {
            Some(v) => out.write_all(v)?,
            None => serde_json::to_writer(
                &mut *out,
                &serde_json::json!({"id": record.key, "deleted": true}),
            )?,
        }
        out.write_all(b"\n")
    }
}

impl Producer for JsonLinesProducer {
    /// Written before it returns: the acknowledgement is immediate.
    fn enqueue(&self, record: OutRecord) -> BoxFuture<'_, Result<Ack, TransportError>> {
        Box::pin(async move {
            self.write(&record)
                .map_err(|e| TransportError::Fatal(format!("failed to write the output: {e}")))?;
            let ack: Ack = Box::pin(async { Ok(()) });
            Ok(ack)
        })
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            for w in [&self.out, &self.errors] {
                w.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .flush()
                    .map_err(|e| {
                        TransportError::Fatal(format!("failed to write the output: {e}"))
                    })?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_dropped_and_a_deletion_needs_an_id() {
        assert_eq!(
            line_record("\u{feff}{\"id\":\"pmid:1\"}"),
            ("pmid:1".into(), Some(b"{\"id\":\"pmid:1\"}".to_vec()))
        );
        assert_eq!(
            line_record("\u{feff}{\"id\":\"pmid:2\",\"deleted\":true}"),
            ("pmid:2".into(), None)
        );
        for no_id in ["{\"deleted\":true}", "{\"id\":\"\",\"deleted\":true}"] {
            let (key, value) = line_record(no_id);
            assert_eq!(
                (key.as_str(), value.as_deref()),
                ("", Some(no_id.as_bytes()))
            );
            let e = crate::codec::decode_document(no_id.as_bytes()).unwrap_err();
            assert_eq!(
                e.to_string(),
                "a deletion (\"deleted\": true) without an \"id\""
            );
        }
    }

    #[tokio::test]
    async fn lines_become_records_and_outputs_lines() {
        let input =
            "{\"id\":\"pmid:1\",\"x\":1}\n\n{\"id\":\"pmid:2\",\"deleted\":true}\nnot json\n";
        let c = JsonLinesConsumer::new("in.jsonl", Box::new(std::io::Cursor::new(input)));
        let never = CancellationToken::new();
        let got = c
            .recv_batch(10, Duration::from_millis(50), None, &never)
            .await
            .unwrap();
        let seen: Vec<_> = got
            .iter()
            .map(|r| (r.offset, r.key.as_str(), r.value.is_some()))
            .collect();
        assert_eq!(
            seen,
            [(1, "pmid:1", true), (3, "pmid:2", false), (4, "", true)]
        );
        assert_eq!(got[2].position().to_string(), "in.jsonl/0@4");
        let end = c.recv_batch(10, Duration::ZERO, None, &never).await;
        assert!(matches!(end, Err(TransportError::Closed)));

        let out = std::sync::Arc::new(Mutex::new(Vec::new()));
        struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let errors = std::sync::Arc::new(Mutex::new(Vec::new()));
        let p = JsonLinesProducer::new(
            "dl",
            Box::new(Shared(out.clone())),
            Box::new(Shared(errors.clone())),
        );
        let dl = crate::record::DeadLetter::new("annotate", "in.jsonl/0@4", "not a document");
        for r in [
            OutRecord::new("out", "pmid:1", Some(b"{\"id\":\"pmid:1\"}".to_vec())),
            OutRecord::new("out", "pmid:2", None),
            OutRecord::new(
                "dl",
                String::new(),
                Some(crate::codec::encode_dead_letter(&dl)),
            ),
        ] {
            p.enqueue(r).await.unwrap().await.unwrap();
        }
        p.flush().await.unwrap();
        assert_eq!(
            String::from_utf8(out.lock().unwrap().clone()).unwrap(),
            "{\"id\":\"pmid:1\"}\n{\"deleted\":true,\"id\":\"pmid:2\"}\n"
        );
        assert_eq!(
            String::from_utf8(errors.lock().unwrap().clone()).unwrap(),
            "error: in.jsonl:4: not a document\n"
        );
    }
}
