//! The search page of `pubmine serve` in a real browser: the bundled samples mined by
//! `pubmine run` with the real Disease and Chemical models into Postgres and an index, served by
//! the binary, and driven in headless Chromium by `tests/browser/page.mjs` (playwright-core). It
//! types a query, checks that the highlighted mentions and their types are the API's, turns
//! highlighting off, clicks a facet and sees the results narrow, reloads and goes back, opens a
//! paper and checks every mention and relation, shows a malformed query's reason, pages, and
//! saves screenshots. `scripts/install-browser.sh` installs Chromium and the npm packages.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use pubmine_store::testing::TestDb;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_page_shows_what_the_api_answers() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let chromium = std::env::var("PUBMINE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let browser = root().join("tests/browser");
    assert!(
        Path::new(&chromium).exists() && browser.join("node_modules/playwright-core").exists(),
        "no {chromium} or no tests/browser/node_modules: run scripts/install-browser.sh"
    );

    let db = TestDb::new().await;
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("index");
    let models = root().join("models");
    let out = Command::new(env!("CARGO_BIN_EXE_pubmine"))
        .arg("run")
        .arg(root().join("samples"))
        .arg("--model")
        .arg(models.join("ner-disease"))
        .arg("--model")
        .arg(models.join("ner-chemical"))
        .arg("--model")
        .arg(models.join("demo-ner-gene"))
        .arg("--re-model")
        .arg(models.join("demo-re-gene-disease"))
        .arg("--index")
        .arg(&index)
        .arg("--dead-letters")
        .arg(work.path().join("dead-letters.jsonl"))
        .args([
            "--database-url",
            &db.url,
            "--no-progress",
            "--commit-interval",
            "1s",
        ])
        .env("PUBMINE_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pubmine run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut server = Command::new(env!("CARGO_BIN_EXE_pubmine"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &db.url])
        .arg("--index")
        .arg(&index)
        .env("PUBMINE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("page-shots");
    let driven = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(browser.join("page.mjs"))
            .args([
                "--base",
                &base,
                "--query",
                "cancer",
                "--chromium",
                &chromium,
            ])
            .arg("--shots")
            .arg(&shots)
            .stdin(Stdio::null())
            .output()
    })
    .await
    .unwrap()
    .expect("run node (the browser test needs node 20 and npm)");
    let _ = server.kill();
    let _ = server.wait();
    let mut log = String::new();
    if let Some(mut e) = server.stderr.take() {
        let _ = e.read_to_string(&mut log);
    }
    let report = String::from_utf8_lossy(&driven.stdout);
    println!("{report}");
    assert!(
        driven.status.success(),
        "the browser test failed:\n{report}\n{}\nserver log:\n{log}",
        String::from_utf8_lossy(&driven.stderr)
    );
    assert!(report.contains("all 8 steps passed"), "{report}");
}
