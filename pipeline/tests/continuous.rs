//! `ingest sync` against a local HTTP server that serves an NCBI-style listing, and `ingest watch`
//! on a directory (continuous mining with the ledger's intake), with the real broker and a fresh
//! Postgres database: each file is ingested once, a restart resumes, a corrupt download is
//! refused. The helpers are ingest's (its fixtures and the broker).

#[path = "../../ingest/tests/common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use pubmine_ingest::continuous::{ContinuousError, SyncConfig, WatchConfig, md5_file};
use pubmine_ingest::produce::IngestConfig;
use pubmine_pipeline::ledger::{sync, watch};
use pubmine_store::files::list_ingested;
use pubmine_store::testing::TestDb;
use pubmine_stream::kafka::KafkaConfig;
use tokio_util::sync::CancellationToken;

use common::fixture;

/// Files the server offers: name, content, and the md5 its `.md5` companion states.
type Served = Arc<Mutex<Vec<(String, Vec<u8>, String)>>>;

/// The names of the files (not their `.md5` companions) downloaded, in order.
static DOWNLOADS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn downloads_of(name: &str) -> usize {
    DOWNLOADS
        .lock()
        .unwrap()
        .iter()
        .filter(|n| *n == name)
        .count()
}

async fn listing(State(files): State<Served>) -> axum::response::Html<String> {
    let files = files.lock().unwrap();
    let mut html = String::from("<html><body><pre>\n<a href=\"../\">../</a>\n");
    for (name, _, _) in files.iter() {
        html.push_str(&format!(
            "<a href=\"{name}\">{name}</a>  2025-01-01 12:00  1M\n<a href=\"{name}.md5\">{name}.md5</a>\n"
        ));
    }
    html.push_str("</pre></body></html>");
    axum::response::Html(html)
}

async fn file(
    State(files): State<Served>,
    UrlPath(name): UrlPath<String>,
) -> Result<Vec<u8>, StatusCode> {
    let files = files.lock().unwrap();
    for (n, content, md5) in files.iter() {
        if *n == name {
            DOWNLOADS.lock().unwrap().push(name);
            return Ok(content.clone());
        }
        if format!("{n}.md5") == name {
            return Ok(format!("MD5({n})= {md5}\n").into_bytes());
        }
    }
    Err(StatusCode::NOT_FOUND)
}

async fn serve(files: Served) -> String {
    let app = axum::Router::new()
        .route("/pubmed/updatefiles/", get(listing))
        .route("/pubmed/updatefiles/{name}", get(file))
        .with_state(files);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/pubmed/updatefiles/")
}

fn offer(files: &Served, name: &str, fixture_name: &str, corrupt_md5: bool) {
    let content = std::fs::read(fixture(fixture_name)).unwrap();
    let md5 = if corrupt_md5 {
        "00000000000000000000000000000000".to_string()
    } else {
        md5_file(&fixture(fixture_name)).unwrap()
    };
    files.lock().unwrap().push((name.into(), content, md5));
}

async fn producer() -> (pubmine_stream::kafka::KafkaProducer, IngestConfig) {
    common::producer(&KafkaConfig::new(common::brokers()), 1).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_verifies_ingests_in_order_and_resumes_without_resending() {
    let db = TestDb::new().await;
    let (producer, cfg) = producer().await;
    let files: Served = Arc::default();
    // Offered out of order: ingest goes by name.
    offer(
        &files,
        "pubmed25n0002.xml.gz",
        "medline_structured.xml.gz",
        false,
    );
    offer(&files, "pubmed25n0001.xml", "medline_bad.xml", false);
    let url = serve(files.clone()).await;
    let spool = tempfile::tempdir().unwrap();
    let scfg = SyncConfig {
        urls: vec![url],
        spool: spool.path().to_path_buf(),
        interval: None,
    };
    let token = CancellationToken::new();

    let first = sync(&producer, &cfg, &db.pool, &scfg, &token)
        .await
        .unwrap();
    let names: Vec<_> = first
        .iter()
        .map(|r| r.location.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names, ["pubmed25n0001.xml", "pubmed25n0002.xml.gz"]);
    assert_eq!(first[0].dead_lettered, 1);
    assert_eq!(common::consume(&cfg.topic, 4).await.len(), 4);

    // A restart: nothing is sent again.
    let again = sync(&producer, &cfg, &db.pool, &scfg, &token)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");

    // A new update file appears: only it is ingested. Then one whose download does not match
    // its .md5: downloaded again (the retries: five downloads in all), then refused, not
    // recorded, and the pass reports it and stops there: the good file after it is not
    // fetched (an update must not be applied before the one it follows).
    offer(&files, "pubmed25n0003.xml", "medline_update.xml", false);
    offer(&files, "pubmed25n0004.xml", "medline_book.xml", true);
    offer(&files, "pubmed25n0005.xml", "medline_update.xml", false);
    let err = sync(&producer, &cfg, &db.pool, &scfg, &token)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ContinuousError::Checksum { ref name, .. } if name == "pubmed25n0004.xml"),
        "{err}"
    );
    assert_eq!(downloads_of("pubmed25n0004.xml"), 5, "the download retried");
    assert_eq!(downloads_of("pubmed25n0005.xml"), 0, "the pass stopped");
    assert_eq!(downloads_of("pubmed25n0003.xml"), 1);
    let recorded: Vec<_> = list_ingested(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(
        recorded,
        [
            "pubmed25n0001.xml",
            "pubmed25n0002.xml.gz",
            "pubmed25n0003.xml"
        ]
    );
    assert!(
        std::fs::read_dir(spool.path()).unwrap().next().is_none(),
        "spool is emptied"
    );
    // 4 earlier + 1 document and 3 deletions of the update file.
    assert_eq!(common::consume(&cfg.topic, 8).await.len(), 8);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_ingests_landed_files_once() {
    let db = TestDb::new().await;
    let (producer, cfg) = producer().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("medline_update.xml"), dir.path().join("a.xml")).unwrap();
    std::fs::copy(fixture("jats_bare.nxml"), dir.path().join("b.nxml")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an input").unwrap();
    let wcfg = WatchConfig {
        dir: dir.path().to_path_buf(),
        interval: Duration::from_millis(100),
        settle: Duration::ZERO,
        once: true,
    };
    let token = CancellationToken::new();
    let first = watch(&producer, &cfg, &db.pool, &wcfg, &token)
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    let second = watch(&producer, &cfg, &db.pool, &wcfg, &token)
        .await
        .unwrap();
    assert!(second.is_empty());
    std::fs::copy(fixture("medline_book.xml"), dir.path().join("c.xml")).unwrap();
    let third = watch(&producer, &cfg, &db.pool, &wcfg, &token)
        .await
        .unwrap();
    assert_eq!(third.len(), 1);
    assert!(third[0].location.ends_with("c.xml"));
    // 1 + 3 tombstones, 1 PMC article, 2 books.
    assert_eq!(common::consume(&cfg.topic, 7).await.len(), 7);

    // Running in the background, it picks up a file that lands later, and stops on shutdown;
    // a FIFO with an input's name is skipped and said so once, not on every scan.
    let log = Log::install();
    let fifo = dir.path().join("pipe.xml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let follow = WatchConfig {
        once: false,
        ..wcfg
    };
    let task = {
        let (db_pool, token) = (db.pool.clone(), token.clone());
        tokio::spawn(async move { watch(&producer, &cfg, &db_pool, &follow, &token).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::copy(fixture("jats_oai.xml"), dir.path().join("d.xml")).unwrap();
    let mut seen = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if list_ingested(&db.pool)
            .await
            .unwrap()
            .iter()
            .any(|f| f.name == "d.xml")
        {
            seen = true;
            break;
        }
    }
    token.cancel();
    let reports = task.await.unwrap().unwrap();
    assert!(seen, "a file landing later is ingested");
    assert_eq!(reports.len(), 1);
    let said = log.text();
    let fifo_name = fifo.display().to_string();
    assert_eq!(
        said.lines()
            .filter(|l| l.contains("not a regular file") && l.contains(&fifo_name))
            .count(),
        1,
        "{said}"
    );
    db.drop_db().await;
}

/// What the process logs at WARN and above, kept to read back.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Log {
    /// Installs the process's subscriber (once; tests of this file that do not look at the log
    /// log into it all the same).
    fn install() -> Log {
        let log = Log::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the only subscriber");
        log
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Log {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
