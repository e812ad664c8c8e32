//! Connections: accepting, bounding, and closing them, so that no client can hold the server.
//!
//! In: a bound `TcpListener` and a shutdown future. Out: one task per connection running hyper's
//! HTTP/1.1 server with the request handler. Every connection is bounded: at most
//! `Config::max_connections` at once (one more is answered 503 and closed at once, so `/health`
//! keeps answering rather than waiting in the kernel's backlog behind idle sockets), its request
//! headers must arrive within `Config::header_timeout` (hyper's header-read timer, which also
//! runs while a kept-alive connection waits for its next request, so it is the idle timeout too),
//! and a panic in a handler answers that request 500 and nothing else. At shutdown, connections
//! with no request in flight (idle, or half-way through sending headers) are closed at once;
//! the others finish their request within `Config::shutdown_grace`, and so do asynchronous
//! executions started before the signal.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::protocol::{ApiError, CONTENT_TYPE as AMZ_JSON};
use super::{Body, Server, api_error, handle};

/// Serves connections from `listener` until `shutdown` completes, then lets requests in flight
/// and asynchronous executions finish for up to `Config::shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    state: Arc<Server>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    // Connection tasks hold a receiver; `closing.send(true)` tells them to wind down, and
    // `closing.closed()` resolves once the last of them has ended.
    let (closing, _) = watch::channel(false);
    // One permit per connection being served: the cap on open sockets.
    let permits = Arc::new(Semaphore::new(state.config.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        // Out of descriptors or a reset before accept: back off, keep serving.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                match permits.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let conn = connection(stream, state.clone(), closing.subscribe());
                        tokio::spawn(async move {
                            conn.await;
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        tokio::spawn(refuse(stream, state.config.max_connections));
                    }
                }
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = closing.send(true);
    let deadline = tokio::time::Instant::now() + state.config.shutdown_grace;
    let _ = tokio::time::timeout_at(deadline, closing.closed()).await;
    let _ = tokio::time::timeout_at(deadline, state.in_flight.emptied()).await;
    Ok(())
}

/// Answers a connection over the cap with 503 in AWS's shape and closes it.
async fn refuse(mut stream: TcpStream, limit: usize) {
    let e = ApiError::coral(
        503,
        "ServiceUnavailableException",
        Some(format!(
            "The server is serving its limit of {limit} connections; retry later"
        )),
    );
    let body = e.body();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {AMZ_JSON}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}

/// Counts a connection's requests in flight; the guard is dropped when the handler returns.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn enter(count: &Arc<AtomicUsize>) -> Busy {
        count.fetch_add(1, Ordering::SeqCst);
        Busy(count.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One connection, served until the client leaves, a timeout closes it, or shutdown.
fn connection(
    stream: TcpStream,
    state: Arc<Server>,
    mut closing: watch::Receiver<bool>,
) -> impl Future<Output = ()> {
    let busy = Arc::new(AtomicUsize::new(0));
    let requests = busy.clone();
    let grace = state.config.shutdown_grace;
    let header_timeout = state.config.header_timeout;
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let guard = Busy::enter(&requests);
        let st = state.clone();
        async move {
            let _guard = guard;
            Ok::<_, Infallible>(contained(st, req).await)
        }
    });
    async move {
        let io = hyper_util::rt::TokioIo::new(stream);
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .keep_alive(true)
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(header_timeout);
        let conn = builder.serve_connection(io, svc);
        tokio::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = closing.wait_for(|c| *c) => {}
        }
        // Shutdown: a connection with nothing in flight has nothing to lose. A request whose
        // response is being written has already left the handler, so give it a moment.
        conn.as_mut().graceful_shutdown();
        let wait = if busy.load(Ordering::SeqCst) == 0 {
            Duration::from_millis(100)
        } else {
            grace
        };
        let _ = tokio::time::timeout(wait, conn).await;
    }
}

/// Runs the handler; a panic in it answers this request 500 `InternalFailure` and nothing else.
async fn contained(state: Arc<Server>, req: Request<Incoming>) -> Response<Body> {
    match AssertUnwindSafe(handle(&state, req)).catch_unwind().await {
        Ok(resp) => resp,
        Err(_) => {
            state.metrics.panicked();
            api_error(&internal_failure())
        }
    }
}

/// AWS's answer to a request that failed on the server's side.
pub fn internal_failure() -> ApiError {
    ApiError::coral(
        StatusCode::INTERNAL_SERVER_ERROR.as_u16(),
        "InternalFailure",
        Some(
            "The request processing has failed because of an unknown error, exception or failure."
                .into(),
        ),
    )
}
