//! SES-style access keys: an access key id (`AKIA…`) and a secret access key
//! for SigV4-signed requests and SES SMTP passwords. A signature can only be
//! checked with the secret itself, so it is kept sealed under the master key
//! (labelled with its access key id), shown once, and never logged.

use super::Access;
use crate::access::sigv4::{self, Authorization, Presigned, SigV4Error};
use crate::api::AccessKey;
use crate::clock::rfc3339;
use crate::secrets::{new_id, random_credential};
use crate::{Caller, Organization, ServiceError};
use absender_store::AccessKeyRow;
use sha2::{Digest, Sha256};

/// A request to the SES API as it arrived, for its signature.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// Percent-encoded, as received.
    pub path: &'a str,
    /// Without `?`.
    pub query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// AWS's access key ids: `AKIA` and 16 of `[A-Z0-9]`.
const KEY_ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// AWS's secret access keys: 40 of base64's alphabet.
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The seal's label: a secret opens only as this organization's key.
fn seal_label(org_id: &str, access_key_id: &str) -> String {
    format!("access-key:{org_id}:{access_key_id}")
}

fn view(row: AccessKeyRow, secret: Option<String>) -> AccessKey {
    AccessKey {
        id: row.id,
        access_key_id: row.access_key_id,
        secret_access_key: secret,
        created_at: rfc3339(row.created_at),
    }
}

impl Access<'_> {
    /// A new access key; the answer is the only place its secret appears.
    pub async fn create_access_key(&self, caller: &Caller) -> Result<AccessKey, ServiceError> {
        caller.require_current_key()?;
        let org = caller.org()?;
        let access_key_id = format!("AKIA{}", random_credential(KEY_ID_ALPHABET, 16));
        let secret = random_credential(SECRET_ALPHABET, 40);
        let row = AccessKeyRow {
            id: new_id("akey"),
            org_id: org.id.clone(),
            secret_enc: self
                .app
                .inner
                .master_key
                .seal(&seal_label(&org.id, &access_key_id), secret.as_bytes()),
            access_key_id,
            created_at: self.app.now_ms(),
        };
        self.app.inner.store.insert_access_key(&row).await?;
        tracing::info!(org_id = %org.id, access_key_id = %row.access_key_id, "access key created");
        Ok(view(row, Some(secret)))
    }

    /// The organization's access keys, without secrets.
    pub async fn list_access_keys(&self, caller: &Caller) -> Result<Vec<AccessKey>, ServiceError> {
        let org = caller.org()?;
        let rows = self.app.inner.store.list_access_keys(&org.id).await?;
        Ok(rows.into_iter().map(|r| view(r, None)).collect())
    }

    /// The organization whose access key signed `request` (SigV4 as botocore
    /// signs it); the outer error is absender's own failure.
    /// Whether the `Authorization` header names an access key that exists:
    /// only then may a request bring a body as large as a message (the
    /// body must be read before its signature can be checked).
    pub async fn names_known_access_key(&self, authorization: &str) -> Result<bool, ServiceError> {
        let Ok(auth) = Authorization::parse(authorization) else {
            return Ok(false);
        };
        Ok(self
            .app
            .inner
            .store
            .access_key(&auth.access_key_id)
            .await?
            .is_some())
    }

    pub async fn authenticate_sigv4(
        &self,
        request: &SignedRequest<'_>,
    ) -> Result<Result<Caller, SigV4Error>, ServiceError> {
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        };
        if header("x-amz-security-token").is_some() {
            return Ok(Err(SigV4Error::UnrecognizedClient(
                "temporary credentials (X-Amz-Security-Token) are not taken; sign with an access key".into(),
            )));
        }
        let presigned = match Presigned::parse(request.query) {
            Ok(presigned) => presigned,
            Err(e) => return Ok(Err(e)),
        };
        if !sigv4::is_normal_path(request.path) {
            return Ok(Err(SigV4Error::IncompleteSignature(
                "the path must have no '.', '..' or empty segments".into(),
            )));
        }
        // The Authorization header, else the presigned query.
        let (auth, amz_date, signed_query, expires_secs) = match (
            header("authorization"),
            presigned,
        ) {
            (Some(authorization), _) => {
                let auth = match Authorization::parse(authorization) {
                    Ok(auth) => auth,
                    Err(e) => return Ok(Err(e)),
                };
                let Some(amz_date) = header("x-amz-date")
                    .filter(|_| auth.signed_headers.iter().any(|h| h == "x-amz-date"))
                else {
                    return Ok(Err(SigV4Error::IncompleteSignature(
                        "X-Amz-Date must be sent and signed".into(),
                    )));
                };
                (auth, amz_date.to_string(), request.query.to_string(), None)
            }
            // A presigned URL reads: a leaked one must not send mail
            // or change anything while it holds.
            (None, Some(_)) if !matches!(request.method, "GET" | "HEAD") => {
                return Ok(Err(SigV4Error::IncompleteSignature(
                        "presigned URLs are taken for GET requests only; sign other requests in the Authorization header".into(),
                    )));
            }
            (None, Some(p)) => (p.auth, p.amz_date, p.signed_query, Some(p.expires_secs)),
            (None, None) => return Ok(Err(SigV4Error::MissingAuthenticationToken)),
        };
        let region = &self.app.inner.settings.ses.region;
        let scope_error = if auth.service != "ses" {
            Some(format!(
                "Credential should be scoped to correct service: 'ses', not '{}'.",
                auth.service
            ))
        } else if region != "*" && auth.region != *region {
            Some(format!(
                "Credential should be scoped to a valid region, not '{}'; this endpoint's region is '{region}'.",
                auth.region
            ))
        } else {
            None
        };
        if let Some(message) = scope_error {
            return Ok(Err(SigV4Error::SignatureDoesNotMatch(message)));
        }
        let body_hash = hex::encode(Sha256::digest(request.body));
        if header("x-amz-content-sha256")
            .is_some_and(|claimed| !claimed.eq_ignore_ascii_case(&body_hash))
        {
            return Ok(Err(SigV4Error::SignatureDoesNotMatch(
                "The provided x-amz-content-sha256 header does not match what was computed.".into(),
            )));
        }
        let store = &self.app.inner.store;
        let Some(row) = store.access_key(&auth.access_key_id).await? else {
            return Ok(Err(SigV4Error::UnrecognizedClient(
                "The security token included in the request is invalid.".into(),
            )));
        };
        let secret = self.secret_of(&row)?;
        let signed = sigv4::Request {
            method: request.method,
            path: request.path,
            query: &signed_query,
            headers: request.headers,
            payload_sha256: &body_hash,
        };
        let now = self.app.now_ms();
        if let Err(e) = sigv4::verify(&secret, &auth, &amz_date, &signed, now, expires_secs) {
            return Ok(Err(e));
        }
        let org = store
            .org(&row.org_id)
            .await?
            .ok_or_else(|| ServiceError::corrupt("access key without organization"))?;
        Ok(Ok(Caller::Org(Organization::signed_by_access_key(org))))
    }

    /// The organization of an SES SMTP login: an access key id and the
    /// password AWS derives from its secret, for `[ses] region` (or, with
    /// `"*"`, for any of `[ses] smtp_regions`).
    pub(crate) async fn authenticate_ses_smtp(
        &self,
        access_key_id: &str,
        password: &str,
    ) -> Result<Option<Organization>, ServiceError> {
        let store = &self.app.inner.store;
        let Some(row) = store.access_key(access_key_id).await? else {
            return Ok(None);
        };
        let secret = self.secret_of(&row)?;
        let ses = &self.app.inner.settings.ses;
        let regions = match ses.region.as_str() {
            "*" => ses.smtp_regions.as_slice(),
            _ => std::slice::from_ref(&ses.region),
        };
        // Every region is compared, so timing tells nothing about which.
        let right = regions.iter().fold(false, |found, region| {
            let expected = sigv4::ses_smtp_password(&secret, region);
            found | crate::app::constant_time_eq(expected.as_bytes(), password.as_bytes())
        });
        if !right {
            return Ok(None);
        }
        Ok(store
            .org(&row.org_id)
            .await?
            .map(Organization::signed_by_access_key))
    }

    fn secret_of(&self, row: &AccessKeyRow) -> Result<String, ServiceError> {
        let secret = self
            .app
            .inner
            .master_key
            .open(
                &seal_label(&row.org_id, &row.access_key_id),
                &row.secret_enc,
            )
            .map_err(|_| ServiceError::Internal("an access key's secret does not open".into()))?;
        String::from_utf8(secret)
            .map_err(|_| ServiceError::Internal("an access key's secret is not text".into()))
    }

    /// Revokes an access key at once (named by its id or its access key id).
    pub async fn delete_access_key(&self, caller: &Caller, id: &str) -> Result<(), ServiceError> {
        let org = caller.org()?;
        if self.app.inner.store.delete_access_key(&org.id, id).await? {
            tracing::info!(org_id = %org.id, access_key = %id, "access key revoked");
            Ok(())
        } else {
            Err(ServiceError::NotFound("access key"))
        }
    }
}
