//! The DNS listener: UDP and TCP on one port, each question answered by the
//! [`Authority`]. Malformed packets are dropped by hickory's decoder before
//! they reach us; a failing store turns into SERVFAIL, never a crash.

use crate::rrl::{RateLimiter, Verdict};
use crate::{Authority, Lookup};
use absender_core::dns::DnsName;
use hickory_proto::op::{Edns, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::rdata::HINFO;
use hickory_proto::rr::{RData, Record, RecordType};
use hickory_server::Server;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};

/// How long a TCP connection may stay idle; short, so idle clients cannot pile up.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Response buffer per TCP connection (hickory's parameter).
const TCP_RESPONSE_BUFFER: usize = 32;
/// Tries to find a port free on both UDP and TCP when port 0 is asked for.
const BIND_ATTEMPTS: usize = 20;

struct Handler {
    authority: Authority,
    /// Off when the limit is 0.
    rrl: Option<RateLimiter>,
    /// Loopback clients (absender's own checker) are never limited.
    rrl_exempts_loopback: bool,
}

/// Response rate limiting: identical UDP responses a second per client
/// network (0: off), and whether loopback clients are exempt.
#[derive(Debug, Clone, Copy)]
pub struct Rrl {
    pub limit: u32,
    pub exempt_loopback: bool,
}

/// A running DNS server.
pub struct DnsServer {
    addr: SocketAddr,
    server: Server<Handler>,
}

impl DnsServer {
    /// Binds TCP and UDP on `listen` (port 0: one free port for both) and
    /// serves, with response rate limiting as `rrl` says.
    pub async fn start(
        listen: SocketAddr,
        authority: Authority,
        rrl: Rrl,
    ) -> std::io::Result<Self> {
        let (tcp, udp) = bind_pair(listen).await?;
        let addr = tcp.local_addr()?;
        let mut server = Server::new(Handler {
            authority,
            rrl: (rrl.limit > 0).then(|| RateLimiter::new(rrl.limit)),
            rrl_exempts_loopback: rrl.exempt_loopback,
        });
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        tracing::info!(dns = %addr, "DNS server listening (UDP and TCP)");
        Ok(Self { addr, server })
    }

    /// The address both listeners are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the listeners.
    pub async fn stop(mut self) {
        if let Err(e) = self.server.shutdown_gracefully().await {
            tracing::warn!(error = %e, "DNS server shut down with an error");
        }
    }
}

async fn bind_pair(listen: SocketAddr) -> std::io::Result<(TcpListener, UdpSocket)> {
    let mut last_error = None;
    for _ in 0..BIND_ATTEMPTS {
        let tcp = TcpListener::bind(listen).await?;
        let mut udp_addr = listen;
        udp_addr.set_port(tcp.local_addr()?.port());
        match UdpSocket::bind(udp_addr).await {
            Ok(udp) => return Ok((tcp, udp)),
            // With port 0 the UDP side of the port TCP got may be taken: try another.
            Err(e) if listen.port() == 0 => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free port")))
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: hickory_server::net::runtime::Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let response_edns = request.edns.as_ref().map(|req| {
            let mut edns = Edns::new();
            edns.set_max_payload(req.max_payload().max(512));
            edns
        });
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;

        let outcome = match (
            request.metadata.message_type,
            request.metadata.op_code,
            request.request_info(),
        ) {
            (MessageType::Query, OpCode::Query, Ok(info)) => {
                let qname = info.query.name().to_string();
                match DnsName::parse(&qname) {
                    Ok(qname) => self
                        .authority
                        .lookup(&qname, info.query.query_type())
                        .await
                        .map_err(|e| {
                            tracing::error!(error = %e, "DNS lookup failed in the store");
                        }),
                    Err(_) => Ok(Lookup::Refused),
                }
            }
            (MessageType::Query, OpCode::Query, Err(_)) => Err(()),
            _ => {
                metadata.response_code = ResponseCode::NotImp;
                Ok(Lookup::Records(Vec::new()))
            }
        };

        let asked_any = request
            .request_info()
            .is_ok_and(|info| info.query.query_type() == RecordType::ANY);
        let (answers, soa): (Vec<Record>, Vec<Record>) = match outcome {
            // RFC 8482: ANY is answered minimally, with one synthesized
            // HINFO, so it cannot be used to amplify.
            Ok(Lookup::Records(records)) if asked_any && !records.is_empty() => {
                let owner = records[0].name.clone();
                let hinfo = HINFO::new("RFC8482".into(), String::new());
                (
                    vec![Record::from_rdata(owner, 3600, RData::HINFO(hinfo))],
                    Vec::new(),
                )
            }
            Ok(Lookup::Records(records)) => (records, Vec::new()),
            Ok(Lookup::NoData(soa)) => (Vec::new(), vec![soa]),
            Ok(Lookup::NxDomain(soa)) => {
                metadata.response_code = ResponseCode::NXDomain;
                (Vec::new(), vec![soa])
            }
            Ok(Lookup::Refused) => {
                metadata.response_code = ResponseCode::Refused;
                metadata.authoritative = false;
                (Vec::new(), Vec::new())
            }
            Err(()) => {
                metadata.response_code = ResponseCode::ServFail;
                metadata.authoritative = false;
                (Vec::new(), Vec::new())
            }
        };
        let verdict = match (&self.rrl, request.request_info()) {
            // absender's own checker asks from loopback: never limited.
            (Some(rrl), Ok(info))
                if request.protocol().is_datagram()
                    && !(self.rrl_exempts_loopback && request.src().ip().is_loopback()) =>
            {
                rrl.check(
                    request.src().ip(),
                    &info.query.name().to_string(),
                    info.query.query_type(),
                    metadata.response_code,
                    std::time::Instant::now(),
                )
            }
            _ => Verdict::Send,
        };
        let (answers, soa) = match verdict {
            Verdict::Send => (answers, soa),
            Verdict::Truncate => {
                metadata.truncation = true;
                (Vec::new(), Vec::new())
            }
            Verdict::Drop => return dropped(request),
        };
        let builder = MessageResponseBuilder::new(&request.queries, response_edns.as_ref());
        let response = builder.build(metadata, answers.iter(), [].iter(), soa.iter(), [].iter());
        match response_handle.send_response(response).await {
            Ok(info) => info,
            Err(error) => {
                tracing::debug!(%error, "DNS response not sent");
                let mut metadata = Metadata::new(
                    request.metadata.id,
                    MessageType::Response,
                    request.metadata.op_code,
                );
                metadata.response_code = ResponseCode::ServFail;
                ResponseInfo::from(Header {
                    metadata,
                    counts: HeaderCounts::default(),
                })
            }
        }
    }
}

/// What a dropped response reports to hickory (nothing is sent).
fn dropped(request: &Request) -> ResponseInfo {
    let mut metadata = Metadata::new(
        request.metadata.id,
        MessageType::Response,
        request.metadata.op_code,
    );
    metadata.response_code = ResponseCode::Refused;
    ResponseInfo::from(Header {
        metadata,
        counts: HeaderCounts::default(),
    })
}
