//! UDP queries, answered on threads of their own: each blocks on the
//! socket, answers what memory knows (keys, zones, the names that do not
//! exist) in place and hands only store reads to the async runtime. A
//! per-packet task and channel hop, as a general server does it, costs more
//! than the answer itself; this is how NSD serves from its worker processes.

use crate::server::Handler;
use hickory_proto::op::{Header, MessageType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use hickory_server::net::xfer::Protocol;
use hickory_server::server::Request;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How often a blocked thread looks whether the server stops.
const STOP_POLL: Duration = Duration::from_millis(100);
/// How long a send may wait for room in the socket's buffer.
const SEND_TIMEOUT: Duration = Duration::from_millis(100);
/// Room for one query: larger datagrams are not queries anyone sends.
const MAX_QUERY: usize = 4096;
/// Threads at most, whatever the machine has.
const MAX_THREADS: usize = 8;
/// Questions waiting for the store at once; beyond, queries are dropped
/// (the client asks again), so a flood of names only the store can answer
/// takes a bounded share of the database, whatever its rate.
const MAX_STORE_LOOKUPS: usize = 64;
/// How long a stop waits for store lookups under way.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// The threads answering one UDP socket.
pub(crate) struct UdpThreads {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    store_lookups: Arc<Semaphore>,
}

/// What every thread shares.
struct Shared {
    socket: UdpSocket,
    handler: Arc<Handler>,
    runtime: tokio::runtime::Handle,
    stop: Arc<AtomicBool>,
    store_lookups: Arc<Semaphore>,
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
        socket.set_write_timeout(Some(SEND_TIMEOUT))?;
        let stop = Arc::new(AtomicBool::new(false));
        let store_lookups = Arc::new(Semaphore::new(MAX_STORE_LOOKUPS));
        let shared = Arc::new(Shared {
            socket,
            handler,
            runtime,
            stop: stop.clone(),
            store_lookups: store_lookups.clone(),
        });
        let count = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_THREADS);
        // Built before any thread starts' failure is returned, so that a
        // failed start (dropping `Self`) stops the threads already running.
        let mut this = Self {
            stop,
            threads: Vec::with_capacity(count),
            store_lookups,
        };
        for n in 0..count {
            let shared = shared.clone();
            this.threads.push(
                std::thread::Builder::new()
                    .name(format!("dns-udp-{n}"))
                    .spawn(move || serve(&shared))?,
            );
        }
        Ok(this)
    }

    /// Stops the threads, waits for them (at most one poll interval) and
    /// for the store lookups under way (at most two seconds).
    pub(crate) async fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        let threads = std::mem::take(&mut self.threads);
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
        let all = u32::try_from(MAX_STORE_LOOKUPS).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(STOP_GRACE, self.store_lookups.acquire_many(all)).await;
    }
}

impl Drop for UdpThreads {
    /// A server dropped without a stop still lets go of its port.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn serve(shared: &Arc<Shared>) {
    let mut buffer = [0u8; MAX_QUERY];
    while !shared.stop.load(Ordering::Acquire) {
        let (len, src) = match shared.socket.recv_from(&mut buffer) {
            Ok(received) => received,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => {
                tracing::debug!(error = %e, "DNS UDP receive failed");
                continue;
            }
        };
        if !can_answer(src) {
            continue;
        }
        // A bug in answering one packet must not silence the server.
        let answered = std::panic::catch_unwind(AssertUnwindSafe(|| {
            answer(shared, &buffer[..len], src);
        }));
        if answered.is_err() {
            tracing::error!(%src, "answering a DNS query panicked");
        }
    }
}

fn answer(shared: &Arc<Shared>, packet: &[u8], src: SocketAddr) {
    let request = match Request::from_bytes(packet.to_vec(), src, Protocol::Udp) {
        Ok(request) => request,
        // A query whose header reads but whose body does not: FORMERR, as
        // RFC 1035 says; anything else (responses among it) gets nothing.
        Err(_) => {
            if let Ok(header) = Header::read(&mut BinDecoder::new(packet))
                && header.metadata.message_type == MessageType::Query
                && let Some(answer) = shared.handler.format_error(&header, src)
            {
                send(&shared.socket, &answer, src);
            }
            return;
        }
    };
    if request.metadata.message_type != MessageType::Query {
        return;
    }
    if let Some(outcome) = shared.handler.outcome_now(&request) {
        if let Some(answer) = shared.handler.encode_udp(&request, outcome) {
            send(&shared.socket, &answer, src);
        }
        return;
    }
    let Ok(permit) = shared.store_lookups.clone().try_acquire_owned() else {
        tracing::debug!(%src, "DNS query dropped: too many store lookups under way");
        return;
    };
    let task = shared.clone();
    shared.runtime.spawn(async move {
        let _permit = permit;
        if let Some(answer) = task.handler.answer_udp_later(&request).await {
            // A UDP send does not wait for the peer, and at most SEND_TIMEOUT
            // for room in the buffer: fine on a runtime thread.
            send(&task.socket, &answer, src);
        }
    });
}

/// Port 0 and unspecified or broadcast sources cannot be answered (forged).
fn can_answer(src: SocketAddr) -> bool {
    let ip = match src.ip() {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(src.ip(), Into::into),
        v4 => v4,
    };
    src.port() != 0
        && !ip.is_unspecified()
        && !matches!(ip, std::net::IpAddr::V4(v4) if v4.is_broadcast())
}

fn send(socket: &UdpSocket, answer: &[u8], to: SocketAddr) {
    if let Err(e) = socket.send_to(answer, to) {
        tracing::debug!(error = %e, "DNS UDP answer not sent");
    }
}
