//! Organizations: created and switched by the operator.

use crate::api::{CreateOrg, CreatedOrg, Org, UpdateOrg};
use crate::clock::rfc3339;
use crate::secrets::{hash_secret, new_id, new_org_key};
use crate::{App, Caller, ServiceError};
use absender_core::{EmailAddress, Locale};
use absender_store::{NewOrg, OrgChanges, OrgRow};

const MAX_NAME_CHARS: usize = 200;

pub(crate) fn org_view(row: &OrgRow) -> Org {
    Org {
        id: row.id.clone(),
        name: row.name.clone(),
        contact_email: row.contact_email.clone(),
        locale: Locale::parse(&row.locale).unwrap_or_default(),
        custom_sender_enabled: row.custom_sender_enabled,
        created_at: rfc3339(row.created_at),
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

impl App {
    /// Creates an organization and returns its API key, the only time it is shown.
    pub async fn create_org(
        &self,
        caller: &Caller,
        request: CreateOrg,
    ) -> Result<CreatedOrg, ServiceError> {
        caller.require_operator()?;
        let api_key = new_org_key();
        let row = self
            .inner
            .store
            .insert_org(&NewOrg {
                id: new_id("org"),
                name: valid_name(&request.name)?,
                contact_email: valid_contact(&request.contact_email)?,
                locale: request.locale.as_str().to_string(),
                api_key_hash: hash_secret(&api_key),
                created_at: self.now_ms(),
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
            Caller::Org(org) if org.id == id => Ok(org_view(org)),
            Caller::Org(_) => Err(ServiceError::NotFound("organization")),
            Caller::Operator => self
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
        };
        let row = self
            .inner
            .store
            .update_org(id, &changes, self.now_ms())
            .await?
            .ok_or(ServiceError::NotFound("organization"))?;
        if let Some(enabled) = request.custom_sender_enabled {
            tracing::info!(org_id = %row.id, enabled, "custom-sender upgrade switched");
        }
        Ok(org_view(&row))
    }

    /// The organization an operator acts for (the `X-Absender-Org` header).
    pub async fn act_as_org(&self, caller: &Caller, org_id: &str) -> Result<Caller, ServiceError> {
        caller.require_operator()?;
        let org = self
            .inner
            .store
            .org(org_id)
            .await?
            .ok_or(ServiceError::NotFound("organization"))?;
        Ok(Caller::Org(org))
    }
}
