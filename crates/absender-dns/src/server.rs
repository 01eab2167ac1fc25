//! The DNS listener: UDP and TCP on one port, each question answered by the
//! [`Authority`]: UDP on threads of its own ([`crate::udp`]), TCP through
//! hickory's server. Malformed packets are dropped by hickory's decoder
//! before they reach us; a failing store turns into SERVFAIL, never a crash.

use crate::rrl::{RateLimiter, Verdict};
use crate::udp::UdpThreads;
use crate::{Authority, Lookup};
use absender_core::dns::DnsName;
use hickory_proto::op::{Edns, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::rdata::HINFO;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use hickory_server::Server;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a TCP connection may stay idle; short, so idle clients cannot pile up.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Response buffer per TCP connection (hickory's parameter).
const TCP_RESPONSE_BUFFER: usize = 32;
/// The largest UDP answer (see [`response_edns`]).
const MAX_UDP_PAYLOAD: u16 = 1232;
/// Tries to find a port free on both UDP and TCP when port 0 is asked for.
const BIND_ATTEMPTS: usize = 20;

pub(crate) struct Handler {
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
    /// TCP, through hickory's server.
    server: Server<TcpHandler>,
    udp: UdpThreads,
    handler: Arc<Handler>,
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
        let handler = Arc::new(Handler {
            authority,
            rrl: (rrl.limit > 0).then(|| RateLimiter::new(rrl.limit)),
            rrl_exempts_loopback: rrl.exempt_loopback,
        });
        let udp = UdpThreads::start(udp, handler.clone(), tokio::runtime::Handle::current())?;
        let mut server = Server::new(TcpHandler(handler.clone()));
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        tracing::info!(dns = %addr, "DNS server listening (UDP and TCP)");
        Ok(Self {
            addr,
            server,
            udp,
            handler,
        })
    }

    /// The address both listeners are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Questions the store had to answer so far (see [`Authority::store_reads`]).
    pub fn store_reads(&self) -> u64 {
        self.handler.authority.store_reads()
    }

    /// Stops the listeners.
    pub async fn stop(mut self) {
        self.udp.stop().await;
        if let Err(e) = self.server.shutdown_gracefully().await {
            tracing::warn!(error = %e, "DNS server shut down with an error");
        }
    }
}

async fn bind_pair(listen: SocketAddr) -> std::io::Result<(TcpListener, std::net::UdpSocket)> {
    let mut last_error = None;
    for _ in 0..BIND_ATTEMPTS {
        let tcp = TcpListener::bind(listen).await?;
        let mut udp_addr = listen;
        udp_addr.set_port(tcp.local_addr()?.port());
        match std::net::UdpSocket::bind(udp_addr) {
            Ok(udp) => return Ok((tcp, udp)),
            // With port 0 the UDP side of the port TCP got may be taken: try another.
            Err(e) if listen.port() == 0 => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free port")))
}

/// What the authority said, before rate limiting and encoding.
// Lives on the stack for one query; boxing the answer would allocate per query.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Outcome {
    Answer(Lookup),
    /// Not a plain query (an update, a notify, …).
    NotImplemented,
    /// The question could not be read, or the store failed.
    ServFail,
}

/// A response ready to encode: header, answers and authority section (the SOA).
struct Response {
    metadata: Metadata,
    answers: Vec<Record>,
    soa: Vec<Record>,
}

impl Handler {
    /// The outcome, asking the store where memory is not enough.
    async fn outcome(&self, request: &Request) -> Outcome {
        match question(request) {
            Question::Lookup(qname, qtype) => match self.authority.lookup(&qname, qtype).await {
                Ok(lookup) => Outcome::Answer(lookup),
                Err(e) => {
                    tracing::error!(error = %e, "DNS lookup failed in the store");
                    Outcome::ServFail
                }
            },
            Question::Other(outcome) => outcome,
        }
    }

    /// The outcome if it is known without a database read, `None` otherwise.
    pub(crate) fn outcome_now(&self, request: &Request) -> Option<Outcome> {
        match question(request) {
            Question::Lookup(qname, qtype) => self
                .authority
                .lookup_in_memory(&qname, qtype)
                .map(Outcome::Answer),
            Question::Other(outcome) => Some(outcome),
        }
    }

    /// The response to `request`, or `None` when rate limiting drops it.
    fn response(&self, request: &Request, outcome: Outcome) -> Option<Response> {
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let asked_any = request
            .request_info()
            .is_ok_and(|info| info.query.query_type() == RecordType::ANY);
        // The name responses are counted by in rate limiting: the question for
        // answers, the zone for names that do not exist (a flood of random
        // names would otherwise never repeat), nothing for errors.
        let mut counted_name = None;
        let (answers, soa) = match outcome {
            // RFC 8482: ANY is answered minimally, with one synthesized
            // HINFO, so it cannot be used to amplify.
            Outcome::Answer(Lookup::Records(records)) if asked_any && !records.is_empty() => {
                let owner = records[0].name.clone();
                let hinfo = HINFO::new("RFC8482".into(), String::new());
                (
                    vec![Record::from_rdata(owner, 3600, RData::HINFO(hinfo))],
                    Vec::new(),
                )
            }
            Outcome::Answer(Lookup::Records(records)) => (records, Vec::new()),
            Outcome::Answer(Lookup::NoData(soa)) => (Vec::new(), vec![soa]),
            Outcome::Answer(Lookup::NxDomain(soa)) => {
                metadata.response_code = ResponseCode::NXDomain;
                counted_name = Some(soa.name.clone());
                (Vec::new(), vec![soa])
            }
            Outcome::Answer(Lookup::Refused) => {
                metadata.response_code = ResponseCode::Refused;
                metadata.authoritative = false;
                (Vec::new(), Vec::new())
            }
            Outcome::NotImplemented => {
                metadata.response_code = ResponseCode::NotImp;
                (Vec::new(), Vec::new())
            }
            Outcome::ServFail => {
                metadata.response_code = ResponseCode::ServFail;
                metadata.authoritative = false;
                (Vec::new(), Vec::new())
            }
        };
        let verdict = match request.request_info() {
            Ok(info) if request.protocol().is_datagram() => {
                let name = match metadata.response_code {
                    ResponseCode::NoError => Some(&**info.query.name()),
                    ResponseCode::NXDomain => counted_name.as_ref(),
                    _ => None,
                };
                self.limit(
                    request.src().ip(),
                    name,
                    info.query.query_type(),
                    metadata.response_code,
                )
            }
            _ => Verdict::Send,
        };
        match verdict {
            Verdict::Send => Some(Response {
                metadata,
                answers,
                soa,
            }),
            Verdict::Truncate => {
                metadata.truncation = true;
                Some(Response {
                    metadata,
                    answers: Vec::new(),
                    soa: Vec::new(),
                })
            }
            Verdict::Drop => None,
        }
    }

    /// What rate limiting does with a UDP response to `client` (off: send).
    fn limit(
        &self,
        client: IpAddr,
        name: Option<&Name>,
        qtype: RecordType,
        code: ResponseCode,
    ) -> Verdict {
        match &self.rrl {
            // absender's own checker asks from loopback: never limited.
            Some(rrl) if !(self.rrl_exempts_loopback && client.is_loopback()) => {
                rrl.check(client, name, qtype, code, std::time::Instant::now())
            }
            _ => Verdict::Send,
        }
    }

    /// The answer to a UDP query as bytes, at most as long as the client
    /// accepts (512 without EDNS; the rest is cut with the TC bit).
    pub(crate) fn encode_udp(&self, request: &Request, outcome: Outcome) -> Option<Vec<u8>> {
        let response = self.response(request, outcome)?;
        let edns = response_edns(request);
        let mut bytes = Vec::with_capacity(512);
        let mut encoder = BinEncoder::new(&mut bytes);
        encoder.set_max_size(edns.as_ref().map_or(512, Edns::max_payload));
        let message = MessageResponseBuilder::new(&request.queries, edns.as_ref()).build(
            response.metadata,
            response.answers.iter(),
            [].iter(),
            response.soa.iter(),
            [].iter(),
        );
        match message.destructive_emit(&mut encoder) {
            Ok(_) => Some(bytes),
            Err(error) => {
                tracing::warn!(%error, "DNS response could not be encoded");
                header_bytes(bare_header(&request.metadata, ResponseCode::ServFail))
            }
        }
    }

    /// A bare FORMERR to a UDP query whose body could not be read, unless
    /// rate limiting drops it (it counts with the client's other errors).
    pub(crate) fn format_error(&self, query: &Header, src: SocketAddr) -> Option<Vec<u8>> {
        let mut header = bare_header(&query.metadata, ResponseCode::FormErr);
        match self.limit(src.ip(), None, RecordType::NULL, ResponseCode::FormErr) {
            Verdict::Send => {}
            Verdict::Truncate => header.metadata.truncation = true,
            Verdict::Drop => return None,
        }
        header_bytes(header)
    }

    /// Answers a UDP query that memory could not answer, asking the store.
    pub(crate) async fn answer_udp_later(&self, request: &Request) -> Option<Vec<u8>> {
        let outcome = self.outcome(request).await;
        self.encode_udp(request, outcome)
    }
}

/// The EDNS of the response: present when the query had one, with the
/// payload both sides take, at most 1,232 bytes (DNS flag day 2020: no
/// fragments, which spoofing and amplification need).
fn response_edns(request: &Request) -> Option<Edns> {
    request.edns.as_ref().map(|req| {
        let mut edns = Edns::new();
        edns.set_max_payload(req.max_payload().clamp(512, MAX_UDP_PAYLOAD));
        edns
    })
}

/// A response to `query` of nothing but a header with `code`.
fn bare_header(query: &Metadata, code: ResponseCode) -> Header {
    let mut metadata = Metadata::new(query.id, MessageType::Response, query.op_code);
    metadata.response_code = code;
    Header {
        metadata,
        counts: HeaderCounts::default(),
    }
}

fn header_bytes(header: Header) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(12);
    header.emit(&mut BinEncoder::new(&mut bytes)).ok()?;
    Some(bytes)
}

/// What the request asks.
#[allow(clippy::large_enum_variant)]
enum Question {
    Lookup(DnsName, RecordType),
    /// Answered without a lookup.
    Other(Outcome),
}

fn question(request: &Request) -> Question {
    match (
        request.metadata.message_type,
        request.metadata.op_code,
        request.request_info(),
    ) {
        (MessageType::Query, OpCode::Query, Ok(info)) => {
            match DnsName::parse(&info.query.name().to_string()) {
                Ok(qname) => Question::Lookup(qname, info.query.query_type()),
                Err(_) => Question::Other(Outcome::Answer(Lookup::Refused)),
            }
        }
        (MessageType::Query, OpCode::Query, Err(_)) => Question::Other(Outcome::ServFail),
        _ => Question::Other(Outcome::NotImplemented),
    }
}

/// TCP queries, through hickory's server (UDP ones are answered in [`crate::udp`]).
struct TcpHandler(Arc<Handler>);

#[async_trait::async_trait]
impl RequestHandler for TcpHandler {
    async fn handle_request<R: ResponseHandler, T: hickory_server::net::runtime::Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let outcome = self.0.outcome(request).await;
        let Some(response) = self.0.response(request, outcome) else {
            return dropped(request);
        };
        let edns = response_edns(request);
        let message = MessageResponseBuilder::new(&request.queries, edns.as_ref()).build(
            response.metadata,
            response.answers.iter(),
            [].iter(),
            response.soa.iter(),
            [].iter(),
        );
        match response_handle.send_response(message).await {
            Ok(info) => info,
            Err(error) => {
                tracing::debug!(%error, "DNS response not sent");
                ResponseInfo::from(bare_header(&request.metadata, ResponseCode::ServFail))
            }
        }
    }
}

/// What a dropped response reports to hickory (nothing is sent).
fn dropped(request: &Request) -> ResponseInfo {
    ResponseInfo::from(bare_header(&request.metadata, ResponseCode::Refused))
}
