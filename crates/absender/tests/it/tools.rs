//! Programs and servers from outside the workspace that some tests use.
//! `dev/test.sh` (the README's test command) installs them; a plain
//! `cargo test` on a machine without one reports the test as skipped on
//! stderr and returns, except in CI (`CI=true`), where a missing tool fails
//! the test: a green CI run has run every test. The store's tests include
//! this file too.
#![allow(dead_code)] // each test crate uses a part

use std::io::Write;
use std::net::ToSocketAddrs;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The default database the tests create their own databases in.
const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Says why `test` cannot run: a failure in CI, a skip on stderr elsewhere.
pub fn unavailable(test: &str, reason: &str) {
    let fix = "dev/test.sh installs what the tests use (see README, Development)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test} cannot run in CI: {reason}; {fix}");
    }
    // Straight to stderr: the test harness keeps `eprintln!` of passing tests to itself.
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}; {fix}");
}

/// A program on PATH (or at `$env_var`), or `None` after [`unavailable`].
pub fn program(test: &str, name: &str, env_var: Option<&str>, package: &str) -> Option<String> {
    let program = env_var
        .and_then(|v| std::env::var(v).ok())
        .unwrap_or_else(|| name.to_string());
    if found(&program) {
        return Some(program);
    }
    unavailable(
        test,
        &format!("`{program}` not found (Debian package {package})"),
    );
    None
}

/// A Python that has dkimpy and dnspython (`ABSENDER_TEST_PYTHON`, else python3).
/// A Python with boto3 and its botocore (`ABSENDER_TEST_PYTHON`, else `python3`).
pub fn python_with_boto3(test: &str) -> Option<String> {
    let python = std::env::var("ABSENDER_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    if runs(Command::new(&python).args(["-c", "import boto3"])) {
        return Some(python);
    }
    unavailable(
        test,
        &format!("`{python}` cannot import boto3 (pip install boto3==1.44.8 botocore==1.44.8)"),
    );
    None
}

pub fn python_with_dkimpy(test: &str) -> Option<String> {
    let python = std::env::var("ABSENDER_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    if runs(Command::new(&python).args(["-c", "import dkim, dns, nacl"])) {
        return Some(python);
    }
    unavailable(
        test,
        &format!(
            "`{python}` cannot import dkim, dns and nacl (pip install dkimpy dnspython pynacl)"
        ),
    );
    None
}

/// Python (`ABSENDER_TEST_PYTHON`, else `python3`) with the Standard
/// Webhooks reference package, for a receiver that verifies signatures.
pub fn python_with_standardwebhooks(test: &str) -> Option<String> {
    let python = std::env::var("ABSENDER_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    if runs(Command::new(&python).args(["-c", "import standardwebhooks"])) {
        return Some(python);
    }
    unavailable(
        test,
        &format!("`{python}` cannot import standardwebhooks (pip install standardwebhooks)"),
    );
    None
}

/// A Python that can check SNS signatures (the `cryptography` package).
pub fn python_with_cryptography(test: &str) -> Option<String> {
    let python = std::env::var("ABSENDER_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    if runs(Command::new(&python).args(["-c", "import cryptography.x509"])) {
        return Some(python);
    }
    unavailable(
        test,
        &format!("`{python}` cannot import cryptography (pip install cryptography)"),
    );
    None
}

/// The aws CLI (`ABSENDER_TEST_AWS`, else `aws`), a real SES client.
pub fn aws_cli(test: &str) -> Option<String> {
    let aws = std::env::var("ABSENDER_TEST_AWS").unwrap_or_else(|_| "aws".into());
    if runs(Command::new(&aws).arg("--version")) {
        return Some(aws);
    }
    unavailable(test, &format!("`{aws}` does not run (pip install awscli)"));
    None
}

/// The PostgreSQL URL to create test databases under (`ABSENDER_TEST_POSTGRES_URL`,
/// else the local server), when a server answers there.
pub fn postgres_url(test: &str) -> Option<String> {
    let url = std::env::var("ABSENDER_TEST_POSTGRES_URL").unwrap_or_else(|_| POSTGRES_URL.into());
    let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    };
    let reachable = host_port.to_socket_addrs().ok().is_some_and(|mut addrs| {
        addrs.any(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
    });
    if reachable {
        return Some(url);
    }
    unavailable(
        test,
        &format!("no PostgreSQL server at {url} (set ABSENDER_TEST_POSTGRES_URL)"),
    );
    None
}

/// A test's own PostgreSQL database, dropped when this is dropped: after
/// the test, and also when it panics (a failed test leaves nothing behind).
pub struct ScratchDatabase {
    admin_url: String,
    pub name: String,
}

impl ScratchDatabase {
    /// A new empty database on the server at `admin_url`.
    pub async fn create(admin_url: &str, prefix: &str) -> Self {
        use sqlx::Connection;
        let name = format!("{prefix}_{:016x}", rand::random::<u64>());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("PostgreSQL reachable");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        Self {
            admin_url: admin_url.to_string(),
            name,
        }
    }

    /// The URL of this database: `admin_url` with its database name replaced.
    pub fn url(&self) -> String {
        let (base, query) = self
            .admin_url
            .split_once('?')
            .map_or((self.admin_url.as_str(), None), |(b, q)| (b, Some(q)));
        let authority_end = base.find("://").map_or(0, |i| i + 3);
        let base = match base[authority_end..].find('/') {
            Some(slash) => &base[..authority_end + slash],
            None => base,
        };
        match query {
            Some(q) => format!("{base}/{}?{q}", self.name),
            None => format!("{base}/{}", self.name),
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        use sqlx::Connection;
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: the database goes on a thread
        // with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            // Straight to stderr: the harness keeps a passing test's output.
            let _ = writeln!(
                std::io::stderr(),
                "the test database {} was not dropped",
                self.name
            );
        }
    }
}

/// Whether `program` is a file (a path) or on PATH (a name).
fn found(program: &str) -> bool {
    if program.contains('/') {
        return std::path::Path::new(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn runs(command: &mut Command) -> bool {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
