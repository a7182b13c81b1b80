//! The annotator and the worker with a deterministic backend in place of ONNX Runtime
//! (`model::backend::Lexicon`, which tags exactly the terms it is given), over the channel
//! transport: the text logic (sentences, windows, first-subtoken decoding, character offsets,
//! relation pairs and their tags) and the worker's handling of records, tested with neither the
//! runtime library nor a broker. The same paths against the real runtime and the real broker are
//! in `worker.rs`, `worker_re.rs` and `parity.rs`.

use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;
use pubmine_annotate::annotator::Annotator;
use pubmine_annotate::model::backend::Lexicon;
use pubmine_annotate::ner::{NerModel, NerOptions};
use pubmine_annotate::re::ReModel;
use pubmine_annotate::worker::{WorkerConfig, WorkerStats, run};
use pubmine_stream::codec::{decode_annotations, decode_dead_letter, encode_document};
use pubmine_stream::record::{Document, Mention, Passage, PassageKind, SCHEMA_VERSION, SourceKind};
use pubmine_stream::transport::{
    Ack, ChannelConsumer, ChannelProducer, Consumer, InRecord, Offsets, OutRecord, Producer,
    TransportError,
};
use tokio_util::sync::CancellationToken;

fn demo(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name)
}

/// The terms the NER backend knows, and their types.
const TERMS: &[(&str, &str)] = &[
    ("Metformin", "Chemical"),
    ("type 2 diabetes", "Disease"),
    ("BRCA1", "Gene"),
    ("breast cancer", "Disease"),
];

/// The demo models' directories (their tokenizers and labels), each run by a lexicon: NER over
/// [`TERMS`], and an RE model that calls a Gene-Disease pair associated when its sentence says
/// "associated with".
fn annotator() -> Annotator {
    let opts = NerOptions::default();
    let ner = NerModel::open_with(&demo("demo-ner"), None, &opts, |dir| {
        Ok(Box::new(Lexicon::tokens(dir, TERMS).unwrap()))
    })
    .unwrap();
    let re = ReModel::open_with(&demo("demo-re-gene-disease"), None, |dir| {
        Ok(Box::new(
            Lexicon::sequences(dir, "0", &[("associated with", "1")]).unwrap(),
        ))
    })
    .unwrap();
    Annotator::new(vec![ner], &opts).with_relations(vec![re])
}

/// The worker with the lexicon annotator, two documents a batch, until its input ends.
async fn run_to_end(consumer: &dyn Consumer, output: &dyn Producer) -> WorkerStats {
    let cfg = WorkerConfig {
        output_topic: "annotations".into(),
        dead_letter_topic: "dead".into(),
        batch_docs: 2,
        linger: Duration::from_millis(20),
        tokens: None,
    };
    tokio::time::timeout(
        Duration::from_secs(60),
        run(
            consumer,
            output,
            annotator(),
            &cfg,
            &CancellationToken::new(),
        ),
    )
    .await
    .expect("the worker returns when its input ends")
    .unwrap()
}

fn document(id: &str, passages: &[&str]) -> Document {
    let mut d = Document::new(SourceKind::Pubmed, id.into());
    for (i, text) in passages.iter().enumerate() {
        let kind = if i == 0 {
            PassageKind::Title
        } else {
            PassageKind::Abstract
        };
        d.passages.push(Passage::new(kind, (*text).into()));
    }
    d
}

/// Every occurrence of the terms in `text`, as (start, end, text, type) in characters.
fn expected(passage: u32, text: &str) -> Vec<(u32, u32, u32, String, String)> {
    let mut out = Vec::new();
    for (term, ty) in TERMS {
        for (byte, _) in text.match_indices(term) {
            let start = text[..byte].chars().count() as u32;
            let end = start + term.chars().count() as u32;
            out.push((passage, start, end, term.to_string(), ty.to_string()));
        }
    }
    out.sort();
    out
}

fn found(mentions: &[Mention]) -> Vec<(u32, u32, u32, String, String)> {
    let mut out: Vec<_> = mentions
        .iter()
        .map(|m| (m.passage, m.start, m.end, m.text.clone(), m.ty.clone()))
        .collect();
    out.sort();
    out
}

/// A sentence far longer than the model's 128 tokens is covered by overlapping windows, and each
/// token is decoded from one of them: every occurrence is found once, with its offsets in
/// characters (a title with accented letters before a mention shifts bytes, not characters).
#[test]
fn every_occurrence_is_found_once_with_its_offsets_across_windows() {
    let title = "Étude réelle: Metformin and type 2 diabetes";
    let long: String = (0..40)
        .map(|i| format!("cohort {i} took Metformin for type 2 diabetes while BRCA1 carriers had breast cancer and"))
        .collect::<Vec<_>>()
        .join(" ")
        + " nothing else.";
    let doc = document("pmid:1", &[title, &long]);
    let mut a = annotator();
    let tokens = a.models[0]
        .dir
        .tokenizer
        .encode(long.as_str(), false)
        .unwrap()
        .len();
    assert!(
        tokens > 4 * 128,
        "the sentence needs windows: {tokens} tokens"
    );
    let out = a.annotate_all(&[&doc]).unwrap();
    let mut want = expected(0, title);
    want.extend(expected(1, &long));
    want.sort();
    assert_eq!(want.len(), 2 + 40 * 4);
    assert_eq!(found(&out[0].mentions), want);
    for m in &out[0].mentions {
        assert!(m.score > 0.99, "{m:?}");
        assert_eq!(m.model, "demo-ner");
    }
}

/// Relation candidates are the Gene-Disease pairs of a sentence, tagged and classified: the
/// sentence that says "associated with" gives its pair the relation, the other none.
#[test]
fn relations_come_from_the_pairs_of_a_sentence() {
    let doc = document(
        "pmid:2",
        &[
            "Two findings",
            "BRCA1 is associated with breast cancer. BRCA1 was measured in breast cancer tissue.",
        ],
    );
    let mut a = annotator();
    let out = a.annotate_all(&[&doc]).unwrap();
    let found = &out[0];
    assert_eq!(found.mentions.len(), 4, "{:?}", found.mentions);
    assert_eq!(found.relations.len(), 1, "{:?}", found.relations);
    let r = &found.relations[0];
    let (s, o) = (
        &found.mentions[r.subject as usize],
        &found.mentions[r.object as usize],
    );
    assert_eq!(
        (s.text.as_str(), o.text.as_str()),
        ("BRCA1", "breast cancer")
    );
    assert!(o.start < 40, "the pair of the first sentence: {o:?}");
    assert_eq!(r.ty, "association");
    assert_eq!(r.model, "demo-re-gene-disease");
}

/// The worker over channels: documents in, annotations out in input order, a tombstone passed
/// on, undecodable records dead-lettered with their reasons, and every offset committed once
/// the outputs are accepted; it returns when its input ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_over_channels_annotates_passes_deletions_and_sets_aside_bad_records() {
    let (input, rx) = ChannelProducer::new(4);
    let consumer = ChannelConsumer::new(rx);
    let (output, mut out_rx) = ChannelProducer::new(64);
    let mut newer = document("pmid:13", &["a record from a newer writer"]);
    newer.schema_version = SCHEMA_VERSION + 1;
    let records: Vec<(&str, Option<Vec<u8>>)> = vec![
        (
            "pmid:10",
            Some(encode_document(&document(
                "pmid:10",
                &["Metformin in type 2 diabetes"],
            ))),
        ),
        ("pmid:11", None),
        ("pmid:12", Some(b"{not json".to_vec())),
        ("pmid:13", Some(encode_document(&newer))),
        (
            "pmid:14",
            Some(encode_document(&document(
                "pmid:14",
                &["BRCA1 is associated with breast cancer."],
            ))),
        ),
        (
            "pmid:15",
            Some(encode_document(&document("pmid:15", &["No entity here."]))),
        ),
    ];
    let n = records.len();
    let feed = tokio::spawn(async move {
        for (key, value) in records {
            let out = OutRecord::new("documents", key, value);
            input.enqueue(out).await.unwrap().await.unwrap();
        }
        // Dropping the producer ends the worker's input.
    });
    let stats = run_to_end(&consumer, &output).await;
    feed.await.unwrap();
    assert_eq!(
        (stats.documents, stats.tombstones, stats.dead_lettered),
        (3, 1, 2)
    );
    assert_eq!(
        consumer.committed()[&("documents".to_string(), 0)],
        n as i64
    );

    drop(output);
    let mut annotations = Vec::new();
    let mut dead = Vec::new();
    while let Some(r) = out_rx.recv().await {
        match r.topic.as_str() {
            "annotations" => annotations.push(r),
            "dead" => dead.push(r),
            other => panic!("unexpected topic {other}"),
        }
    }
    let keys: Vec<&str> = annotations.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["pmid:10", "pmid:11", "pmid:14", "pmid:15"]);
    // Each output names the input record it was made from, the tombstone too.
    let origins: Vec<String> = annotations
        .iter()
        .map(|r| r.origin.as_ref().expect("an origin").to_string())
        .collect();
    assert_eq!(
        origins,
        [
            "documents/0@0",
            "documents/0@1",
            "documents/0@4",
            "documents/0@5"
        ]
    );
    assert!(annotations[1].value.is_none(), "the tombstone passed on");
    let decoded: Vec<_> = [0, 2, 3]
        .iter()
        .map(|&i| decode_annotations(annotations[i].value.as_deref().unwrap()).unwrap())
        .collect();
    let texts = |i: usize| -> Vec<&str> {
        decoded[i]
            .mentions
            .iter()
            .map(|m| m.text.as_str())
            .collect()
    };
    assert_eq!(texts(0), ["Metformin", "type 2 diabetes"]);
    assert_eq!(texts(1), ["BRCA1", "breast cancer"]);
    assert_eq!(decoded[1].relations.len(), 1);
    assert!(texts(2).is_empty());
    let models: Vec<&str> = decoded[0].models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(models, ["demo-ner", "demo-re-gene-disease"]);

    let reasons: Vec<(String, String)> = dead
        .iter()
        .map(|r| {
            let dl = decode_dead_letter(r.value.as_deref().unwrap()).unwrap();
            assert_eq!(dl.stage, "annotate");
            (r.key.clone(), dl.reason)
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, "pmid:12");
    assert!(reasons[0].1.contains("JSON"), "{reasons:?}");
    assert_eq!(reasons[1].0, "pmid:13");
    assert!(reasons[1].1.contains("newer"), "{reasons:?}");
}

/// A partition read from its committed offset, assigned anew (a rebalance: the epoch moves and
/// the reading starts again from the committed offset, as a Kafka assignment does) during the
/// `rebalance_on`-th receive.
struct Rebalancing {
    records: Vec<InRecord>,
    state: std::sync::Arc<std::sync::Mutex<Reading>>,
    rebalance_on: usize,
    /// Commits that fail before the partition goes to another member, which reads it to its
    /// end and commits that ([`hand_over`]); 0: commits succeed.
    failed_commits: std::sync::atomic::AtomicUsize,
}

impl Rebalancing {
    /// Over [`documents`] 0 to 4, at assignment epoch 1.
    fn over_five(rebalance_on: usize, failed_commits: usize) -> Rebalancing {
        Rebalancing {
            records: documents(5),
            state: std::sync::Arc::new(std::sync::Mutex::new(Reading {
                epoch: 1,
                ..Reading::default()
            })),
            rebalance_on,
            failed_commits: failed_commits.into(),
        }
    }
}

/// The partition assigned to another member, which read it to `end` and committed that.
fn hand_over(st: &mut Reading, end: usize) {
    st.epoch += 1;
    st.committed = end;
    st.position = end;
}

#[derive(Default)]
struct Reading {
    position: usize,
    epoch: u64,
    /// The group's committed offset: the last commit's, as a broker keeps it.
    committed: usize,
    receives: usize,
}

impl Consumer for Rebalancing {
    fn recv_batch<'a>(
        &'a self,
        max: usize,
        _linger: Duration,
        _idle: Option<Duration>,
        _cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Vec<InRecord>, TransportError>> {
        let mut st = self.state.lock().unwrap();
        st.receives += 1;
        if st.receives == self.rebalance_on {
            st.epoch += 1;
            st.position = st.committed;
        }
        let from = st.position;
        let to = (from + max).min(self.records.len());
        st.position = to;
        let got = if from == to {
            Err(TransportError::Closed)
        } else {
            Ok(self.records[from..to].to_vec())
        };
        Box::pin(async move { got })
    }

    fn assignment(&self) -> (u64, Vec<(String, i32)>) {
        (
            self.state.lock().unwrap().epoch,
            vec![("documents".into(), 0)],
        )
    }

    fn seek(&self, _: &str, _: i32, _: Option<i64>) -> Result<(), TransportError> {
        Ok(())
    }

    fn low_watermark<'a>(
        &'a self,
        _: &'a str,
        _: i32,
    ) -> BoxFuture<'a, Result<i64, TransportError>> {
        Box::pin(async { Ok(0) })
    }

    fn commit_offsets(&self, next: &Offsets) -> Result<(), TransportError> {
        let mut st = self.state.lock().unwrap();
        let failing = self
            .failed_commits
            .load(std::sync::atomic::Ordering::SeqCst);
        if failing > 0 {
            self.failed_commits
                .store(failing - 1, std::sync::atomic::Ordering::SeqCst);
            if failing == 1 {
                hand_over(&mut st, self.records.len());
            }
            return Err(TransportError::Delivery("broker away".into()));
        }
        if let Some(&o) = next.get(&("documents".to_string(), 0)) {
            st.committed = o as usize;
        }
        Ok(())
    }
}

/// The documents `pmid:0` to `pmid:{n-1}`, at offsets 0 to n-1 of partition 0.
fn documents(n: i64) -> Vec<InRecord> {
    (0..n)
        .map(|n| InRecord {
            topic: "documents".into(),
            partition: 0,
            offset: n,
            key: format!("pmid:{n}"),
            value: Some(encode_document(&document(
                &format!("pmid:{n}"),
                &["Metformin in type 2 diabetes"],
            ))),
            timestamp: None,
            origin: None,
        })
        .collect()
}

/// A producer whose first acknowledgement comes after the partition was assigned to another
/// member, which read it to its end and committed that (a worker whose session was lost while
/// the broker was away, its acknowledgements delayed until the broker came back).
struct HandedOver {
    inner: ChannelProducer,
    state: std::sync::Arc<std::sync::Mutex<Reading>>,
    end: usize,
    acks: std::sync::atomic::AtomicUsize,
}

impl Producer for HandedOver {
    fn enqueue(&self, record: OutRecord) -> BoxFuture<'_, Result<Ack, TransportError>> {
        Box::pin(async move {
            let ack = self.inner.enqueue(record).await?;
            if self.acks.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                hand_over(&mut self.state.lock().unwrap(), self.end);
            }
            Ok(ack)
        })
    }

    fn flush(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        self.inner.flush()
    }
}

/// A worker whose partition went to another member while its outputs were being acknowledged
/// does not commit the batch: the other member had committed past it, and the old offsets would
/// move the group back over records it had done (it would then wait there, with nothing new to
/// read, until a restart read them all again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_acknowledged_after_a_rebalance_does_not_move_the_group_back() {
    let consumer = Rebalancing::over_five(usize::MAX, 0);
    let state = consumer.state.clone();
    let (inner, mut out_rx) = ChannelProducer::new(64);
    let output = HandedOver {
        inner,
        state: state.clone(),
        end: 5,
        acks: Default::default(),
    };
    let stats = run_to_end(&consumer, &output).await;
    drop(output);
    assert_eq!(
        state.lock().unwrap().committed,
        5,
        "the group stays where the partition's new owner committed it"
    );
    assert_eq!(stats.batches, 0, "the batch is left to the new owner");
    // Its outputs were delivered before the worker saw the rebalance: duplicates of the new
    // owner's, which the sinks take or refuse by their origins.
    let mut keys = Vec::new();
    while let Some(r) = out_rx.recv().await {
        keys.push(r.key);
    }
    assert_eq!(keys, ["pmid:0", "pmid:1"]);
}

/// A worker whose partition is assigned anew between receiving a batch and delivering it
/// leaves the batch: the records come again from the committed offset (to whichever member owns
/// the partition), and an output of the old assignment delivered after them could undo a later
/// record (a document's annotations after its tombstone). Each document is answered once, in
/// order, and the offsets end committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_received_before_a_rebalance_is_left_to_the_partitions_owner() {
    // The first batch is in hand (being annotated) when the second receive brings the
    // rebalance.
    let consumer = Rebalancing::over_five(2, 0);
    let (output, mut out_rx) = ChannelProducer::new(64);
    let stats = run_to_end(&consumer, &output).await;
    drop(output);
    let mut keys = Vec::new();
    while let Some(r) = out_rx.recv().await {
        keys.push(r.key);
    }
    assert_eq!(keys, ["pmid:0", "pmid:1", "pmid:2", "pmid:3", "pmid:4"]);
    assert_eq!(
        consumer.state.lock().unwrap().committed,
        5,
        "every offset committed"
    );
    assert_eq!(stats.batches, 3);
}

/// Offsets whose commit failed (the broker away) are not committed once the partition went to
/// another member meanwhile, which had committed past them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_owed_from_before_a_rebalance_do_not_move_the_group_back() {
    let consumer = Rebalancing::over_five(usize::MAX, 2);
    let state = consumer.state.clone();
    let (output, _out_rx) = ChannelProducer::new(64);
    run_to_end(&consumer, &output).await;
    assert_eq!(
        state.lock().unwrap().committed,
        5,
        "the group stays where the partition's new owner committed it"
    );
}
