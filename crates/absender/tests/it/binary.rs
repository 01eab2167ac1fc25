//! Black-box tests of the shipped binary: `serve`, the operator CLI and `demo`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_absender");

/// A `absender serve` process, killed (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    pub url: String,
    /// The SMTP listener's address.
    pub smtp: String,
    pub new_admin_key: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Its exit status, once it exits within `limit`.
    pub fn exit_within(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }

    /// Sends it a signal (`STOP`, `CONT`, …) with kill(1).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name} {pid}");
    }

    /// Stops it as a supervisor does (SIGTERM) and waits; its exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        self.child.wait().unwrap()
    }
}

fn command() -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("ABSENDER_") {
            command.env_remove(name);
        }
    }
    command
}

fn serve(data_dir: &std::path::Path) -> Server {
    serve_with(data_dir, &[], &[])
}

pub fn serve_with(data_dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    serve_logging(data_dir, args, env, Stdio::null())
}

/// Like [`serve_with`], with the server's log (stderr) going to `log`.
#[allow(clippy::zombie_processes)] // Server's Drop waits for it.
pub fn serve_logging(
    data_dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    log: Stdio,
) -> Server {
    let mut child = command()
        .arg("serve")
        .args(args)
        .env("ABSENDER_DATA_DIR", data_dir)
        .env("ABSENDER_HTTP_LISTEN", "127.0.0.1:0")
        .env("ABSENDER_DNS_LISTEN", "127.0.0.1:0")
        .env("ABSENDER_SMTP_LISTEN", "127.0.0.1:0")
        .env("ABSENDER_DNS_RESOLVERS", "local")
        .env("ABSENDER_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut new_admin_key = None;
    loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(key) = line.strip_prefix("admin key (shown once, store it now): ") {
            new_admin_key = Some(key.to_string());
        }
        if let Some(rest) = line.strip_prefix("absender listening http=") {
            let addr = rest.split_whitespace().next().unwrap();
            let smtp = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("smtp="))
                .unwrap()
                .to_string();
            return Server {
                child,
                url: format!("http://{addr}"),
                smtp,
                new_admin_key,
            };
        }
    }
}

pub fn cli(url: &str, key: Option<&str>, args: &[&str]) -> Output {
    let mut command = command();
    command.env("ABSENDER_URL", url).args(args);
    if let Some(key) = key {
        command.env("ABSENDER_KEY", key);
    }
    command.output().unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn serve_prints_a_new_admin_key_once_and_the_cli_drives_the_setup() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let admin = server
        .new_admin_key
        .clone()
        .expect("first start prints the admin key");
    let url = server.url.clone();

    let created = json(&cli(
        &url,
        Some(&admin),
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--contact",
            "team@acme.test",
            "--locale",
            "de",
            "--json",
        ],
    ));
    let org_id = created["id"].as_str().unwrap();
    let org_key = created["api_key"].as_str().unwrap();
    let enabled = json(&cli(
        &url,
        Some(&admin),
        &["org", "enable-custom-sender", org_id, "--json"],
    ));
    assert_eq!(enabled["custom_sender_enabled"], true);
    let list = json(&cli(&url, Some(&admin), &["org", "list", "--json"]));
    assert_eq!(list["items"][0]["id"], org_id);

    let identity = json(&cli(
        &url,
        Some(org_key),
        &["identity", "request", "events@acme.test", "--json"],
    ));
    let identity_id = identity["id"].as_str().unwrap();
    assert_eq!(identity["scope"], "recipients");
    let shown = json(&cli(
        &url,
        Some(&admin),
        &["identity", "show", identity_id, "--org", org_id, "--json"],
    ));
    assert_eq!(shown["address"], "events@acme.test");
    let csv = cli(
        &url,
        Some(org_key),
        &["identity", "records", identity_id, "--csv"],
    );
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        r#""Record name","Record type","Record Value""#
    );
    assert_eq!(csv.lines().count(), 7);

    // The verification mail holds the link: the operator sees it, the organization does not.
    let org_outbox = json(&cli(&url, Some(org_key), &["outbox", "list", "--json"]));
    assert_eq!(org_outbox["items"], serde_json::json!([]));
    let outbox = json(&cli(&url, Some(&admin), &["outbox", "list", "--json"]));
    let mail_id = outbox["items"][0]["id"].as_str().unwrap();
    let hidden = cli(&url, Some(org_key), &["outbox", "show", mail_id, "--raw"]);
    assert_eq!(hidden.status.code(), Some(1));
    let raw = cli(&url, Some(&admin), &["outbox", "show", mail_id, "--raw"]);
    assert!(
        String::from_utf8(raw.stdout)
            .unwrap()
            .contains("Message-ID:")
    );

    let login = json(&cli(
        &url,
        Some(org_key),
        &[
            "smtp-credentials",
            "create",
            "--description",
            "shop",
            "--json",
        ],
    ));
    assert!(login["username"].as_str().unwrap().starts_with("smtp_"));
    assert!(login["password"].as_str().unwrap().len() >= 40);
    let logins = cli(&url, Some(org_key), &["smtp-credentials", "list"]);
    let listed = String::from_utf8(logins.stdout).unwrap();
    assert!(listed.contains(login["username"].as_str().unwrap()) && listed.contains("shop"));
    assert!(!listed.contains(login["password"].as_str().unwrap()));
    let revoked = cli(
        &url,
        Some(org_key),
        &["smtp-credentials", "revoke", login["id"].as_str().unwrap()],
    );
    assert!(revoked.status.success());

    let key = json(&cli(
        &url,
        Some(org_key),
        &["access-key", "create", "--json"],
    ));
    let key_id = key["access_key_id"].as_str().unwrap();
    assert!(key_id.starts_with("AKIA") && key["secret_access_key"].as_str().unwrap().len() == 40);
    let keys = String::from_utf8(cli(&url, Some(org_key), &["access-key", "list"]).stdout).unwrap();
    assert!(keys.contains(key_id) && !keys.contains(key["secret_access_key"].as_str().unwrap()));
    assert!(
        cli(&url, Some(org_key), &["access-key", "revoke", key_id])
            .status
            .success()
    );

    let zone = json(&cli(
        &url,
        Some(&admin),
        &["dns", "zone", "create", "acme.test", "--json"],
    ));
    assert_eq!(zone["name"], "acme.test");
    let record = json(&cli(
        &url,
        Some(&admin),
        &[
            "dns",
            "record",
            "add",
            "acme.test",
            "acme.test",
            "TXT",
            "v=spf1 -all",
            "--ttl",
            "60",
            "--json",
        ],
    ));
    let listed = json(&cli(
        &url,
        Some(&admin),
        &["dns", "record", "list", "acme.test", "--json"],
    ));
    assert_eq!(listed["items"][0]["value"], "v=spf1 -all");
    let removed = cli(
        &url,
        Some(&admin),
        &[
            "dns",
            "record",
            "remove",
            "acme.test",
            record["id"].as_str().unwrap(),
        ],
    );
    assert!(removed.status.success());
    let again = cli(
        &url,
        Some(&admin),
        &[
            "dns",
            "record",
            "remove",
            "acme.test",
            record["id"].as_str().unwrap(),
        ],
    );
    assert_eq!(again.status.code(), Some(1), "already gone");

    // Restarting on the same data dir keeps the key and prints none.
    drop(server);
    let again = serve(dir.path());
    assert_eq!(again.new_admin_key, None);
    let list = json(&cli(&again.url, Some(&admin), &["org", "list", "--json"]));
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[test]
fn serve_reads_a_config_file_and_refuses_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("absender.toml");
    std::fs::write(
        &config,
        "[platform]\nupgrade_contact = \"sales@platform.test\"\n",
    )
    .unwrap();
    let server = serve_with(dir.path(), &["--config", config.to_str().unwrap()], &[]);
    let admin = server.new_admin_key.clone().unwrap();
    let created = json(&cli(
        &server.url,
        Some(&admin),
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--contact",
            "a@acme.test",
            "--json",
        ],
    ));
    let refused = cli(
        &server.url,
        created["api_key"].as_str(),
        &["identity", "request", "events@acme.test"],
    );
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("upgrade_required") && stderr.contains("sales@platform.test"),
        "{stderr}"
    );

    std::fs::write(&config, "[platfrom]\nname = \"x\"\n").unwrap();
    let bad = command()
        .args(["serve", "--config", config.to_str().unwrap()])
        .env("ABSENDER_DATA_DIR", dir.path())
        .env("ABSENDER_HTTP_LISTEN", "127.0.0.1:0")
        .env("ABSENDER_DNS_LISTEN", "127.0.0.1:0")
        .env("ABSENDER_SMTP_LISTEN", "127.0.0.1:0")
        .env("ABSENDER_DNS_RESOLVERS", "local")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("platfrom"));
}

#[test]
fn cli_exit_codes_tell_scripts_what_went_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());

    let no_key = cli(&server.url, None, &["org", "list"]);
    assert_eq!(no_key.status.code(), Some(2));
    let wrong_key = cli(&server.url, Some("abs_admin_wrong"), &["org", "list"]);
    assert_eq!(wrong_key.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong_key.stderr).contains("unauthorized"));
    let unreachable = cli("http://127.0.0.1:9", Some("k"), &["org", "list"]);
    assert_eq!(unreachable.status.code(), Some(3));
    let bad_usage = cli(
        &server.url,
        Some("k"),
        &["identity", "request", "a@b.test", "--scope", "some"],
    );
    assert_eq!(bad_usage.status.code(), Some(2));
}

#[test]
fn demo_walks_the_setup_and_prints_the_records() {
    let output = command()
        .args(["demo", "--no-serve"])
        .env("ABSENDER_HTTP_LISTEN", "127.0.0.1:0")
        .env("ABSENDER_DNS_LISTEN", "127.0.0.1:0")
        .env("ABSENDER_SMTP_LISTEN", "127.0.0.1:0")
        .env("ABSENDER_DNS_RESOLVERS", "local")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("address SUCCESS"), "{stdout}");
    assert!(stdout.contains(r#""Record name","Record type","Record Value""#));
    assert_eq!(
        stdout.matches("._domainkey.acme.test\",\"CNAME\"").count(),
        3
    );
    assert!(stdout.contains(r#""acme.test","TXT","v=spf1 include:spf.absender.test ~all""#));
    let after_publishing = stdout
        .split("4. Published")
        .nth(1)
        .expect("the DNS steps ran");
    assert!(after_publishing.contains("identity SUCCESS"), "{stdout}");
    assert!(
        after_publishing.contains("identity TEMPORARY_FAILURE")
            && after_publishing.contains("[record_missing]"),
        "{stdout}"
    );
    assert!(
        after_publishing
            .split("6. Restored")
            .nth(1)
            .unwrap()
            .contains("identity SUCCESS"),
        "{stdout}"
    );
}

/// A TLS front for `backend` on 127.0.0.1 (as a reverse proxy would be), with
/// a fresh self-signed certificate for 127.0.0.1; returns its port and the
/// certificate's PEM file. Runs on `runtime`.
fn tls_front(
    runtime: &tokio::runtime::Runtime,
    backend: String,
    dir: &std::path::Path,
) -> (u16, std::path::PathBuf) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (dir.join("front.pem"), dir.join("front.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(absender_smtp::load_pem(&cert, &key).unwrap());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    runtime.spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (acceptor, backend) = (acceptor.clone(), backend.clone());
            tokio::spawn(async move {
                let Ok(mut client) = acceptor.accept(client).await else {
                    return;
                };
                if let Ok(mut server) = tokio::net::TcpStream::connect(&backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (port, cert)
}

#[test]
fn the_cli_talks_https_and_trusts_a_private_certificate_only_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let admin = server.new_admin_key.clone().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let backend = server.url.trim_start_matches("http://").to_string();
    let (port, cert) = tls_front(&runtime, backend, dir.path());
    let url = format!("https://127.0.0.1:{port}");

    let untrusted = cli(&url, Some(&admin), &["org", "list"]);
    assert_eq!(
        untrusted.status.code(),
        Some(3),
        "unreachable: {untrusted:?}"
    );
    let said = String::from_utf8_lossy(&untrusted.stderr);
    assert!(
        said.contains("invalid peer certificate: UnknownIssuer"),
        "says why: {said}"
    );

    let trusted = command()
        .env("ABSENDER_URL", &url)
        .env("ABSENDER_KEY", &admin)
        .env("ABSENDER_CA_FILE", &cert)
        .args(["org", "list", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        json(&trusted)["items"],
        serde_json::json!([]),
        "no organization yet"
    );
    let cert_path = cert.to_str().unwrap();
    let create = format!("org create --name Acme --contact team@acme.test --ca-file {cert_path}");
    let args: Vec<&str> = create.split(' ').collect();
    let created = cli(&url, Some(&admin), &args);
    assert!(created.status.success(), "{created:?}");
    let listed = cli(&url, Some(&admin), &["org", "list", "--json", "--ca-file"]);
    assert_eq!(listed.status.code(), Some(2), "--ca-file needs a path");
    let listed = json(&cli(
        &url,
        Some(&admin),
        &["org", "list", "--json", "--ca-file", cert.to_str().unwrap()],
    ));
    assert!(listed.to_string().contains("Acme"), "{listed}");

    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let refused = cli(
        &url,
        Some(&admin),
        &["org", "list", "--ca-file", not_pem.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no certificate"));
}
