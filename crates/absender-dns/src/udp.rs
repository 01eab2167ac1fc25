//! UDP queries, answered on threads of their own: each blocks on the
//! socket, answers what memory knows (keys, zones, the names that do not
//! exist) in place and hands only store reads to the async runtime. A
//! per-packet task and channel hop, as a general server does it, costs more
//! than the answer itself; this is how NSD serves from its worker processes.

use crate::server::Handler;
use hickory_proto::op::MessageType;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::Request;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a blocked thread looks whether the server stops.
const STOP_POLL: Duration = Duration::from_millis(100);
/// Room for one query: larger datagrams are not queries anyone sends.
const MAX_QUERY: usize = 4096;
/// Threads at most, whatever the machine has.
const MAX_THREADS: usize = 8;

/// The threads answering one UDP socket.
pub(crate) struct UdpThreads {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl UdpThreads {
    /// Serves `socket` with one thread per core; lookups that need the
    /// store run on `runtime`.
    pub(crate) fn start(
        socket: UdpSocket,
        handler: Arc<Handler>,
        runtime: tokio::runtime::Handle,
    ) -> std::io::Result<Self> {
        socket.set_nonblocking(false)?;
        socket.set_read_timeout(Some(STOP_POLL))?;
        let socket = Arc::new(socket);
        let stop = Arc::new(AtomicBool::new(false));
        let count = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_THREADS);
        let threads = (0..count)
            .map(|n| {
                let (socket, handler, runtime, stop) = (
                    socket.clone(),
                    handler.clone(),
                    runtime.clone(),
                    stop.clone(),
                );
                std::thread::Builder::new()
                    .name(format!("dns-udp-{n}"))
                    .spawn(move || serve(&socket, &handler, &runtime, &stop))
            })
            .collect::<std::io::Result<_>>()?;
        Ok(Self { stop, threads })
    }

    /// Stops the threads and waits for them (at most one poll interval).
    pub(crate) async fn stop(self) {
        self.stop.store(true, Ordering::Release);
        let threads = self.threads;
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
    }
}

fn serve(
    socket: &Arc<UdpSocket>,
    handler: &Arc<Handler>,
    runtime: &tokio::runtime::Handle,
    stop: &AtomicBool,
) {
    let mut buffer = [0u8; MAX_QUERY];
    while !stop.load(Ordering::Acquire) {
        let (len, src) = match socket.recv_from(&mut buffer) {
            Ok(received) => received,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => {
                // ICMP errors of earlier sends surface here (connection refused and such).
                tracing::debug!(error = %e, "DNS UDP receive failed");
                continue;
            }
        };
        if !can_answer(src) {
            continue;
        }
        // Malformed packets, responses among them, get no answer.
        let Ok(request) = Request::from_bytes(buffer[..len].to_vec(), src, Protocol::Udp) else {
            continue;
        };
        if request.metadata.message_type != MessageType::Query {
            continue;
        }
        match handler.outcome_now(&request) {
            Some(outcome) => {
                if let Some(answer) = handler.encode_udp(&request, outcome) {
                    send(socket, &answer, src);
                }
            }
            None => {
                let (socket, handler) = (socket.clone(), handler.clone());
                runtime.spawn(async move {
                    if let Some(answer) = handler.answer_udp_later(&request).await {
                        // A UDP send does not wait for the peer: fine on a runtime thread.
                        send(&socket, &answer, src);
                    }
                });
            }
        }
    }
}

/// Port 0 and unspecified or broadcast sources cannot be answered (forged).
fn can_answer(src: SocketAddr) -> bool {
    src.port() != 0
        && !src.ip().is_unspecified()
        && !matches!(src, SocketAddr::V4(v4) if v4.ip().is_broadcast())
}

fn send(socket: &UdpSocket, answer: &[u8], to: SocketAddr) {
    if let Err(e) = socket.send_to(answer, to) {
        tracing::debug!(error = %e, "DNS UDP answer not sent");
    }
}
