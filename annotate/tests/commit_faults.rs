//! An offset commit that fails (the broker away) after the last batch before a quiet spell is
//! tried again while the topic is quiet, not left until a next batch that may never come. Against
//! the real broker and ONNX Runtime, the failure injected at a named fault point. Its own test
//! process: fault points are global to a process, as is the metrics recorder that counts the
//! failed tries.

mod common;

use std::time::Duration;

use common::{cfg, committed, doc, send, spawn_worker, topics};
use pubmine_stream::testing::unique;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_of_the_last_batch_is_tried_again_while_the_topic_is_quiet() {
    let (kafka, input, out, dlq) = topics(1).await;
    // One document: one batch, so no later batch's commit can cover the failed one.
    let docs = vec![doc(0, "Cisplatin caused kidney injury in patient 0.")];
    send(&kafka, &input, &docs).await;
    let cfg = cfg(&out, &dlq);
    let group = unique("annotate");
    // The batch's own three tries and the first retry while quiet fail; the next succeeds.
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .unwrap();
    fail::cfg("annotate::commit", "4*return(broker away)->off").unwrap();
    let (shutdown, worker) = spawn_worker(&kafka, &group, &input, cfg);
    let started = std::time::Instant::now();
    let mut at = 0;
    while at < docs.len() as i64 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        at = committed(&group, &input);
    }
    shutdown.cancel();
    let stats = worker.await.unwrap().unwrap();
    fail::cfg("annotate::commit", "off").unwrap();
    assert_eq!(stats.documents as usize, docs.len());
    assert_eq!(
        at,
        docs.len() as i64,
        "the worker, still running on a quiet topic, committed its last batch"
    );
    // The positive control: the injected failure fired, four times, each a retry counted.
    let failed: Vec<String> = recorder
        .render()
        .lines()
        .filter(|l| l.starts_with("pubmine_retries_total{"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        failed,
        ["pubmine_retries_total{stage=\"annotate\",class=\"commit\"} 4"],
        "the four failed commits, counted"
    );
}
