//! What faults do to the annotate worker, against the real broker and the real ONNX Runtime
//! (faults are injected at named points, never by a mock of the runtime). This file is its own
//! test process: fault points are global to a process.
//!
//! - The model session failing mid-stream (a device lost, say) is fatal: the worker stops with
//!   the error, dead-letters nothing, and commits nothing past the batches it finished; a
//!   restarted worker annotates the rest.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{cfg, doc, read_all, read_to_marker, send, topics, worker};
use pubmine_stream::error::{Classify, ErrorClass};
use pubmine_stream::testing::unique;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_model_session_stops_the_worker_without_committing_or_dead_lettering() {
    let (kafka, input, out, dlq) = topics(1).await;
    let docs: Vec<_> = (0..6)
        .map(|i| {
            doc(
                i,
                &format!("Cisplatin caused kidney injury in patient {i} with colorectal cancer."),
            )
        })
        .collect();
    send(&kafka, &input, &docs).await;
    let cfg = cfg(&out, &dlq);
    let group = unique("annotate");

    // The first inference succeeds, every later one fails, as when a device is lost.
    fail::cfg("annotate::model-run", "1*off->return(device lost)").unwrap();
    let err = worker(&kafka, &group, &input, &cfg, Duration::from_secs(60))
        .await
        .expect_err("the worker stops on a fatal fault");
    assert_eq!(err.class(), ErrorClass::Fatal, "{err:?}");
    let chain = format!("{:?}", anyhow_like(&err));
    assert!(chain.contains("device lost"), "{chain}");
    let first = read_all(&out, Duration::from_secs(5)).await;
    let first_keys: BTreeSet<String> = first.iter().map(|(k, _)| k.clone()).collect();
    assert!(
        first_keys.len() < docs.len(),
        "only the batches before the fault are annotated: {first_keys:?}"
    );
    assert!(
        read_to_marker(&kafka, &dlq).await.is_empty(),
        "a fault of the runtime sends no record to the dead letters"
    );

    // The device is back: a restarted worker annotates every record the first did not finish.
    fail::cfg("annotate::model-run", "off").unwrap();
    let stats = worker(&kafka, &group, &input, &cfg, Duration::from_secs(15))
        .await
        .unwrap();
    let all = read_all(&out, Duration::from_secs(5)).await;
    let keys: BTreeSet<String> = all.iter().map(|(k, _)| k.clone()).collect();
    let want: BTreeSet<String> = docs.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(keys, want, "every document annotated after the restart");
    assert_eq!(
        stats.documents as usize,
        docs.len() - first_keys.len(),
        "the restart redid exactly the records not committed"
    );
    assert_eq!(stats.dead_lettered, 0);
    assert!(read_to_marker(&kafka, &dlq).await.is_empty());
}

/// The error and its sources, as the binary prints them.
fn anyhow_like(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}
