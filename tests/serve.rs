//! `pubmine serve` through the real binary over HTTP: an index and a Postgres database filled
//! by the real sinks.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use pubmine_index::writer::{IndexConfig, Indexer};
use pubmine_store::sink::PgSink;
use pubmine_store::testing::TestDb;
use pubmine_stream::kafka::Offsets;
use pubmine_stream::record::{
    Annotations, Document, Mention, ModelRef, Passage, PassageKind, PubDate, SCHEMA_VERSION,
    SourceKind,
};
use pubmine_stream::sink::{SinkBatch, SinkItem};

const TITLE: &str = "Tamoxifen and BRCA1 in breast cancer";

fn annotations(n: u32) -> Annotations {
    let id = format!("pmid:{n}");
    let mut doc = Document::new(SourceKind::Pubmed, id.clone());
    doc.pmid = Some(n.to_string());
    doc.title = TITLE.into();
    doc.pub_date = Some(PubDate {
        year: Some(2000 + n as i32),
        ..Default::default()
    });
    doc.passages = vec![Passage::new(PassageKind::Title, TITLE.into())];
    let m = |text: &str, ty: &str| {
        let start = TITLE.find(text).unwrap() as u32;
        Mention {
            passage: 0,
            start,
            end: start + text.len() as u32,
            text: text.into(),
            ty: ty.into(),
            score: 0.9,
            model: "demo".into(),
        }
    };
    Annotations {
        schema_version: SCHEMA_VERSION,
        id,
        models: vec![ModelRef {
            name: "demo".into(),
            hash: "h".into(),
            task: "ner".into(),
            labels: vec!["Chemical".into(), "Gene".into(), "Disease".into()],
        }],
        mentions: vec![
            m("Tamoxifen", "Chemical"),
            m("BRCA1", "Gene"),
            m("breast cancer", "Disease"),
        ],
        relations: Vec::new(),
        document: Some(Box::new(doc)),
    }
}

fn batch(n: u32) -> SinkBatch {
    let items: Vec<SinkItem> = (0..n)
        .map(|i| SinkItem {
            topic: "t".into(),
            partition: 0,
            offset: i as i64,
            key: format!("pmid:{i}"),
            annotations: Some(Box::new(annotations(i))),
        })
        .collect();
    let mut next = Offsets::new();
    next.insert(("t".into(), 0), n as i64);
    SinkBatch { items, next }
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(index: &std::path::Path, db: &TestDb) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pubmine"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &db.url])
        .arg("--index")
        .arg(index)
        .env("PUBMINE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start pubmine serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server { child, base }
}

async fn get(base: &str, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_and_refuses_bad_requests_with_400() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let b = batch(12);
    PgSink::new(db.pool.clone(), "serve-test")
        .write_batch(&b)
        .await
        .unwrap();
    pubmine_store::views::refresh(&db.pool).await.unwrap();
    let mut indexer = Indexer::open(dir.path(), IndexConfig::default()).unwrap();
    indexer.write(&b).unwrap();
    indexer.commit().unwrap();
    indexer.close().unwrap();
    let server = serve(dir.path(), &db);
    let base = server.base.as_str();

    let (status, body) = get(base, "/search?query=brca1&year_from=2005&limit=3").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["total"], 7, "{body}");
    assert_eq!(v["hits"].as_array().unwrap().len(), 3);
    assert_eq!(v["hits"][0]["mentions"][0]["text"], "BRCA1", "{body}");

    // Page sizes are capped, not refused.
    let (status, body) = get(base, "/search?query=brca1&limit=100000").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["limit"], pubmine_index::search::MAX_LIMIT);

    // Malformed requests: 400 with a reason, never 500.
    for bad in [
        "/search?query=brca1&limit=ten",
        "/search?query=brca1&colour=blue",
        "/search?query=%22brca1",
        "/search",
        "/search?query=brca1&year_from=2010&year_to=2000",
        "/entities/top?limit=-x",
    ] {
        let (status, body) = get(base, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("a JSON error");
        assert!(!v["error"].as_str().unwrap().is_empty(), "{bad}");
    }

    let (status, body) = get(base, "/documents/pmid:3").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["mentions"].as_array().unwrap().len(), 3);
    assert_eq!(v["document"]["title"], TITLE);
    let (status, _) = get(base, "/documents/pmid:999").await;
    assert_eq!(status, 404);

    let (status, body) = get(base, "/documents/pmid:3/pubtator").await;
    assert_eq!(status, 200);
    assert!(body.starts_with(&format!("3|t|{TITLE}\n")), "{body}");
    assert!(body.contains("3\t14\t19\tBRCA1\tGene\tbrca1\n"), "{body}");
    let (status, body) = get(base, "/documents/pmid:3/bioc").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["documents"][0]["passages"][0]["annotations"][1]["text"],
        "BRCA1"
    );

    let (status, body) = get(base, "/entities/top?type=Gene&limit=5").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["normalized"], "brca1");
    assert_eq!(v[0]["documents"], 12);

    drop(server);
    db.drop_db().await;
}
