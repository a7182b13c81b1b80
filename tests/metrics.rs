//! Metrics and health of running stages on the real broker and Postgres: `pubmine annotate` and
//! `pubmine store` started with `--metrics-addr`, scraped while records pass. The counters must
//! reach what the topics and the database hold, the lag must fall to zero, `/readyz` must say
//! what a stage waits for, and every metric the committed dashboard queries must be served.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    LOCAL_BROKER_OPTIONS, Pipeline, annotate_args, log_dir, read_to_end, topic_ends, write_input,
};
use pubmine_stream::codec::decode_annotations;
use pubmine_stream::testing::brokers;

/// A stage started with `--metrics-addr 127.0.0.1:0`, and where it serves.
struct Stage {
    child: Child,
    log: std::path::PathBuf,
    base: String,
}

impl Drop for Stage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Stage {
    fn start(mut cmd: Command, log: &Path) -> Stage {
        let file = std::fs::File::create(log).unwrap();
        cmd.args(["--metrics-addr", "127.0.0.1:0"])
            .env("PUBMINE_LOG", "info")
            .env("PUBMINE_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(file);
        let mut child = cmd.spawn().unwrap();
        let started = Instant::now();
        let base = loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let addr = text.lines().find_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).ok()?;
                v["fields"]["message"]
                    .as_str()?
                    .starts_with("serving metrics")
                    .then(|| v["fields"]["addr"].as_str().map(str::to_owned))?
            });
            if let Some(a) = addr {
                break format!("http://{a}");
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the stage exited with {status}:\n{text}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no metrics address logged:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        Stage {
            child,
            log: log.to_owned(),
            base,
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn scrape(&self) -> Scrape {
        let (status, text) = self.get("/metrics").await;
        assert_eq!(status, 200, "{text}");
        Scrape::parse(&text)
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "the stage exited with {status}:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

/// One scrape: every sample, by name and labels.
#[derive(Debug, Default)]
struct Scrape {
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
    /// Names from the `# TYPE` lines.
    types: BTreeMap<String, String>,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut s = Scrape::default();
        for line in text.lines() {
            if let Some(t) = line.strip_prefix("# TYPE ") {
                let mut parts = t.split_whitespace();
                if let (Some(n), Some(k)) = (parts.next(), parts.next()) {
                    s.types.insert(n.to_owned(), k.to_owned());
                }
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (head, value) = line.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match head.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (head, ""),
            };
            let labels = labels
                .split(',')
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
                .collect();
            s.samples
                .push((name.to_owned(), labels, value.parse().expect("a number")));
        }
        s
    }

    /// The sum of the samples of `name` whose labels include `with`.
    fn sum(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(n, labels, _)| {
                n == name
                    && with
                        .iter()
                        .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| v)
            .sum()
    }

    fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|(n, _, _)| n == name)
    }
}

/// Scrapes until `done` holds of a scrape, or panics with the last one after `limit`.
async fn until(
    stage: &Stage,
    limit: Duration,
    what: &str,
    done: impl Fn(&Scrape) -> bool,
) -> Scrape {
    let started = Instant::now();
    loop {
        let s = stage.scrape().await;
        // What the stage reported over time, for the test's output.
        println!(
            "{:>5.1} s  in {:>4}  out {:>4}  lag {:>4}",
            started.elapsed().as_secs_f64(),
            s.sum("pubmine_records_in_total", &[]) + 0.0,
            s.sum("pubmine_records_out_total", &[]) + 0.0,
            s.sum("pubmine_consumer_lag", &[]) + 0.0
        );
        if done(&s) {
            return s;
        }
        assert!(
            started.elapsed() < limit,
            "{what}: not within {limit:?}; last scrape: {s:#?}\nlog:\n{}",
            std::fs::read_to_string(&stage.log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_count_what_passes_report_lag_and_readiness() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let brokers = brokers();
    let logs = log_dir();
    let input = tempfile::tempdir().unwrap();
    let expected_docs = write_input(input.path(), 150);
    let p = Pipeline::new(&brokers, &logs).await;
    p.ingest(input.path());
    let documents = p.topic("documents");
    let in_topic: i64 = topic_ends(&brokers, &documents).await.iter().sum();
    // every article, the update file's revisions (every 10th) and deletions (every 25th from
    // the 3rd), the PMC articles; the malformed record is a dead letter
    let records = 150 + (0..150).step_by(10).count() + (3..150).step_by(25).count() + 5;
    assert_eq!(in_topic, records as i64, "records ingested");

    // The annotate worker: records in, out, tokens, model runs, lag.
    let mut cmd = p.command();
    cmd.arg("annotate")
        .args(annotate_args())
        .args(["--group", &format!("{}-annotate", p.name)])
        .args(LOCAL_BROKER_OPTIONS);
    let annotate = Stage::start(cmd, &logs.join(format!("{}-metrics-annotate.log", p.name)));
    let (status, body) = annotate.get("/healthz").await;
    assert_eq!((status, body.trim()), (200, "ok"));
    let first = annotate.scrape().await;
    let stage = [("stage", "annotate")];
    let s = until(
        &annotate,
        Duration::from_secs(180),
        "annotate takes every record and catches up",
        |s| {
            s.sum("pubmine_records_in_total", &stage) as i64 == in_topic
                && s.sum("pubmine_records_out_total", &stage) as i64 == in_topic
                && s.has("pubmine_consumer_lag")
                && s.sum("pubmine_consumer_lag", &[("topic", &documents)]) == 0.0
        },
    )
    .await;
    assert!(
        first.sum("pubmine_records_in_total", &stage) < in_topic as f64,
        "the counters moved while the records passed"
    );
    let annotations = p.topic("annotations");
    let out_topic: i64 = topic_ends(&brokers, &annotations).await.iter().sum();
    assert_eq!(
        out_topic, in_topic,
        "one annotation or tombstone per document record"
    );
    for model in ["demo-ner", "demo-ner-gene", "demo-re-gene-disease"] {
        let m = [("model", model)];
        assert!(s.sum("pubmine_annotate_tokens_total", &m) > 0.0, "{model}");
        assert!(
            s.sum("pubmine_model_run_seconds_count", &m) > 0.0,
            "{model}"
        );
        assert!(s.sum("pubmine_model_run_seconds_sum", &m) > 0.0, "{model}");
        assert_eq!(
            s.sum("pubmine_annotate_batch_tokens_count", &m),
            s.sum("pubmine_model_run_seconds_count", &m),
            "{model}: one batch fill per model run"
        );
    }
    assert_eq!(
        s.types.get("pubmine_model_run_seconds").map(String::as_str),
        Some("histogram"),
        "latencies are histograms with buckets, for quantiles"
    );
    assert_eq!(s.sum("pubmine_dead_letters_total", &stage), 0.0);
    let (status, body) = annotate.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["checks"]["broker"], "ok", "{body}");
    assert_eq!(ready["checks"]["models"], "ok", "{body}");

    // The store: records in, rows per table as the database holds them, commit latency.
    let mut cmd = p.command();
    cmd.args(["store", "--group", &format!("{}-store", p.name)])
        .args(["--batch", "50"])
        .args(LOCAL_BROKER_OPTIONS);
    let store = Stage::start(cmd, &logs.join(format!("{}-metrics-store.log", p.name)));
    let stage = [("stage", "store")];
    let s = until(
        &store,
        Duration::from_secs(120),
        "store takes every annotation",
        |s| {
            s.sum("pubmine_records_out_total", &stage) as i64 == out_topic
                && s.sum("pubmine_consumer_lag", &[("topic", &annotations)]) == 0.0
                && s.has("pubmine_consumer_lag")
        },
    )
    .await;
    assert_eq!(s.sum("pubmine_records_in_total", &stage) as i64, out_topic);
    // The rows counted are the rows written: one per document record (each revision
    // rewrites its document), one per deletion, and every annotation record's mentions (a
    // revision replaces its document's earlier ones), derived from the annotations topic.
    let (mut upserts, mut deletions, mut mentions_written) = (0u64, 0u64, 0u64);
    for r in read_to_end(&brokers, &annotations).await {
        match r.value {
            Some(v) => {
                upserts += 1;
                mentions_written += decode_annotations(&v).unwrap().mentions.len() as u64;
            }
            None => deletions += 1,
        }
    }
    assert_eq!(
        (upserts + deletions) as i64,
        out_topic,
        "the annotations topic read whole"
    );
    let (docs, mentions): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM mentions)")
            .fetch_one(&p.db.pool)
            .await
            .unwrap();
    assert_eq!(docs as usize, expected_docs, "documents stored");
    let rows = |table| {
        s.sum(
            "pubmine_sink_rows_total",
            &[("stage", "store"), ("table", table)],
        ) as u64
    };
    assert_eq!(rows("documents"), upserts, "document rows written");
    assert_eq!(rows("deletions"), deletions, "deletions applied");
    assert_eq!(rows("mentions"), mentions_written, "mention rows written");
    assert!(
        mentions_written > mentions as u64 && mentions > 0,
        "revisions replaced their documents' mentions: {mentions_written} written, {mentions} kept"
    );
    assert!(s.sum("pubmine_sink_commit_seconds_count", &stage) > 0.0);
    let (status, body) = store.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"database\":\"ok\""), "{body}");

    // Every metric the dashboard queries is served by one of the two stages or declared for
    // the others (ingest, index, serve), and each stage's own are served.
    let dashboard = include_str!("../deploy/grafana/pubmine.json");
    let served: Vec<String> = [annotate.scrape().await, s]
        .iter()
        .flat_map(|s| s.samples.iter().map(|(n, _, _)| n.clone()))
        .collect();
    for name in [
        "pubmine_records_in_total",
        "pubmine_records_out_total",
        "pubmine_consumer_lag",
        "pubmine_annotate_tokens_total",
        "pubmine_annotate_padding_ratio_sum",
        "pubmine_model_run_seconds_bucket",
        "pubmine_annotate_batch_tokens_bucket",
        "pubmine_sink_commit_seconds_bucket",
        "pubmine_sink_rows_total",
    ] {
        assert!(
            dashboard.contains(name.trim_end_matches("_bucket").trim_end_matches("_sum")),
            "the dashboard shows {name}"
        );
        assert!(served.iter().any(|n| n == name), "{name} is served");
    }
    store.stop();
    annotate.stop();

    // A stage whose broker is away is alive but not ready, and says why.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pubmine"));
    cmd.args(["index", "--brokers", "127.0.0.1:9", "--index"])
        .arg(p.index.path())
        .stdin(Stdio::null());
    let away = Stage::start(cmd, &logs.join(format!("{}-metrics-away.log", p.name)));
    let (status, _) = away.get("/healthz").await;
    assert_eq!(status, 200);
    let (status, body) = away.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["ready"], false, "{body}");
    assert!(
        ready["checks"]["broker"]
            .as_str()
            .is_some_and(|r| r != "ok"),
        "{body}"
    );
}
