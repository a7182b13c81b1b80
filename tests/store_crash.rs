//! `pubmine store` killed mid-stream loses and doubles nothing, and it and `ingest watch` ride
//! out Postgres restarting: the real binary, the real broker (PUBMINE_TEST_BROKERS) and the real
//! Postgres (a fresh database per test, or a server of the test's own).

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pubmine_store::testing::TestDb;
use pubmine_stream::codec::encode_annotations;
use pubmine_stream::kafka::KafkaConfig;
use pubmine_stream::record::{
    Annotations, Document, Mention, ModelRef, Passage, PassageKind, SCHEMA_VERSION, SourceKind,
};
use pubmine_stream::testing::{brokers, unique};
use pubmine_stream::transport::{OutRecord, Producer};

const PARTITIONS: i32 = 2;

/// The annotations of document `n`, version `v`: `n % 4 + v` disease mentions.
fn annotations(n: u32, v: u32) -> Annotations {
    let id = format!("pmid:{n}");
    let text = "asthma ".repeat((n % 4 + v) as usize);
    let mut doc = Document::new(SourceKind::Pubmed, id.clone());
    doc.title = format!("Document {n}");
    doc.passages = vec![Passage::new(PassageKind::Abstract, text.clone())];
    let mentions = (0..n % 4 + v)
        .map(|i| Mention {
            passage: 0,
            start: i * 7,
            end: i * 7 + 6,
            text: "asthma".into(),
            ty: "Disease".into(),
            score: 0.9,
            model: "disease".into(),
            concept: None,
        })
        .collect();
    Annotations {
        schema_version: SCHEMA_VERSION,
        id,
        models: vec![ModelRef {
            name: "disease".into(),
            hash: "h".into(),
            task: "ner".into(),
            labels: vec!["Disease".into()],
        }],
        mentions,
        abbreviations: Vec::new(),
        relations: Vec::new(),
        document: Some(Box::new(doc)),
    }
}

/// Produces 80 documents, 20 re-annotations and 10 tombstones (and one undecodable record),
/// and returns the mentions each document should end with.
async fn produce(kafka: &KafkaConfig, topic: &str) -> (BTreeMap<String, usize>, usize) {
    let producer = kafka.producer().unwrap();
    let mut expected = BTreeMap::new();
    let mut records = Vec::new();
    for n in 0..80 {
        records.push((n, Some(annotations(n, 1))));
    }
    for n in (0..80).step_by(4) {
        records.push((n, Some(annotations(n, 2))));
    }
    for n in (1..80).step_by(8) {
        records.push((n, None));
    }
    let total = records.len() + 1;
    let mut acks = Vec::new();
    for (i, (n, a)) in records.into_iter().enumerate() {
        let key = format!("pmid:{n}");
        match &a {
            Some(a) => expected.insert(key.clone(), a.mentions.len()),
            None => expected.remove(&key),
        };
        let value = a.as_ref().map(encode_annotations);
        acks.push(
            producer
                .enqueue(OutRecord::new(topic, key, value))
                .await
                .unwrap(),
        );
        if i == 50 {
            acks.push(
                producer
                    .enqueue(OutRecord::new(
                        topic,
                        "pmid:999",
                        Some(b"{not json".to_vec()),
                    ))
                    .await
                    .unwrap(),
            );
        }
    }
    for a in acks {
        a.await.unwrap();
    }
    (expected, total)
}

/// `pubmine store` keeping its offsets under `name`, in a consumer group of its own: a restart
/// resumes from the offsets in Postgres alone. (With the group reused, the local broker, tansu
/// 0.6 on memory storage, was seen answering the fetch at the group's committed offset with no
/// records, so the tests do not rely on group offsets; the sink never does either.)
fn store(db: &TestDb, topic: &str, name: &str, crash: Option<&str>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pubmine"));
    cmd.args(["store", "--batch", "7", "--linger", "20ms"])
        .args(["--brokers", &brokers(), "--database-url", &db.url])
        .args([
            "--sink-name",
            name,
            "--group",
            &unique("group"),
            "--input-topic",
            topic,
        ])
        .args(["--dead-letter-topic", &format!("{topic}-dead")])
        .args(["--kafka-option", "session.timeout.ms=6000"])
        .env(
            "PUBMINE_LOG",
            std::env::var("PUBMINE_TEST_CHILD_LOG").unwrap_or("warn".into()),
        )
        .stdout(Stdio::piped());
    if let Some(c) = crash {
        cmd.env("PUBMINE_CRASH", c);
    }
    cmd.spawn().expect("start pubmine store")
}

async fn stored_offsets(db: &TestDb, group: &str) -> i64 {
    sqlx::query_scalar::<_, Option<i64>>(
        "SELECT sum(next_offset)::bigint FROM sink_offsets WHERE sink = $1",
    )
    .bind(group)
    .fetch_one(&db.pool)
    .await
    .unwrap()
    .unwrap_or(0)
}

/// Waits until the store has taken every record, then stops it with SIGTERM and returns the
/// statistics it printed.
async fn finish(mut child: Child, db: &TestDb, group: &str, total: usize) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    while stored_offsets(db, group).await < total as i64 {
        assert!(Instant::now() < deadline, "store did not catch up in 90 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut s).unwrap();
        (status, s)
    })
    .await
    .unwrap();
    assert!(out.0.success(), "store exited with {:?}", out.0);
    serde_json::from_str(out.1.trim()).expect("stats JSON on stdout")
}

async fn check_contents(db: &TestDb, expected: &BTreeMap<String, usize>) {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT d.id, (SELECT count(*) FROM mentions m WHERE m.document_id = d.id)
         FROM documents d ORDER BY d.id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let got: BTreeMap<String, usize> = rows.into_iter().map(|(k, n)| (k, n as usize)).collect();
    assert_eq!(&got, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_write_and_the_group_commit_loses_and_doubles_nothing() {
    let kafka = KafkaConfig::new(brokers());
    let topic = unique("annotations");
    kafka.ensure_topics(&[&topic], PARTITIONS, 1).await.unwrap();
    let (expected, total) = produce(&kafka, &topic).await;
    let db = TestDb::new().await;
    let group = unique("store"); // the sink's name

    // The first run commits three batches to Postgres and dies before committing the third
    // batch's offsets to the group.
    let mut first = store(&db, &topic, &group, Some("after-write:3"));
    let status = tokio::task::spawn_blocking(move || first.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(70), "the crash point was not reached");
    let written_before = stored_offsets(&db, &group).await;
    assert!(written_before > 0 && written_before < total as i64);

    // The second run resumes from Postgres's offsets, not the group's: it takes exactly the
    // records the first run had not written.
    let stats = finish(store(&db, &topic, &group, None), &db, &group, total).await;
    let taken = stats["documents"].as_u64().unwrap()
        + stats["deletions"].as_u64().unwrap()
        + stats["dead_lettered"].as_u64().unwrap();
    assert_eq!(taken as i64, total as i64 - written_before, "{stats}");
    assert_eq!(stats["dead_lettered"], 1);
    check_contents(&db, &expected).await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_killed_at_any_moment_resumes_exactly() {
    let kafka = KafkaConfig::new(brokers());
    let topic = unique("annotations");
    kafka.ensure_topics(&[&topic], PARTITIONS, 1).await.unwrap();
    let (expected, total) = produce(&kafka, &topic).await;
    let db = TestDb::new().await;
    let group = unique("store"); // the sink's name

    // SIGKILL as soon as some batches are in, wherever the store happens to be.
    let mut first = store(&db, &topic, &group, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored_offsets(&db, &group).await < 20 {
        assert!(Instant::now() < deadline, "store wrote nothing in 60 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let written_before = stored_offsets(&db, &group).await;
    assert!(
        written_before < total as i64,
        "the kill came while the store was writing: {written_before} of {total} written"
    );

    let stats = finish(store(&db, &topic, &group, None), &db, &group, total).await;
    let taken = stats["documents"].as_u64().unwrap()
        + stats["deletions"].as_u64().unwrap()
        + stats["dead_lettered"].as_u64().unwrap();
    assert_eq!(taken as i64, total as i64 - written_before, "{stats}");
    check_contents(&db, &expected).await;
    db.drop_db().await;
}

/// A Postgres server of the test's own (initdb in a temporary directory, a free port), so that
/// the test can restart it without disturbing the server other tests use.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
    url: String,
}

impl PrivatePostgres {
    fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| d.filter_map(Result::ok).map(|e| e.path().join("bin")).max())
            .filter(|b| b.join("initdb").exists())
            .expect("Postgres server binaries under /usr/lib/postgresql/*/bin (scripts/postgres.sh installs them)");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = PrivatePostgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            port,
        };
        // initdb refuses to run as root: the server runs as the postgres user then.
        let _ = Command::new("chown")
            .args(["postgres", &pg.dir.path().display().to_string()])
            .status();
        pg.pg(&[
            "initdb",
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-D",
            &pg.data(),
        ]);
        pg.server("start");
        pg
    }

    /// `pg_ctl start`, `stop` or `restart`, waiting for it to be done.
    fn server(&self, action: &str) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let (data, log) = (self.data(), self.log());
        self.pg(&[
            "pg_ctl", "-D", &data, "-o", &opts, "-l", &log, "-m", "fast", "-w", action,
        ]);
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn log(&self) -> String {
        self.dir.path().join("log").display().to_string()
    }

    /// Runs one of the server's programs, as the postgres user when the test runs as root.
    fn pg(&self, args: &[&str]) {
        let program = self.bin.join(args[0]);
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let status = if root {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(&args[1..])
                .stdout(Stdio::null())
                .status()
        } else {
            Command::new(&program)
                .args(&args[1..])
                .stdout(Stdio::null())
                .status()
        };
        assert!(
            status.unwrap().success(),
            "{args:?} failed; log: {}",
            self.log()
        );
    }

    async fn db(&self) -> TestDb {
        let pool = pubmine_store::connect(&self.url).await.unwrap();
        pubmine_store::migrate(&pool).await.unwrap();
        TestDb {
            name: "postgres".into(),
            url: self.url.clone(),
            pool,
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        self.pg(&["pg_ctl", "-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_rides_out_postgres_restarting_mid_run() {
    let kafka = KafkaConfig::new(brokers());
    let topic = unique("annotations");
    kafka.ensure_topics(&[&topic], PARTITIONS, 1).await.unwrap();
    // The same records three times over (the same end state), so that the store is still
    // writing when the server goes away.
    let mut total = 0;
    let mut expected = BTreeMap::new();
    for _ in 0..3 {
        let (e, n) = produce(&kafka, &topic).await;
        (expected, total) = (e, total + n);
    }
    let pg = PrivatePostgres::start();
    let db = pg.db().await;
    let group = unique("store");

    let child = store(&db, &topic, &group, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored_offsets(&db, &group).await < 20 {
        assert!(Instant::now() < deadline, "store wrote nothing in 60 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    db.pool.close().await;
    // An outage of a few seconds, then a fast restart: the store's writes fail meanwhile
    // (transient: it retries with backoff) and go on when the server is back.
    pg.server("stop");
    tokio::time::sleep(Duration::from_secs(3)).await;
    pg.server("start");
    let db = pg.db().await;
    let after_outage = stored_offsets(&db, &group).await;
    assert!(
        after_outage < total as i64,
        "records were left for after the outage: {after_outage} of {total}"
    );
    db.pool.close().await;
    pg.server("restart");

    let db = pg.db().await;
    let stats = finish(child, &db, &group, total).await;
    assert_eq!(stats["dead_lettered"], 3, "{stats}");
    check_contents(&db, &expected).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM sink_offsets WHERE sink = $1")
        .bind(&group)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(rows, i64::from(PARTITIONS));
    db.pool.close().await;
}

/// The names of the files ingest has recorded in `pg`'s database, and their document counts;
/// nothing while the server is away.
async fn recorded_files(pg: &PrivatePostgres) -> BTreeMap<String, i32> {
    let Ok(pool) = pubmine_store::connect(&pg.url).await else {
        return BTreeMap::new();
    };
    let rows: Vec<(String, i32)> =
        sqlx::query_as("SELECT name, documents FROM ingested_files ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap_or_default();
    pool.close().await;
    rows.into_iter().collect()
}

/// Waits until `n` files are recorded (a minute at most).
async fn wait_recorded(pg: &PrivatePostgres, n: usize) -> BTreeMap<String, i32> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let files = recorded_files(pg).await;
        if files.len() >= n {
            return files;
        }
        assert!(
            Instant::now() < deadline,
            "{n} files not recorded: {files:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn medline_file(dir: &std::path::Path, name: &str, first: u32) {
    let body: String = (first..first + 3)
        .map(|n| {
            format!(
                "<PubmedArticle><MedlineCitation><PMID Version=\"1\">{n}</PMID><Article>\
                 <ArticleTitle>Study {n}</ArticleTitle><Abstract><AbstractText>Asthma in cohort {n}.\
                 </AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>\n"
            )
        })
        .collect();
    std::fs::write(
        dir.join(name),
        format!("<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n{body}</PubmedArticleSet>\n"),
    )
    .unwrap();
}

/// `ingest watch` records each file in Postgres once all its records are acknowledged. With the
/// server away when a new file lands, the watcher waits for it (transient: retried with
/// backoff) instead of failing the scan and sending the file again later; once the server is
/// back the file is sent and recorded, and the records of the files before it survived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_watch_rides_out_postgres_restarting() {
    let pg = PrivatePostgres::start();
    pg.db().await.pool.close().await;
    let topic = unique("documents");
    KafkaConfig::new(brokers())
        .ensure_topics(&[&topic], PARTITIONS, 1)
        .await
        .unwrap();
    let spool = tempfile::tempdir().unwrap();
    medline_file(spool.path(), "a.xml", 1);
    let mut watch = Command::new(env!("CARGO_BIN_EXE_pubmine"))
        .args(["ingest", "watch"])
        .arg(spool.path())
        .args(["--interval", "500ms", "--settle", "0s"])
        .args(["--brokers", &brokers(), "--database-url", &pg.url])
        .args(["--topic", &topic])
        .args(["--dead-letter-topic", &format!("{topic}-dead")])
        .env("PUBMINE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_recorded(&pg, 1).await;
    pg.server("stop");
    medline_file(spool.path(), "b.xml", 4);
    // Scans meet the server away for longer than a connection is waited for (10 s), so the
    // error reaches the watcher.
    tokio::time::sleep(Duration::from_secs(14)).await;
    assert!(watch.try_wait().unwrap().is_none(), "the watcher went on");
    pg.server("start");
    let files = wait_recorded(&pg, 2).await;
    assert_eq!(
        files,
        BTreeMap::from([("a.xml".into(), 3), ("b.xml".into(), 3)])
    );
    let _ = Command::new("kill").arg(watch.id().to_string()).status();
    let out = watch.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("database unreachable, retrying"),
        "the outage was met and waited out: {stderr}"
    );
    assert!(
        !stderr.contains("scan stopped"),
        "no scan failed for it: {stderr}"
    );
    // Each file was sent once: the topic holds their six documents, no copy.
    let mut keys: Vec<String> = common::read_to_end(&brokers(), &topic)
        .await
        .into_iter()
        .map(|r| r.key)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["pmid:1", "pmid:2", "pmid:3", "pmid:4", "pmid:5", "pmid:6"],
        "each file's records once"
    );
}
