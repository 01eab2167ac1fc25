//! The DNS listener: UDP and TCP on one port, each question answered by the
//! [`Authority`]. Malformed packets are dropped by hickory's decoder before
//! they reach us; a failing store turns into SERVFAIL, never a crash.

use crate::{Authority, Lookup};
use absender_core::dns::DnsName;
use hickory_proto::op::{Edns, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::Record;
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
}

/// A running DNS server.
pub struct DnsServer {
    addr: SocketAddr,
    server: Server<Handler>,
}

impl DnsServer {
    /// Binds TCP and UDP on `listen` (port 0: one free port for both) and serves.
    pub async fn start(listen: SocketAddr, authority: Authority) -> std::io::Result<Self> {
        let (tcp, udp) = bind_pair(listen).await?;
        let addr = tcp.local_addr()?;
        let mut server = Server::new(Handler { authority });
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

        let (answers, soa): (Vec<Record>, Vec<Record>) = match outcome {
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
