//! The whole pipeline loses and doubles nothing when its broker goes away mid-run and comes
//! back: the real binaries, a broker of the test's own (tansu, the local broker, on its durable
//! SQLite storage engine: the shared test broker keeps topics in memory and forgets them on a
//! restart) and the real Postgres.
//!
//! The input of the chaos test (`tests/chaos.rs`) goes through ingest, two annotate workers,
//! store and index while the broker is killed with SIGKILL `PUBMINE_RESTART_KILLS` times
//! (default 2; the first while ingest is still producing) and started again on the same storage
//! a few seconds later. The stages are not restarted: they must ride it out (librdkafka
//! reconnects; the stages retry what failed). Then Postgres and the index are compared, row for
//! row, with an uninterrupted run of the same input on the same broker.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rdkafka::consumer::Consumer as _;

/// A tansu broker on a free port, its SQLite file in a directory of its own.
struct PrivateBroker {
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// Where its log of each start goes (kept after the test).
    logs: PathBuf,
    port: u16,
    child: Option<Child>,
    starts: usize,
}

impl PrivateBroker {
    fn start(logs: &Path) -> PrivateBroker {
        let bin = PathBuf::from(std::env::var_os("TANSU_BIN").expect(
            "TANSU_BIN is not set: run scripts/test.sh (scripts/install-broker.sh builds tansu)",
        ));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut b = PrivateBroker {
            bin,
            dir: tempfile::tempdir().unwrap(),
            logs: logs.to_path_buf(),
            port,
            child: None,
            starts: 0,
        };
        b.up();
        b
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the broker on its storage and waits for its port.
    fn up(&mut self) {
        self.starts += 1;
        let url = format!("tcp://{}", self.addr());
        let log = self.log();
        let log = std::fs::File::create(&log).unwrap();
        // `sqlite://tansu.db` is a file in the working directory.
        let child = Command::new(&self.bin)
            .args(["broker", "--listener-url", &url])
            .args(["--advertised-listener-url", &url])
            .args(["--storage-engine", "sqlite://tansu.db"])
            .current_dir(self.dir.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(self.addr()).is_err() {
            self.check_alive();
            assert!(Instant::now() < deadline, "the broker did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> PathBuf {
        self.logs
            .join(format!("broker-{}.{}.log", self.port, self.starts))
    }

    /// Fails when the broker exited by itself.
    fn check_alive(&mut self) {
        if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
            let log = std::fs::read_to_string(self.log()).unwrap_or_default();
            panic!("the broker exited by itself with {status}; its log:\n{log}");
        }
    }

    /// SIGKILL: the broker stops at whatever it was doing.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_loses_and_doubles_nothing() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let docs = env_usize("PUBMINE_RESTART_DOCS", 600);
    let kills = env_usize("PUBMINE_RESTART_KILLS", 2);
    let input = tempfile::tempdir().unwrap();
    let expected_docs = write_input(input.path(), docs);
    let logs = log_dir();
    let limit = Duration::from_secs(120 + docs as u64 / 5);
    let mut broker = PrivateBroker::start(&logs);
    let brokers = broker.addr();

    let (calm, reference, calm_time) =
        calm_run(&brokers, &logs, input.path(), expected_docs, limit).await;

    // The same input; the broker killed and started again while the stages run.
    let started = Instant::now();
    let mut run = Pipeline::new(&brokers, &logs).await;
    let ingest = run.spawn_ingest(input.path());
    for role in ROLES {
        run.spawn(role);
    }
    let down = Duration::from_secs(3);
    let mut ingest = Some(ingest);
    let documents = run.topic("documents");
    let watermarks = admin(&brokers);
    let produced = |c: &rdkafka::consumer::BaseConsumer| -> i64 {
        (0..PARTITIONS)
            .filter_map(|p| {
                c.fetch_watermarks(&documents, p, Duration::from_secs(1))
                    .ok()
            })
            .map(|(_, high)| high)
            .sum()
    };
    // what each kill interrupted: ingest running, documents produced, annotations stored
    let mut hits: Vec<(bool, i64, i64)> = Vec::new();
    for k in 0..kills {
        if k == 0 {
            // The first kill as soon as ingest is seen producing (its first records in the
            // topic while it still runs).
            let deadline = Instant::now() + Duration::from_secs(60);
            while produced(&watermarks) == 0 {
                assert!(Instant::now() < deadline, "ingest produced nothing in 60 s");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        } else {
            // The others spread over the time an uninterrupted run takes.
            let at = calm_time.mul_f64(k as f64 / kills as f64);
            tokio::time::sleep(at.saturating_sub(started.elapsed())).await;
        }
        run.check_alive();
        let ingesting = ingest
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none());
        let documents_in = produced(&watermarks);
        let stored: i64 = sink_positions(&run, PARTITIONS as usize)
            .await
            .0
            .iter()
            .sum();
        broker.kill();
        println!(
            "broker killed at {:.1} s: {documents_in} documents produced{}, {stored} annotations stored",
            started.elapsed().as_secs_f64(),
            if ingesting {
                " (ingest still producing)"
            } else {
                ""
            }
        );
        hits.push((ingesting, documents_in, stored));
        tokio::time::sleep(down).await;
        broker.up();
    }
    broker.check_alive();
    let out = ingest.take().unwrap().wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ingest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs_end = topic_ends(&brokers, &documents).await;
    wait_done(&mut run, &docs_end, limit).await;
    run.stop();
    // Each kill interrupted work: the first hit ingest while it produced, and none came after
    // the store had everything.
    let stored_at_end: i64 = sink_positions(&run, PARTITIONS as usize)
        .await
        .0
        .iter()
        .sum();
    if let Some(&(ingesting, documents_in, _)) = hits.first() {
        assert!(
            ingesting && documents_in < docs_end.iter().sum::<i64>(),
            "the first kill came while ingest produced: {hits:?}, documents end at {docs_end:?}"
        );
    }
    for &(_, _, stored) in &hits {
        assert!(
            stored < stored_at_end,
            "a kill came after the store had taken every annotation: {hits:?}, {stored_at_end} at the end"
        );
    }
    let got = outcome(&run).await;
    println!(
        "run with {kills} broker kills: {} in {:.1} s",
        got.counts(),
        started.elapsed().as_secs_f64()
    );
    reference.assert_same(&got);
    calm.db.drop_db().await;
    run.db.drop_db().await;
}
