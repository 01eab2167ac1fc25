//! Serving the router over HTTP/1.1 with deadlines, so that a slow client
//! (slow-loris: headers or a body a byte at a time, or a response read a
//! byte at a time) holds a connection for a bounded time only, with limits
//! on connections at once (in all and per client), and a graceful stop.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// How long a client may take, and how many may be connected at once.
#[derive(Debug, Clone, Copy)]
pub struct HttpTimeouts {
    /// Connections at once; one more is closed at once (its client retries).
    pub max_connections: usize,
    /// Connections at once from one client (an IPv4 address or an IPv6
    /// /64); 0: no limit (behind a proxy every client is the proxy).
    pub max_connections_per_ip: usize,
    /// How long a response may wait for the client to take more of it.
    pub write: Duration,
    /// To send a request's line and headers (hyper closes the connection then).
    pub header_read: Duration,
    /// To send a request's body, from when its headers arrived (plus a
    /// second per 64 KiB announced, so large uploads over slow links fit).
    pub body: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_connections_per_ip: 1_000,
            write: Duration::from_secs(60),
            header_read: Duration::from_secs(30),
            body: Duration::from_secs(60),
        }
    }
}

/// Serves `router` on `listener` until `stop`; then requests in flight get
/// up to 5 s to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: HttpTimeouts,
    stop: impl Future<Output = ()>,
) {
    let router = router.layer(axum::middleware::from_fn_with_state(
        timeouts.body,
        body_deadline,
    ));
    let graceful = GracefulShutdown::new();
    let places = Arc::new(Semaphore::new(timeouts.max_connections.max(1)));
    let per_client = Arc::new(PerClient {
        limit: timeouts.max_connections_per_ip,
        counts: Mutex::new(HashMap::new()),
    });
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Over the limit: closed before anything is read, so a crowd of idle
        // clients cannot take every file descriptor.
        let Ok(place) = places.clone().try_acquire_owned() else {
            tracing::debug!("HTTP connection refused: too many at once");
            drop(stream);
            continue;
        };
        let Some(client_place) = per_client.take(peer.ip()) else {
            tracing::debug!(client = %peer.ip(), "HTTP connection refused: too many from this client");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.header_read)
            .serve_connection(
                TokioIo::new(WriteDeadline {
                    inner: stream,
                    limit: timeouts.write,
                    stalled: None,
                }),
                TowerToHyperService::new(router.clone()),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "HTTP connection ended with an error");
            }
            drop((place, client_place));
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("HTTP requests were still running at stop");
    }
}

/// The body a client sent too slowly: extractors answer `408 request_timeout`.
#[derive(Debug)]
pub(crate) struct BodyTooSlow(pub Duration);

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} s",
            self.0.as_secs()
        )
    }
}

impl std::error::Error for BodyTooSlow {}

/// The slowest upload taken beyond the base deadline: a large body gets
/// more time, at 64 KiB a second.
const MIN_UPLOAD_BYTES_PER_SECOND: u64 = 64 * 1024;

async fn body_deadline(State(base): State<Duration>, request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        // More than any route takes is refused anyway; this bounds the wait.
        .min(64 << 20);
    let limit = base + Duration::from_secs(announced / MIN_UPLOAD_BYTES_PER_SECOND);
    let (parts, body) = request.into_parts();
    let body = Body::new(Deadline {
        inner: body,
        limit,
        sleep: Box::pin(tokio::time::sleep(limit)),
    });
    next.run(Request::from_parts(parts, body)).await
}

/// A body that fails once its time is up.
struct Deadline {
    inner: Body,
    limit: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTooSlow(self.limit))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Connections at once per client.
struct PerClient {
    limit: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// A client's place; given back when dropped.
struct ClientPlace {
    per_client: Arc<PerClient>,
    key: IpAddr,
}

impl PerClient {
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<ClientPlace> {
        let key = absender_core::net::limit_key(ip);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(key).or_default();
        if self.limit > 0 && *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientPlace {
            per_client: self.clone(),
            key,
        })
    }
}

impl Drop for ClientPlace {
    fn drop(&mut self) {
        let mut counts = self
            .per_client
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// A connection whose writes fail once the client has taken nothing for
/// `limit`: a client that stops reading a response cannot hold its
/// connection (and the response in memory) for ever.
struct WriteDeadline {
    inner: TcpStream,
    limit: Duration,
    /// Since when the client takes nothing.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl WriteDeadline {
    /// What a write that made no progress returns: pending, or an error
    /// once the stall has lasted `limit`.
    fn stall<T>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        let limit = self.limit;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client took no data for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Progress (or an error) ends a stall.
    fn progressed<T>(
        &mut self,
        result: Poll<std::io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<T>> {
        match result {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => self.stall(cx),
        }
    }
}

impl AsyncRead for WriteDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.progressed(result, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.progressed(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.progressed(result, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.progressed(result, cx)
    }
}
