//! `pubmine run`, the whole pipeline in one process with no broker, ends with the same rows in
//! Postgres and the same index as the four stages over Kafka on the same input: the real binary,
//! the real ONNX Runtime, the real Postgres and, for the reference run, the real broker.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::*;
use pubmine_store::testing::TestDb;
use pubmine_stream::codec::decode_dead_letter;
use pubmine_stream::testing::brokers;

/// The dead letters of a run's file, as the chaos tests compare them.
/// The dead letters `pubmine run` wrote to `path`; the file must be there, as the input holds a
/// malformed record.
fn dead_letters_in(path: &std::path::Path) -> BTreeSet<(String, Option<String>, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| {
            let dl = decode_dead_letter(l.as_bytes()).unwrap();
            (dl.stage, dl.id, dl.reason)
        })
        .collect()
}

/// `pubmine run` into `db` and `index`, dead letters appended to `dead`; its input to be given.
fn run_base(db: &TestDb, index: &std::path::Path, dead: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pubmine"));
    cmd.arg("run")
        .args(annotate_args())
        .args(["--database-url", &db.url])
        .arg("--index")
        .arg(index)
        .arg("--dead-letters")
        .arg(dead)
        .arg("--json")
        // Index commits (and so files recorded as done) every few hundred milliseconds, so that
        // a kill falls between files done and files not.
        .args(["--commit-interval", "300ms"])
        .env("PUBMINE_LOG", "warn");
    cmd
}

/// `pubmine run` of `input` into `db` and `index`, dead letters appended to `dead`.
fn run_command(
    db: &TestDb,
    index: &std::path::Path,
    dead: &std::path::Path,
    input: &std::path::Path,
) -> Command {
    let mut cmd = run_base(db, index, dead);
    cmd.arg(input);
    cmd
}

/// Runs `pubmine run` to its end; its summary.
fn run(
    db: &TestDb,
    index: &std::path::Path,
    dead: &std::path::Path,
    input: &std::path::Path,
) -> serde_json::Value {
    let out = run_command(db, index, dead, input).output().unwrap();
    assert!(
        out.status.success(),
        "pubmine run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_ends_as_the_four_stages_over_kafka() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let docs = env_usize("PUBMINE_RUN_DOCS", 300);
    let input = tempfile::tempdir().unwrap();
    let expected_docs = write_input(input.path(), docs);
    let logs = log_dir();
    let (calm, reference, _) = calm_run(
        &brokers(),
        &logs,
        input.path(),
        expected_docs,
        Duration::from_secs(300),
    )
    .await;

    let db = TestDb::new().await;
    let index = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dead = work.path().join("dead-letters.jsonl");
    let report = run(&db, index.path(), &dead, input.path());
    let got = outcome_of(&db, index.path(), dead_letters_in(&dead)).await;
    println!("pubmine run: {} ({report})", got.counts());
    reference.assert_same(&got);
    let files: Vec<(String, i32)> =
        sqlx::query_as("SELECT name, documents FROM ingested_files ORDER BY name")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(files.len(), 9, "every input file recorded: {files:?}");
    assert_eq!(report["files"], 9);

    // A second run finds every file done and changes nothing.
    let again = run(&db, index.path(), &dead, input.path());
    assert_eq!(again["files_skipped"], 9, "{again}");
    assert_eq!(again["documents"], 0, "{again}");
    let after = outcome_of(&db, index.path(), dead_letters_in(&dead)).await;
    reference.assert_same(&after);
    calm.db.drop_db().await;
    db.drop_db().await;
}

/// `pubmine run` stopped (once with SIGTERM, then with SIGKILL) at random moments of its
/// progress and started again, over and over, ends with exactly what an uninterrupted `pubmine
/// run` of the same input holds: the files not recorded as done are read again, and the sinks
/// are idempotent. Each stop comes when the documents stored pass a random mark of its own
/// share of the run (the marks rise from stop to stop, so each restart has work left), and is
/// checked to have interrupted work: files left unrecorded; for the SIGTERM, the exit status of
/// a stop and the file in hand, some of its documents stored, left unrecorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_runs_resume_to_the_same_end() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let docs = env_usize("PUBMINE_RUN_KILL_DOCS", 1500);
    let kills = env_usize("PUBMINE_RUN_KILLS", 6);
    let input = tempfile::tempdir().unwrap();
    let expected_docs = write_input(input.path(), docs);
    let files = files_of(input.path()).len() as i64;

    let calm_db = TestDb::new().await;
    let calm_index = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let calm_dead = work.path().join("calm-dead.jsonl");
    let started = std::time::Instant::now();
    run(&calm_db, calm_index.path(), &calm_dead, input.path());
    let took = started.elapsed();
    let reference = outcome_of(&calm_db, calm_index.path(), dead_letters_in(&calm_dead)).await;
    assert_one_malformed_record(&reference.dead_letters);
    assert_eq!(reference.documents.len(), expected_docs);
    println!(
        "uninterrupted pubmine run: {} in {:.1} s",
        reference.counts(),
        took.as_secs_f64()
    );

    let db = TestDb::new().await;
    let index = tempfile::tempdir().unwrap();
    let dead = work.path().join("dead.jsonl");
    let mut seed = std::process::id() as u64 ^ 0x2545_f491_4f6c_dd1d;
    let mut stops = Vec::new();
    for k in 0..kills {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let share = (k as f64 + (seed >> 40) as f64 / (1u64 << 24) as f64) / kills as f64;
        // Documents stored, between a tenth and nine tenths of the end (the deletions of the
        // update file, read last, come after).
        let mark = (expected_docs as f64 * (0.1 + 0.8 * share)) as i64;
        let mut child = run_command(&db, index.path(), &dead, input.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + took * 3;
        while stored_in(&db).await < mark {
            assert!(
                child.try_wait().unwrap().is_none(),
                "stop {k}: the run ended before {mark} documents were stored"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "stop {k}: {mark} documents not stored in {:?}",
                took * 3
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if k == 0 {
            // The first stop is a SIGTERM: the run leaves the file in hand and exits promptly
            // (before, ingest waited for good on a channel no stage read any more).
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "pubmine run did not exit within 20 s of SIGTERM"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            let recorded = recorded_names(&db).await;
            assert_eq!(
                status.code(),
                Some(75),
                "a stop with files left ({recorded:?} recorded) is not a success: {status:?}"
            );
            let mut in_hand = Vec::new();
            for f in 0..3usize {
                let name = format!("base{f}.xml");
                let per_file = docs.div_ceil(3);
                let ids: Vec<String> = (f * per_file..((f + 1) * per_file).min(docs))
                    .map(|n| format!("pmid:{}", 40_000_000 + n))
                    .collect();
                let stored: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM documents WHERE id = ANY($1)")
                        .bind(&ids)
                        .fetch_one(&db.pool)
                        .await
                        .unwrap();
                if recorded.contains(&name) {
                    assert_eq!(
                        stored as usize,
                        ids.len(),
                        "{name} recorded with all its documents"
                    );
                } else if stored > 0 {
                    in_hand.push((name, stored));
                }
            }
            assert!(
                !in_hand.is_empty(),
                "the file in hand at the SIGTERM, some of its documents stored, is left unrecorded ({recorded:?} recorded)"
            );
        } else {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        let n = recorded_in(&db).await;
        assert!(
            n < files,
            "stop {k} came with work left: {n} of {files} files recorded"
        );
        stops.push((mark, n));
    }
    let last = run(&db, index.path(), &dead, input.path());
    let got = outcome_of(&db, index.path(), dead_letters_in(&dead)).await;
    println!(
        "after {kills} stops (a SIGTERM, then SIGKILLs; documents stored at each, files recorded after: {stops:?}) and a last run ({last}): {}",
        got.counts()
    );
    reference.assert_same(&got);
    assert_eq!(recorded_in(&db).await, files);
    calm_db.drop_db().await;
    db.drop_db().await;
}

/// The files of `input`, in name order (the order `watch` and `sync` take them in).
fn files_of(input: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(input)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// `pubmine run --watch` takes files as they land, each once (a file read but not yet stored
/// and indexed is not sent again by the next scan), and stops on SIGTERM; `pubmine run --sync`
/// downloads and mines what a listing offers. Both end as a run over the same files does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_and_sync_end_as_a_run_of_the_files() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let docs = env_usize("PUBMINE_RUN_DOCS", 300);
    let input = tempfile::tempdir().unwrap();
    write_input(input.path(), docs);
    let work = tempfile::tempdir().unwrap();
    let ref_db = TestDb::new().await;
    let ref_index = tempfile::tempdir().unwrap();
    let ref_dead = work.path().join("reference-dead.jsonl");
    let reference_report = run(&ref_db, ref_index.path(), &ref_dead, input.path());
    let reference = outcome_of(&ref_db, ref_index.path(), dead_letters_in(&ref_dead)).await;

    // Watch: the files land in three groups, in name order (an update after what it revises),
    // each renamed into place whole.
    let db = TestDb::new().await;
    let index = tempfile::tempdir().unwrap();
    let dead = work.path().join("watch-dead.jsonl");
    let spool = tempfile::tempdir().unwrap();
    let watched = tempfile::tempdir().unwrap();
    let child = run_base(&db, index.path(), &dead)
        .arg("--watch")
        .arg(watched.path())
        .args(["--interval", "100ms", "--settle", "0s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let files = files_of(input.path());
    for group in files.chunks(files.len().div_ceil(3)) {
        for f in group {
            let name = f.file_name().unwrap();
            let tmp = spool.path().join(name);
            std::fs::copy(f, &tmp).unwrap();
            std::fs::rename(&tmp, watched.path().join(name)).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while recorded_in(&db).await < files.len() as i64 {
        assert!(
            std::time::Instant::now() < deadline,
            "pubmine run --watch did not record every file within 300 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "pubmine run --watch failed");
    let watch_report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Each file was read once: as many documents as the run of the files parsed.
    assert_eq!(
        watch_report["documents"], reference_report["documents"],
        "{watch_report} against {reference_report}"
    );
    assert_eq!(watch_report["files"], files.len());
    let got = outcome_of(&db, index.path(), dead_letters_in(&dead)).await;
    println!("pubmine run --watch: {} ({watch_report})", got.counts());
    reference.assert_same(&got);
    db.drop_db().await;

    // Sync: a listing of the same files, one pass; a second pass finds them all done.
    let url = serve_listing(input.path()).await;
    let db = TestDb::new().await;
    let index = tempfile::tempdir().unwrap();
    let dead = work.path().join("sync-dead.jsonl");
    let sync_run = || {
        let out = run_base(&db, index.path(), &dead)
            .args(["--sync", &url])
            .arg("--spool")
            .arg(spool.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pubmine run --sync failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = sync_run();
    assert_eq!(first["documents"], reference_report["documents"], "{first}");
    let got = outcome_of(&db, index.path(), dead_letters_in(&dead)).await;
    println!("pubmine run --sync: {} ({first})", got.counts());
    reference.assert_same(&got);
    let again = sync_run();
    assert_eq!(again["documents"], 0, "{again}");
    assert_eq!(recorded_in(&db).await, files.len() as i64);
    db.drop_db().await;
    ref_db.drop_db().await;
}

/// The documents a database holds.
async fn stored_in(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM documents")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// The names of the files recorded as done.
async fn recorded_names(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM ingested_files ORDER BY name")
        .fetch_all(&db.pool)
        .await
        .unwrap()
}

async fn recorded_in(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM ingested_files")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// Serves the files of `dir` as an NCBI-style listing with `.md5` companions; its URL.
async fn serve_listing(dir: &std::path::Path) -> String {
    use axum::extract::{Path as UrlPath, State};
    use axum::http::StatusCode;
    use axum::routing::get;
    use std::sync::Arc;
    /// Name, content, md5.
    type Files = Arc<Vec<(String, Vec<u8>, String)>>;
    let files: Files = Arc::new(
        files_of(dir)
            .into_iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                let md5 = pubmine_ingest::continuous::md5_file(&p).unwrap();
                (name, std::fs::read(&p).unwrap(), md5)
            })
            .collect(),
    );
    async fn listing(State(files): State<Files>) -> axum::response::Html<String> {
        let mut html = String::from("<html><body><pre>\n");
        for (name, _, _) in files.iter() {
            html.push_str(&format!(
                "<a href=\"{name}\">{name}</a>\n<a href=\"{name}.md5\">{name}.md5</a>\n"
            ));
        }
        axum::response::Html(html + "</pre></body></html>")
    }
    async fn file(
        State(files): State<Files>,
        UrlPath(name): UrlPath<String>,
    ) -> Result<Vec<u8>, StatusCode> {
        for (n, content, md5) in files.iter() {
            if *n == name {
                return Ok(content.clone());
            }
            if format!("{n}.md5") == name {
                return Ok(format!("MD5({n})= {md5}\n").into_bytes());
            }
        }
        Err(StatusCode::NOT_FOUND)
    }
    let app = axum::Router::new()
        .route("/files/", get(listing))
        .route("/files/{name}", get(file))
        .with_state(files);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/files/")
}

/// A MEDLINE article record: `version` is the PMID element's attributes as written
/// (` Version="2"`, or nothing).
fn article(pmid: u32, version: &str, title: &str, text: &str) -> String {
    format!(
        "<PubmedArticle><MedlineCitation><PMID{version}>{pmid}</PMID><Article>\
         <ArticleTitle>{title}</ArticleTitle><Abstract><AbstractText>{text}</AbstractText>\
         </Abstract></Article></MedlineCitation></PubmedArticle>\n"
    )
}

/// Versioned citations through `pubmine run`, in update files that carry both orders: each
/// version is a document of its own, so a late version 1 leaves version 2 as it was, and a
/// deletion of version 1 leaves version 2. A document over `--max-document-chars` is a dead
/// letter with its reason, and its file is recorded all the same (the run goes on, and the
/// next run does not meet it again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_stand_apart_and_an_overlong_document_is_set_aside() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let set = |body: String| {
        format!("<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n{body}</PubmedArticleSet>\n")
    };
    let text = "Tamoxifen in breast cancer with BRCA1 mutations.";
    let long = text.repeat(300);
    let input = tempfile::tempdir().unwrap();
    std::fs::write(
        input.path().join("pubmed26n0001.xml"),
        set([
            article(5, " Version=\"2\"", "Five, second version", text),
            article(6, "", "Six, first version", text),
            article(6, " Version=\"2\"", "Six, second version", text),
            article(7, "", "Seven, too long", &long),
            article(8, "", "Eight", text),
        ]
        .concat()),
    )
    .unwrap();
    std::fs::write(
        input.path().join("pubmed26n0002.xml"),
        set(format!(
            "{}<DeleteCitation><PMID Version=\"1\">6</PMID></DeleteCitation>\n",
            article(5, " Version=\"1\"", "Five, first version", text)
        )),
    )
    .unwrap();
    let db = TestDb::new().await;
    let index = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dead = work.path().join("dead-letters.jsonl");
    let out = run_base(&db, index.path(), &dead)
        .args(["--max-document-chars", "10000"])
        .arg(input.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["files"], 2, "{report}");
    let docs: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT id, title, pmid FROM documents ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let want = [
        ("pmid:5", "Five, first version", "5"),
        ("pmid:5.2", "Five, second version", "5"),
        ("pmid:6.2", "Six, second version", "6"),
        ("pmid:8", "Eight", "8"),
    ];
    assert_eq!(
        docs,
        want.map(|(i, t, p)| (i.to_string(), t.to_string(), Some(p.to_string())))
    );
    let letters = std::fs::read_to_string(&dead).unwrap();
    let letters: Vec<_> = letters
        .lines()
        .map(|l| decode_dead_letter(l.as_bytes()).unwrap())
        .collect();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(
        (letters[0].stage.as_str(), letters[0].id.as_deref()),
        ("annotate", Some("pmid:7"))
    );
    assert!(
        letters[0].reason.contains(&format!(
            "is {} characters, more than the 10000 annotate takes",
            long.len() + "Seven, too long".len()
        )),
        "{}",
        letters[0].reason
    );
    let files = recorded_in(&db).await;
    assert_eq!(files, 2);
    db.drop_db().await;
}

/// A file cut short fails (exit status 1, not recorded), and its whole records are stored and
/// counted in the summary, not reported as `documents: 0`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_cut_short_fails_and_counts_what_it_stored() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let paper = |pmid: u32| {
        article(
            pmid,
            "",
            &format!("Paper {pmid}"),
            "Tamoxifen in breast cancer.",
        )
    };
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n");
    for pmid in 1..=5 {
        xml.push_str(&paper(pmid));
    }
    // The sixth record is cut in the middle, and the file with it.
    let sixth = paper(6);
    xml.push_str(&sixth[..sixth.len() / 2]);
    let input = tempfile::tempdir().unwrap();
    std::fs::write(input.path().join("cut.xml"), xml).unwrap();
    let db = TestDb::new().await;
    let index = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = run_command(
        &db,
        index.path(),
        &work.path().join("dead.jsonl"),
        input.path(),
    )
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            report["files_failed"].as_u64(),
            report["documents"].as_u64()
        ),
        (Some(1), Some(5)),
        "{report}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM documents")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 5);
    let files = recorded_in(&db).await;
    assert_eq!(files, 0, "a failed file is not recorded");
    db.drop_db().await;
}
