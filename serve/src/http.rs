//! Serving a router over HTTP/1 with limits that keep slow and idle clients from holding the
//! server: a request head must arrive whole within [`HttpLimits::header_timeout`] (which also
//! closes a kept-alive connection left idle that long), a response the client stops reading is
//! given up after [`HttpLimits::write_timeout`], and connections are capped in all and per
//! client address, so that no number of connections from one address can take the file
//! descriptors the other clients need. `axum::serve` has none of these, so `pubmine serve` and
//! the metrics endpoint both serve through [`serve`].

use std::collections::HashMap;
use std::future::Future as _;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// How long in-flight requests may take to finish once shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Limits on the clients of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// The longest a client may take to send a request head, counted from the connection's
    /// opening or from the end of the previous response: idle, half-sent and trickled heads
    /// are closed after this.
    pub header_timeout: Duration,
    /// The longest a response may wait for the client to read any of it; then the connection
    /// is closed.
    pub write_timeout: Duration,
    /// The most connections open at once; one past it is closed as soon as it is accepted.
    pub max_connections: usize,
    /// The most connections open at once from one client address.
    pub max_per_address: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(15),
            write_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_per_address: 64,
        }
    }
}

/// Connections open, in all and per address.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// A connection's place under the limits, given back when it is dropped.
struct Slot {
    open: Arc<Mutex<Open>>,
    address: IpAddr,
}

impl Slot {
    /// A place for a connection from `address`, or why there is none.
    fn take(
        open: &Arc<Mutex<Open>>,
        address: IpAddr,
        limits: &HttpLimits,
    ) -> Result<Slot, &'static str> {
        let mut o = open.lock().unwrap_or_else(|e| e.into_inner());
        if o.total >= limits.max_connections {
            return Err("the server has its most connections open");
        }
        let mine = o.by_address.entry(address).or_default();
        if *mine >= limits.max_per_address {
            return Err("this address has its most connections open");
        }
        *mine += 1;
        o.total += 1;
        Ok(Slot {
            open: open.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|e| e.into_inner());
        o.total -= 1;
        if let Some(n) = o.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                o.by_address.remove(&self.address);
            }
        }
    }
}

/// Serves `app` on `listener` under `limits` until `shutdown`; then stops accepting, lets the
/// requests in flight finish (for at most ten seconds) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: CancellationToken,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted: the
                    // listener itself is fine; wait a little so that an exhausted process
                    // does not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let slot = match Slot::take(&open, peer.ip(), &limits) {
            Ok(slot) => slot,
            Err(why) => {
                tracing::debug!(%peer, why, "connection refused");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let stream = WriteDeadline::new(stream, limits.write_timeout);
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection closed");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still in flight at shutdown were cut off");
        }
    }
}

/// A connection whose writes fail once one has waited [`HttpLimits::write_timeout`] for the
/// client to make room (a client that requests and never reads); reads pass through.
struct WriteDeadline<T> {
    io: T,
    limit: Duration,
    /// Started when a write first had to wait; cleared by any progress.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> WriteDeadline<T> {
    fn new(io: T, limit: Duration) -> Self {
        WriteDeadline {
            io,
            limit,
            stalled: None,
        }
    }

    /// What a write that could not go on answers: wait, or fail once the limit has passed.
    fn waiting<X>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<X>> {
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client read nothing of the response for the write timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progress<X>(
        &mut self,
        done: Poll<std::io::Result<X>>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<X>> {
        match done {
            Poll::Pending => self.waiting(cx),
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteDeadline<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let done = Pin::new(&mut self.io).poll_write(cx, buf);
        self.progress(done, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let done = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.progress(done, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let done = Pin::new(&mut self.io).poll_flush(cx);
        self.progress(done, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_in_all_and_per_address_and_given_back() {
        let limits = HttpLimits {
            header_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(1),
            max_connections: 3,
            max_per_address: 2,
        };
        let open = Arc::new(Mutex::new(Open::default()));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = Slot::take(&open, a, &limits).unwrap();
        let _a2 = Slot::take(&open, a, &limits).unwrap();
        assert!(Slot::take(&open, a, &limits).is_err(), "a third from a");
        let b1 = Slot::take(&open, b, &limits).unwrap();
        assert!(Slot::take(&open, b, &limits).is_err(), "three in all");
        drop(b1);
        assert!(Slot::take(&open, a, &limits).is_err(), "still two from a");
        drop(a1);
        let _a3 = Slot::take(&open, a, &limits).unwrap();
        drop(_a3);
        drop(_a2);
        assert_eq!(open.lock().unwrap().total, 0);
        assert!(open.lock().unwrap().by_address.is_empty());
    }
}
