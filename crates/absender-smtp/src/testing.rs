//! An SMTP session without a network, for tests and fuzzing (feature
//! `testing`): an [`App`] on a fresh SQLite file and a session on one end of
//! an in-memory pipe.

use crate::{SmtpLimits, SmtpSettings, serve_stream};
use absender_service::App;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::DuplexStream;

/// A return path of the right shape (no such delivery exists).
pub const RETURN_PATH: &str = "bounces+msg_abc.0.aaaaaaaaaaaaaaaa@bounce.absender.test";

pub struct Harness {
    pub app: App,
    pub settings: Arc<SmtpSettings>,
    _dir: tempfile::TempDir,
}

pub async fn harness(limits: SmtpLimits) -> Harness {
    let dir = tempfile::tempdir().expect("test harness");
    let app = absender_service::testing::app(dir.path(), "no admin".into()).await;
    let settings = Arc::new(SmtpSettings {
        hostname: "absender.test".into(),
        tls: crate::self_signed("localhost").expect("test harness"),
        trusted_clients: Vec::new(),
        limits,
    });
    Harness {
        app,
        settings,
        _dir: dir,
    }
}

impl Harness {
    /// Starts a session on one end of a pipe; the other end is the client's.
    pub fn connect(&self) -> DuplexStream {
        let (client, server) = tokio::io::duplex(1 << 20);
        let peer: SocketAddr = "192.0.2.10:40000".parse().expect("test harness");
        tokio::spawn(serve_stream(
            server,
            peer,
            self.settings.clone(),
            self.app.clone(),
        ));
        client
    }
}
