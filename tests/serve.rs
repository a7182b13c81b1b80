//! `pubmine serve` through the real binary over HTTP: an index and a Postgres database filled
//! by the real sinks.

use std::io::{BufRead, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[path = "../serve/tests/fixture/mod.rs"]
mod fixture;

use fixture::{batch, filled};
use pubmine_index::writer::{IndexConfig, Indexer};
use pubmine_store::testing::TestDb;

struct Server {
    child: Child,
    base: String,
    /// What the server logs, read to the end once it stops.
    log: Option<JoinHandle<String>>,
}

impl Server {
    /// Stops the server; returns its log.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(index: &std::path::Path, db: &TestDb) -> Server {
    serve_with(index, db, &[])
}

fn serve_with(index: &std::path::Path, db: &TestDb, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pubmine"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &db.url])
        .arg("--index")
        .arg(index)
        .args(extra)
        .env("PUBMINE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pubmine serve");
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        log
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server {
        child,
        base,
        log: Some(log),
    }
}

/// The status line of the response to a GET of `path`, sent as written.
fn raw_get_status(base: &str, path: &str) -> String {
    use std::io::Write as _;
    let addr = base.strip_prefix("http://").unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    // The server may answer and close before it has read all of the request.
    let _ = write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let mut line = String::new();
    let _ = BufReader::new(conn).read_line(&mut line);
    line.trim_end().to_string()
}

async fn get(base: &str, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The binary serves the crate's router (the API's answers and refusals are tested in process
/// in `serve/tests/api.rs`), refuses a request head past what it reads before any handler, and
/// logs what a 500 keeps from the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_the_api_and_logs_what_a_500_hides() {
    let (db, dir) = filled().await;
    let server = serve(dir.path(), &db);
    let base = server.base.as_str();

    let (status, body) = get(base, "/search?query=brca1&year_from=2005&limit=3").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["total"], 7, "{body}");
    let (status, body) = get(base, "/documents/pmid:3").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(base, "/search?query=%22brca1").await.0, 400);
    assert_eq!(get(base, "/health").await, (200, "ok".to_string()));
    let (status, body) = get(base, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("<html"), "{body}");

    // Past what the HTTP server reads of a request head: refused before any handler.
    // (Too long for an HTTP client's URI type: written by hand.)
    let status = raw_get_status(base, &format!("/search?query={}", "a".repeat(1 << 20)));
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    assert_eq!(get(base, "/health").await.0, 200);

    // A failure of the database: the client learns nothing of it, the log names it.
    pubmine_store::admin_execute(&db.pool, "DROP VIEW top_entities CASCADE")
        .await
        .unwrap();
    let (status, body) = get(base, "/entities/top?type=Gene").await;
    assert_eq!(status, 500, "{body}");
    assert!(!body.contains("top_entities"), "{body}");
    let log = server.stop();
    assert!(
        log.contains("request failed") && log.contains("top_entities"),
        "{log}"
    );
    db.drop_db().await;
}

/// When the server closes `conn` (its reads end), reading and dropping whatever it sends;
/// `None` if it is still open after `limit`.
async fn closed_at<R: tokio::io::AsyncRead + Unpin>(
    conn: &mut R,
    limit: Duration,
) -> Option<Instant> {
    use tokio::io::AsyncReadExt as _;
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(Instant::now()),
            Ok(Ok(_)) => {}
        }
    }
}

/// A GET of `path` from the client address `from`, on a connection of its own: the response's
/// status line.
async fn get_from(from: &str, base: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr: std::net::SocketAddr = base.strip_prefix("http://").unwrap().parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut conn = socket.connect(addr).await.unwrap();
    conn.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

async fn connect(base: &str) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(base.strip_prefix("http://").unwrap())
        .await
        .unwrap()
}

/// Clients that send nothing, half a request head, a head one byte at a time, or nothing more
/// after a response are each closed within `--header-timeout`; one address holds at most
/// `--max-connections-per-address` connections, and while it does, other addresses are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_closed_and_cannot_starve_the_rest() {
    use tokio::io::AsyncWriteExt as _;
    let (db, dir) = filled().await;
    let server = serve_with(
        dir.path(),
        &db,
        &[
            "--header-timeout",
            "2",
            "--max-connections-per-address",
            "6",
        ],
    );
    let base = server.base.clone();
    let limit = Duration::from_secs(2);
    // Closed within the limit of when its clock started, with a margin for a loaded machine,
    // and not long before it.
    let within = |since: Instant, closed: Option<Instant>, what: &str| {
        let took = closed.unwrap_or_else(|| panic!("{what}: still open after 8 s")) - since;
        assert!(
            took >= limit - Duration::from_millis(300) && took < limit + Duration::from_secs(3),
            "{what}: closed after {took:?}"
        );
    };

    let t_idle = Instant::now();
    let mut idle = connect(&base).await;
    let t_half = Instant::now();
    let mut half = connect(&base).await;
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut kept = connect(&base).await;
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // The response, then nothing more from the client.
    let mut first = [0u8; 256];
    let n = tokio::io::AsyncReadExt::read(&mut kept, &mut first)
        .await
        .unwrap();
    let t_kept = Instant::now();
    assert!(
        first[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&first[..n])
    );
    let t_trickle = Instant::now();
    let trickle = connect(&base).await;
    let (mut trickle_read, mut trickle_write) = trickle.into_split();
    let trickling = tokio::spawn(async move {
        let head = b"GET /health HTTP/1.1\r\nX-Slow: "
            .iter()
            .chain(std::iter::repeat(&b'a'));
        for &b in head {
            if trickle_write.write_all(&[b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    // Two more from the same address: six, the cap; the seventh is closed at once.
    let more = [connect(&base).await, connect(&base).await];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut seventh = connect(&base).await;
    assert!(
        closed_at(&mut seventh, Duration::from_millis(1000))
            .await
            .is_some(),
        "a seventh connection from one address is kept"
    );
    // Another address is served meanwhile.
    assert_eq!(
        get_from("127.0.0.2", &base, "/health").await,
        "HTTP/1.1 200 OK"
    );

    let eight = Duration::from_secs(8);
    let (idle, half, kept, trickled) = tokio::join!(
        closed_at(&mut idle, eight),
        closed_at(&mut half, eight),
        closed_at(&mut kept, eight),
        closed_at(&mut trickle_read, eight),
    );
    within(t_idle, idle, "a connection that sends nothing");
    within(t_half, half, "half a request head");
    within(t_kept, kept, "a kept-alive connection left idle");
    within(t_trickle, trickled, "a head sent one byte every 200 ms");
    trickling.await.unwrap();
    // The slow ones gone, their address is served again.
    drop(more);
    assert_eq!(
        get_from("127.0.0.1", &base, "/health").await,
        "HTTP/1.1 200 OK"
    );
    drop(server);
    db.drop_db().await;
}

/// A client that sends requests and never reads the responses is closed once the server's
/// writes have waited `--write-timeout`: it does not get every response it asked for, and what
/// it gets ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed_after_the_write_timeout() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (db, dir) = filled().await;
    let server = serve_with(dir.path(), &db, &["--write-timeout", "2"]);
    let base = server.base.clone();
    let js = reqwest::get(format!("{base}/page/app.js")).await.unwrap();
    assert_eq!(js.status(), 200);
    let one = js.bytes().await.unwrap().len();
    // 4,000 responses of the page's script: far more than the sockets' buffers hold.
    let asked = 4000;
    let conn = connect(&base).await;
    let (mut read, mut write) = conn.into_split();
    let asking = tokio::spawn(async move {
        let request = b"GET /page/app.js HTTP/1.1\r\nHost: x\r\n\r\n";
        for _ in 0..asked {
            if write.write_all(request).await.is_err() {
                break;
            }
        }
        write
    });
    // Reading nothing for longer than the limit, then everything there is.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the connection is still open ({got} bytes read)"
    );
    assert!(
        got < asked * one / 2,
        "{got} bytes read of the {} asked for",
        asked * one
    );
    drop(asking);
    // The server is well.
    assert_eq!(get(&base, "/health").await.0, 200);
    drop(server);
    db.drop_db().await;
}

/// `serve` answers the operations endpoints on its `--bind` too, and `/readyz` says which check
/// failed in its own words; the database's error (which names the database, and can name hosts
/// and users) goes to the log only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_names_the_failed_check_without_the_database_error() {
    let (db, dir) = filled().await;
    let server = serve(dir.path(), &db);
    let base = server.base.clone();
    let (status, body) = get(&base, "/healthz").await;
    assert_eq!((status, body.trim()), (200, "ok"));
    let (status, body) = get(&base, "/metrics").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&base, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    let name = db.name.clone();
    db.drop_db().await;
    let (status, body) = get(&base, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["checks"]["database"], "the database does not answer",
        "{body}"
    );
    assert!(!body.contains(&name), "{body}");
    let log = server.stop();
    assert!(log.contains("not ready") && log.contains(&name), "{log}");
}

/// `pubmine search` refuses the same queries (exit code 2) instead of aborting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_command_refuses_a_deeply_nested_query() {
    let dir = tempfile::tempdir().unwrap();
    let mut indexer = Indexer::open(dir.path(), IndexConfig::default()).unwrap();
    indexer.write(&batch(3)).unwrap();
    indexer.commit().unwrap();
    indexer.close().unwrap();
    let search = |query: &str| {
        Command::new(env!("CARGO_BIN_EXE_pubmine"))
            .arg("search")
            .arg(query)
            .arg("--index")
            .arg(dir.path())
            .env("PUBMINE_LOG", "warn")
            .output()
            .expect("run pubmine search")
    };
    // 60,000 deep is about as long as one argument may be (128 KiB).
    for n in [3_000, 60_000] {
        let out = search(&format!("{}brca1{}", "(".repeat(n), ")".repeat(n)));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{n}: {stderr}");
        assert!(stderr.contains("nested deeper than 32 levels"), "{stderr}");
        assert!(
            stderr.len() < 300,
            "the whole query echoed: {} bytes",
            stderr.len()
        );
    }
    let out = search("(brca1)");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("papers 1-3 of 3"));
}
