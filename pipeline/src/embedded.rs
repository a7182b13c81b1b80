//! Building blocks of the one-process pipeline (`pubmine run`): producers that route
//! records by topic and copy them to several consumers, and the bookkeeping that says when an
//! input file is done.
//!
//! In one process the input files are the log (docs/architecture.md): a file may be recorded as
//! done only when every sink has durably written every record of it, an acknowledgement that
//! travels back from the sinks through their consumers' commits, not the one a channel gives when a
//! record enters it. [`Completion`] turns the positions the stages commit into files done.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::future::BoxFuture;

use pubmine_stream::transport::{Ack, OutRecord, Producer, TransportError};

/// Sends each record to the producer of its topic.
pub struct RouteProducer {
    routes: Vec<(String, Arc<dyn Producer>)>,
}

impl std::fmt::Debug for RouteProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let topics: Vec<&str> = self.routes.iter().map(|(t, _)| t.as_str()).collect();
        f.debug_struct("RouteProducer")
            .field("topics", &topics)
            .finish()
    }
}

impl RouteProducer {
    /// `routes`: topic and producer; a record for another topic is refused.
    pub fn new(routes: Vec<(String, Arc<dyn Producer>)>) -> Self {
        RouteProducer { routes }
    }
}

impl Producer for RouteProducer {
    fn enqueue(&self, record: OutRecord) -> BoxFuture<'_, Result<Ack, TransportError>> {
        Box::pin(async move {
            let Some((_, p)) = self.routes.iter().find(|(t, _)| *t == record.topic) else {
                return Err(TransportError::Fatal(format!(
                    "no route for topic {}",
                    record.topic
                )));
            };
            p.enqueue(record).await
        })
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            for (_, p) in &self.routes {
                p.flush().await?;
            }
            Ok(())
        })
    }
}

/// Sends every record to each of its producers, in the same order; the acknowledgement comes
/// when all have acknowledged.
pub struct TeeProducer {
    outs: Vec<Arc<dyn Producer>>,
}

impl std::fmt::Debug for TeeProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeeProducer")
            .field("outputs", &self.outs.len())
            .finish()
    }
}

impl TeeProducer {
    pub fn new(outs: Vec<Arc<dyn Producer>>) -> Self {
        TeeProducer { outs }
    }
}

impl Producer for TeeProducer {
    fn enqueue(&self, record: OutRecord) -> BoxFuture<'_, Result<Ack, TransportError>> {
        Box::pin(async move {
            let mut acks = Vec::with_capacity(self.outs.len());
            for p in &self.outs {
                acks.push(p.enqueue(record.clone()).await?);
            }
            let ack: Ack = Box::pin(async move {
                for a in acks {
                    a.await?;
                }
                Ok(())
            });
            Ok(ack)
        })
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            for p in &self.outs {
                p.flush().await?;
            }
            Ok(())
        })
    }
}

/// Which input files are done, from the positions the stages commit. A file's documents are
/// counted on the documents channel as ingest sends them; the annotate stage commits a
/// document's position only once its outputs are in the annotations channel; each sink commits
/// an annotations position only once what is before it is durable. So once the annotate
/// stage's commit reaches a file's last document, the annotations sent so far cover all of the
/// file's (and perhaps some of later files'); once every sink's commit reaches that count, the
/// file is done. Files are done in the order they were sent.
#[derive(Debug)]
pub struct Completion<F> {
    pending: VecDeque<Pending<F>>,
}

#[derive(Debug)]
struct Pending<F> {
    file: F,
    /// The documents channel's position after the file's last record.
    documents_end: i64,
    /// The annotations channel's position that covers the file, once known.
    annotations_end: Option<i64>,
}

impl<F> Default for Completion<F> {
    fn default() -> Self {
        Completion {
            pending: VecDeque::new(),
        }
    }
}

impl<F> Completion<F> {
    /// Every record of `file` is in the documents channel, which now ends at `documents_end`.
    pub fn sent(&mut self, file: F, documents_end: i64) {
        self.pending.push_back(Pending {
            file,
            documents_end,
            annotations_end: None,
        });
    }

    /// Files not yet done.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The files now done, in order, given the annotate stage's committed documents position,
    /// the number of records sent to the annotations channel so far (read after that commit),
    /// and the least committed annotations position of the sinks.
    pub fn done(&mut self, annotated: i64, annotations_sent: i64, written: i64) -> Vec<F> {
        for p in &mut self.pending {
            if p.annotations_end.is_none() && annotated >= p.documents_end {
                p.annotations_end = Some(annotations_sent);
            }
        }
        let mut out = Vec::new();
        while let Some(p) = self.pending.front() {
            match p.annotations_end {
                Some(end) if written >= end => {
                    out.extend(self.pending.pop_front().map(|p| p.file));
                }
                _ => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pubmine_stream::transport::{ChannelConsumer, ChannelProducer, Consumer};
    use std::time::Duration;
    use tokio_util::sync::CancellationToken;

    fn rec(topic: &str, key: &str) -> OutRecord {
        OutRecord::new(topic, key, None)
    }

    #[tokio::test]
    async fn route_and_tee_send_each_record_where_it_belongs() {
        let (a, rx_a) = ChannelProducer::new(8);
        let (b, rx_b) = ChannelProducer::new(8);
        let (d, mut rx_d) = ChannelProducer::new(8);
        let tee: Arc<dyn Producer> = Arc::new(TeeProducer::new(vec![Arc::new(a), Arc::new(b)]));
        let route = RouteProducer::new(vec![
            ("annotations".into(), tee),
            ("dead".into(), Arc::new(d)),
        ]);
        for r in [
            rec("annotations", "1"),
            rec("dead", "2"),
            rec("annotations", "3"),
        ] {
            route.enqueue(r).await.unwrap().await.unwrap();
        }
        assert!(route.enqueue(rec("other", "4")).await.is_err());
        drop(route);
        let never = CancellationToken::new();
        for rx in [rx_a, rx_b] {
            let c = ChannelConsumer::new(rx);
            let got = c
                .recv_batch(8, Duration::from_millis(5), None, &never)
                .await
                .unwrap();
            let keys: Vec<_> = got.iter().map(|r| r.key.as_str()).collect();
            assert_eq!(keys, ["1", "3"]);
        }
        assert_eq!(rx_d.recv().await.unwrap().key, "2");
    }

    #[test]
    fn a_file_is_done_once_every_sink_wrote_past_it() {
        let mut c = Completion::default();
        c.sent("a", 3); // documents 0..3
        c.sent("b", 5); // documents 3..5
        // Nothing annotated yet.
        assert!(c.done(0, 0, 0).is_empty());
        // a's documents annotated, 4 annotations sent so far (some of b's among them).
        assert!(c.done(3, 4, 3).is_empty(), "the sinks are at 3 of 4");
        assert_eq!(c.done(3, 4, 4), ["a"]);
        // b annotated later; its end is what had been sent then, not before.
        assert!(
            c.done(4, 5, 5).is_empty(),
            "b's last document is not annotated"
        );
        assert!(c.done(5, 6, 5).is_empty());
        assert_eq!(c.done(5, 7, 6), ["b"]);
        assert_eq!(c.pending(), 0);
    }

    #[test]
    fn files_are_done_in_order() {
        let mut c = Completion::default();
        c.sent(1, 2);
        c.sent(2, 4);
        // Both annotated at once: both ends are the count sent then.
        assert_eq!(c.done(4, 4, 3), Vec::<i32>::new());
        assert_eq!(c.done(4, 4, 4), [1, 2]);
    }
}
