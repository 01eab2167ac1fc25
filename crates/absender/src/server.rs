//! Start-up in order: data dir, database and migrations, keys, the app state,
//! then the listeners; and a handle to stop it all.

use crate::config::Config;
use absender_core::dns::DnsName;
use absender_core::records::include_domain_policy;
use absender_dns::{Authority, DnsClient, DnsServer, PlatformZones, Upstream};
use absender_service::settings::Resolvers;
use absender_service::{App, Clock, MasterKey};
use absender_smtp::{SmtpLimits, SmtpServer, SmtpSettings};
use absender_store::Store;
use anyhow::Context;
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const MASTER_KEY_FILE: &str = "master.key";
/// How often the scheduler looks for due checks when nothing wakes it.
const SCHEDULER_TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// A started server.
pub struct Running {
    /// Where the HTTP listener is bound.
    pub http_addr: SocketAddr,
    /// Where the DNS server is bound (UDP and TCP).
    pub dns_addr: SocketAddr,
    /// Where SMTP submission listens.
    pub smtp_addr: SocketAddr,
    /// Where SMTP submission with TLS from the first byte listens, if asked.
    pub smtp_tls_addr: Option<SocketAddr>,
    /// The base of links in mails.
    pub public_url: String,
    /// The operator key, when this start generated it (shown once).
    pub new_admin_key: Option<String>,
    /// The application state, for in-process callers.
    pub app: App,
    dns: DnsServer,
    smtp: SmtpServer,
    smtp_tls: Option<SmtpServer>,
    stop_checks: oneshot::Sender<()>,
    scheduler: JoinHandle<()>,
    stop_delivery: oneshot::Sender<()>,
    delivery: JoinHandle<()>,
    stop_retention: oneshot::Sender<()>,
    retention: JoinHandle<()>,
    webhooks: JoinHandle<()>,
    stop_heartbeat: oneshot::Sender<()>,
    heartbeat: JoinHandle<Result<(), absender_service::cluster::DeclaredDead>>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    /// DNS questions that reached the store so far (benchmarks report it).
    pub fn dns_store_reads(&self) -> u64 {
        self.dns.store_reads()
    }

    /// Stops accepting, finishes requests in flight, closes the database.
    pub async fn stop(self) -> anyhow::Result<()> {
        // Checks end first, also those a request is waiting for.
        self.app.begin_stop();
        // All at once: the whole stop takes about as long as its slowest part.
        let _ = self.shutdown.send(());
        let _ = self.stop_checks.send(());
        let _ = self.stop_delivery.send(());
        let _ = self.stop_retention.send(());
        let smtp_tls = async {
            if let Some(smtp) = self.smtp_tls {
                smtp.stop().await;
            }
        };
        // The webhook dispatcher ends with the app's stop signal.
        let (http, (), (), checks, delivery, retention, webhooks) = tokio::join!(
            self.task,
            self.smtp.stop(),
            smtp_tls,
            self.scheduler,
            self.delivery,
            self.retention,
            self.webhooks
        );
        // The heartbeat goes on while the rest drains, so that a slow stop
        // is not taken for a death (its work freed under it).
        let _ = self.stop_heartbeat.send(());
        let heartbeat = self.heartbeat.await;
        http?;
        checks?;
        delivery?;
        retention?;
        webhooks?;
        self.dns.stop().await;
        // What is still held goes to the other nodes at once.
        if let Err(e) = self.app.cluster().leave().await {
            tracing::warn!(error = %e, "could not mark this node stopped; its leases run out");
        }
        self.app.store().close().await;
        heartbeat??;
        Ok(())
    }

    /// Serves until Ctrl-C or SIGTERM, then stops gracefully; or until
    /// another node declares this one dead, then stops and fails (so that a
    /// supervisor starts it afresh).
    pub async fn serve_until_signal(self) -> anyhow::Result<()> {
        let app = self.app.clone();
        let cluster = app.cluster();
        tokio::select! {
            () = shutdown_signal() => tracing::info!("shutting down"),
            () = cluster.declared_dead() => tracing::error!("declared dead by another node: stopping"),
        }
        self.stop().await
    }
}

/// Opens the database, prepares keys and binds the listeners.
pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    // Before anything is bound or opened.
    config.cluster.check()?;
    private_dir(&config.data_dir)?;
    if let Some(db) = config.sqlite_path() {
        // SQLite gives its -wal and -shm files the database file's mode.
        private_file(&db)?;
    }
    let store = Store::connect(&config.database_url())
        .await
        .context("opening the database")?;
    let master_key = master_key(config)?;
    let configured_admin = config
        .admin_key
        .as_ref()
        .map(|k| k.expose_secret().to_string());
    let (admin_key_hash, new_admin_key) =
        App::admin_key_hash(&store, configured_admin.as_deref()).await?;

    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("binding HTTP to {}", config.http.listen))?;
    let http_addr = listener.local_addr()?;
    let public_url = config.public_url_for(http_addr);
    let zones = platform_zones(config)?;
    let dns = DnsServer::start(
        config.dns.listen,
        Authority::new(store.clone(), zones.clone(), config.dns.answer_cache_ttl),
        absender_dns::Rrl {
            limit: config.dns.rrl,
            exempt_loopback: true,
        },
    )
    .await
    .with_context(|| format!("binding DNS to {}", config.dns.listen))?;
    let dns_addr = dns.local_addr();
    let upstream = match &config.dns.resolvers {
        Resolvers::System => Upstream::System,
        Resolvers::Explicit(servers) => Upstream::Explicit(servers.clone()),
        Resolvers::Local => Upstream::Explicit(vec![dns_addr]),
    };
    let dns_client = DnsClient::new(
        dns_addr,
        &upstream,
        store.clone(),
        zones,
        config.dns.query_timeout,
    )
    .context("setting up the DNS client")?;
    let app = App::new(
        store,
        config.settings(),
        &public_url,
        master_key,
        admin_key_hash,
        clock,
        dns_client,
    )?;
    app.zones()
        .ensure_platform_key()
        .await
        .context("preparing the platform's DKIM key")?;
    let upgraded = app
        .identities()
        .upgrade_stored_findings()
        .await
        .context("upgrading stored check findings")?;
    if upgraded > 0 {
        tracing::info!(
            rows = upgraded,
            "stored check findings rewritten as codes and parameters"
        );
    }
    let (stop_checks, checks_stopped) = oneshot::channel::<()>();
    let scheduler = {
        let app = app.clone();
        tokio::spawn(async move {
            app.checks()
                .run_scheduler(SCHEDULER_TICK, async {
                    let _ = checks_stopped.await;
                })
                .await
        })
    };

    if app.store().backend() == absender_store::Backend::Sqlite {
        // One node per SQLite file: leases left behind are from this node's last run.
        let freed = app.store().release_delivery_leases().await?;
        let events = app.store().release_webhook_leases().await?;
        if freed + events > 0 {
            tracing::info!(
                deliveries = freed,
                webhook_deliveries = events,
                "taking up deliveries a previous run left in flight"
            );
        }
    }
    let (stop_retention, retention_stopped) = oneshot::channel::<()>();
    let retention = {
        let app = app.clone();
        tokio::spawn(async move {
            app.run_retention(async {
                let _ = retention_stopped.await;
            })
            .await
        })
    };
    let (stop_delivery, delivery_stopped) = oneshot::channel::<()>();
    let delivery = {
        let app = app.clone();
        tokio::spawn(async move {
            app.delivery()
                .run_delivery(async {
                    let _ = delivery_stopped.await;
                })
                .await
        })
    };

    let webhooks = {
        let app = app.clone();
        tokio::spawn(async move { app.webhooks().run_dispatcher().await })
    };

    let submission = smtp_settings(config)?;
    let smtp = SmtpServer::start(config.smtp.listen, submission.clone(), app.clone())
        .await
        .with_context(|| format!("binding SMTP to {}", config.smtp.listen))?;
    let smtp_addr = smtp.local_addr();
    let smtp_tls = match config.smtp.listen_tls {
        Some(listen) => Some(
            SmtpServer::start_implicit_tls(listen, submission, app.clone())
                .await
                .with_context(|| format!("binding SMTP with TLS to {listen}"))?,
        ),
        None => None,
    };
    let smtp_tls_addr = smtp_tls.as_ref().map(SmtpServer::local_addr);

    let router = absender_http::router(app.clone());
    let (shutdown, stopped) = oneshot::channel::<()>();
    anyhow::ensure!(
        config.http.write_timeout >= std::time::Duration::from_secs(1),
        "http.write_timeout must be at least 1s"
    );
    let timeouts = absender_http::HttpTimeouts {
        max_connections: config.http.max_connections,
        max_connections_per_ip: config.http.max_connections_per_ip,
        write: config.http.write_timeout,
        header_read: config.http.header_read_timeout,
        body: config.http.body_timeout,
    };
    let task = tokio::spawn(absender_http::serve(listener, router, timeouts, async {
        let _ = stopped.await;
    }));
    app.cluster()
        .register(&absender_service::cluster::Listeners {
            http: http_addr.to_string(),
            smtp: smtp_addr.to_string(),
            smtp_tls: smtp_tls_addr.map(|a| a.to_string()),
            dns: dns_addr.to_string(),
        })
        .await
        .context("registering this node")?;
    let (stop_heartbeat, heartbeat_stopped) = oneshot::channel::<()>();
    let heartbeat = {
        let app = app.clone();
        tokio::spawn(async move {
            app.cluster()
                .run_heartbeat(async {
                    let _ = heartbeat_stopped.await;
                })
                .await
        })
    };
    tracing::info!(node = %app.cluster().node_id(), http = %http_addr, dns = %dns_addr, smtp = %smtp_addr, public_url = %public_url, backend = ?app.store().backend(), "absender listening");
    Ok(Running {
        http_addr,
        dns_addr,
        dns,
        smtp_addr,
        smtp,
        smtp_tls_addr,
        smtp_tls,
        stop_checks,
        scheduler,
        stop_delivery,
        delivery,
        stop_retention,
        retention,
        webhooks,
        stop_heartbeat,
        heartbeat,
        public_url,
        new_admin_key,
        app,
        shutdown,
        task,
    })
}

/// The SMTP listener's name, certificate and trusted clients.
fn smtp_settings(config: &Config) -> anyhow::Result<SmtpSettings> {
    let hostname = config
        .smtp
        .hostname
        .clone()
        .unwrap_or_else(|| config.platform.domain.clone());
    let tls = match (&config.smtp.tls_cert, &config.smtp.tls_key) {
        (Some(cert), Some(key)) => absender_smtp::load_pem(cert, key)?,
        (None, None) => absender_smtp::self_signed(&hostname)?,
        _ => anyhow::bail!("smtp.tls_cert and smtp.tls_key go together"),
    };
    let smtp = &config.smtp;
    anyhow::ensure!(
        smtp.max_sessions >= 1 && smtp.max_sessions_per_ip >= 1,
        "smtp.max_sessions and smtp.max_sessions_per_ip must be at least 1"
    );
    anyhow::ensure!(
        smtp.idle_timeout >= std::time::Duration::from_secs(1)
            && smtp.session_timeout >= smtp.idle_timeout,
        "smtp.idle_timeout must be at least 1s, and smtp.session_timeout at least smtp.idle_timeout"
    );
    Ok(SmtpSettings {
        hostname,
        tls,
        trusted_clients: config.smtp.trusted_clients.clone(),
        limits: SmtpLimits {
            max_sessions: config.smtp.max_sessions,
            max_sessions_per_ip: config.smtp.max_sessions_per_ip,
            session_timeout: config.smtp.session_timeout,
            idle_timeout: config.smtp.idle_timeout,
            ..SmtpLimits::default()
        },
    })
}

/// The platform's zones that the DNS server answers.
fn platform_zones(config: &Config) -> anyhow::Result<PlatformZones> {
    let name = |key: &str, value: &str| {
        DnsName::parse(value).with_context(|| format!("{key} = {value:?}"))
    };
    Ok(PlatformZones {
        dkim_zone: name("platform.dkim_zone", &config.platform.dkim_zone)?,
        spf_domain: name("platform.spf_domain", &config.platform.spf_domain)?,
        spf_policy: include_domain_policy(&config.platform.sending_ips),
        nameserver: name("dns.nameserver", &config.dns.nameserver)?,
        hostmaster: name("dns.hostmaster", &config.dns.hostmaster)?,
    })
}

/// The configured master key, or the one in the data dir, made on first start.
fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(text) = &config.master_key {
        return MasterKey::parse(text.expose_secret()).context("ABSENDER_MASTER_KEY");
    }
    let path = config.data_dir.join(MASTER_KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return MasterKey::parse(&text).with_context(|| format!("in {}", path.display()));
    }
    let key = MasterKey::generate();
    write_private(&path, &key.to_base64())?;
    tracing::warn!(
        path = %path.display(),
        "no master key configured: generated one in the data dir. Back it up, or set ABSENDER_MASTER_KEY; \
         without it the DKIM private keys cannot be decrypted, and every node must share it"
    );
    Ok(key)
}

/// Creates the data dir (or keeps it) for the owner alone: 0700.
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating data dir {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private", dir.display()))?;
    }
    Ok(())
}

/// Creates `path` empty if it is missing, and makes it the owner's alone: 0600.
fn private_file(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        options
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} private", path.display()))?;
    }
    #[cfg(not(unix))]
    options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

/// Writes a secret readable by the owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
