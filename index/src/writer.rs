//! The one `IndexWriter` of an index directory, and what it commits: documents replaced and
//! deleted by id, and, in the same commit's payload, the Kafka offsets the commit covers.
//!
//! Exactly once: the payload of the last commit says, per partition, the next offset to read.
//! A restarted indexer resumes there ([`Indexer::stored_offsets`]), and skips any record below
//! it, or below what it has buffered since, should the broker deliver it again.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use pubmine_stream::sink::SinkBatch;
use pubmine_stream::transport::{Offsets, Origin};
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::IndexError;
use crate::doc::{self, StoredMention};
use crate::schema::{self, Fields};

/// When to commit, and the writer's resources.
#[derive(Debug, Clone)]
pub struct IndexConfig {
    /// Commit once this many documents (upserts and deletions) are buffered.
    pub commit_docs: usize,
    /// Commit once the oldest buffered change is this old (checked on each write; the runner
    /// also flushes when the stream is idle).
    pub commit_interval: Duration,
    /// Indexing threads of the writer.
    pub threads: usize,
    /// Memory budget of the writer, in bytes, over all its threads.
    pub memory_bytes: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            commit_docs: 10_000,
            commit_interval: Duration::from_secs(10),
            threads: 2,
            memory_bytes: 256 << 20,
        }
    }
}

/// What an indexer did since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    pub documents: u64,
    pub deletions: u64,
    pub mentions: u64,
    /// Mentions of other models kept from a document's previous entry.
    pub mentions_kept: u64,
    /// Records below the offsets already indexed.
    pub skipped: u64,
    /// Records made from an earlier documents record than the version of their document (or
    /// its deletion) the index holds: left unwritten.
    pub superseded: u64,
    pub commits: u64,
}

/// The commit payload: the next offset per partition, over every partition ever indexed.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    version: u32,
    offsets: Vec<PartitionOffset>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PartitionOffset {
    topic: String,
    partition: i32,
    next: i64,
}

const PAYLOAD_VERSION: u32 = 1;

/// What the index holds of one document: the origin of the record it was made from, and its
/// mentions (`None`: the document is deleted).
#[derive(Debug, Clone)]
struct Held {
    origin: Option<Origin>,
    mentions: Option<Vec<StoredMention>>,
}

/// The writer side of an index directory.
pub struct Indexer {
    index: Index,
    fields: Fields,
    writer: IndexWriter,
    reader: IndexReader,
    cfg: IndexConfig,
    /// The offsets in the last commit's payload.
    committed: Offsets,
    /// The offsets once the buffered changes are committed (`committed` updated by the batches).
    buffered: Offsets,
    /// Partitions whose offsets moved since the last commit.
    touched: BTreeSet<(String, i32)>,
    /// Documents changed since the last commit, as they are now.
    pending: HashMap<String, Held>,
    pending_docs: usize,
    oldest_pending: Option<Instant>,
    stats: IndexStats,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexer")
            .field("committed", &self.committed)
            .field("pending_docs", &self.pending_docs)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Indexer {
    /// Opens (or creates) the index in `dir` and takes its writer lock: one indexer per
    /// directory.
    pub fn open(dir: &Path, cfg: IndexConfig) -> Result<Indexer, IndexError> {
        let (index, fields) = schema::open_or_create(dir)?;
        let writer = index
            .writer_with_num_threads(cfg.threads.max(1), cfg.memory_bytes.max(15 << 20))
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => IndexError::Locked(dir.to_owned()),
                e => IndexError::Tantivy(e),
            })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let committed = read_payload(&index)?;
        Ok(Indexer {
            index,
            fields,
            writer,
            reader,
            buffered: committed.clone(),
            committed,
            cfg,
            touched: BTreeSet::new(),
            pending: HashMap::new(),
            pending_docs: 0,
            oldest_pending: None,
            stats: IndexStats::default(),
        })
    }

    /// The offsets of the last commit.
    pub fn stored_offsets(&self) -> &Offsets {
        &self.committed
    }

    pub fn stats(&self) -> IndexStats {
        self.stats
    }

    /// Applies a batch: each upsert replaces the document's entry (keeping the mentions of models
    /// the new record does not name), each tombstone deletes it; items below the offsets already
    /// indexed or buffered are skipped, and so are items made from an earlier documents record
    /// than the version (or deletion) of their document the index holds. Commits when the
    /// buffer is full or old enough, and then returns the offsets made durable.
    pub fn write(&mut self, batch: &SinkBatch) -> Result<Option<Offsets>, IndexError> {
        let superseded = self.stats.superseded;
        for item in &batch.items {
            let key = (item.topic.clone(), item.partition);
            if self
                .buffered
                .get(&key)
                .is_some_and(|&next| item.offset < next)
            {
                self.stats.skipped += 1;
                continue;
            }
            let held = self.held(&item.key)?;
            let older = match (&item.origin, held.as_ref().and_then(|h| h.origin.as_ref())) {
                (Some(o), Some(h)) => o.is_before(h),
                _ => false,
            };
            if older {
                tracing::debug!(document = %item.key, origin = ?item.origin, "older version left unwritten");
                self.stats.superseded += 1;
            } else {
                match &item.annotations {
                    Some(a) => self.upsert(&item.key, a, item.origin.as_ref(), held)?,
                    None => self.delete(&item.key, item.origin.as_ref())?,
                }
            }
            self.buffered.insert(key.clone(), item.offset + 1);
            self.touched.insert(key);
        }
        let superseded = self.stats.superseded - superseded;
        if superseded > 0 {
            pubmine_stream::metrics::superseded("index", superseded);
            tracing::warn!(
                records = superseded,
                "older versions delivered late left unwritten: the index holds newer versions of \
                 their documents, or their deletions"
            );
        }
        for (key, &next) in &batch.next {
            let at = self.buffered.entry(key.clone()).or_insert(next);
            if *at < next {
                *at = next;
            }
            if self.committed.get(key) != Some(at) {
                self.touched.insert(key.clone());
            }
        }
        if !self.touched.is_empty() && self.oldest_pending.is_none() {
            self.oldest_pending = Some(Instant::now());
        }
        let due = self.pending_docs >= self.cfg.commit_docs.max(1)
            || self
                .oldest_pending
                .is_some_and(|t| t.elapsed() >= self.cfg.commit_interval);
        if due { self.commit() } else { Ok(None) }
    }

    /// Commits the buffered changes with their offsets; `None` when nothing was buffered.
    pub fn commit(&mut self) -> Result<Option<Offsets>, IndexError> {
        if self.touched.is_empty() && self.pending_docs == 0 {
            return Ok(None);
        }
        let payload = Payload {
            version: PAYLOAD_VERSION,
            offsets: self
                .buffered
                .iter()
                .map(|((topic, partition), &next)| PartitionOffset {
                    topic: topic.clone(),
                    partition: *partition,
                    next,
                })
                .collect(),
        };
        let json = serde_json::to_string(&payload).map_err(IndexError::Payload)?;
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&json);
        prepared.commit()?;
        self.reader.reload()?;
        let done: Offsets = std::mem::take(&mut self.touched)
            .into_iter()
            .filter_map(|k| self.buffered.get(&k).map(|&v| (k, v)))
            .collect();
        self.committed = self.buffered.clone();
        self.pending.clear();
        pubmine_stream::metrics::sink_rows("index", "documents", self.pending_docs as u64);
        self.pending_docs = 0;
        self.oldest_pending = None;
        self.stats.commits += 1;
        tracing::debug!(offsets = ?done, "index committed");
        Ok(Some(done))
    }

    /// Finishes background merges and releases the writer lock.
    pub fn close(self) -> Result<(), IndexError> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }

    /// Replaces the entry of `id`; `held` is what the index holds of it now.
    fn upsert(
        &mut self,
        id: &str,
        a: &pubmine_stream::record::Annotations,
        origin: Option<&Origin>,
        held: Option<Held>,
    ) -> Result<(), IndexError> {
        let mut mentions = doc::mentions_of(a);
        let fresh = mentions.len();
        let replaced: BTreeSet<&str> = a.models.iter().map(|m| m.name.as_str()).collect();
        if let Some(old) = held.and_then(|h| h.mentions) {
            let kept: Vec<StoredMention> = old
                .into_iter()
                .filter(|m| !replaced.contains(m.model.as_str()))
                .collect();
            self.stats.mentions_kept += kept.len() as u64;
            mentions.extend(kept);
        }
        let mut document = doc::build(&self.fields, id, a.document.as_deref(), &mentions);
        if let Some(o) = origin {
            document.add_text(self.fields.origin, o.to_string());
        }
        self.writer
            .delete_term(Term::from_field_text(self.fields.id, id));
        self.writer.add_document(document)?;
        self.stats.documents += 1;
        self.stats.mentions += fresh as u64;
        self.pending.insert(
            id.to_owned(),
            Held {
                origin: origin.cloned(),
                mentions: Some(mentions),
            },
        );
        self.pending_docs += 1;
        Ok(())
    }

    /// Deletes the entry of `id`; with the tombstone's origin, an entry that stands for the
    /// deletion takes its place.
    fn delete(&mut self, id: &str, origin: Option<&Origin>) -> Result<(), IndexError> {
        self.writer
            .delete_term(Term::from_field_text(self.fields.id, id));
        if let Some(o) = origin {
            self.writer
                .add_document(doc::tombstone(&self.fields, id, o))?;
        }
        self.stats.deletions += 1;
        self.pending.insert(
            id.to_owned(),
            Held {
                origin: origin.cloned(),
                mentions: None,
            },
        );
        self.pending_docs += 1;
        Ok(())
    }

    /// What the index holds of `id`, buffered changes included; `None` when it holds nothing.
    fn held(&self, id: &str) -> Result<Option<Held>, IndexError> {
        if let Some(p) = self.pending.get(id) {
            return Ok(Some(p.clone()));
        }
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.id, id);
        if searcher.doc_freq(&term)? == 0 {
            return Ok(None);
        }
        let query = TermQuery::new(term, IndexRecordOption::Basic);
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, address)) = top.first() else {
            return Ok(None);
        };
        let stored: TantivyDocument = searcher.doc(*address)?;
        let origin = schema::stored_str(&stored, self.fields.origin).and_then(|o| o.parse().ok());
        let mentions = match schema::stored_str(&stored, self.fields.mentions) {
            Some(json) => Some(serde_json::from_str(&json).map_err(IndexError::Payload)?),
            // The entry of a deleted document.
            None => None,
        };
        Ok(Some(Held { origin, mentions }))
    }

    /// The index, for tests and benchmarks that read what was written.
    pub fn index(&self) -> &Index {
        &self.index
    }
}

/// The offsets in the payload of the index's last commit (empty for a new index).
pub fn read_payload(index: &Index) -> Result<Offsets, IndexError> {
    let metas = index.load_metas()?;
    let Some(json) = metas.payload else {
        return Ok(Offsets::new());
    };
    let payload: Payload = serde_json::from_str(&json).map_err(IndexError::Payload)?;
    if payload.version != PAYLOAD_VERSION {
        return Err(IndexError::PayloadVersion(payload.version));
    }
    Ok(payload
        .offsets
        .into_iter()
        .map(|p| ((p.topic, p.partition), p.next))
        .collect())
}
