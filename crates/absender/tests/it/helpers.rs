//! `spawn_app()` and the small steps tests are made of.

use absender::config::Config;
use absender::server::{self, Running};
use absender_service::{Clock, ManualClock, SystemClock};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub const ADMIN_KEY: &str = "abs_admin_test-operator-key";

/// A running server on its own data dir, with a clock the test can move.
pub struct TestApp {
    pub base: String,
    pub dns_addr: std::net::SocketAddr,
    pub smtp_addr: std::net::SocketAddr,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub config: Config,
    /// In relay mode: the sink where the address owner's mail arrives
    /// (verification links are read there, as only the mailbox sees them).
    pub mailbox: Option<crate::smtp_sink::SmtpSink>,
    running: Option<Running>,
    _dir: Option<tempfile::TempDir>,
}

/// A server on a fresh SQLite file.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    spawn_with(config, Some(dir)).await
}

/// A server with the given config; port 0, local resolvers and the test admin key are forced.
pub async fn spawn_with(config: Config, dir: Option<tempfile::TempDir>) -> TestApp {
    // Nothing leaves the machine: only absender's own DNS server is asked.
    spawn_with_resolvers(config, dir, absender_service::settings::Resolvers::Local).await
}

/// Like `spawn_with`, with these resolvers (which must be loopback peers).
pub async fn spawn_with_resolvers(
    mut config: Config,
    dir: Option<tempfile::TempDir>,
    resolvers: absender_service::settings::Resolvers,
) -> TestApp {
    config.dns.resolvers = resolvers;
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.dns.listen = "127.0.0.1:0".parse().unwrap();
    config.smtp.listen = "127.0.0.1:0".parse().unwrap();
    config.admin_key = Some(ADMIN_KEY.to_string().into());
    let clock = Arc::new(ManualClock::at(SystemClock.now_ms()));
    let running = server::start(&config, clock.clone())
        .await
        .expect("server starts");
    TestApp {
        base: format!("http://{}", running.http_addr),
        dns_addr: running.dns_addr,
        smtp_addr: running.smtp_addr,
        http: reqwest::Client::new(),
        clock,
        config,
        mailbox: None,
        running: Some(running),
        _dir: dir,
    }
}

/// An organization created by the operator, with its key.
pub struct Org {
    pub id: String,
    pub key: String,
}

impl TestApp {
    pub fn app(&self) -> &absender_service::App {
        &self.running.as_ref().unwrap().app
    }

    /// Stops the server; the data dir lives on in what is returned.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        self.running.take().unwrap().stop().await.unwrap();
        self._dir.take()
    }

    /// Sends a request with `key` as bearer (if any) and a JSON body (if any).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// Like `call`, expecting `status`, returning the JSON body.
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        status: StatusCode,
    ) -> Value {
        let response = self.call(method.clone(), path, key, body).await;
        let got = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    pub async fn create_org(&self, name: &str, locale: &str) -> Org {
        let body = json!({"name": name, "contact_email": "team@example.test", "locale": locale});
        let created = self
            .json(
                Method::POST,
                "/api/v1/orgs",
                Some(ADMIN_KEY),
                Some(body),
                StatusCode::CREATED,
            )
            .await;
        Org {
            id: created["id"].as_str().unwrap().to_string(),
            key: created["api_key"].as_str().unwrap().to_string(),
        }
    }

    /// An organization with the custom-sender upgrade switched on.
    pub async fn upgraded_org(&self, name: &str, locale: &str) -> Org {
        let org = self.create_org(name, locale).await;
        let body = json!({"custom_sender_enabled": true});
        self.json(
            Method::PATCH,
            &format!("/api/v1/orgs/{}", org.id),
            Some(ADMIN_KEY),
            Some(body),
            StatusCode::OK,
        )
        .await;
        org
    }

    /// Requests an identity, expecting success; returns its JSON.
    pub async fn request_identity(&self, org: &Org, address: &str, scope: &str) -> Value {
        let body = json!({"address": address, "scope": scope});
        self.json(
            Method::POST,
            "/api/v1/identities",
            Some(&org.key),
            Some(body),
            StatusCode::CREATED,
        )
        .await
    }

    /// The newest verification link mailed to `address`: from the mailbox
    /// (relay mode), else from the outbox, which only the operator may read.
    pub async fn verification_link(&self, address: &str) -> String {
        let link = match &self.mailbox {
            Some(sink) => self.link_in_mailbox(sink, address).await,
            None => self.link_in_outbox(address).await,
        };
        link.strip_prefix(&self.base)
            .expect("link on the public URL")
            .to_string()
    }

    async fn link_in_mailbox(&self, sink: &crate::smtp_sink::SmtpSink, address: &str) -> String {
        for _ in 0..400 {
            let newest = sink
                .system_received()
                .into_iter()
                .rev()
                .filter(|m| m.to.iter().any(|t| t == address))
                .filter_map(|m| verify_link_in(&absender_mail::inspect::summarize(&m.data).text?))
                // A sink may serve several servers in one test.
                .find(|link| link.starts_with(&self.base));
            if let Some(link) = newest {
                return link;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no verification mail to {address} reached the mailbox");
    }

    /// Every mail in the outbox, as the operator sees it (newest first).
    pub async fn operator_outbox(&self) -> Vec<Value> {
        let list = self
            .json(
                Method::GET,
                "/api/v1/outbox",
                Some(ADMIN_KEY),
                None,
                StatusCode::OK,
            )
            .await;
        list["items"].as_array().unwrap().clone()
    }

    async fn link_in_outbox(&self, address: &str) -> String {
        let list = self.operator_outbox().await;
        let message = list
            .iter()
            .find(|m| m["to"].as_array().unwrap().iter().any(|t| t == address))
            .unwrap_or_else(|| panic!("no mail to {address} in {list:?}"));
        let id = message["id"].as_str().unwrap();
        let full = self
            .json(
                Method::GET,
                &format!("/api/v1/outbox/{id}"),
                Some(ADMIN_KEY),
                None,
                StatusCode::OK,
            )
            .await;
        verify_link_in(full["text"].as_str().unwrap()).expect("a link in the mail")
    }

    /// A new SES access key of `org`: (access key id, secret access key).
    pub async fn access_key(&self, org: &Org) -> (String, String) {
        let created = self
            .json(
                Method::POST,
                "/api/v1/access-keys",
                Some(&org.key),
                None,
                StatusCode::CREATED,
            )
            .await;
        let field = |name: &str| created[name].as_str().unwrap().to_string();
        (field("access_key_id"), field("secret_access_key"))
    }

    /// Where SMTP with TLS from the first byte listens (`smtp.listen_tls`).
    pub fn smtp_tls_addr(&self) -> Option<std::net::SocketAddr> {
        self.running.as_ref().unwrap().smtp_tls_addr
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

/// The first `/verify/` link in a mail's text.
pub fn verify_link_in(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| w.contains("/verify/"))
        .map(str::to_string)
}

/// The error code of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

impl TestApp {
    /// Declares `zone` as a local zone (ignores "exists").
    pub async fn zone(&self, zone: &str) {
        self.call(
            Method::POST,
            "/api/v1/dns/zones",
            Some(ADMIN_KEY),
            Some(json!({"name": zone})),
        )
        .await;
    }

    /// Adds a record to a local zone; returns its id.
    pub async fn record(&self, zone: &str, name: &str, rtype: &str, value: &str) -> String {
        let body = json!({"name": name, "type": rtype, "value": value, "ttl": 60});
        let path = format!("/api/v1/dns/zones/{zone}/records");
        let created = self
            .json(
                Method::POST,
                &path,
                Some(ADMIN_KEY),
                Some(body),
                StatusCode::CREATED,
            )
            .await;
        created["id"].as_str().unwrap().to_string()
    }

    /// Publishes the identity's required records in the local zone of its
    /// domain, as the customer would; returns the record ids.
    pub async fn publish(&self, org: &Org, identity: &Value) -> Vec<String> {
        self.publish_replacing(org, identity, |_, _| None).await
    }

    /// Like `publish`, with the value `replace(name, type)` gives where it gives one.
    pub async fn publish_replacing<'a>(
        &self,
        org: &Org,
        identity: &Value,
        replace: impl Fn(&str, &str) -> Option<&'a str>,
    ) -> Vec<String> {
        let domain = identity["domain"].as_str().unwrap();
        self.zone(domain).await;
        let id = identity["id"].as_str().unwrap();
        let records = self
            .json(
                Method::GET,
                &format!("/api/v1/identities/{id}/dns-records"),
                Some(&org.key),
                None,
                StatusCode::OK,
            )
            .await;
        let mut ids = Vec::new();
        for r in records["records"].as_array().unwrap() {
            let (name, rtype) = (r["name"].as_str().unwrap(), r["type"].as_str().unwrap());
            let value = replace(name, rtype).unwrap_or_else(|| r["value"].as_str().unwrap());
            ids.push(self.record(domain, name, rtype, value).await);
        }
        ids
    }

    /// The owner confirms the newest verification link for `address`.
    pub async fn confirm(&self, address: &str) {
        let link = self.verification_link(address).await;
        assert_eq!(
            self.call(Method::POST, &link, None, None).await.status(),
            StatusCode::OK
        );
    }

    /// `POST /check`: checks now, answers with the identity.
    pub async fn check(&self, org: &Org, id: &str) -> Value {
        self.json(
            Method::POST,
            &format!("/api/v1/identities/{id}/check"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await
    }

    /// `GET /api/v1/messages/{id}` as the organization.
    pub async fn message(&self, org: &Org, id: &str) -> Value {
        let path = format!("/api/v1/messages/{id}");
        self.json(Method::GET, &path, Some(&org.key), None, StatusCode::OK)
            .await
    }

    pub async fn identity(&self, org: &Org, id: &str) -> Value {
        self.json(
            Method::GET,
            &format!("/api/v1/identities/{id}"),
            Some(&org.key),
            None,
            StatusCode::OK,
        )
        .await
    }

    /// Polls the caller's outbox until a mail with `subject` is there, for
    /// at most five seconds: the scheduler mails after it stores the status.
    pub async fn wait_outbox(&self, key: &str, subject: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let outbox = self
                .json(
                    Method::GET,
                    "/api/v1/outbox",
                    Some(key),
                    None,
                    StatusCode::OK,
                )
                .await;
            let found = outbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["subject"] == subject)
                .cloned();
            if let Some(mail) = found {
                return mail;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no mail {subject:?} in the outbox: {outbox}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls the identity until `pred` holds, for at most `timeout`.
    pub async fn wait_for(
        &self,
        org: &Org,
        id: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let identity = self.identity(org, id).await;
            if pred(&identity) {
                return identity;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "condition not met within {timeout:?}: {identity}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The diagnostic codes of a part.
pub fn codes(identity: &Value, part: &str) -> Vec<String> {
    identity["parts"][part]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

impl TestApp {
    /// A resolver that asks only this server's DNS, without a cache.
    pub fn resolver(&self) -> hickory_resolver::TokioResolver {
        use hickory_resolver::config::{
            ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
        };
        let mut connection = ConnectionConfig::udp();
        connection.port = self.dns_addr.port();
        let mut options = ResolverOpts::default();
        options.cache_size = 0;
        options.recursion_desired = false;
        let server = NameServerConfig::new(self.dns_addr.ip(), true, vec![connection]);
        hickory_resolver::Resolver::builder_with_config(
            ResolverConfig::from_name_servers(vec![server]),
            hickory_resolver::net::runtime::TokioRuntimeProvider::default(),
        )
        .with_options(options)
        .build()
        .unwrap()
    }

    /// (d=, verdict) of each DKIM signature, from an independent verifier
    /// (mail-auth) that looks keys up only through this server's DNS.
    pub async fn dkim_verdicts(&self, raw: &[u8]) -> Vec<(String, mail_auth::DkimResult)> {
        use mail_auth::common::verify::VerifySignature;
        let message = mail_auth::AuthenticatedMessage::parse(raw).unwrap();
        let outputs = mail_auth::MessageAuthenticator(self.resolver())
            .verify_dkim(mail_auth::Parameters::new(&message))
            .await;
        outputs
            .iter()
            .map(|o| {
                (
                    o.signature().unwrap().domain().to_string(),
                    o.result().clone(),
                )
            })
            .collect()
    }

    /// A verified identity: first check done, address confirmed, records
    /// published in a local zone, checked SUCCESS. Returns its id.
    pub async fn verified_identity(&self, org: &Org, address: &str, scope: &str) -> String {
        let identity = self.request_identity(org, address, scope).await;
        let id = identity["id"].as_str().unwrap().to_string();
        self.wait_for(org, &id, Duration::from_secs(10), |i| {
            i["parts"]["dkim"]["last_checked_at"].is_string()
        })
        .await;
        self.confirm(address).await;
        self.publish(org, &identity).await;
        assert_eq!(self.check(org, &id).await["status"], "SUCCESS");
        id
    }
}

/// Speaks SMTP line by line: sends each command and checks the reply code
/// (multi-line replies are read whole). Returns everything the server said.
pub async fn smtp_dialogue(addr: std::net::SocketAddr, steps: &[(String, &str)]) -> Vec<String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let smtp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = smtp.into_split();
    let mut lines = tokio::io::BufReader::new(read).lines();
    let mut said = Vec::new();
    let expect = async |lines: &mut tokio::io::Lines<_>, said: &mut Vec<String>| loop {
        let line: String = lines.next_line().await.unwrap().unwrap();
        said.push(line.clone());
        if line.as_bytes().get(3) == Some(&b' ') {
            return line;
        }
    };
    expect(&mut lines, &mut said).await;
    for (command, code) in steps {
        write
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        let answer = expect(&mut lines, &mut said).await;
        assert!(
            answer.starts_with(code),
            "{command:?} got {answer}: {said:?}"
        );
    }
    said
}
