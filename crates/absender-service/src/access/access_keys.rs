//! SES-style access keys: an access key id (`AKIA…`) and a secret access key
//! for SigV4-signed requests and SES SMTP passwords. A signature can only be
//! checked with the secret itself, so it is kept sealed under the master key
//! (labelled with its access key id), shown once, and never logged.

use super::Access;
use crate::api::AccessKey;
use crate::clock::rfc3339;
use crate::secrets::{new_id, random_credential};
use crate::{Caller, ServiceError};
use absender_store::AccessKeyRow;

/// AWS's access key ids: `AKIA` and 16 of `[A-Z0-9]`.
const KEY_ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// AWS's secret access keys: 40 of base64's alphabet.
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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
                .seal(&access_key_id, secret.as_bytes()),
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
