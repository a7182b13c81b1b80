//! The house's one retry policy (docs/architecture.md, "Errors and their classes"): a fault of
//! the transient class is retried after an exponentially growing, jittered delay (backon's
//! `ExponentialBuilder`); a poison or fatal one is returned at once. Every retry of the project
//! takes its delays from [`policy`]: the sink runner's calls and the annotate worker's
//! deliveries through [`transient`], the ledger's and ingest's downloads through backon's
//! `Retryable` with the same builder.

use std::time::Duration;

use backon::BackoffBuilder;
pub use backon::ExponentialBuilder;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::error::{Classify, ErrorClass};

/// Delays from `first`, doubling to `max`, each with up to its own length of jitter (so that
/// the processes of a group that failed together do not come back together); `tries` retries
/// at most (`None`: until the call succeeds or the caller stops it).
pub fn policy(first: Duration, max: Duration, tries: Option<usize>) -> ExponentialBuilder {
    let b = ExponentialBuilder::new()
        .with_min_delay(first)
        .with_max_delay(max)
        .with_factor(2.0)
        .with_jitter();
    match tries {
        Some(n) => b.with_max_times(n),
        None => b.without_max_times(),
    }
}

/// The delays of a policy, for a loop that is not one call to retry (a synchronous commit tried
/// again between other work).
pub fn delays(policy: ExponentialBuilder) -> impl Iterator<Item = Duration> {
    policy.build()
}

/// Runs `call` on `state` until it succeeds, fails in a class other than transient, the
/// policy's retries are spent, or `shutdown` is cancelled (then the last error is returned, so
/// the caller stops without committing past it). `on_retry` hears of each retry and its delay
/// (for the log and the retry counter).
///
/// The call is handed the state rather than capturing it, so that a call may borrow it mutably
/// (a sink's `write(&mut self)`) while the retry loop holds it between tries.
pub async fn transient<S, T, E>(
    state: &mut S,
    policy: ExponentialBuilder,
    shutdown: &CancellationToken,
    mut on_retry: impl FnMut(&E, Duration),
    mut call: impl for<'a> FnMut(&'a mut S) -> BoxFuture<'a, Result<T, E>>,
) -> Result<T, E>
where
    S: ?Sized,
    E: Classify,
{
    let mut delays = policy.build();
    loop {
        match call(state).await {
            Err(e) if e.class() == ErrorClass::Transient && !shutdown.is_cancelled() => {
                let Some(delay) = delays.next() else {
                    return Err(e);
                };
                on_retry(&e, delay);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.cancelled() => return Err(e),
                }
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fault(ErrorClass);

    impl Classify for Fault {
        fn class(&self) -> ErrorClass {
            self.0
        }
    }

    /// Fails with `faults` in turn, then succeeds; counts its calls.
    struct Flaky {
        faults: Vec<ErrorClass>,
        calls: usize,
    }

    impl Flaky {
        fn call(&mut self) -> BoxFuture<'_, Result<usize, Fault>> {
            self.calls += 1;
            let out = match self.faults.get(self.calls - 1) {
                Some(c) => Err(Fault(*c)),
                None => Ok(self.calls),
            };
            Box::pin(async move { out })
        }
    }

    fn quick(tries: Option<usize>) -> ExponentialBuilder {
        policy(Duration::from_millis(1), Duration::from_millis(4), tries)
    }

    #[tokio::test]
    async fn transient_faults_are_retried_until_the_call_succeeds() {
        let mut f = Flaky {
            faults: vec![ErrorClass::Transient; 5],
            calls: 0,
        };
        let mut heard = Vec::new();
        let out = transient(
            &mut f,
            quick(None),
            &CancellationToken::new(),
            |_, d| heard.push(d),
            |f| f.call(),
        )
        .await;
        assert_eq!(out.unwrap(), 6);
        assert_eq!(heard.len(), 5);
        // Delays grow to the cap and never past it (jitter at most doubles one).
        assert!(
            heard.iter().all(|d| *d <= Duration::from_millis(8)),
            "{heard:?}"
        );
    }

    #[tokio::test]
    async fn poison_and_fatal_faults_are_returned_at_once() {
        for class in [ErrorClass::Poison, ErrorClass::Fatal] {
            let mut f = Flaky {
                faults: vec![class],
                calls: 0,
            };
            let out = transient(
                &mut f,
                quick(None),
                &CancellationToken::new(),
                |_, _| panic!("no retry of a {class} fault"),
                |f| f.call(),
            )
            .await;
            assert_eq!(out.unwrap_err().0, class);
            assert_eq!(f.calls, 1);
        }
    }

    #[tokio::test]
    async fn the_last_error_stands_when_the_tries_are_spent_or_shutdown_comes() {
        let mut f = Flaky {
            faults: vec![ErrorClass::Transient; 10],
            calls: 0,
        };
        let out = transient(
            &mut f,
            quick(Some(3)),
            &CancellationToken::new(),
            |_, _| {},
            |f| f.call(),
        )
        .await;
        assert_eq!(out.unwrap_err().0, ErrorClass::Transient);
        assert_eq!(f.calls, 4, "the first call and three retries");

        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let mut f = Flaky {
            faults: vec![ErrorClass::Transient; 10],
            calls: 0,
        };
        let out = transient(&mut f, quick(None), &shutdown, |_, _| {}, |f| f.call()).await;
        assert!(out.is_err());
        assert_eq!(f.calls, 1, "no retry once shutdown is asked for");
    }
}
