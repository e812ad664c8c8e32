//! Connections: accepting, bounding, and closing them, so that no client can hold the server.
//!
//! In: a bound `TcpListener` and a shutdown future. Out: one task per connection running hyper's
//! HTTP/1.1 server with the request handler. Every connection is bounded: at most
//! `Config::max_connections` at once (one more is answered 503 and closed at once, so `/health`
//! keeps answering rather than waiting in the kernel's backlog behind idle sockets), its request
//! headers must arrive within `Config::header_timeout` (hyper's header-read timer, which also
//! runs while a kept-alive connection waits for its next request, so it is the idle timeout too),
//! and a panic in a handler answers that request 500 and nothing else. A request hyper cannot
//! parse (a bad request line or header, a URI or headers past its limits) gets hyper's own 400,
//! 414 or 431, with AWS's JSON error body put in by [`AwsErrors`]. At shutdown, connections
//! with no request in flight (idle, or half-way through sending headers) are closed at once;
//! the others finish their request within `Config::shutdown_grace`, and so do asynchronous
//! executions started before the signal.

use std::convert::Infallible;
use std::future::Future;
use std::io::{self, IoSlice};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
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
        let io = hyper_util::rt::TokioIo::new(AwsErrors::new(stream));
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

/// A connection whose automatic error answers from hyper carry AWS's JSON body.
///
/// hyper answers a request it cannot parse itself, before any handler sees it: a malformed
/// request line or header 400, a URI over 65,534 bytes 414, headers past its buffer (about
/// 400 KiB, or more than 100 of them) 431; the body is empty and the connection closes after it.
/// hyper has no hook for that answer, so this wrapper recognises it in what hyper writes and
/// sends the same status with AWS's error body (`__type`, `message`), a content type and a
/// request id instead.
///
/// The recognition is exact, not a guess: hyper's answer is the last thing written on the
/// connection, a status line followed by exactly `connection: close`, `content-length: 0` and a
/// date, and is recognised only at the end of a write. Every answer of the server's own carries
/// a content type and a request id, and no body of ours (JSON, the console's HTML, metrics text)
/// holds a CR LF, so none of them can match. Writes, vectored or not, pass straight through
/// (one check of their last bytes) unless they end with that answer; what hyper writes before
/// it passes through untouched.
pub(crate) struct AwsErrors<S> {
    inner: S,
    /// Our answer in place of hyper's, while it is being written.
    replacing: Option<Replacement>,
}

struct Replacement {
    bytes: Vec<u8>,
    written: usize,
    /// How many of hyper's bytes it stands for: reported to hyper once it is all written.
    stands_for: usize,
}

impl<S> AwsErrors<S> {
    pub(crate) fn new(inner: S) -> AwsErrors<S> {
        AwsErrors {
            inner,
            replacing: None,
        }
    }
}

/// hyper's automatic answers: status, reason phrase, and ours.
const AUTOMATIC: [(u16, &str, &str, &str); 3] = [
    (
        400,
        "Bad Request",
        "SerializationException",
        "The request could not be parsed: its request line or a header is not valid HTTP/1.1",
    ),
    (
        414,
        "URI Too Long",
        "RequestUriTooLongException",
        "The request URI is longer than the 65534 bytes the server reads",
    ),
    (
        431,
        "Request Header Fields Too Large",
        "RequestHeaderFieldsTooLargeException",
        "The request headers are larger than the server reads (about 400 KiB, at most 100 headers)",
    ),
];

const AUTOMATIC_HEADERS: &[u8] = b"\r\nconnection: close\r\ncontent-length: 0\r\ndate: ";
/// `Mon, 07 Dec 2026 22:21:01 GMT` and the blank line.
const DATE_LEN: usize = 29;
const END: &[u8] = b" GMT\r\n\r\n";

/// Where hyper's automatic answer starts in `buf` (it ends it), with our answer in its place.
fn automatic_answer(buf: &[u8]) -> Option<(usize, Vec<u8>)> {
    // The cheap test first: the server's own answers end with their body.
    if !buf.ends_with(END) {
        return None;
    }
    for (status, reason, kind, message) in AUTOMATIC {
        // `HTTP/1.1 400 Bad Request`, then the headers, the date and the blank line.
        let line = 9 + 4 + reason.len();
        let len = line + AUTOMATIC_HEADERS.len() + DATE_LEN + 4;
        let Some(start) = buf.len().checked_sub(len) else {
            continue;
        };
        let head = &buf[start..];
        let status_text = status.to_string();
        let matches = head.starts_with(b"HTTP/1.")
            && matches!(head[7], b'0' | b'1')
            && head[8] == b' '
            && &head[9..12] == status_text.as_bytes()
            && head[12] == b' '
            && &head[13..line] == reason.as_bytes()
            && head[line..].starts_with(AUTOMATIC_HEADERS);
        if !matches {
            continue;
        }
        let date = &head[line + AUTOMATIC_HEADERS.len()..len - 4];
        let body = ApiError::coral(status, kind, Some(message.to_string())).body();
        let mut out = Vec::with_capacity(len + body.len() + 128);
        out.extend_from_slice(&head[..line]);
        out.extend_from_slice(b"\r\ncontent-type: ");
        out.extend_from_slice(AMZ_JSON.as_bytes());
        out.extend_from_slice(b"\r\nx-amzn-requestid: ");
        out.extend_from_slice(uuid::Uuid::new_v4().to_string().as_bytes());
        out.extend_from_slice(b"\r\nconnection: close\r\ncontent-length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\ndate: ");
        out.extend_from_slice(date);
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(body.as_bytes());
        return Some((start, out));
    }
    None
}

impl<S: AsyncRead + Unpin> AsyncRead for AwsErrors<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AwsErrors<S> {
    /// Writes our answer in place of hyper's; `len` is the length of what hyper handed over,
    /// reported as written once all of ours is.
    fn replace(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<io::Result<usize>> {
        let Some(r) = self.replacing.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while r.written < r.bytes.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &r.bytes[r.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(0)),
                Poll::Ready(Ok(n)) => r.written += n,
                other => return other,
            }
        }
        let n = r.stands_for.min(len);
        self.replacing = None;
        Poll::Ready(Ok(n))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for AwsErrors<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() {
            match automatic_answer(buf) {
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
                // What comes before hyper's answer first, as it is.
                Some((start, _)) if start > 0 => {
                    return Pin::new(&mut this.inner).poll_write(cx, &buf[..start]);
                }
                Some((_, bytes)) => {
                    this.replacing = Some(Replacement {
                        bytes,
                        written: 0,
                        stands_for: buf.len(),
                    });
                }
            }
        }
        this.replace(cx, buf.len())
    }

    // hyper writes vectored (its head and body buffers apart, no copy) where the socket can:
    // its automatic answer, a head without a body, is then the end of the last slice with bytes.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if this.replacing.is_none() {
            let Some(last) = bufs.iter().rposition(|b| !b.is_empty()) else {
                return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
            };
            match automatic_answer(&bufs[last]) {
                None => return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs),
                Some((start, bytes)) => {
                    if total > bufs[last].len() - start {
                        // What comes before hyper's answer first, as it is.
                        let mut before: Vec<IoSlice<'_>> = bufs[..last].to_vec();
                        before.push(IoSlice::new(&bufs[last][..start]));
                        return Pin::new(&mut this.inner).poll_write_vectored(cx, &before);
                    }
                    this.replacing = Some(Replacement {
                        bytes,
                        written: 0,
                        stands_for: total,
                    });
                }
            }
        }
        this.replace(cx, total)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::engine::{Engine, Settings};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The route whose handler panics in test builds (see `server::handle`).
    pub const PANIC_ROUTE: &str = "/test-only/panic";

    /// One request on a fresh connection: the status and the body.
    async fn call(
        addr: std::net::SocketAddr,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, String) {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             X-Amz-Target: AWSStepFunctions.CreateStateMachine\r\n\
             Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf));
        read.await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, body.to_string())
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_server_keeps_serving() {
        let server = Server::new(Engine::new(Settings::default()), Default::default())
            .with_log(super::super::ExecLog::new(Box::new(std::io::sink())));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(serve(listener, Arc::new(server), async {
            let _ = stopped.await;
        }));
        for _ in 0..3 {
            let (status, out) = call(addr, "POST", PANIC_ROUTE, "{}").await;
            assert_eq!(status, 500, "{out}");
            let out: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(
                out["__type"], "com.amazon.coral.service#InternalFailure",
                "{out}"
            );
            assert!(out["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        // Same process, same listener: everything else still works.
        assert_eq!(call(addr, "GET", "/health", "").await.0, 200);
        let pass = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
        let create = serde_json::json!({"name": "fine", "definition": pass,
            "roleArn": "arn:aws:iam::123456789012:role/r"});
        let (status, out) = call(addr, "POST", "/", &create.to_string()).await;
        assert_eq!(status, 200, "{out}");
        let (status, metrics) = call(addr, "GET", "/metrics", "").await;
        assert_eq!(status, 200);
        assert!(
            metrics.contains("expressway_request_panics_total 3"),
            "{metrics}"
        );
        stop.send(()).unwrap();
        done.await.unwrap().unwrap();
    }

    const DATE: &str = "Mon, 07 Dec 2026 22:21:01 GMT";

    fn hyper_answer(version: &str, status: &str) -> String {
        format!(
            "HTTP/{version} {status}\r\nconnection: close\r\ncontent-length: 0\r\ndate: {DATE}\r\n\r\n"
        )
    }

    #[test]
    fn hyper_answers_are_recognised_and_given_a_body() {
        for (status, kind) in [
            ("400 Bad Request", "SerializationException"),
            ("414 URI Too Long", "RequestUriTooLongException"),
            (
                "431 Request Header Fields Too Large",
                "RequestHeaderFieldsTooLargeException",
            ),
        ] {
            for version in ["1.1", "1.0"] {
                let before = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
                let written = format!("{before}{}", hyper_answer(version, status));
                let (start, ours) = automatic_answer(written.as_bytes()).unwrap();
                assert_eq!(start, before.len());
                let ours = String::from_utf8(ours).unwrap();
                let (head, body) = ours.split_once("\r\n\r\n").unwrap();
                assert!(
                    head.starts_with(&format!("HTTP/{version} {status}\r\n")),
                    "{head}"
                );
                assert!(head.contains(&format!("\r\ndate: {DATE}")), "{head}");
                assert!(head.contains("\r\nconnection: close"), "{head}");
                assert!(
                    head.contains(&format!("\r\ncontent-length: {}", body.len())),
                    "{head}"
                );
                let v: serde_json::Value = serde_json::from_str(body).unwrap();
                assert_eq!(v["__type"], format!("com.amazon.coral.service#{kind}"));
                assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
            }
        }
    }

    /// A socket that takes at most `per_call` bytes a write, vectored or not.
    struct Trickle {
        got: Vec<u8>,
        per_call: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.per_call);
            self.got.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(self.per_call - n);
                self.got.extend_from_slice(&b[..take]);
                n += take;
            }
            Poll::Ready(Ok(n))
        }
        fn is_write_vectored(&self) -> bool {
            true
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Writes `chunks` as hyper does (again from where the last write stopped) through the
    /// wrapper, vectored or flat, over a socket taking `per_call` bytes a write.
    fn written(chunks: &[&[u8]], vectored: bool, per_call: usize) -> String {
        let mut io = AwsErrors::new(Trickle {
            got: Vec::new(),
            per_call,
        });
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        let flat = chunks.concat();
        let mut done = 0;
        while done < flat.len() {
            let n = if vectored {
                // The chunks still to write, the first one cut where the last write stopped.
                let mut skip = done;
                let mut slices = Vec::new();
                for c in chunks {
                    if skip >= c.len() {
                        skip -= c.len();
                        continue;
                    }
                    slices.push(IoSlice::new(&c[skip..]));
                    skip = 0;
                }
                Pin::new(&mut io).poll_write_vectored(&mut cx, &slices)
            } else {
                Pin::new(&mut io).poll_write(&mut cx, &flat[done..])
            };
            match n {
                Poll::Ready(Ok(n)) if n > 0 => done += n,
                other => panic!("{other:?}"),
            }
        }
        String::from_utf8(io.inner.got).unwrap()
    }

    #[test]
    fn writes_in_any_pieces_replace_exactly_hyper_answer() {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n";
        let answer = hyper_answer("1.1", "400 Bad Request");
        for vectored in [true, false] {
            for per_call in [1, 7, 64, 4096] {
                let chunks: [&[u8]; 3] = [head.as_bytes(), b"{}", answer.as_bytes()];
                let out = written(&chunks, vectored, per_call);
                let (first, rest) = out.split_at(head.len() + 2);
                assert_eq!(first, format!("{head}{{}}"));
                assert!(
                    rest.starts_with("HTTP/1.1 400 Bad Request\r\ncontent-type: "),
                    "{rest}"
                );
                assert!(rest.ends_with("\"}"), "{rest}");
                // The server's own answers, whole and in pieces, pass as they are.
                let own: [&[u8]; 2] = [head.as_bytes(), b"{}"];
                assert_eq!(written(&own, vectored, per_call), format!("{head}{{}}"));
            }
        }
    }

    #[test]
    fn the_servers_own_answers_pass_untouched() {
        let ours = [
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 2\r\ndate: Mon, 07 Dec 2026 22:21:01 GMT\r\n\r\n{}".to_string(),
            // The same status without the exact headers hyper sends.
            format!("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: {DATE}\r\n\r\n"),
            format!("HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\ndate: {DATE}\r\n\r\n"),
            format!("HTTP/2.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: {DATE}\r\n\r\n"),
            String::new(),
            " GMT\r\n\r\n".to_string(),
        ];
        for text in &ours {
            assert!(automatic_answer(text.as_bytes()).is_none(), "{text}");
        }
    }
}
