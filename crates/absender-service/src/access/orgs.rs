//! Organizations: created and switched by the operator.

use super::Access;
use crate::api::{CreateOrg, CreatedOrg, Org, RotateKey, RotatedKey, UpdateOrg};
use crate::clock::rfc3339;
use crate::secrets::{hash_secret, new_id, new_org_key};
use crate::{Caller, Organization, ServiceError};
use absender_core::{EmailAddress, Locale};
use absender_store::{NewOrg, OrgChanges, OrgRow};

const MAX_NAME_CHARS: usize = 200;
/// The longest an old API key may keep working after a rotation.
pub const MAX_KEY_GRACE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub(crate) fn org_view(row: &OrgRow) -> Org {
    Org {
        id: row.id.clone(),
        name: row.name.clone(),
        contact_email: row.contact_email.clone(),
        locale: Locale::parse(&row.locale).unwrap_or_default(),
        custom_sender_enabled: row.custom_sender_enabled,
        created_at: rfc3339(row.created_at),
        sending_enabled: row.sending_enabled,
        paused_reason: row.paused_reason.clone(),
        sandbox: row.sandbox,
        max_send_rate: row.max_send_rate,
        max_24h_send: row.max_24h_send,
    }
}

/// The most messages a second a quota may allow (beyond, say "no limit").
const MAX_RATE: f64 = 1_000_000.0;
/// The least: one message in 1,000 seconds.
const MIN_RATE: f64 = 0.001;

fn valid_rate(rate: Option<f64>) -> Result<Option<f64>, ServiceError> {
    match rate {
        Some(r) if !(r.is_finite() && (MIN_RATE..=MAX_RATE).contains(&r)) => {
            Err(ServiceError::Invalid {
                field: "max_send_rate",
                message: format!(
                    "messages a second, from {MIN_RATE} to {MAX_RATE}, or null for no limit"
                ),
            })
        }
        other => Ok(other),
    }
}

fn valid_day_quota(quota: Option<i64>) -> Result<Option<i64>, ServiceError> {
    match quota {
        Some(q) if q < 0 => Err(ServiceError::Invalid {
            field: "max_24h_send",
            message: "messages in any 24 hours, 0 or more, or null for no limit".into(),
        }),
        other => Ok(other),
    }
}

fn valid_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ServiceError::Invalid {
            field: "name",
            message: format!(
                "must be 1 to {MAX_NAME_CHARS} characters without line breaks or control characters"
            ),
        });
    }
    Ok(name.to_string())
}

fn valid_contact(email: &str) -> Result<String, ServiceError> {
    EmailAddress::parse(email)
        .map(|a| a.to_string())
        .map_err(|source| ServiceError::InvalidAddress {
            field: "contact_email",
            source,
        })
}

impl Access<'_> {
    /// A new API key for the organization (the operator's, or the
    /// organization's own): shown once; the old key stops at once or after
    /// the grace asked for, and the organization's UI sessions end.
    pub async fn rotate_org_key(
        &self,
        caller: &Caller,
        id: &str,
        request: RotateKey,
    ) -> Result<RotatedKey, ServiceError> {
        if let Caller::Org(org) = caller
            && org.id() != id
        {
            return Err(ServiceError::NotFound("organization"));
        }
        caller.require_current_key()?;
        let grace = request.grace.unwrap_or_default();
        if grace > MAX_KEY_GRACE {
            return Err(ServiceError::BadRequest {
                code: "invalid_grace",
                message: "grace: the old key may keep working for at most 24h".into(),
            });
        }
        let now = self.app.now_ms();
        let expires_at = if grace.is_zero() {
            0
        } else {
            now + grace.as_millis() as i64
        };
        let api_key = new_org_key();
        if !self
            .app
            .inner
            .store
            .rotate_org_key(id, &hash_secret(&api_key), expires_at, now)
            .await?
        {
            return Err(ServiceError::NotFound("organization"));
        }
        tracing::info!(org_id = %id, grace_s = grace.as_secs(), "API key rotated");
        Ok(RotatedKey {
            api_key,
            previous_key_expires_at: (expires_at > 0).then(|| rfc3339(expires_at)),
        })
    }

    /// Creates an organization and returns its API key, the only time it is shown.
    pub async fn create_org(
        &self,
        caller: &Caller,
        request: CreateOrg,
    ) -> Result<CreatedOrg, ServiceError> {
        caller.require_operator()?;
        let api_key = new_org_key();
        let row = self
            .app
            .inner
            .store
            .insert_org(&NewOrg {
                id: new_id("org"),
                name: valid_name(&request.name)?,
                contact_email: valid_contact(&request.contact_email)?,
                locale: request.locale.as_str().to_string(),
                api_key_hash: hash_secret(&api_key),
                created_at: self.app.now_ms(),
                sandbox: self.app.inner.settings.limits.sandbox_by_default,
            })
            .await?;
        tracing::info!(org_id = %row.id, "organization created");
        Ok(CreatedOrg {
            org: org_view(&row),
            api_key,
        })
    }

    /// Every organization (operator only).
    pub async fn list_orgs(&self, caller: &Caller) -> Result<Vec<Org>, ServiceError> {
        caller.require_operator()?;
        Ok(self
            .app
            .inner
            .store
            .list_orgs()
            .await?
            .iter()
            .map(org_view)
            .collect())
    }

    /// One organization: the operator sees any, an organization itself.
    pub async fn get_org(&self, caller: &Caller, id: &str) -> Result<Org, ServiceError> {
        match caller {
            Caller::Org(org) if org.id() == id => Ok(org_view(&org.row)),
            Caller::Org(_) => Err(ServiceError::NotFound("organization")),
            Caller::Operator => self
                .app
                .inner
                .store
                .org(id)
                .await?
                .map(|row| org_view(&row))
                .ok_or(ServiceError::NotFound("organization")),
        }
    }

    /// Changes an organization, e.g. switches the custom-sender upgrade (operator only).
    pub async fn update_org(
        &self,
        caller: &Caller,
        id: &str,
        request: UpdateOrg,
    ) -> Result<Org, ServiceError> {
        caller.require_operator()?;
        let changes = OrgChanges {
            name: request.name.as_deref().map(valid_name).transpose()?,
            contact_email: request
                .contact_email
                .as_deref()
                .map(valid_contact)
                .transpose()?,
            locale: request.locale.map(|l| l.as_str().to_string()),
            custom_sender_enabled: request.custom_sender_enabled,
            sending_enabled: request
                .sending_enabled
                .map(|on| (on, (!on).then(|| "paused by the operator".to_string()))),
            sandbox: request.sandbox,
            max_send_rate: request.max_send_rate.map(valid_rate).transpose()?,
            max_24h_send: request.max_24h_send.map(valid_day_quota).transpose()?,
        };
        let row = self
            .app
            .inner
            .store
            .update_org(id, &changes, self.app.now_ms())
            .await?
            .ok_or(ServiceError::NotFound("organization"))?;
        if let Some(enabled) = request.custom_sender_enabled {
            tracing::info!(org_id = %row.id, enabled, "custom-sender upgrade switched");
        }
        if let Some(enabled) = request.sending_enabled {
            tracing::info!(org_id = %row.id, enabled, "sending switched by the operator");
        }
        // Every node reads the new state within a second.
        self.app.sending().forget_org(&row.id);
        Ok(org_view(&row))
    }

    /// The organization an operator acts for (the `X-Absender-Org` header).
    pub async fn act_as_org(&self, caller: &Caller, org_id: &str) -> Result<Caller, ServiceError> {
        caller.require_operator()?;
        let org = self
            .app
            .inner
            .store
            .org(org_id)
            .await?
            .ok_or(ServiceError::NotFound("organization"))?;
        Ok(Caller::Org(Organization::new(org)))
    }
}
