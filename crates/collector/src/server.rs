//! The HTTP/1.1 server loop: the router on hyper, with a deadline for request headers.
//! `axum::serve` sets none, so a client could hold a connection open by trickling them.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Longest wait for a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest wait, once told to stop, for the responses being written to finish: a client
/// that stops reading one would otherwise hold the process, and a restart, for ever. (A
/// record's append is not among them: it goes on detached, and `serve` waits for it.)
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Raises this process's soft limit on open files to its hard limit, as Go's runtime does:
/// every client connection is one, and a shell's usual soft limit of 1,024 is a few seconds
/// of browsers each keeping theirs open after a POST (up to [`HEADER_TIMEOUT`] idle); past
/// it, connections wait unaccepted. A limit that can't be raised is said, not fatal.
pub fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open files"),
        Err(err) => tracing::warn!(%err, "the limit on open files could not be raised"),
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish,
/// for up to [`DRAIN_TIMEOUT`].
/// Handlers see the peer as `ConnectInfo<SocketAddr>`.
pub async fn run(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "connection ended");
            }
        });
    }
    // New connections are refused from now on, not left waiting in the backlog.
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "responses still being written {}s after the signal to stop: cut off",
            DRAIN_TIMEOUT.as_secs()
        );
    }
}
