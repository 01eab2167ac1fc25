//! One SMTP session: a small state machine over lines. Every refusal names
//! its reason in words a mail client shows its user.

use crate::SmtpSettings;
use crate::data::{DataReader, Fault};
use crate::gate::Gate;
use crate::refusal::SmtpReply;
use absender_service::Organization;
use absender_service::{App, ServiceError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_rustls::TlsAcceptor;

/// Longest command line (RFC 5321: 512; AUTH lines carry more).
const MAX_COMMAND: u64 = 4096;

enum Next<S> {
    Done,
    StartTls(S),
}

/// A read that did not get its bytes in time.
struct Late(&'static str);

struct Session {
    app: App,
    settings: Arc<SmtpSettings>,
    gate: Arc<Gate>,
    peer: SocketAddr,
    trusted: bool,
    tls: bool,
    greeted: bool,
    org: Option<Organization>,
    auth_failures: u32,
    /// Error replies so far.
    errors: u32,
    /// When the session ends whatever it is doing.
    deadline: Instant,
    mail_from: Option<String>,
    /// The organization of this transaction (the login's, or a trusted client's sender's).
    sender_org: Option<Organization>,
    recipients: Vec<String>,
    /// A transaction without login to a return path (a bounce report coming
    /// in) or to the unsubscribe address.
    inbound: bool,
}

impl Session {
    /// The TLS handshake on `socket`, then the session over it; what it came to.
    async fn over_tls<S>(&mut self, socket: S, greet: bool) -> &'static str
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let acceptor = TlsAcceptor::from(self.settings.tls.clone());
        let handshake = self.in_time(acceptor.accept(socket)).await;
        match handshake.unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into())) {
            Ok(stream) => {
                // RFC 3207: forget everything learned before TLS.
                self.tls = true;
                self.greeted = false;
                self.reset();
                match self.run(BufReader::new(stream), greet).await {
                    Ok(_) => "completed",
                    Err(_) => "error",
                }
            }
            Err(e) => {
                tracing::info!(peer = %self.peer, error = %e, "SMTP TLS handshake failed");
                "tls_failed"
            }
        }
    }

    fn new(peer: SocketAddr, settings: Arc<SmtpSettings>, app: App, gate: Arc<Gate>) -> Self {
        Session {
            trusted: settings.trusted_clients.contains(&peer.ip()),
            deadline: Instant::now() + settings.limits.session_timeout,
            app,
            settings,
            gate,
            peer,
            tls: false,
            greeted: false,
            org: None,
            auth_failures: 0,
            errors: 0,
            mail_from: None,
            sender_org: None,
            recipients: Vec::new(),
            inbound: false,
        }
    }
}

/// A session over TLS from the first byte (RFC 8314, port 465 style): the
/// handshake, then the greeting; STARTTLS is not offered, AUTH is.
pub(crate) async fn serve_implicit_tls<S>(
    socket: S,
    peer: SocketAddr,
    settings: Arc<SmtpSettings>,
    app: App,
    gate: Arc<Gate>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut session = Session::new(peer, settings, app, gate);
    let outcome = session.over_tls(socket, true).await;
    session.app.metrics().smtp_session(outcome);
}

pub(crate) async fn serve<S>(
    socket: S,
    peer: SocketAddr,
    settings: Arc<SmtpSettings>,
    app: App,
    gate: Arc<Gate>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut session = Session::new(peer, settings, app, gate);
    let outcome = match session.run(BufReader::new(socket), true).await {
        Ok(Next::StartTls(socket)) => session.over_tls(socket, false).await,
        Ok(Next::Done) => "completed",
        Err(_) => "error",
    };
    session.app.metrics().smtp_session(outcome);
}

fn reply(code: u16, enhanced: &str, text: &str) -> String {
    format!("{code} {enhanced} {text}\r\n")
}

/// The address inside `<…>` after `FROM:` or `TO:`, and what follows it.
fn path_and_params(arg: &str) -> Option<(String, String)> {
    let arg = arg.trim_start();
    let rest = arg.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some((
        rest[..end].trim().to_string(),
        rest[end + 1..].trim().to_string(),
    ))
}

impl Session {
    /// A refusal of the sending pipeline, counted by its enhanced code.
    fn refusal(&self, err: &ServiceError) -> String {
        let r = SmtpReply::from(err);
        self.app.metrics().refused(&format!("smtp_{}", r.enhanced));
        reply(r.code, r.enhanced, &r.text)
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.sender_org = None;
        self.recipients.clear();
        self.inbound = false;
    }

    async fn run<S>(&mut self, mut io: BufReader<S>, greet: bool) -> std::io::Result<Next<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if greet {
            let hello = format!("220 {} ESMTP absender\r\n", self.settings.hostname);
            io.get_mut().write_all(hello.as_bytes()).await?;
        }
        let mut line = Vec::with_capacity(512);
        loop {
            line.clear();
            let read = self
                .in_time((&mut io).take(MAX_COMMAND).read_until(b'\n', &mut line))
                .await;
            let n = match read {
                Ok(result) => result?,
                Err(Late(why)) => {
                    let bye = reply(421, "4.4.2", why);
                    io.get_mut().write_all(bye.as_bytes()).await?;
                    return Ok(Next::Done);
                }
            };
            if n == 0 {
                return Ok(Next::Done);
            }
            if !line.ends_with(b"\n") {
                let bye = reply(500, "5.5.2", "line too long");
                io.get_mut().write_all(bye.as_bytes()).await?;
                return Ok(Next::Done);
            }
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            let (verb, arg) = text.split_once(' ').unwrap_or((&text, ""));
            let answer = match verb.to_ascii_uppercase().as_str() {
                "EHLO" => self.ehlo(arg),
                "HELO" => {
                    self.greeted = true;
                    format!("250 {}\r\n", self.settings.hostname)
                }
                "STARTTLS" if self.tls => reply(503, "5.5.1", "TLS is already active"),
                "STARTTLS" => {
                    io.get_mut()
                        .write_all(reply(220, "2.0.0", "ready to start TLS").as_bytes())
                        .await?;
                    // Anything the client sent after STARTTLS unencrypted is dropped (RFC 3207).
                    return Ok(Next::StartTls(io.into_inner()));
                }
                "AUTH" => {
                    let answer = self.auth(arg, &mut io).await?;
                    if self.auth_failures >= self.settings.limits.max_auth_failures {
                        io.get_mut().write_all(answer.as_bytes()).await?;
                        let bye = reply(421, "4.7.0", "too many failed logins; closing");
                        io.get_mut().write_all(bye.as_bytes()).await?;
                        return Ok(Next::Done);
                    }
                    answer
                }
                "MAIL" => self.mail(arg).await,
                "RCPT" => self.rcpt(arg).await,
                "DATA" => match self.data(&mut io).await? {
                    Ok(answer) => answer,
                    Err(Late(why)) => {
                        let bye = reply(421, "4.4.2", why);
                        io.get_mut().write_all(bye.as_bytes()).await?;
                        return Ok(Next::Done);
                    }
                },
                "RSET" => {
                    self.reset();
                    reply(250, "2.0.0", "reset")
                }
                "NOOP" => reply(250, "2.0.0", "ok"),
                "VRFY" => reply(252, "2.5.0", "cannot verify, but will accept and try"),
                "QUIT" => {
                    io.get_mut()
                        .write_all(reply(221, "2.0.0", "bye").as_bytes())
                        .await?;
                    return Ok(Next::Done);
                }
                _ => reply(502, "5.5.2", "command not implemented"),
            };
            io.get_mut().write_all(answer.as_bytes()).await?;
            if answer.starts_with(BARE_NEWLINE_CODE) {
                // A smuggling attempt: nothing more from this client is trusted.
                return Ok(Next::Done);
            }
            if answer.starts_with(['4', '5']) {
                self.errors += 1;
                if self.errors >= self.settings.limits.max_errors {
                    let bye = reply(421, "4.7.0", "too many errors; closing the connection");
                    io.get_mut().write_all(bye.as_bytes()).await?;
                    return Ok(Next::Done);
                }
            }
        }
    }

    /// Runs `read` until the idle timeout or the session's end, whichever comes first.
    async fn in_time<T>(&self, read: impl std::future::Future<Output = T>) -> Result<T, Late> {
        let now = Instant::now();
        let left = self.deadline.saturating_duration_since(now);
        let idle = self.settings.limits.idle_timeout;
        let why = if left <= idle {
            "session time limit reached; closing the connection"
        } else {
            "idle too long; closing the connection"
        };
        tokio::time::timeout(left.min(idle), read)
            .await
            .map_err(|_| Late(why))
    }

    fn ehlo(&mut self, _client: &str) -> String {
        self.greeted = true;
        self.reset();
        let mut lines = vec![
            self.settings.hostname.clone(),
            "PIPELINING".into(),
            "8BITMIME".into(),
            "ENHANCEDSTATUSCODES".into(),
            format!("SIZE {}", self.app.sending().smtp_max_message_bytes()),
        ];
        if self.tls {
            lines.push("AUTH PLAIN LOGIN".into());
        } else {
            lines.push("STARTTLS".into());
        }
        let last = lines.len() - 1;
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("250{}{l}\r\n", if i == last { ' ' } else { '-' }))
            .collect()
    }

    async fn read_auth_line<S>(
        &mut self,
        io: &mut BufReader<S>,
        prompt: &str,
    ) -> std::io::Result<Option<String>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        io.get_mut()
            .write_all(format!("334 {prompt}\r\n").as_bytes())
            .await?;
        let mut line = Vec::new();
        let n = self
            .in_time((&mut *io).take(MAX_COMMAND).read_until(b'\n', &mut line))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if !line.ends_with(b"\n") {
            // Too long: the rest must not be read as commands.
            return Err(std::io::ErrorKind::InvalidData.into());
        }
        let text = String::from_utf8_lossy(&line).trim().to_string();
        Ok((text != "*").then_some(text))
    }

    async fn auth<S>(&mut self, arg: &str, io: &mut BufReader<S>) -> std::io::Result<String>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if !self.greeted {
            return Ok(reply(503, "5.5.1", "say EHLO first"));
        }
        if self.org.is_some() {
            return Ok(reply(503, "5.5.1", "already authenticated"));
        }
        if !self.tls {
            return Ok(reply(
                538,
                "5.7.11",
                "encryption required: use STARTTLS before AUTH",
            ));
        }
        let (mechanism, initial) = arg.split_once(' ').unwrap_or((arg, ""));
        let decode = |b64: &str| {
            STANDARD
                .decode(b64.trim())
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        let credentials = match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" => {
                let response = if initial.is_empty() {
                    match self.read_auth_line(io, "").await? {
                        Some(r) => r,
                        None => return Ok(reply(501, "5.0.0", "authentication cancelled")),
                    }
                } else {
                    initial.to_string()
                };
                decode(&response).and_then(|text| {
                    let mut parts = text.split('\0');
                    let (_authz, user, pass) = (parts.next()?, parts.next()?, parts.next()?);
                    Some((user.to_string(), pass.to_string()))
                })
            }
            "LOGIN" => {
                let user = if initial.is_empty() {
                    match self.read_auth_line(io, "VXNlcm5hbWU6").await? {
                        Some(u) => decode(&u),
                        None => return Ok(reply(501, "5.0.0", "authentication cancelled")),
                    }
                } else {
                    decode(initial)
                };
                let pass = match self.read_auth_line(io, "UGFzc3dvcmQ6").await? {
                    Some(p) => decode(&p),
                    None => return Ok(reply(501, "5.0.0", "authentication cancelled")),
                };
                user.zip(pass)
            }
            _ => return Ok(reply(504, "5.5.4", "use AUTH PLAIN or AUTH LOGIN")),
        };
        let Some((user, pass)) = credentials else {
            return Ok(reply(
                501,
                "5.5.2",
                "cannot decode the credentials (base64)",
            ));
        };
        // An address that failed often waits before any answer, a right one's too.
        let delay = self.gate.auth_delay(self.peer.ip(), Instant::now());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match self.app.access().authenticate_smtp(&user, &pass).await {
            Ok(Some(org)) => {
                tracing::info!(peer = %self.peer, org_id = %org.id(), "SMTP login");
                self.org = Some(org);
                Ok(reply(235, "2.7.0", "authentication successful"))
            }
            Ok(None) => {
                self.auth_failures += 1;
                self.gate.auth_failed(self.peer.ip(), Instant::now());
                tracing::info!(peer = %self.peer, "SMTP login failed");
                // Slows down guessing.
                tokio::time::sleep(Duration::from_millis(500)).await;
                Ok(reply(535, "5.7.8", "authentication credentials invalid"))
            }
            Err(e) => {
                tracing::error!(error = %e, "SMTP login check failed");
                Ok(reply(454, "4.7.0", "temporary authentication failure"))
            }
        }
    }

    async fn mail(&mut self, arg: &str) -> String {
        if !self.greeted {
            return reply(503, "5.5.1", "say EHLO first");
        }
        if self.mail_from.is_some() {
            return reply(503, "5.5.1", "nested MAIL command");
        }
        let Some(rest) = arg
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("FROM:"))
            .map(|_| &arg[5..])
        else {
            return reply(501, "5.5.4", "syntax: MAIL FROM:<address>");
        };
        let Some((address, params)) = path_and_params(rest) else {
            return reply(501, "5.5.4", "syntax: MAIL FROM:<address>");
        };
        let without_login = self.org.is_none() && !self.trusted;
        let max = self.max_message_bytes(without_login);
        for param in params.split_whitespace() {
            if let Some(size) = param.to_ascii_uppercase().strip_prefix("SIZE=")
                && size.parse::<usize>().is_ok_and(|s| s > max)
            {
                return reply(552, "5.3.4", "the message is larger than absender takes");
            }
        }
        if without_login {
            // Without login only bounce reports to a return path are taken (checked at RCPT).
            self.mail_from = Some(address);
            self.inbound = true;
            return reply(250, "2.1.0", "sender ok");
        }
        if address.is_empty() {
            return reply(550, "5.7.1", "submissions need a sender address, not <>");
        }
        let org = match &self.org {
            Some(org) => org.clone(),
            None if self.trusted => match self.app.sending().smtp_org_for_sender(&address).await {
                Ok(Some(org)) => org,
                Ok(None) => {
                    return reply(
                        550,
                        "5.7.1",
                        &format!(
                            "<{address}> is not a verified sender address of any organization"
                        ),
                    );
                }
                Err(e) => {
                    tracing::error!(error = %e, "SMTP sender lookup failed");
                    return reply(451, "4.3.0", "try again later");
                }
            },
            None => return reply(530, "5.7.0", "authentication required: STARTTLS, then AUTH"),
        };
        if let Err(r) = self.app.sending().smtp_check_sender(&org, &address).await {
            return self.refusal(&r);
        }
        self.mail_from = Some(address);
        self.sender_org = Some(org);
        reply(250, "2.1.0", "sender ok")
    }

    async fn rcpt(&mut self, arg: &str) -> String {
        let Some(rest) = arg
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("TO:"))
            .map(|_| &arg[3..])
        else {
            return reply(501, "5.5.4", "syntax: RCPT TO:<address>");
        };
        let Some((address, _)) = path_and_params(rest) else {
            return reply(501, "5.5.4", "syntax: RCPT TO:<address>");
        };
        if self.inbound {
            if !absender_service::sending::bounces::is_return_path(&address)
                && !self.app.suppressions().is_unsubscribe_address(&address)
                && !self.app.suppressions().is_feedback_address(&address)
            {
                return reply(530, "5.7.0", "authentication required: STARTTLS, then AUTH");
            }
            if self.recipients.len() >= self.settings.limits.inbound_max_recipients {
                return reply(
                    452,
                    "4.5.3",
                    "too many recipients for a session without login",
                );
            }
            self.recipients.push(address);
            return reply(250, "2.1.5", "recipient ok");
        }
        let Some(org) = self.sender_org.clone() else {
            return reply(503, "5.5.1", "MAIL first");
        };
        if self.recipients.len() >= self.app.sending().smtp_max_recipients() {
            return reply(
                452,
                "4.5.3",
                "too many recipients; send the rest in another message",
            );
        }
        match self
            .app
            .sending()
            .smtp_check_recipient(&org, &address)
            .await
        {
            Ok(normal) => {
                self.recipients.push(normal);
                reply(250, "2.1.5", "recipient ok")
            }
            Err(r) => self.refusal(&r),
        }
    }

    async fn bounce_report(&self, return_path: &str, data: &[u8]) -> String {
        // The same answer whether or not the report was applied: a sender
        // learns nothing about other deliveries from it.
        match self
            .app
            .suppressions()
            .receive_dsn(Some(return_path), data)
            .await
        {
            Ok(_) => reply(250, "2.0.0", "report received"),
            Err(e) => {
                tracing::error!(error = %e, "bounce report failed");
                reply(451, "4.3.0", "try again later")
            }
        }
    }

    /// A feedback report (ARF) at the feedback-loop address or a return path.
    async fn feedback_report(&self, arrived_at: &str, data: &[u8]) -> String {
        // As for bounce reports: one answer, applied or not.
        match self
            .app
            .suppressions()
            .receive_arf(Some(arrived_at), data)
            .await
        {
            Ok(_) => reply(250, "2.0.0", "report received"),
            Err(e) => {
                tracing::error!(error = %e, "feedback report failed");
                reply(451, "4.3.0", "try again later")
            }
        }
    }

    /// A mail to the List-Unsubscribe mailto address.
    async fn unsubscribe_request(&self, data: &[u8]) -> String {
        match self.app.suppressions().unsubscribe_by_mail(data).await {
            Ok(_) => reply(250, "2.0.0", "unsubscribed"),
            Err(ServiceError::NotFound(_)) => reply(
                550,
                "5.7.1",
                "no valid unsubscribe token in the subject (\"unsubscribe <token>\")",
            ),
            Err(e) => {
                tracing::error!(error = %e, "unsubscribe by mail failed");
                reply(451, "4.3.0", "try again later")
            }
        }
    }

    /// The largest message this session may send.
    fn max_message_bytes(&self, without_login: bool) -> usize {
        let max = self.app.sending().smtp_max_message_bytes();
        if without_login {
            max.min(self.settings.limits.inbound_max_bytes)
        } else {
            max
        }
    }

    async fn data<S>(&mut self, io: &mut BufReader<S>) -> std::io::Result<Result<String, Late>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        if self.mail_from.is_none() {
            return Ok(Ok(reply(503, "5.5.1", "MAIL first")));
        }
        if self.recipients.is_empty() {
            return Ok(Ok(reply(554, "5.5.1", "no valid recipients")));
        }
        io.get_mut()
            .write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
            .await?;
        let mut reader = DataReader::new(self.max_message_bytes(self.inbound));
        loop {
            let buffer = match self.in_time(io.fill_buf()).await {
                Ok(read) => read?,
                Err(late) => return Ok(Err(late)),
            };
            if buffer.is_empty() {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let (used, done) = reader.feed(buffer);
            io.consume(used);
            if done {
                break;
            }
        }
        let recipients = std::mem::take(&mut self.recipients);
        let (inbound, org, mail_from) =
            (self.inbound, self.sender_org.take(), self.mail_from.take());
        self.reset();
        let data = match reader.finish() {
            Ok(data) => data,
            Err(fault) => return Ok(Ok(self.refused_data(fault))),
        };
        if inbound {
            return Ok(Ok(self.inbound_mail(&recipients, &data).await));
        }
        let (Some(org), Some(_)) = (org, mail_from) else {
            return Ok(Ok(reply(503, "5.5.1", "MAIL first")));
        };
        Ok(Ok(
            match self
                .app
                .sending()
                .submit_smtp(&org, &recipients, data)
                .await
            {
                Ok(id) => reply(250, "2.0.0", &format!("ok: queued as {id}")),
                Err(r) => self.refusal(&r),
            },
        ))
    }

    fn refused_data(&self, fault: Fault) -> String {
        self.app.metrics().refused(match fault {
            Fault::BareNewline => "smtp_bare_newline",
            Fault::LineTooLong => "smtp_line_too_long",
            Fault::TooLarge => "smtp_too_large",
        });
        match fault {
            Fault::BareNewline => {
                tracing::info!(peer = %self.peer, "SMTP message with a bare CR or LF refused; closing");
                reply(
                    554,
                    "5.6.11",
                    "bare <CR> or <LF> in the message: every line must end with <CR><LF>",
                )
            }
            Fault::LineTooLong => reply(
                554,
                "5.6.0",
                "a line of the message is longer than 998 octets (RFC 5322 2.1.1); encode the body (quoted-printable or base64)",
            ),
            Fault::TooLarge => reply(552, "5.3.4", "the message is larger than absender takes"),
        }
    }

    /// Mail without login: bounce reports to return paths and unsubscribe
    /// requests, each recipient handled on its own; one answer for all.
    async fn inbound_mail(&self, recipients: &[String], data: &[u8]) -> String {
        let mut answer = None;
        // Parsed once per message, not once per recipient.
        let feedback_report = absender_service::sending::complaints::is_feedback_report(data);
        let suppressions = self.app.suppressions();
        for recipient in recipients {
            let this = if suppressions.is_unsubscribe_address(recipient) {
                self.unsubscribe_request(data).await
            } else if suppressions.is_feedback_address(recipient) || feedback_report {
                self.feedback_report(recipient, data).await
            } else {
                self.bounce_report(recipient, data).await
            };
            // A temporary failure asks for the whole message again.
            if this.starts_with('4') || answer.is_none() {
                answer = Some(this);
            }
        }
        answer.unwrap_or_else(|| reply(554, "5.5.1", "no valid recipients"))
    }
}

/// The reply that refuses a smuggling attempt; the session ends after it.
const BARE_NEWLINE_CODE: &str = "554 5.6.11";
