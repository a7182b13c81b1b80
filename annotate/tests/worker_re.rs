//! The annotate worker with an RE model, against the real broker and the real ONNX Runtime: the
//! annotations record carries the relations between its mentions and names the RE model.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::topics;
use pubmine_annotate::annotator::Annotator;
use pubmine_annotate::model::session::SessionOptions;
use pubmine_annotate::ner::{NerModel, NerOptions};
use pubmine_annotate::re::ReModel;
use pubmine_annotate::worker::{WorkerConfig, run};
use pubmine_stream::codec::encode_document;
use pubmine_stream::record::{Annotations, Document, Passage, PassageKind, SourceKind};
use pubmine_stream::testing::unique;
use pubmine_stream::transport::{OutRecord, Producer};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use tokio_util::sync::CancellationToken;

fn model_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_emits_relations() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh, or export ORT_DYLIB_PATH=$(scripts/install-onnxruntime.sh)"
    );
    let opts = NerOptions::default();
    let ner = NerModel::open(&model_dir("demo-ner"), SessionOptions::default(), &opts).unwrap();
    let re = ReModel::open(
        &model_dir("demo-re-gene-disease"),
        None,
        SessionOptions::default(),
    )
    .unwrap();
    let annotator = Annotator::new(vec![ner], &opts).with_relations(vec![re]);

    let (kafka, docs_topic, out_topic, dlq) = topics(1).await;
    let mut d = Document::new(SourceKind::Pubmed, "pmid:42".into());
    d.passages.push(Passage::new(
        PassageKind::Abstract,
        "Mutations in BRCA1 increase the risk of breast cancer (Smith et al., 2001). \
         Serum TP53 levels were similar in asthma and in controls."
            .into(),
    ));
    let producer = kafka.producer().unwrap();
    producer
        .enqueue(OutRecord::new(
            docs_topic.clone(),
            d.id.clone(),
            Some(encode_document(&d)),
        ))
        .await
        .unwrap()
        .await
        .unwrap();

    let cfg = WorkerConfig {
        output_topic: out_topic.clone(),
        dead_letter_topic: dlq,
        batch_docs: 4,
        linger: Duration::from_millis(100),
        tokens: None,
    };
    let consumer = kafka.consumer(&unique("annotate"), &[&docs_topic]).unwrap();
    let shutdown = CancellationToken::new();
    let worker = {
        let shutdown = shutdown.clone();
        let producer = kafka.producer().unwrap();
        tokio::spawn(async move { run(&consumer, &producer, annotator, &cfg, &shutdown).await })
    };
    let reader: StreamConsumer = kafka.consumer_config(&unique("reader")).create().unwrap();
    reader.subscribe(&[&out_topic]).unwrap();
    let m = tokio::time::timeout(Duration::from_secs(30), reader.recv())
        .await
        .expect("annotations within 30 s")
        .unwrap();
    let a: Annotations = serde_json::from_slice(m.payload().unwrap()).unwrap();
    shutdown.cancel();
    let stats = worker.await.unwrap().unwrap();
    assert_eq!((stats.documents, stats.relations), (1, 1));

    assert_eq!(
        a.models.iter().map(|m| m.task.as_str()).collect::<Vec<_>>(),
        ["ner", "re"]
    );
    assert_eq!(a.relations.len(), 1, "{:?}", a.relations);
    let r = &a.relations[0];
    assert_eq!(a.mentions[r.subject as usize].text, "BRCA1");
    assert_eq!(a.mentions[r.object as usize].text, "breast cancer");
    assert_eq!(r.ty, "association");
}
