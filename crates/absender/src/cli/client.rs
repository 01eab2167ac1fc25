//! A small client of the native API for the CLI and the demo.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::Path;

/// What can go wrong talking to the server.
#[derive(Debug)]
pub enum CliError {
    /// The server refused: status, its error code and message.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// The server could not be reached.
    Unreachable(String),
    /// The server's answer made no sense.
    BadAnswer(String),
    /// A required option is missing.
    Usage(String),
    /// The server itself could not start.
    Startup(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Refused {
                status,
                code,
                message,
            } => write!(f, "{code} (HTTP {status}): {message}"),
            CliError::Unreachable(e) => write!(f, "cannot reach the server: {e}"),
            CliError::BadAnswer(e) => write!(f, "unexpected answer from the server: {e}"),
            CliError::Usage(e) => write!(f, "{e}"),
            CliError::Startup(e) => write!(f, "{e}"),
        }
    }
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Refused { .. } => 1,
            CliError::Usage(_) => 2,
            CliError::Unreachable(_) | CliError::BadAnswer(_) => 3,
            CliError::Startup(_) => 4,
        }
    }
}

/// The certificates of a PEM file (`--ca-file`).
fn certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, CliError> {
    let unusable = |why: String| CliError::Usage(format!("--ca-file {}: {why}", path.display()));
    let pem = std::fs::read(path).map_err(|e| unusable(e.to_string()))?;
    let found = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| unusable(e.to_string()))?;
    if found.is_empty() {
        return Err(unusable("no certificate in it (PEM expected)".into()));
    }
    Ok(found)
}

/// An error with its causes: a failed https connection says why only there
/// ("invalid peer certificate: UnknownIssuer").
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Talks to one server as one caller.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    key: String,
    org: Option<String>,
}

impl ApiClient {
    pub fn new(base: &str, key: Option<&str>, org: Option<&str>) -> Result<Self, CliError> {
        Self::trusting(base, key, org, None)
    }

    /// Like [`Self::new`]; an https server's certificate may also come from
    /// the certificate authorities in the PEM file `ca_file`.
    pub fn trusting(
        base: &str,
        key: Option<&str>,
        org: Option<&str>,
        ca_file: Option<&Path>,
    ) -> Result<Self, CliError> {
        let key = key
            .ok_or_else(|| CliError::Usage("an API key is needed: --key or ABSENDER_KEY".into()))?;
        let mut http = reqwest::Client::builder();
        if let Some(path) = ca_file {
            for ca in certificates(path)? {
                http = http.add_root_certificate(ca);
            }
        }
        Ok(Self {
            http: http.build().map_err(|e| CliError::Usage(with_causes(&e)))?,
            base: base.trim_end_matches('/').to_string(),
            key: key.to_string(),
            org: org.map(str::to_string),
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(org) = &self.org {
            request = request.header("X-Absender-Org", org);
        }
        request
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, CliError> {
        let response = request
            .send()
            .await
            .map_err(|e| CliError::Unreachable(with_causes(&e)))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        Err(CliError::Refused {
            status,
            code: body["error"]["code"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
            message: body["error"]["message"]
                .as_str()
                .unwrap_or("no message")
                .to_string(),
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        let response = self.send(self.request(reqwest::Method::GET, path)).await?;
        response
            .json()
            .await
            .map_err(|e| CliError::BadAnswer(e.to_string()))
    }

    pub async fn get_text(&self, path: &str) -> Result<String, CliError> {
        let response = self.send(self.request(reqwest::Method::GET, path)).await?;
        response
            .text()
            .await
            .map_err(|e| CliError::BadAnswer(e.to_string()))
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    pub async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        self.send_json(reqwest::Method::PUT, path, body).await
    }

    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        self.send_json(reqwest::Method::PATCH, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Result<(), CliError> {
        self.send(self.request(reqwest::Method::DELETE, path))
            .await?;
        Ok(())
    }

    async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
    ) -> Result<T, CliError> {
        let response = self.send(self.request(method, path).json(body)).await?;
        response
            .json()
            .await
            .map_err(|e| CliError::BadAnswer(e.to_string()))
    }
}
