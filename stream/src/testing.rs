//! For the integration tests of every crate: the real broker the test script starts, and names
//! no other test uses.

/// The broker under test (`PUBMINE_TEST_BROKERS`). The tests need a real Kafka-protocol broker;
/// panics with how to start one when it is not set.
pub fn brokers() -> String {
    std::env::var("PUBMINE_TEST_BROKERS").expect(
        "PUBMINE_TEST_BROKERS is not set: run scripts/test.sh, or start a broker \
         (scripts/broker.sh start) and export PUBMINE_TEST_BROKERS=127.0.0.1:19092",
    )
}

/// `prefix-<random hex>`: a topic or group name of this test's own.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
