//! The index as a [`Sink`] of the stream's sink runner: a buffering sink, whose `write` returns
//! the offsets only when its commit happens. tantivy's calls block, so each runs on the blocking
//! pool, never on the async runtime's threads.

use futures::FutureExt as _;
use futures::future::BoxFuture;
use pubmine_stream::sink::{Sink, SinkBatch, SinkError};
use pubmine_stream::transport::Offsets;

use crate::IndexError;
use crate::writer::{IndexStats, Indexer};

/// The index sink; see [`crate::writer`] for what a write does.
#[derive(Debug)]
pub struct IndexSink {
    /// `None` only while a call holds it on the blocking pool, or after a call panicked.
    indexer: Option<Indexer>,
}

impl IndexSink {
    pub fn new(indexer: Indexer) -> IndexSink {
        IndexSink {
            indexer: Some(indexer),
        }
    }

    /// The indexer back (to close it, or read its stats); `None` after a failed call.
    pub fn into_inner(self) -> Option<Indexer> {
        self.indexer
    }

    pub fn stats(&self) -> Option<IndexStats> {
        self.indexer.as_ref().map(Indexer::stats)
    }

    /// Runs `f` on the indexer on the blocking pool.
    async fn call<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Indexer) -> Result<T, IndexError> + Send + 'static,
    ) -> Result<T, SinkError> {
        let Some(mut indexer) = self.indexer.take() else {
            return Err(SinkError::Fatal(
                "the index writer was lost by an earlier failure".into(),
            ));
        };
        let (indexer, out) = tokio::task::spawn_blocking(move || {
            let out = f(&mut indexer);
            (indexer, out)
        })
        .await
        .map_err(|e| SinkError::Fatal(Box::new(e)))?;
        self.indexer = Some(indexer);
        out.map_err(SinkError::classified)
    }
}

impl Sink for IndexSink {
    fn stored_offsets<'a>(
        &'a mut self,
        partitions: &'a [(String, i32)],
    ) -> BoxFuture<'a, Result<Offsets, SinkError>> {
        async move {
            // Whatever is buffered is committed first: the runner seeks to what this returns,
            // and the stored record must then hold everything indexed so far.
            self.call(|ix| ix.commit()).await?;
            let stored = self
                .indexer
                .as_ref()
                .map(|ix| ix.stored_offsets().clone())
                .unwrap_or_default();
            Ok(stored
                .into_iter()
                .filter(|(k, _)| partitions.contains(k))
                .collect())
        }
        .boxed()
    }

    fn write(&mut self, batch: SinkBatch) -> BoxFuture<'_, Result<Option<Offsets>, SinkError>> {
        async move { self.call(move |ix| ix.write(&batch)).await }.boxed()
    }

    fn flush(&mut self) -> BoxFuture<'_, Result<Option<Offsets>, SinkError>> {
        async move { self.call(|ix| ix.commit()).await }.boxed()
    }
}
