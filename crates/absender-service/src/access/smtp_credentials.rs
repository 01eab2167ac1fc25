//! Per-organization SMTP submission logins. The password is shown once and
//! stored only as a hash (it carries 256 random bits, so SHA-256 suffices).

use super::Access;
use crate::api::{CreateSmtpCredential, SmtpCredential};
use crate::clock::rfc3339;
use crate::secrets::{ID_ALPHABET, hash_secret, new_id, random_string, random_token};
use crate::{Caller, Organization, ServiceError};
use absender_store::SmtpCredentialRow;

fn view(row: SmtpCredentialRow, password: Option<String>) -> SmtpCredential {
    SmtpCredential {
        id: row.id,
        username: row.username,
        password,
        description: row.description,
        created_at: rfc3339(row.created_at),
    }
}

impl Access<'_> {
    /// A new login for the organization; the answer is the only place the password appears.
    pub async fn create_smtp_credential(
        &self,
        caller: &Caller,
        request: CreateSmtpCredential,
    ) -> Result<SmtpCredential, ServiceError> {
        caller.require_current_key()?;
        let org = caller.org()?;
        if let Some(d) = &request.description
            && (d.len() > 200 || d.chars().any(char::is_control))
        {
            return Err(ServiceError::BadRequest {
                code: "invalid_description",
                message: "description: at most 200 characters, no control characters".into(),
            });
        }
        let password = random_token();
        let row = SmtpCredentialRow {
            id: new_id("smtp"),
            org_id: org.id.clone(),
            username: format!("smtp_{}", random_string(ID_ALPHABET, 16)),
            secret_hash: hash_secret(&password),
            description: request.description,
            created_at: self.app.now_ms(),
        };
        self.app.inner.store.insert_smtp_credential(&row).await?;
        tracing::info!(org_id = %org.id, credential_id = %row.id, "SMTP credential created");
        Ok(view(row, Some(password)))
    }

    /// The organization's logins, without passwords.
    pub async fn list_smtp_credentials(
        &self,
        caller: &Caller,
    ) -> Result<Vec<SmtpCredential>, ServiceError> {
        let org = caller.org()?;
        let rows = self.app.inner.store.list_smtp_credentials(&org.id).await?;
        Ok(rows.into_iter().map(|r| view(r, None)).collect())
    }

    /// Revokes a login at once.
    pub async fn delete_smtp_credential(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<(), ServiceError> {
        let org = caller.org()?;
        if self
            .app
            .inner
            .store
            .delete_smtp_credential(&org.id, id)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("smtp credential"))
        }
    }

    /// The organization a submission login belongs to, if the password is
    /// right: an SMTP credential, or an SES access key with its SES SMTP password.
    pub async fn authenticate_smtp(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Organization>, ServiceError> {
        if username.starts_with("AKIA") {
            return self.authenticate_ses_smtp(username, password).await;
        }
        let Some(row) = self
            .app
            .inner
            .store
            .smtp_credential_by_username(username)
            .await?
        else {
            return Ok(None);
        };
        if !crate::app::constant_time_eq(
            hash_secret(password).as_bytes(),
            row.secret_hash.as_bytes(),
        ) {
            return Ok(None);
        }
        Ok(self
            .app
            .inner
            .store
            .org(&row.org_id)
            .await?
            .map(Organization::new))
    }
}
