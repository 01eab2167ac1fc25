//! One log line per request: method, path, status, time. Paths that carry
//! a live secret (verification, sign-in and unsubscribe links) are logged
//! with the secret replaced; query strings are never logged.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// Path prefixes whose next segment is a secret token.
const SECRET_SEGMENT_AFTER: [&str; 3] = ["/verify/", "/ui/sign-in/", "/unsubscribe/"];

/// `path` with any token segment replaced by `[redacted]`.
pub fn redacted(path: &str) -> String {
    // SNS links: `/sns/{confirm|unsubscribe}/{destination}/{token}`.
    for prefix in ["/sns/confirm/", "/sns/unsubscribe/"] {
        if let Some((id, _)) = path.strip_prefix(prefix).and_then(|r| r.split_once('/')) {
            return format!("{prefix}{id}/[redacted]");
        }
    }
    for prefix in SECRET_SEGMENT_AFTER {
        if let Some(rest) = path.strip_prefix(prefix) {
            // `/ui/sign-in/link` is the form's own action, not a token.
            if prefix == "/ui/sign-in/" && rest == "link" {
                break;
            }
            let after = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}[redacted]{after}");
        }
    }
    path.to_string()
}

pub async fn log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = redacted(request.uri().path());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        target: "absender::http",
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn token_segments_are_redacted_and_other_paths_kept() {
        assert_eq!(redacted("/verify/abcDEF123"), "/verify/[redacted]");
        assert_eq!(redacted("/ui/sign-in/tok"), "/ui/sign-in/[redacted]");
        assert_eq!(redacted("/unsubscribe/a.b/x"), "/unsubscribe/[redacted]/x");
        assert_eq!(redacted("/ui/sign-in/link"), "/ui/sign-in/link");
        assert_eq!(
            redacted("/sns/confirm/wh_1/0123abcd"),
            "/sns/confirm/wh_1/[redacted]"
        );
        assert_eq!(
            redacted("/sns/unsubscribe/wh_1/0123abcd"),
            "/sns/unsubscribe/wh_1/[redacted]"
        );
        assert_eq!(redacted("/ui/sign-in"), "/ui/sign-in");
        assert_eq!(
            redacted("/api/v1/identities/idn_1"),
            "/api/v1/identities/idn_1"
        );
    }
}
