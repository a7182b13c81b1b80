//! What the tests that run the whole pipeline as separate processes share: generated input
//! (PubMed files with revisions, deletions and a malformed record; PMC articles), a deployment
//! of the pipeline with its own topics, database and index, and the comparison of what two runs
//! ended with, row for row.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pubmine_store::testing::TestDb;
use pubmine_stream::codec::decode_dead_letter;
use pubmine_stream::testing::unique;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

pub const PARTITIONS: i32 = 4;

pub const DISEASES: [&str; 6] = [
    "colorectal cancer",
    "breast cancer",
    "type 2 diabetes",
    "hepatocellular carcinoma",
    "Alzheimer's disease",
    "asthma",
];
pub const CHEMICALS: [&str; 6] = [
    "cisplatin",
    "metformin",
    "aspirin",
    "paclitaxel",
    "tamoxifen",
    "atorvastatin",
];
pub const GENES: [&str; 6] = ["TP53", "BRCA1", "EGFR", "KRAS", "IL-6", "APOE"];

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The abstract of article `n` in its version `v`.
pub fn abstract_text(n: usize, v: usize) -> String {
    let d = DISEASES[(n + v) % DISEASES.len()];
    let c = CHEMICALS[(n / 3 + v) % CHEMICALS.len()];
    let g = GENES[(n / 7) % GENES.len()];
    format!(
        "We studied {} patients with {d} treated with {c}. Expression of {g} was associated with {d} in cohort {n}. \
         {c} lowered {g} levels (version {v}).",
        20 + n % 300
    )
}

pub fn medline_article(n: usize, v: usize) -> String {
    format!(
        "<PubmedArticle><MedlineCitation Status=\"MEDLINE\" Owner=\"NLM\"><PMID Version=\"1\">{pmid}</PMID>\
         <Article><Journal><JournalIssue><PubDate><Year>{year}</Year></PubDate></JournalIssue><Title>Journal of tests</Title></Journal>\
         <ArticleTitle>{d} and {c}: study {n}</ArticleTitle><Abstract><AbstractText>{text}</AbstractText></Abstract>\
         <Language>eng</Language></Article></MedlineCitation></PubmedArticle>\n",
        pmid = 40_000_000 + n,
        year = 2000 + n % 25,
        d = DISEASES[n % DISEASES.len()],
        c = CHEMICALS[n % CHEMICALS.len()],
        text = abstract_text(n, v).replace('\'', "&apos;"),
    )
}

pub fn jats_article(n: usize) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<article article-type=\"research-article\"><front><journal-meta><journal-title-group>\
         <journal-title>Full text tests</journal-title></journal-title-group></journal-meta><article-meta>\
         <article-id pub-id-type=\"pmc\">{pmc}</article-id><title-group><article-title>Full text {n}</article-title></title-group>\
         <pub-date pub-type=\"epub\"><year>2021</year></pub-date><abstract><p>{a}</p></abstract></article-meta></front>\
         <body><sec><title>Results</title><p>{b}</p><p>{c}</p></sec></body></article>\n",
        pmc = 9_700_000 + n,
        a = abstract_text(n, 0).replace('\'', "&apos;"),
        b = abstract_text(n + 1, 1).replace('\'', "&apos;"),
        c = abstract_text(n + 2, 2).replace('\'', "&apos;"),
    )
}

/// Writes the input files into `dir`: `docs` articles in three baseline files (one with a
/// malformed record among them), an update file revising every 10th and deleting every 25th,
/// and five PMC articles. Returns the documents expected at the end.
pub fn write_input(dir: &Path, docs: usize) -> usize {
    let wrap = |body: String| {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<PubmedArticleSet>\n{body}</PubmedArticleSet>\n"
        )
    };
    let per_file = docs.div_ceil(3);
    for f in 0..3 {
        let mut body = String::new();
        for n in (f * per_file)..((f + 1) * per_file).min(docs) {
            body.push_str(&medline_article(n, 0));
            if f == 1 && n == f * per_file + 5 {
                // A record that cannot be parsed: a dead letter of ingest, the same in both runs.
                body.push_str("<PubmedArticle><MedlineCitation><PMID>bad</PMID><Article></Oops></PubmedArticle>\n");
            }
        }
        std::fs::write(dir.join(format!("base{f}.xml")), wrap(body)).unwrap();
    }
    let mut body = String::new();
    for n in (0..docs).step_by(10) {
        body.push_str(&medline_article(n, 1));
    }
    body.push_str("<DeleteCitation>");
    let mut deleted = 0;
    for n in (3..docs).step_by(25) {
        body.push_str(&format!("<PMID Version=\"1\">{}</PMID>", 40_000_000 + n));
        deleted += 1;
    }
    body.push_str("</DeleteCitation>\n");
    std::fs::write(dir.join("update.xml"), wrap(body)).unwrap();
    for n in 0..5 {
        std::fs::write(
            dir.join(format!("PMC{}.nxml", 9_700_000 + n)),
            jats_article(n),
        )
        .unwrap();
    }
    docs - deleted + 5
}

pub fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// The models and annotate settings of every run these tests compare (the annotate workers and
/// `pubmine run` alike): two demo NER models and the demo RE model, one thread, 16 documents a
/// batch.
pub fn annotate_args() -> Vec<std::ffi::OsString> {
    let m = models();
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    for (flag, model) in [
        ("--model", "demo-ner"),
        ("--model", "demo-ner-gene"),
        ("--re-model", "demo-re-gene-disease"),
    ] {
        args.push(flag.into());
        args.push(m.join(model).into());
    }
    for a in ["--threads", "1", "--docs-per-batch", "16"] {
        args.push(a.into());
    }
    args
}

/// One deployment of the pipeline: its topics, database, index directory and processes.
pub struct Pipeline {
    /// The broker this deployment talks to.
    pub brokers: String,
    pub name: String,
    pub db: TestDb,
    pub index: tempfile::TempDir,
    pub children: Children,
    pub logs: PathBuf,
}

pub const ROLES: [&str; 4] = ["annotate-1", "annotate-2", "store", "index"];

/// One record per produced batch. The local broker (tansu 0.6) answers a fetch from an offset
/// inside a batch with nothing (Kafka returns the batch holding it, and the client skips the
/// records before the offset), so a consumer group resuming from an offset committed in the
/// middle of a batch would wait there for ever; it also reports a partition's end as the first
/// offset of its last batch. With one record per batch every offset starts one. Real Kafka
/// needs no such setting.
pub const LOCAL_BROKER_OPTIONS: [&str; 2] = ["--kafka-option", "batch.num.messages=1"];

impl Pipeline {
    /// A deployment with its topics made first, as an operator makes them: stages starting
    /// together do not race to create them.
    pub async fn new(brokers: &str, logs: &Path) -> Pipeline {
        let name = unique("chaos");
        let topics = ["documents", "annotations", "dead-letter"].map(|t| format!("{name}.{t}"));
        pubmine_stream::kafka::KafkaConfig::new(brokers)
            .ensure_topics(&topics.each_ref().map(String::as_str), PARTITIONS, 1)
            .await
            .unwrap();
        Pipeline {
            brokers: brokers.to_string(),
            name,
            db: TestDb::new().await,
            index: tempfile::tempdir().unwrap(),
            children: Children::default(),
            logs: logs.to_path_buf(),
        }
    }

    pub fn topic(&self, t: &str) -> String {
        format!("{}.{t}", self.name)
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pubmine"));
        cmd.env("PUBMINE_BROKERS", &self.brokers)
            .env("PUBMINE_DOCUMENTS_TOPIC", self.topic("documents"))
            .env("PUBMINE_ANNOTATIONS_TOPIC", self.topic("annotations"))
            .env("PUBMINE_DEAD_LETTER_TOPIC", self.topic("dead-letter"))
            .env("DATABASE_URL", &self.db.url)
            .env(
                "PUBMINE_LOG",
                std::env::var("PUBMINE_CHAOS_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .env_remove("FAILPOINTS")
            .stdin(Stdio::null());
        cmd
    }

    /// `pubmine ingest` of `input`, started; the caller waits for it.
    pub fn spawn_ingest(&self, input: &Path) -> Child {
        self.command()
            .args([
                "ingest",
                "--no-progress",
                "--partitions",
                &PARTITIONS.to_string(),
            ])
            .args(LOCAL_BROKER_OPTIONS)
            .arg(input)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `pubmine ingest` of `input`, to its end.
    pub fn ingest(&self, input: &Path) {
        let out = self.spawn_ingest(input).wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ingest failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn spawn(&mut self, role: &'static str) {
        let mut cmd = self.command();
        match role {
            "annotate-1" | "annotate-2" => {
                cmd.arg("annotate")
                    .args(annotate_args())
                    .args(["--group", &format!("{}-annotate", self.name)]);
            }
            "store" => {
                cmd.args(["store", "--group", &format!("{}-store", self.name)])
                    .args(["--batch", "50"]);
            }
            "index" => {
                cmd.arg("index")
                    .arg("--index")
                    .arg(self.index.path())
                    .args(["--group", &format!("{}-index", self.name)])
                    .args([
                        "--commit-interval",
                        "1s",
                        "--commit-docs",
                        "300",
                        "--threads",
                        "1",
                    ])
                    .args(["--memory-mb", "50"]);
            }
            _ => unreachable!(),
        }
        // Members that die are noticed within seconds, not the default 45.
        cmd.args(["--kafka-option", "session.timeout.ms=6000"]);
        // librdkafka's debug contexts for every process, to find out why one waits
        // (`PUBMINE_CHAOS_KAFKA_DEBUG=cgrp,fetch`, with `PUBMINE_CHAOS_LOG=warn,librdkafka=debug`).
        if let Ok(contexts) = std::env::var("PUBMINE_CHAOS_KAFKA_DEBUG") {
            cmd.args(["--kafka-option", &format!("debug={contexts}")]);
        }
        cmd.args(LOCAL_BROKER_OPTIONS);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.join(format!("{}-{role}.log", self.name)))
            .unwrap();
        cmd.stdout(log.try_clone().unwrap()).stderr(log);
        self.children.0.insert(role, cmd.spawn().unwrap());
    }

    pub fn kill(&mut self, role: &str) {
        if let Some(mut c) = self.children.0.remove(role) {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERM to every process: they drain and commit.
    pub fn stop(&mut self) {
        for (role, mut c) in std::mem::take(&mut self.children.0) {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let status = c.wait().unwrap();
            assert!(status.success(), "{role} exited with {status}");
        }
    }

    /// Fails when a process exited by itself (none should).
    pub fn check_alive(&mut self) {
        for (role, c) in &mut self.children.0 {
            if let Some(status) = c.try_wait().unwrap() {
                let log =
                    std::fs::read_to_string(self.logs.join(format!("{}-{role}.log", self.name)))
                        .unwrap_or_default();
                panic!("{role} exited by itself with {status}; its log:\n{log}");
            }
        }
    }
}

/// A pipeline's processes by role; a failed test leaves none behind.
#[derive(Default)]
pub struct Children(pub BTreeMap<&'static str, Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in self.0.values_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn admin(brokers: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("chaos-admin"))
        .create()
        .unwrap()
}

/// The partitions of `topic`.
pub fn partitions(c: &BaseConsumer, topic: &str) -> usize {
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    md.topics()
        .iter()
        .find(|t| t.name() == topic)
        .map_or(0, |t| t.partitions().len())
}

/// The offset after the last record of each partition of `topic`, found by reading it to the
/// end (the local broker's answer to a ListOffsets for the latest offset was seen lagging by
/// the last batch of records, so the test does not rely on it).
pub async fn topic_ends(brokers: &str, topic: &str) -> Vec<i64> {
    let n = partitions(&admin(brokers), topic);
    let c = pubmine_stream::kafka::KafkaConfig::new(brokers)
        .consumer(&unique("ends"), &[topic])
        .unwrap();
    let mut ends = vec![0; n];
    let never = tokio_util::sync::CancellationToken::new();
    loop {
        let next = tokio::time::timeout(
            Duration::from_secs(4),
            c.recv_batch(1000, Duration::from_millis(50), &never),
        )
        .await;
        match next {
            Ok(batch) => {
                for r in batch.unwrap() {
                    let e = &mut ends[r.partition as usize];
                    *e = (*e).max(r.offset + 1);
                }
            }
            Err(_) => return ends,
        }
    }
}

/// The offsets `group` has committed on the first `n` partitions of `topic`.
pub fn committed(brokers: &str, group: &str, topic: &str, n: usize) -> Vec<i64> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..n as i32 {
        tpl.add_partition(topic, p);
    }
    let got = c.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    (0..n as i32)
        .map(|p| match got.find_partition(topic, p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => o,
            _ => 0,
        })
        .collect()
}

/// Where the store and the index stand on the first `n` partitions of the annotations topic:
/// their own records of the offsets they hold.
pub async fn sink_positions(p: &Pipeline, n: usize) -> (Vec<i64>, Vec<i64>) {
    let topic = p.topic("annotations");
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT partition, next_offset FROM sink_offsets WHERE topic = $1 ORDER BY partition",
    )
    .bind(&topic)
    .fetch_all(&p.db.pool)
    .await
    .unwrap();
    let mut store = vec![0; n];
    for (part, next) in rows {
        if let Some(s) = store.get_mut(part as usize) {
            *s = next;
        }
    }
    let mut index = vec![0; n];
    if let Ok((idx, _)) = pubmine_index::schema::open_existing(p.index.path())
        && let Ok(offsets) = pubmine_index::writer::read_payload(&idx)
    {
        for ((t, part), next) in offsets {
            if let Some(i) = index.get_mut(part as usize).filter(|_| t == topic) {
                *i = next;
            }
        }
    }
    (store, index)
}

/// Waits until every document is annotated (the annotate group's offsets at the end of the
/// documents topic, `docs`), then until every annotation is stored and indexed. The
/// annotations topic's end is read again each time: outputs a worker made before it lost its
/// partitions can still land after the group committed the documents' end (librdkafka retries
/// them by itself), and the sinks read them too.
pub async fn wait_done(p: &mut Pipeline, docs: &[i64], limit: Duration) {
    let started = Instant::now();
    let mut written: Option<Vec<i64>> = None;
    loop {
        p.check_alive();
        let annotated = committed(
            &p.brokers,
            &format!("{}-annotate", p.name),
            &p.topic("documents"),
            docs.len(),
        );
        if annotated == docs {
            written = Some(topic_ends(&p.brokers, &p.topic("annotations")).await);
        }
        let n = written.as_ref().map_or(0, Vec::len);
        let (store, index) = sink_positions(p, n).await;
        if written.as_ref().is_some_and(|w| *w == store && *w == index) {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "{}: not done after {limit:?}: documents end at {docs:?}, annotated {annotated:?}, annotations end at {written:?}, stored {store:?}, indexed {index:?}",
            p.name
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What a run ended with, row for row.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub documents: Vec<(String, String, i64)>,
    pub passages: Vec<(String, i32, String)>,
    pub mentions: Vec<(String, i32, i32, i32, String, String, String)>,
    pub relations: Vec<(String, String, String, String, String)>,
    pub index_docs: u64,
    /// Per entity searched: the papers found and the mentions matched in each.
    pub index_hits: BTreeMap<String, Vec<(String, usize)>>,
    pub dead_letters: BTreeSet<(String, Option<String>, String)>,
}

pub async fn outcome(p: &Pipeline) -> Outcome {
    let dead = dead_letters(&p.brokers, &p.topic("dead-letter")).await;
    outcome_of(&p.db, p.index.path(), dead).await
}

/// What a database and an index ended with, and the dead letters given.
pub async fn outcome_of(
    db: &TestDb,
    index: &Path,
    dead_letters: BTreeSet<(String, Option<String>, String)>,
) -> Outcome {
    let pool = &db.pool;
    let documents = sqlx::query_as(
        "SELECT id, title, (SELECT count(*) FROM passages x WHERE x.document_id = d.id) FROM documents d ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let passages = sqlx::query_as("SELECT document_id, idx, text FROM passages ORDER BY 1, 2")
        .fetch_all(pool)
        .await
        .unwrap();
    let mentions = sqlx::query_as(
        "SELECT m.document_id, m.passage, m.start_offset, m.end_offset, m.type, mo.name, m.text
         FROM mentions m JOIN models mo ON mo.id = m.model_id ORDER BY 1, 2, 3, 4, 5, 6",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let relations = sqlx::query_as(
        "SELECT r.document_id, r.type, r.subject_normalized, r.object_normalized, mo.name
         FROM relations r JOIN models mo ON mo.id = r.model_id ORDER BY 1, 2, 3, 4, 5",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let searcher = pubmine_index::search::Searcher::open(index).unwrap();
    let mut index_hits = BTreeMap::new();
    for entity in DISEASES.iter().chain(&CHEMICALS).chain(&GENES) {
        let mut hits: Vec<(String, usize)> = Vec::new();
        let mut req = pubmine_index::search::SearchRequest::new(format!("\"{entity}\""));
        req.limit = 100;
        loop {
            let res = searcher.search(&req).unwrap();
            hits.extend(res.hits.iter().map(|h| (h.id.clone(), h.mention_count)));
            req.offset += res.hits.len();
            if res.hits.is_empty() || req.offset >= res.total {
                break;
            }
        }
        hits.sort();
        index_hits.insert(entity.to_string(), hits);
    }
    Outcome {
        documents,
        passages,
        mentions,
        relations,
        index_docs: searcher.num_docs().unwrap(),
        index_hits,
        dead_letters,
    }
}

/// Every record of `topic`, read up to its end on every partition (`topic_ends`, found by a
/// reader of its own): the reader must reach that end within a minute or the test fails, so a
/// slow group join or a short read cannot pass for an empty or a shorter topic.
pub async fn read_to_end(brokers: &str, topic: &str) -> Vec<pubmine_stream::transport::InRecord> {
    let ends = topic_ends(brokers, topic).await;
    let mut out = Vec::new();
    if ends.iter().all(|&e| e == 0) {
        return out;
    }
    let c = pubmine_stream::kafka::KafkaConfig::new(brokers)
        .consumer(&unique("reader"), &[topic])
        .unwrap();
    let never = tokio_util::sync::CancellationToken::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut seen = vec![0; ends.len()];
    while seen.iter().zip(&ends).any(|(s, e)| s < e) {
        let batch = tokio::time::timeout_at(
            deadline,
            c.recv_batch(1000, Duration::from_millis(50), &never),
        )
        .await
        .unwrap_or_else(|_| panic!("{topic}: read to {seen:?} of its end {ends:?} in 60 s"));
        for r in batch.unwrap() {
            let s = &mut seen[r.partition as usize];
            *s = (*s).max(r.offset + 1);
            out.push(r);
        }
    }
    out
}

/// The dead letters of a run, as (stage, document id, reason) without their positions: the
/// dead-letter topic read to its end.
pub async fn dead_letters(
    brokers: &str,
    topic: &str,
) -> BTreeSet<(String, Option<String>, String)> {
    read_to_end(brokers, topic)
        .await
        .into_iter()
        .map(|r| {
            let dl = decode_dead_letter(r.value.as_deref().unwrap()).unwrap();
            (dl.stage, dl.id, dl.reason)
        })
        .collect()
}

impl Outcome {
    /// The counts, for the test's output.
    pub fn counts(&self) -> String {
        format!(
            "{} documents, {} passages, {} mentions, {} relations, {} in the index, {} dead letters",
            self.documents.len(),
            self.passages.len(),
            self.mentions.len(),
            self.relations.len(),
            self.index_docs,
            self.dead_letters.len(),
        )
    }

    /// Fails unless `got` holds exactly what this (uninterrupted) run holds, row for row.
    pub fn assert_same(&self, got: &Outcome) {
        for (what, a, b) in [
            ("documents", self.documents.len(), got.documents.len()),
            ("passages", self.passages.len(), got.passages.len()),
            ("mentions", self.mentions.len(), got.mentions.len()),
            ("relations", self.relations.len(), got.relations.len()),
        ] {
            assert_eq!(a, b, "{what}: as many rows as the uninterrupted run");
        }
        assert!(self.documents == got.documents, "documents differ");
        assert!(self.passages == got.passages, "passages differ");
        assert!(self.mentions == got.mentions, "mentions differ");
        assert!(self.relations == got.relations, "relations differ");
        assert_eq!(self.index_docs, got.index_docs);
        assert_eq!(self.index_hits, got.index_hits);
        assert_eq!(self.dead_letters, got.dead_letters);
    }
}

/// Where a test keeps each process's log after it ends, for a failure to be read.
pub fn log_dir() -> PathBuf {
    let logs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chaos-logs");
    std::fs::create_dir_all(&logs).unwrap();
    println!("process logs: {}", logs.display());
    logs
}

/// The uninterrupted run of `input` on `brokers`: what it ended with, and how long it took.
/// The dead letters of a run over [`write_input`]'s files are its one malformed record, set aside
/// by ingest: a positive control for the tests that compare dead letters, which would otherwise
/// agree on two empty sets if the record stopped being set aside.
pub fn assert_one_malformed_record(dead: &BTreeSet<(String, Option<String>, String)>) {
    let stages: Vec<&str> = dead.iter().map(|(stage, _, _)| stage.as_str()).collect();
    assert_eq!(
        stages,
        ["ingest"],
        "the input's one malformed record: {dead:?}"
    );
}

pub async fn calm_run(
    brokers: &str,
    logs: &Path,
    input: &Path,
    expected_docs: usize,
    limit: Duration,
) -> (Pipeline, Outcome, Duration) {
    let started = Instant::now();
    let mut calm = Pipeline::new(brokers, logs).await;
    calm.ingest(input);
    let docs_end = topic_ends(brokers, &calm.topic("documents")).await;
    for role in ROLES {
        calm.spawn(role);
    }
    wait_done(&mut calm, &docs_end, limit).await;
    calm.stop();
    let reference = outcome(&calm).await;
    let took = started.elapsed();
    println!(
        "uninterrupted run: {} in {:.1} s",
        reference.counts(),
        took.as_secs_f64()
    );
    assert_eq!(reference.documents.len(), expected_docs);
    assert_eq!(reference.index_docs as usize, expected_docs);
    assert!(!reference.mentions.is_empty() && !reference.relations.is_empty());
    assert_one_malformed_record(&reference.dead_letters);
    (calm, reference, took)
}
