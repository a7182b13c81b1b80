//! A shutdown (SIGTERM, which the CLI turns into the cancellation of the worker's token) while a
//! batch is being annotated lets the batch finish: its annotations are produced and its offsets
//! committed before the worker returns. Against the real broker and ONNX Runtime; the model run
//! is held at the `annotate::model-run` fault point until the shutdown has been asked for. Its
//! own test process: fault points are global to a process.

mod common;

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::Duration;

use common::{cfg, committed, doc, read_to_marker, send, spawn_worker, topics};
use pubmine_stream::testing::unique;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_during_a_batch_lets_the_batch_finish_and_commit() {
    let (kafka, input, out, dlq) = topics(1).await;
    // Two documents: one batch (batch_docs 2).
    let docs = vec![
        doc(0, "Cisplatin caused kidney injury in patient 0."),
        doc(1, "Metformin reduced IL-6 in type 2 diabetes."),
    ];
    send(&kafka, &input, &docs).await;
    let cfg = cfg(&out, &dlq);
    let group = unique("annotate");
    // The model run says it has begun, then waits for the shutdown to be asked for.
    let (began, begun) = mpsc::channel::<()>();
    let (asked, asked_rx) = mpsc::channel::<()>();
    let asked_rx = std::sync::Mutex::new(asked_rx);
    fail::cfg_callback("annotate::model-run", move || {
        let _ = began.send(());
        let _ = asked_rx
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(30));
    })
    .unwrap();
    let (shutdown, worker) = spawn_worker(&kafka, &group, &input, cfg);
    tokio::task::spawn_blocking(move || begun.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("the batch reached the model within 60 s");
    shutdown.cancel();
    asked.send(()).unwrap();
    // any later model run goes straight on
    drop(asked);
    let stats = tokio::time::timeout(Duration::from_secs(60), worker)
        .await
        .expect("the worker returned within 60 s of the shutdown")
        .unwrap()
        .unwrap();
    fail::remove("annotate::model-run");
    assert_eq!(
        (stats.documents, stats.batches),
        (2, 1),
        "the batch in hand was finished"
    );
    let keys: BTreeSet<String> = read_to_marker(&kafka, &out)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let want: BTreeSet<String> = docs.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(keys, want, "its annotations produced");
    assert_eq!(committed(&group, &input), 2, "its offsets committed");
}
