//! Each organization's suppression list: addresses its mail no longer goes
//! to. Hard bounces, DSNs and unsubscribes add to it; the organization can
//! add and remove addresses itself.

use super::Suppressions;
use crate::api::{AddSuppression, Suppression};
use crate::clock::rfc3339;
use crate::{Caller, ServiceError};
use absender_core::EmailAddress;
use absender_store::SuppressionRow;

/// The form an address is suppressed under: one entry for all spellings of its case.
pub(crate) fn suppression_key(address: &EmailAddress) -> String {
    address.to_string().to_lowercase()
}

fn view(row: SuppressionRow) -> Suppression {
    Suppression {
        address: row.address,
        reason: row.reason,
        detail: row.detail,
        message_id: row.message_id,
        created_at: rfc3339(row.created_at),
    }
}

fn parse(address: &str) -> Result<EmailAddress, ServiceError> {
    EmailAddress::parse(address).map_err(|e| ServiceError::BadRequest {
        code: "invalid_address",
        message: format!("{address:?}: {e}"),
    })
}

impl Suppressions<'_> {
    /// The organization's suppressions in address order, after `after` when paging.
    pub async fn list_suppressions(
        &self,
        caller: &Caller,
        after: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Vec<Suppression>, ServiceError> {
        let org = caller.org()?;
        let limit = limit.unwrap_or(100).clamp(1, 1000);
        let rows = self
            .app
            .inner
            .store
            .list_suppressions(&org.id, after, limit)
            .await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Suppresses an address by the organization's own wish.
    pub async fn add_suppression(
        &self,
        caller: &Caller,
        request: AddSuppression,
    ) -> Result<Suppression, ServiceError> {
        let org = caller.org()?;
        let address = parse(&request.address)?;
        let row = SuppressionRow {
            org_id: org.id.clone(),
            address: suppression_key(&address),
            reason: "manual".into(),
            detail: request.detail,
            message_id: None,
            created_at: self.app.now_ms(),
        };
        self.app.inner.store.upsert_suppression(&row).await?;
        Ok(view(row))
    }

    /// Lets mail go to the address again.
    pub async fn remove_suppression(
        &self,
        caller: &Caller,
        address: &str,
    ) -> Result<(), ServiceError> {
        let org = caller.org()?;
        let key = suppression_key(&parse(address)?);
        if self
            .app
            .inner
            .store
            .delete_suppression(&org.id, &key)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("suppression"))
        }
    }

    /// The recipients the organization suppresses, refused with each one named.
    pub(crate) async fn refuse_suppressed(
        &self,
        org_id: &str,
        recipients: &[EmailAddress],
    ) -> Result<(), ServiceError> {
        let keys: Vec<String> = recipients.iter().map(suppression_key).collect();
        let found = self.app.inner.store.suppressed_among(org_id, &keys).await?;
        if found.is_empty() {
            return Ok(());
        }
        let named: Vec<String> = found
            .iter()
            .map(|s| format!("{} ({})", s.address, s.reason))
            .collect();
        Err(ServiceError::Refused {
            code: "recipient_suppressed",
            message: format!(
                "these recipients are on your suppression list and get no mail: {}; remove them with DELETE /api/v1/suppressions/{{address}} if they asked for mail again",
                named.join(", ")
            ),
        })
    }

    /// How many deliveries wait in the queue (the operator's overview).
    pub async fn queued_deliveries(&self, caller: &Caller) -> Result<i64, ServiceError> {
        caller.require_operator()?;
        Ok(self.app.inner.store.queued_count().await?)
    }
}
