//! Serving the router over HTTP/1.1 with deadlines, so that a slow client
//! (slow-loris: headers or a body a byte at a time) holds a connection for a
//! bounded time only, and a graceful stop.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long a client may take, and how many may be connected at once.
#[derive(Debug, Clone, Copy)]
pub struct HttpTimeouts {
    /// Connections at once; one more is closed at once (its client retries).
    pub max_connections: usize,
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
    tokio::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
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
        let _ = stream.set_nodelay(true);
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.header_read)
            .serve_connection(
                TokioIo::new(stream),
                TowerToHyperService::new(router.clone()),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "HTTP connection ended with an error");
            }
            drop(place);
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
