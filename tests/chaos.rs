//! The whole pipeline keeps its promise (at-least-once delivery, idempotent sinks: no row lost,
//! none duplicated) while its processes are killed: the real binaries, the real broker
//! (PUBMINE_TEST_BROKERS) and the real Postgres.
//!
//! Generated PubMed files (new articles, an update file that revises some and deletes others, a
//! malformed record) and PMC articles go through `pubmine ingest`, two `pubmine annotate`
//! workers in one consumer group (NER and RE), `pubmine store` and `pubmine index`, each its own
//! process. A driver kills a random running one of the four with SIGKILL, over and over, and
//! starts each again once its group has noticed it gone. Then Postgres and the index are compared with those of an uninterrupted run of the same
//! input: every document, mention and relation row, the index's documents and what it finds,
//! and the dead letters. `PUBMINE_CHAOS_DOCS` (default 1,000) and `PUBMINE_CHAOS_KILLS`
//! (default 20) size it; `bench/chaos.sh` runs it larger.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use pubmine_stream::testing::brokers;

/// How long a killed process stays down: longer than the group session timeout the stages are
/// given (6 s), so that the broker has dropped the dead member before its successor joins. The
/// local broker (tansu 0.6) was seen otherwise to complete a rebalance naming the dead member,
/// which had not rejoined, as the group's leader: the live member got an empty assignment and
/// kept heartbeating successfully in that generation for good, its partitions read by no one
/// (librdkafka's `cgrp` log; docs/operations.md, "The local broker"). Kafka completes a rebalance with the
/// members that rejoined and elects the leader among them.
const REJOIN_AFTER: Duration = Duration::from_secs(7);

/// Starts again the killed processes whose time has come (all of them, waiting, when `all`).
async fn restart_due(p: &mut Pipeline, down: &mut Vec<(&'static str, Instant)>, all: bool) {
    down.sort_by_key(|(_, at)| *at);
    while let Some(&(role, at)) = down.first() {
        if !all && at > Instant::now() {
            break;
        }
        tokio::time::sleep(at.saturating_duration_since(Instant::now())).await;
        p.spawn(role);
        down.remove(0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_processes_lose_and_double_nothing() {
    assert!(
        std::env::var_os("ORT_DYLIB_PATH").is_some(),
        "ORT_DYLIB_PATH is not set: run scripts/test.sh"
    );
    let docs = env_usize("PUBMINE_CHAOS_DOCS", 1000);
    let kills = env_usize("PUBMINE_CHAOS_KILLS", 20);
    let input = tempfile::tempdir().unwrap();
    let expected_docs = write_input(input.path(), docs);
    let logs = log_dir();
    let limit = Duration::from_secs(60 + docs as u64 / 5);
    let brokers = brokers();

    let (calm, reference, calm_time) =
        calm_run(&brokers, &logs, input.path(), expected_docs, limit).await;

    // The same input, with a random process killed every so often and started again.
    let started = Instant::now();
    let mut chaos = Pipeline::new(&brokers, &logs).await;
    chaos.ingest(input.path());
    let docs_end = topic_ends(&brokers, &chaos.topic("documents")).await;
    for role in ROLES {
        chaos.spawn(role);
    }
    let gap = calm_time.mul_f64(0.8) / kills as u32;
    let mut seed = std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15;
    let mut killed: BTreeMap<&str, usize> = BTreeMap::new();
    // Killed processes and when each is started again: once the group has noticed that the
    // dead member is gone (see REJOIN_AFTER).
    let mut down: Vec<(&'static str, Instant)> = Vec::new();
    for _ in 0..kills {
        // xorshift: a random moment within the gap and a random running process
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(gap.mul_f64(0.5 + (seed >> 40) as f64 / (1u64 << 24) as f64)).await;
        restart_due(&mut chaos, &mut down, false).await;
        if down.len() == ROLES.len() {
            // All four are down: the first to come back is the next to go.
            let (role, at) = down.remove(0);
            tokio::time::sleep(at.saturating_duration_since(Instant::now())).await;
            chaos.spawn(role);
        }
        chaos.check_alive();
        let running: Vec<&'static str> = ROLES
            .into_iter()
            .filter(|r| down.iter().all(|(d, _)| d != r))
            .collect();
        let role = running[(seed % running.len() as u64) as usize];
        chaos.kill(role);
        *killed.entry(role).or_default() += 1;
        down.push((role, Instant::now() + REJOIN_AFTER));
    }
    restart_due(&mut chaos, &mut down, true).await;
    wait_done(&mut chaos, &docs_end, limit).await;
    chaos.stop();
    let got = outcome(&chaos).await;
    println!(
        "killed run ({kills} SIGKILLs: {killed:?}): {} in {:.1} s",
        got.counts(),
        started.elapsed().as_secs_f64()
    );
    reference.assert_same(&got);
    calm.db.drop_db().await;
    chaos.db.drop_db().await;
}
